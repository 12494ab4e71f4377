#pragma once
// One instance of every protocol message with every field set to a value other than its default,
// shared by the round-trip test, the mutation fuzz test and the libFuzzer target. Adding a message
// type means adding it to AllMessages below; AllMessagesCoverEveryKnownType fails until then.

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "labmesh/protocol/envelope.hpp"
#include "labmesh/protocol/messages.hpp"

namespace labmesh::protocol::testing {

using AllMessages = std::tuple<
    ErrorReply, OkReply, AgentHello, Welcome, PendingApproval, Reject, Heartbeat, HeartbeatAck,
    Reregister, HostListRequest, HostListReply, HostShowRequest, HostShowReply, HostPendingRequest,
    HostActionRequest, HostLabelRequest, LabelListRequest, LabelListReply, LabelActionRequest,
    TestAddRequest, TestListRequest, TestListReply, TestShowRequest, TestShowReply, WorkRequest,
    StartEntry, EntryReport, EntryReportAck, ResultChunk, ResultAck, AbortEntry, SyncRequest,
    SyncReply, RunTask, TaskReport, HostTaskRequest, HostTaskReply, HostHistoryRequest,
    HostHistoryReply, HostModRequest, HostAvailRequest, HostAvailReply, JobCreateRequest, JobCreateReply, JobListRequest,
    JobListReply, JobShowRequest, JobShowReply, JobAbortRequest, JobLogRequest, JobLogReply,
    ResultsListRequest, ResultsListReply, ResultsSummaryRequest, ResultsSummaryReply,
    ResultsSeriesRequest, ResultsSeriesReply, ResultsReparseRequest, ResultsReparseReply,
    ResultsUsageRequest, ResultsUsageReply, JobDeleteRequest, JobDeleteReply,
    UserListRequest, UserListReply, UserCreateRequest, UserTokenReply, UserDeleteRequest,
    UserTokenRequest, UserPasswdRequest, UserModRequest, NotifySecretRequest, NotifySecretReply,
    HostReserveRequest, HostReleaseRequest, HostFlakyRequest, HostFlakyReply,
    HostQuarantineRequest, AclListRequest, AclListReply, AclCreateRequest,
    AclDeleteRequest, AclMemberRequest, AuditListRequest, AuditListReply, LoginRequest, LoginReply,
    WhoAmIRequest, WhoAmIReply, LogoutRequest, PackageChunkRequest, PackageChunk,
    PackageUploadRequest, PackageUploadReply, PackageListRequest, PackageListReply,
    PackageDesireRequest, MetricsRequest, MetricsReply, ResultsImportRequest, ResultsImportReply,
    ResultsImportChunkRequest, ResultsImportChunkReply, ResultsImportDoneRequest,
    TemplateSaveRequest, TemplateListRequest, TemplateListReply, TemplateShowRequest,
    TemplateShowReply, TemplateDeleteRequest, ScheduleCreateRequest, ScheduleListRequest,
    ScheduleListReply, ScheduleShowRequest, ScheduleShowReply, ScheduleActionRequest,
    HostPowerConfigRequest, HostPowerShowRequest, HostPowerShowReply, HostPowerRequest,
    HostPowerReply, HostConsoleRequest, HostConsoleReply, PackageChunksRequest, PackageChunks,
    PeerBadReport, PeerChunkRequest, PeerChunk>;

// Calls f(Type{}) once per message type (a value, so that generic lambdas can name the type).
template <typename F>
void ForEachMessageType(F&& f) {
  std::apply([&](auto... m) { (f(m), ...); }, AllMessages{});
}

inline HostFacts SampleFacts() {
  HostFacts f;
  f.arch = "x86_64";
  f.os = "debian";
  f.os_version = "12";
  f.kernel = "6.1.0-18-amd64";
  f.cpus = 16;
  f.memory_bytes = 68'719'476'736ULL;  // above 2^32: must survive as a uint64
  f.address = "10.0.3.17";
  return f;
}

inline HostHealth SampleHealth() {
  HostHealth h;
  h.load1 = 0.25;
  h.load5 = 1.5;
  h.load15 = 3.75;
  h.mem_total_bytes = 68'719'476'736ULL;
  h.mem_available_bytes = 12'345'678'901ULL;
  h.disk_total_bytes = 1'000'204'886'016ULL;
  h.disk_free_bytes = 400'000'000'000ULL;
  h.uptime_s = 864'000;
  return h;
}

inline std::vector<TaskCheck> SampleChecks() {
  return {TaskCheck{"free-space", true, "12.0 GiB free (at least 1.0 GiB)", 1},
          TaskCheck{"verify.d/10-disk", false, "no /tmp/ok\n\texit status 1", 35}};
}

inline TaskInfo SampleTaskInfo(uint64_t id, const std::string& host) {
  TaskInfo t;
  t.id = id;
  t.hostname = host;
  t.kind = "Repair";
  t.status = "Failed";
  t.reason = "verify.d/10-disk failed: exit status 1";
  t.requested_by = "alice";
  t.job_id = 12;
  t.entry_id = 40;
  t.queued_ms = 1'764'365'548'123LL;
  t.started_ms = 1'764'365'549'000LL;
  t.finished_ms = 1'764'365'560'250LL;
  t.checks = SampleChecks();
  return t;
}

inline HostInfo SampleHostInfo(const std::string& hostname) {
  HostInfo h;
  h.hostname = hostname;
  h.status = "Repair Failed";
  h.status_reason = "verify script exited 3";
  h.locked = true;
  h.locked_by = "alice";
  h.lock_reason = "firmware upgrade";
  h.labels = {"arch:x86_64", "gpu", "os:debian"};
  h.agent_labels = {"arch:x86_64", "os:debian"};
  h.admin_labels = {"gpu"};
  h.acl_groups = {"everyone", "kernel-team"};
  h.agent_version = "0.1.0";
  h.last_heartbeat_ms = 1'764'365'548'123LL;
  h.registered_ms = 1'764'000'000'000LL;
  h.incarnation = 0xfeedfacecafebeefULL;
  h.connected = true;
  h.public_key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
  h.facts = SampleFacts();
  h.health = SampleHealth();
  h.protection = "do-not-repair";
  h.last_task = SampleTaskInfo(7, hostname);
  h.last_known_good = "0.1.0";
  h.update_failed_version = "0.2.0-bad";
  h.reserved_by = "bob";
  h.reserve_reason = "kernel bisect";
  h.reserved_ms = 1'764'365'000'000LL;
  h.reserved_until_ms = 1'764'379'400'000LL;
  h.health_score = 6.5;
  h.suspect = true;
  h.quarantine_reason = "health score 6.5 >= 6.0: net failed 3 of 3 here";
  h.quarantined_by = "labmesh";
  h.quarantined_ms = 1'764'365'100'000LL;
  h.probes_passed = 2;
  h.power = true;
  h.console = true;
  h.peer_endpoint = "tcp://10.0.3.17:7712";
  h.mesh_bad_reports = 3;
  h.mesh_last_bad = "corrupt (chunk 4 of cccccccccccc, reported by lab-18): chunk 4 hashes to 0f..";
  h.mesh_avoided = true;
  return h;
}

inline LabelInfo SampleLabel(const std::string& name) { return LabelInfo{name, "admin", 7}; }

// A control with quotes, a tab, a non-ASCII character and no final newline: text round-trips
// byte for byte.
inline TestInfo SampleTestInfo(const std::string& name) {
  TestInfo t;
  t.name = name;
  t.description = "boots the kernel and checks dmesg";
  t.control = "#!/bin/sh\necho \"h\u00e9llo\"\t'x'\nexit 0";
  t.control_bytes = t.control.size();
  t.created_by = "alice";
  t.created_ms = 1'764'000'000'000LL;
  t.updated_by = "bob";
  t.updated_ms = 1'764'365'548'123LL;
  return t;
}

// An entry that failed on its host: every field away from its default.
inline EntryInfo SampleEntryInfo(uint64_t id, const std::string& host) {
  EntryInfo e;
  e.id = id;
  e.job_id = 12;
  e.host = host;
  e.meta_label = "gpu";
  e.status = "Failed";
  e.reason = "exit status 3";
  e.fault = "test";
  e.exit_code = 3;
  e.signal = 9;
  e.queued_us = 1'764'365'548'123'456LL;
  e.started_us = 1'764'365'549'000'001LL;
  e.finished_us = 1'764'365'560'250'000LL;
  e.results_path = "12-alice/" + host;
  e.group = 1;
  e.waiting_in = "barrier setup (use 2): 3/4 arrived";
  e.result_counts = {{"FAIL", 1}, {"GOOD", 12}};
  e.parse_warnings = {"status.log: line 7: END without START", "results.xml: not JUnit"};
  e.retries = 1;
  e.waiting_for = "3 hosts carry gpu: 2 busy (jobs 41, 42), 1 locked (alice: bisecting)";
  e.queue_position = 2;
  e.queue_length = 5;
  e.boot_count = 2;
  e.crash = true;
  e.crash_line = "Kernel panic - not syncing: Fatal exception";
  e.history = {{"Queued", 1'764'365'548'123'456LL, "job created by alice"},
               {"Rebooting", 1'764'365'549'500'000LL, "the control asked for reboot 1"}};
  return e;
}

inline JobInfo SampleJobInfo(uint64_t id) {
  JobInfo j;
  j.id = id;
  j.name = "kernel boot \"nightly\"";
  j.owner = "alice";
  j.priority = "high";
  j.synch_count = 2;
  j.status = "Failed";
  j.control_kind = "control";
  j.control = "#!/bin/sh\necho \"h\u00e9llo\"\nexit 3";
  j.test_name = "kernel.boot";
  j.hosts = {"lab-17", "lab-18"};
  j.meta_label = "gpu";
  j.meta_count = 2;
  j.depends = {"usb-hub", "arch:x86_64"};
  j.run_verify = true;
  j.timeout_ms = 3'600'000;
  j.max_runtime_ms = 600'000;
  j.created_us = 1'764'365'548'000'000LL;
  j.finished_us = 1'764'365'560'250'000LL;
  j.abort_reason = "job timeout";
  j.entries = {SampleEntryInfo(40, "lab-17"), SampleEntryInfo(41, "lab-18")};
  j.cleanup = "always";
  j.retry = 2;
  j.keep_results_ms = 30LL * 86'400'000;
  j.result_bytes = 5'000'000'000ULL;
  j.results = "removed";
  j.results_removed_us = 1'767'000'000'000'000LL;
  j.results_removed_reason = "deleted by alice";
  j.notify = {"email:alice@example.org", "webhook:http://127.0.0.1:9000/hook"};
  j.notify_on = "failure";
  NotificationInfo n;
  n.target = "webhook:http://127.0.0.1:9000/hook";
  n.state = "failed";
  n.attempts = 7;
  n.last_error = "Couldn't connect to server";
  n.created_us = 1'764'365'560'250'000LL;
  n.last_attempt_us = 1'764'365'660'250'000LL;
  n.delivered_us = 1'764'365'560'750'000LL;
  n.event = "host.reserved";
  n.host = "lab-17";
  j.notifications = {n};
  j.after = {7, 9};
  j.after_any = true;
  j.template_name = "nightly-boot";
  j.schedule = "nightly";
  j.reserve_on_failure_ms = 7'200'000;
  j.probe_for = "lab-17";
  return j;
}

template <typename M>
M Sample();

template <>
inline ErrorReply Sample<ErrorReply>() {
  return ErrorReply{static_cast<uint32_t>(StatusCode::kNotFound), "no host named lab-99"};
}
template <>
inline OkReply Sample<OkReply>() {
  return OkReply{"host lab-17 locked"};
}
template <>
inline AgentHello Sample<AgentHello>() {
  AgentHello m;
  m.hostname = "lab-17";
  m.agent_version = "0.1.0";
  m.incarnation = 0x0123456789abcdefULL;
  m.public_key = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
  m.enroll_token = "s3cret-token";
  m.labels = {"gpu", "usb-hub"};
  m.facts = SampleFacts();
  m.entries = {HeldEntry{40, "running"}, HeldEntry{0xfedcba9876543210ULL, "uploaded"}};
  m.update_report.task_id = 12;
  m.update_report.kind = "Update";
  m.update_report.passed = true;
  m.update_report.reason = "version 9.9.9 exited before it registered";
  m.update_report.checks = SampleChecks();
  m.peer_endpoint = "tcp://10.0.3.17:7712";
  m.peer_public_key = "E7Jv/#ZJ%AZ-9J<k2<yV+A5GJ8{=0OLU7i@h?v{c";
  m.peer_secret = std::vector<char>(32, '\x5a');
  m.peer_secret[0] = '\0';  // bin, not a string
  m.packages_held = {std::string(64, 'c'), std::string(64, 'd')};
  return m;
}
template <>
inline Welcome Sample<Welcome>() {
  return Welcome{"lab-17", 5000, {"arch:x86_64", "gpu"}};
}
template <>
inline PendingApproval Sample<PendingApproval>() {
  return PendingApproval{"waiting for `labmesh host accept lab-17`"};
}
template <>
inline Reject Sample<Reject>() {
  return Reject{"hostname lab-17 belongs to another key"};
}
template <>
inline Heartbeat Sample<Heartbeat>() {
  return Heartbeat{0x0123456789abcdefULL, 42, SampleHealth()};
}
template <>
inline HeartbeatAck Sample<HeartbeatAck>() {
  return HeartbeatAck{42};
}
template <>
inline Reregister Sample<Reregister>() {
  return Reregister{"coordinator restarted"};
}
template <>
inline HostListRequest Sample<HostListRequest>() {
  return HostListRequest{"Ready", "gpu"};
}
template <>
inline HostListReply Sample<HostListReply>() {
  return HostListReply{{SampleHostInfo("lab-17"), SampleHostInfo("lab-18")}};
}
template <>
inline HostShowRequest Sample<HostShowRequest>() {
  return HostShowRequest{"lab-17"};
}
template <>
inline HostShowReply Sample<HostShowReply>() {
  HostShowReply reply{SampleHostInfo("lab-17"), {}};
  HealthSample sample{1'764'000'000'000, reply.host.health};
  reply.health_history = {sample, sample};
  reply.health_history[1].time_ms += 30'000;
  reply.health_history[1].health.load1 = 3.25;
  return reply;
}
template <>
inline HostPendingRequest Sample<HostPendingRequest>() {
  return HostPendingRequest{"gpu"};
}
template <>
inline HostActionRequest Sample<HostActionRequest>() {
  return HostActionRequest{"lab-17", "lock", "firmware upgrade", "alice"};
}
template <>
inline HostLabelRequest Sample<HostLabelRequest>() {
  return HostLabelRequest{"lab-17", {"gpu", "usb-hub"}, {"flaky"}};
}
template <>
inline LabelListRequest Sample<LabelListRequest>() {
  return LabelListRequest{"admin"};
}
template <>
inline LabelListReply Sample<LabelListReply>() {
  return LabelListReply{{SampleLabel("gpu"), SampleLabel("usb-hub")}};
}
template <>
inline LabelActionRequest Sample<LabelActionRequest>() {
  return LabelActionRequest{"gpu", "create", "alice"};
}
template <>
inline TestAddRequest Sample<TestAddRequest>() {
  return TestAddRequest{"kernel.boot", "#!/bin/sh\nexit 0\n", "boots the kernel", "alice"};
}
template <>
inline TestListRequest Sample<TestListRequest>() {
  return TestListRequest{"kernel."};
}
template <>
inline TestListReply Sample<TestListReply>() {
  return TestListReply{{SampleTestInfo("kernel.boot"), SampleTestInfo("net:iperf")}};
}
template <>
inline TestShowRequest Sample<TestShowRequest>() {
  return TestShowRequest{"kernel.boot"};
}
template <>
inline TestShowReply Sample<TestShowReply>() {
  return TestShowReply{SampleTestInfo("kernel.boot")};
}
template <>
inline WorkRequest Sample<WorkRequest>() {
  return WorkRequest{0x0123456789abcdefULL};
}
template <>
inline StartEntry Sample<StartEntry>() {
  StartEntry m;
  m.entry_id = 40;
  m.job_id = 12;
  m.job_name = "kernel boot";
  m.owner = "alice";
  m.hostname = "lab-17";
  m.hosts = {"lab-17", "lab-18"};
  m.control_kind = "command";
  m.control = "echo hi && exit 3";
  m.max_runtime_ms = 600'000;
  m.synch_count = 2;
  m.group = 3;
  m.peers = {{"lab-17", "10.0.3.17"}, {"lab-18", "10.0.3.18"}};
  return m;
}
template <>
inline EntryReport Sample<EntryReport>() {
  EntryReport m;
  m.entry_id = 40;
  m.sequence = 3;
  m.incarnation = 0x0123456789abcdefULL;
  m.phase = "uploaded";
  m.started_us = 1'764'365'549'000'001LL;
  m.ended_us = 1'764'365'560'000'000LL;
  m.exit_code = 3;
  m.signal = 15;
  m.outcome = "failed";
  m.reason = "exit status 3";
  m.files = {FileDigest{"debug/control.log", 5'000'000'000ULL, std::string(64, 'a')},
             FileDigest{"status.log", 181, std::string(64, '0')}};
  m.boot_count = 2;
  m.reboot_timeout_ms = 600'000;
  m.unexpected_reboot = true;
  return m;
}
template <>
inline EntryReportAck Sample<EntryReportAck>() {
  return EntryReportAck{40, 3, true};
}
template <>
inline ResultChunk Sample<ResultChunk>() {
  ResultChunk m;
  m.entry_id = 40;
  m.path = "debug/control.log";
  m.offset = 5'000'000'000ULL;  // above 2^32
  m.data = {'h', 'i', '\0', '\n', static_cast<char>(0xff)};  // binary, with a NUL
  m.hash = std::string(64, 'b');
  return m;
}
template <>
inline ResultAck Sample<ResultAck>() {
  return ResultAck{40, "debug/control.log", 5'000'000'005ULL, "hash mismatch", 2'000};
}
template <>
inline AbortEntry Sample<AbortEntry>() {
  return AbortEntry{40, "aborted by alice", true};
}
template <>
inline SyncRequest Sample<SyncRequest>() {
  SyncRequest m;
  m.entry_id = 40;
  m.op = "send";
  m.name = "server-port";
  m.generation = 2;
  m.value = {'8', '0', '8', '0'};
  m.from_host = "lab-18";
  m.timeout_ms = 5'000;
  return m;
}
template <>
inline SyncReply Sample<SyncReply>() {
  SyncReply m;
  m.entry_id = 40;
  m.op = "wait";
  m.name = "server-port";
  m.generation = 2;
  m.ok = true;
  m.error = "none";
  m.value = {'8', '0', '8', '0'};
  m.from_host = "lab-18";
  return m;
}
template <>
inline RunTask Sample<RunTask>() {
  RunTask m;
  m.task_id = 7;
  m.kind = "Repair";
  m.repair_scripts = false;
  m.verify_after = false;
  m.coordinator_ms = 1'764'365'548'123LL;
  m.version = "0.2.0";
  m.package_sha256 = std::string(64, 'a');
  m.package_bytes = 10'485'760;
  return m;
}
template <>
inline TaskReport Sample<TaskReport>() {
  TaskReport m;
  m.task_id = 7;
  m.kind = "Verify";
  m.passed = true;
  m.reason = "verify.d/10-disk failed: exit status 1";
  m.checks = SampleChecks();
  return m;
}
template <>
inline HostTaskRequest Sample<HostTaskRequest>() {
  return HostTaskRequest{"lab-17", "repair", "alice"};
}
template <>
inline HostTaskReply Sample<HostTaskReply>() {
  return HostTaskReply{SampleTaskInfo(7, "lab-17")};
}
template <>
inline HostHistoryRequest Sample<HostHistoryRequest>() {
  return HostHistoryRequest{"lab-17", 20};
}
template <>
inline HostHistoryReply Sample<HostHistoryReply>() {
  HistoryItem task;
  task.type = "task";
  task.id = 7;
  task.job_id = 12;
  task.name = "Verify";
  task.status = "Failed";
  task.reason = "verify.d/10-disk failed: exit status 1";
  task.requested_by = "labmesh";
  task.queued_ms = 1'764'365'548'123LL;
  task.started_ms = 1'764'365'549'000LL;
  task.finished_ms = 1'764'365'560'250LL;
  task.checks = SampleChecks();
  HistoryItem entry = task;
  entry.type = "entry";
  entry.id = 40;
  entry.name = "kernel boot";
  entry.status = "Completed";
  entry.requested_by = "alice";
  entry.checks.clear();
  entry.crash = true;
  entry.crash_line = "BUG: unable to handle page fault";
  return HostHistoryReply{{task, entry}};
}
template <>
inline HostModRequest Sample<HostModRequest>() {
  return HostModRequest{"lab-17", "repair-software-only", "alice"};
}
template <>
inline HostAvailRequest Sample<HostAvailRequest>() {
  return HostAvailRequest{"gpu", 4, {"rack:a", "big"}};
}
template <>
inline HostAvailReply Sample<HostAvailReply>() {
  HostAvailReply m;
  m.label = "gpu";
  m.count = 4;
  m.hosts = 9;
  m.free = 1;
  m.busy = 3;
  m.locked = 2;
  m.in_task = 1;
  m.down = 2;
  m.unusable = 5;
  m.queued_ahead = 7;
  m.busy_jobs = {41, 42};
  m.can_start = true;
  m.summary = "9 hosts carry gpu: 1 free, 3 busy (jobs 41, 42)";
  m.reserved = 3;
  return m;
}
template <>
inline JobCreateRequest Sample<JobCreateRequest>() {
  JobCreateRequest m;
  m.name = "kernel boot";
  m.user = "alice";
  m.command = "make check";
  m.control = "#!/bin/sh\nexit 0\n";
  m.test = "kernel.boot";
  m.hosts = {"lab-17", "lab-18"};
  m.meta_label = "gpu";
  m.meta_count = 2;
  m.depends = {"usb-hub"};
  m.synch_count = 3;
  m.priority = "urgent";
  m.run_verify = true;
  m.timeout_ms = 3'600'000;
  m.max_runtime_ms = 600'000;
  m.cleanup = "never";
  m.retry = 3;
  m.keep_results_ms = -1;
  m.notify = {"email:alice@example.org"};
  m.notify_on = "always";
  m.after = {10, 11};
  m.after_any = true;
  m.template_name = "nightly-boot";
  m.reserve_on_failure_ms = 7'200'000;
  return m;
}
template <>
inline JobCreateReply Sample<JobCreateReply>() {
  return JobCreateReply{12};
}
template <>
inline JobListRequest Sample<JobListRequest>() {
  return JobListRequest{"alice", "Running", 20, "boot", 40, 1'764'000'000'000'000, "nightly"};
}
template <>
inline JobListReply Sample<JobListReply>() {
  return JobListReply{{SampleJobInfo(12), SampleJobInfo(11)}};
}
template <>
inline JobShowRequest Sample<JobShowRequest>() {
  return JobShowRequest{12};
}
template <>
inline JobShowReply Sample<JobShowReply>() {
  return JobShowReply{SampleJobInfo(12)};
}
template <>
inline JobAbortRequest Sample<JobAbortRequest>() {
  return JobAbortRequest{12, "lab-17", "alice"};
}
template <>
inline JobLogRequest Sample<JobLogRequest>() {
  return JobLogRequest{12, "lab-17", 5'000'000'000ULL, 65'536};
}
template <>
inline JobLogReply Sample<JobLogReply>() {
  JobLogReply m;
  m.data = {'o', 'k', '\n', '\0'};
  m.next_offset = 5'000'000'004ULL;
  m.complete = true;
  m.status = "Completed";
  return m;
}

// A failed result of a nested status.log test with keyvals and perf values.
inline TestResultInfo SampleTestResult(uint64_t id, const std::string& host) {
  TestResultInfo r;
  r.id = id;
  r.job_id = 12;
  r.entry_id = 40;
  r.host = host;
  r.labels = {"arch:x86_64", "gpu"};
  r.test = "kernel/boot";
  r.status = "FAIL";
  r.reason = "timed out waiting for \"login:\"";
  r.start_us = 1'764'365'549'000'001LL;
  r.end_us = 1'764'365'560'250'000LL;
  r.duration_us = 11'249'999;
  r.keyvals = {{"kernel", "6.1.0-18-amd64"}, {"iterations", "3"}};
  r.perf = {{"boot_time_s", 11.25}, {"throughput_mbps", 940.5}};
  r.file = "status.log";
  r.link = "/results/12-alice/" + host + "/status.log";
  r.flaky = true;
  return r;
}

inline SummaryRowInfo SampleSummaryRow(const std::string& test, const std::string& group) {
  SummaryRowInfo row;
  row.test = test;
  row.group = group;
  row.total = 5'000'000'000ULL;  // above 2^32
  row.counts = {{"FAIL", 1'000'000'000ULL}, {"GOOD", 3'999'999'999ULL}, {"TEST_NA", 1}};
  row.pass_rate = 0.8;
  row.first_us = 1'764'000'000'000'000LL;
  row.last_us = 1'764'365'560'250'000LL;
  row.flaky = true;
  return row;
}

inline SeriesPointInfo SampleSeriesPoint(int64_t time_us, double value) {
  return SeriesPointInfo{time_us, value, 12, "lab-17", "/results/12-alice/lab-17/status.log"};
}

template <>
inline ResultsListRequest Sample<ResultsListRequest>() {
  ResultsListRequest m;
  m.job_id = 12;
  m.host = "lab-17";
  m.label = "gpu";
  m.test = "kernel/boot";
  m.status = "FAIL";
  m.since_us = 1'764'000'000'000'000LL;
  m.until_us = 1'764'365'560'250'000LL;
  m.limit = 50;
  m.cursor = "djE6MTIzNDU2";
  return m;
}
template <>
inline ResultsListReply Sample<ResultsListReply>() {
  return ResultsListReply{{SampleTestResult(901, "lab-17"), SampleTestResult(900, "lab-18")},
                          "djE6OTAw"};
}
template <>
inline ResultsSummaryRequest Sample<ResultsSummaryRequest>() {
  ResultsSummaryRequest m;
  m.group_by = "label";
  m.test = "kernel/boot";
  m.test_prefix = "kernel/";
  m.host = "lab-17";
  m.label = "gpu";
  m.since_us = 1'764'000'000'000'000LL;
  m.until_us = 1'764'365'560'250'000LL;
  return m;
}
template <>
inline ResultsSummaryReply Sample<ResultsSummaryReply>() {
  return ResultsSummaryReply{
      {SampleSummaryRow("kernel/boot", "gpu"), SampleSummaryRow("kernel/boot", "usb-hub")}};
}
template <>
inline ResultsSeriesRequest Sample<ResultsSeriesRequest>() {
  ResultsSeriesRequest m;
  m.test = "kernel/boot";
  m.key = "boot_time_s";
  m.host = "lab-17";
  m.label = "gpu";
  m.since_us = 1'764'000'000'000'000LL;
  m.until_us = 1'764'365'560'250'000LL;
  m.limit = 5'000;
  return m;
}
template <>
inline ResultsSeriesReply Sample<ResultsSeriesReply>() {
  return ResultsSeriesReply{{SampleSeriesPoint(1'764'000'000'000'000LL, 11.25),
                             SampleSeriesPoint(1'764'365'560'250'000LL, -0.5)}};
}
template <>
inline ResultsReparseRequest Sample<ResultsReparseRequest>() {
  return ResultsReparseRequest{12, "alice"};
}
template <>
inline ResultsReparseReply Sample<ResultsReparseReply>() {
  return ResultsReparseReply{12, 4, 5'000'000'000ULL, 3};
}
template <>
inline ResultsUsageRequest Sample<ResultsUsageRequest>() {
  return ResultsUsageRequest{"alice"};
}
template <>
inline ResultsUsageReply Sample<ResultsUsageReply>() {
  return ResultsUsageReply{7'000'000'000ULL,
                           3,
                           {{"alice", 5'000'000'000ULL, 2}, {"bob", 2'000'000'000ULL, 1}},
                           {{"2026-10", 2'000'000'000ULL, 1}, {"2026-11", 5'000'000'000ULL, 2}}};
}
template <>
inline ResultsImportRequest Sample<ResultsImportRequest>() {
  return ResultsImportRequest{"handbox", "kernel by hand",
                              {FileDigest{"status.log", 181, std::string(64, '0')}}};
}
template <>
inline ResultsImportReply Sample<ResultsImportReply>() {
  return ResultsImportReply{12, 40, "12-alice/handbox"};
}
template <>
inline ResultsImportChunkRequest Sample<ResultsImportChunkRequest>() {
  return ResultsImportChunkRequest{40, "status.log", 4096, {'S', 'T', 'A'}, std::string(64, 'b')};
}
template <>
inline ResultsImportChunkReply Sample<ResultsImportChunkReply>() {
  return ResultsImportChunkReply{40, "status.log", 4099, "chunk leaves a gap"};
}
template <>
inline ResultsImportDoneRequest Sample<ResultsImportDoneRequest>() {
  return ResultsImportDoneRequest{40};
}
template <>
inline JobDeleteRequest Sample<JobDeleteRequest>() {
  return JobDeleteRequest{12};
}
template <>
inline JobDeleteReply Sample<JobDeleteReply>() {
  return JobDeleteReply{12, true, 2, 40, 5'000'000'000ULL, 130, "deleted by alice"};
}

// ---- users, ACL groups, audit, sessions ----
inline UserInfo SampleUser(const std::string& name) {
  return UserInfo{name, true, {"Everyone", "team-net"}, 1'764'000'000'000, 2, true,
                  {"email:" + name + "@example.org"}, "failure"};
}
template <>
inline UserListRequest Sample<UserListRequest>() {
  return UserListRequest{"alice"};
}
template <>
inline UserListReply Sample<UserListReply>() {
  return UserListReply{{SampleUser("admin"), SampleUser("alice")}};
}
template <>
inline UserCreateRequest Sample<UserCreateRequest>() {
  return UserCreateRequest{"bob", true};
}
template <>
inline UserTokenReply Sample<UserTokenReply>() {
  return UserTokenReply{"bob", "lmt_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"};
}
template <>
inline UserDeleteRequest Sample<UserDeleteRequest>() {
  return UserDeleteRequest{"bob"};
}
template <>
inline UserTokenRequest Sample<UserTokenRequest>() {
  return UserTokenRequest{"bob", true};
}
template <>
inline UserPasswdRequest Sample<UserPasswdRequest>() {
  return UserPasswdRequest{"bob", "correct horse battery"};
}
template <>
inline UserModRequest Sample<UserModRequest>() {
  return UserModRequest{"bob", {"email:bob@example.org", "webhook:https://ci.example.org/h"},
                        "failure", true};
}
template <>
inline NotifySecretRequest Sample<NotifySecretRequest>() {
  return NotifySecretRequest{"webhook:http://127.0.0.1:9000/hook"};
}
template <>
inline NotifySecretReply Sample<NotifySecretReply>() {
  return NotifySecretReply{"webhook:http://127.0.0.1:9000/hook", "bob", std::string(64, 'a')};
}
inline TemplateInfo SampleTemplate(const std::string& name) {
  TemplateInfo t;
  t.name = name;
  t.owner = "alice";
  t.description = "boot the kernel every night";
  t.job = Sample<JobCreateRequest>();
  t.created_us = 1'764'000'000'000'001;
  t.updated_us = 1'764'000'000'000'002;
  return t;
}
inline ScheduleInfo SampleSchedule(const std::string& name) {
  ScheduleInfo s;
  s.name = name;
  s.owner = "alice";
  s.template_name = "nightly-boot";
  s.cron = "0 2 * * *";
  s.timezone = "Europe/Berlin";
  s.description = "every night at two";
  s.paused = true;
  s.created_us = 1'764'000'000'000'001;
  s.next_run_us = 1'764'000'000'000'003;
  s.last_run_us = 1'764'000'000'000'002;
  s.last_job_id = 41;
  s.last_error = "template nightly-boot does not exist";
  s.jobs_created = 12;
  return s;
}
template <>
inline TemplateSaveRequest Sample<TemplateSaveRequest>() {
  return TemplateSaveRequest{"nightly-boot", "boot it", Sample<JobCreateRequest>(), 12, true};
}
template <>
inline TemplateListRequest Sample<TemplateListRequest>() {
  return TemplateListRequest{"alice"};
}
template <>
inline TemplateListReply Sample<TemplateListReply>() {
  return TemplateListReply{{SampleTemplate("a"), SampleTemplate("b")}};
}
template <>
inline TemplateShowRequest Sample<TemplateShowRequest>() {
  return TemplateShowRequest{"nightly-boot"};
}
template <>
inline TemplateShowReply Sample<TemplateShowReply>() {
  return TemplateShowReply{SampleTemplate("nightly-boot"), {"nightly", "weekly"}};
}
template <>
inline TemplateDeleteRequest Sample<TemplateDeleteRequest>() {
  return TemplateDeleteRequest{"nightly-boot"};
}
template <>
inline ScheduleCreateRequest Sample<ScheduleCreateRequest>() {
  return ScheduleCreateRequest{"nightly", "nightly-boot", "0 2 * * *", "Europe/Berlin", "two"};
}
template <>
inline ScheduleListRequest Sample<ScheduleListRequest>() {
  return ScheduleListRequest{"alice"};
}
template <>
inline ScheduleListReply Sample<ScheduleListReply>() {
  return ScheduleListReply{{SampleSchedule("a"), SampleSchedule("b")}};
}
template <>
inline ScheduleShowRequest Sample<ScheduleShowRequest>() {
  return ScheduleShowRequest{"nightly"};
}
template <>
inline ScheduleShowReply Sample<ScheduleShowReply>() {
  return ScheduleShowReply{SampleSchedule("nightly"), {1'764'000'000'000'003, 1'764'086'400'000'003}};
}
template <>
inline ScheduleActionRequest Sample<ScheduleActionRequest>() {
  return ScheduleActionRequest{"nightly", "pause"};
}
template <>
inline HostReserveRequest Sample<HostReserveRequest>() {
  return HostReserveRequest{"lab-17", 14'400'000, "kernel bisect"};
}
template <>
inline HostReleaseRequest Sample<HostReleaseRequest>() {
  return HostReleaseRequest{"lab-17"};
}
template <>
inline HostFlakyRequest Sample<HostFlakyRequest>() {
  return HostFlakyRequest{"pool:a", "lab-17", 20};
}
template <>
inline HostFlakyReply Sample<HostFlakyReply>() {
  HostFlakyReply r;
  r.computed_ms = 1'764'365'000'000LL;
  r.window_ms = 604'800'000;
  r.window_entries = 50;
  r.mode = "auto";
  r.threshold = 6;
  HostHealthInfo h;
  h.hostname = "lab-17";
  h.status = "Quarantined";
  h.labels = {"pool:a"};
  h.score = 7.5;
  h.suspect = true;
  h.entries = 12;
  h.results = 340;
  HealthEvidenceInfo lone;
  lone.kind = "lone-failure";
  lone.weight = 6;
  lone.test = "net/ping";
  lone.detail = "net/ping failed 4 of 4 here; 0 of 38 failed on 19 peer(s)";
  lone.time_us = 1'764'364'000'000'000LL;
  lone.failed = 4;
  lone.runs = 4;
  lone.peer_hosts = 19;
  lone.peer_runs = 38;
  lone.peers_passed = {"lab-1", "lab-2"};
  HealthEvidenceInfo repair;
  repair.kind = "repair";
  repair.weight = 1.5;
  repair.task_id = 81;
  repair.job_id = 7;
  repair.entry_id = 70;
  repair.detail = "Repair 81 failed: disk-check exited 1";
  h.evidence = {lone, repair};
  h.quarantine_reason = "health score 7.5 >= 6.0";
  h.quarantined_ms = 1'764'365'100'000LL;
  r.hosts = {h};
  r.flaky_tests = {FlakyTestInfo{"fs/racy", {"lab-3", "lab-9"}, "6.12-rc1", 40, 7}};
  r.compute_ms = 12;
  return r;
}
template <>
inline HostQuarantineRequest Sample<HostQuarantineRequest>() {
  return HostQuarantineRequest{"lab-17", true, "swapped the NIC"};
}
// Out-of-band power and consoles (power_messages.hpp, issue 28).
template <>
inline HostPowerConfigRequest Sample<HostPowerConfigRequest>() {
  HostPowerConfigRequest r;
  r.hostname = "lab-17";
  r.on = "ipmitool -H {bmc} chassis power on";
  r.off = "ipmitool -H {bmc} chassis power off";
  r.cycle = "ipmitool -H {bmc} -P {password} chassis power cycle";
  r.status = "ipmitool -H {bmc} chassis power status";
  r.console = "ipmitool -H {bmc} sol activate";
  r.panic_patterns = {"Kernel panic", "BUG:"};
  r.attributes = {{"bmc", "10.1.0.17"}};
  r.secrets = {{"password", "s3cr3t"}};
  r.unset = {"status", "rack"};
  return r;
}
template <>
inline HostPowerShowRequest Sample<HostPowerShowRequest>() {
  return HostPowerShowRequest{"lab-17"};
}
template <>
inline HostPowerShowReply Sample<HostPowerShowReply>() {
  PowerConfigInfo c;
  c.hostname = "lab-17";
  c.on = "on {bmc}";
  c.off = "off {bmc}";
  c.cycle = "cycle {bmc}";
  c.status = "status {bmc}";
  c.console = "socat - UNIX-CONNECT:/run/lab-17.sock";
  c.panic_patterns = {"Kernel panic"};
  c.default_patterns = false;
  c.attributes = {{"bmc", "10.1.0.17"}, {"password", "***"}};
  c.secret_names = {"password"};
  c.power_cycles_ms = {1'764'000'000'001, 1'764'000'600'002};
  c.console_reading = true;
  c.console_bytes = 5'000'000'000ULL;
  c.last_panic = "Kernel panic - not syncing: sysrq triggered crash";
  c.last_panic_ms = 1'764'000'000'003;
  return HostPowerShowReply{c};
}
template <>
inline HostPowerRequest Sample<HostPowerRequest>() {
  return HostPowerRequest{"lab-17", "cycle"};
}
template <>
inline HostPowerReply Sample<HostPowerReply>() {
  return HostPowerReply{"lab-17", "cycle", true, "exit status 1", 3, "Chassis Power Control: Cycle\n",
                        1'234, 77};
}
template <>
inline HostConsoleRequest Sample<HostConsoleRequest>() {
  return HostConsoleRequest{"lab-17", 5'000'000'000LL, 65'536};
}
template <>
inline HostConsoleReply Sample<HostConsoleReply>() {
  return HostConsoleReply{"lab-17", {'o', 'k', '\n'}, 5'000'000'000ULL, 5'000'000'003ULL, true, true};
}
inline AclInfo SampleAcl(const std::string& name) {
  return AclInfo{name, "the network team", 1'764'000'000'001, {"alice", "bob"}, {"lab-1", "lab-2"}};
}
template <>
inline AclListRequest Sample<AclListRequest>() {
  return AclListRequest{"team-net"};
}
template <>
inline AclListReply Sample<AclListReply>() {
  return AclListReply{{SampleAcl("Everyone"), SampleAcl("team-net")}};
}
template <>
inline AclCreateRequest Sample<AclCreateRequest>() {
  return AclCreateRequest{"team-net", "the network team"};
}
template <>
inline AclDeleteRequest Sample<AclDeleteRequest>() {
  return AclDeleteRequest{"team-net"};
}
template <>
inline AclMemberRequest Sample<AclMemberRequest>() {
  return AclMemberRequest{"team-net", true, {"alice"}, {"lab-1", "lab-9"}};
}
template <>
inline AuditListRequest Sample<AuditListRequest>() {
  return AuditListRequest{"alice", 1'764'000'000'000, 50};
}
template <>
inline AuditListReply Sample<AuditListReply>() {
  AuditRecord r{7, 1'764'000'000'002, "alice", "JobAbortRequest", "{\"id\":3}",
                "web 10.0.0.5", true, "PermissionDenied: not yours"};
  return AuditListReply{{r, r}};
}
template <>
inline LoginRequest Sample<LoginRequest>() {
  return LoginRequest{"alice", "lmt_token", "a password"};
}
template <>
inline LoginReply Sample<LoginReply>() {
  return LoginReply{"alice", true, "session-id", "csrf-token", 1'764'000'000'003};
}
template <>
inline WhoAmIRequest Sample<WhoAmIRequest>() {
  return WhoAmIRequest{false};
}
template <>
inline WhoAmIReply Sample<WhoAmIReply>() {
  return WhoAmIReply{"alice", true, {"Everyone"}, "csrf-token", 1'764'000'000'004};
}
template <>
inline LogoutRequest Sample<LogoutRequest>() {
  return LogoutRequest{true};
}
template <>
inline MetricsRequest Sample<MetricsRequest>() {
  return MetricsRequest{"scrape-token"};
}
template <>
inline MetricsReply Sample<MetricsReply>() {
  return MetricsReply{"# TYPE labmesh_agents_connected gauge\nlabmesh_agents_connected 3\n"};
}
inline PackageInfo SamplePackage(const std::string& version) {
  return PackageInfo{version, std::string(64, 'b'), 10'485'760, "alice", 1'764'000'000'005};
}
template <>
inline PackageChunkRequest Sample<PackageChunkRequest>() {
  return PackageChunkRequest{std::string(64, 'c'), 262'144, 262'144, true};
}
template <>
inline PackageChunk Sample<PackageChunk>() {
  return PackageChunk{std::string(64, 'c'), 262'144, 10'485'760, {'\x1f', '\x8b', '\0', 'x'},
                      PeerSource{"lab-18", "tcp://10.0.3.18:7712",
                                 "E7Jv/#ZJ%AZ-9J<k2<yV+A5GJ8{=0OLU7i@h?v{c",
                                 std::vector<char>(32, '\x07')},
                      150};
}
template <>
inline PackageUploadRequest Sample<PackageUploadRequest>() {
  return PackageUploadRequest{
      "0.2.0", std::string(64, 'd'), 10'485'760, 1'048'576, {'\x1f', '\x8b', 'y'}};
}
template <>
inline PackageUploadReply Sample<PackageUploadReply>() {
  return PackageUploadReply{10'485'760, true, SamplePackage("0.2.0")};
}
template <>
inline PackageListRequest Sample<PackageListRequest>() {
  return PackageListRequest{"0.2.0"};
}
template <>
inline PackageListReply Sample<PackageListReply>() {
  return PackageListReply{{SamplePackage("0.1.0"), SamplePackage("0.2.0")},
                          DesiredVersion{"0.2.0", 10, "alice", 1'764'000'000'006},
                          {{"0.1.0", 90}, {"0.2.0", 10}}};
}
template <>
inline PackageDesireRequest Sample<PackageDesireRequest>() {
  return PackageDesireRequest{"0.2.0", 25};
}

// The encoding of every sample (request ids 1, 2, ...), the seeds of both fuzzers.
inline std::vector<std::string> AllSampleFrames() {
  std::vector<std::string> frames;
  ForEachMessageType([&](auto m) {
    using M = decltype(m);
    frames.push_back(Encode(Sample<M>(), frames.size() + 1));
  });
  return frames;
}

// Converts an envelope's body as every message type (not only the one its header names, so that
// each decoder meets every body). Returns how many conversions succeeded.
inline int DecodeBodyAsEveryType(const Envelope& envelope) {
  int converted = 0;
  ForEachMessageType([&](auto m) {
    using M = decltype(m);
    (void)DecodeBody<M>(envelope);
    // The same body (shared, not copied) under M's type number.
    Envelope as_m;
    as_m.version = envelope.version;
    as_m.type = M::kType;
    as_m.request_id = envelope.request_id;
    as_m.body = envelope.body;
    if (DecodeBody<M>(as_m).ok()) ++converted;
  });
  return converted;
}

// Runs every decoder on an untrusted frame: PeekRequestId, the envelope, its body as every
// type, and DecodeAs of every type.
inline void DecodeWithEveryType(std::string_view frame, const DecodeLimits& limits = {}) {
  (void)PeekRequestId(frame, limits);
  auto envelope = DecodeEnvelope(frame, limits);
  if (envelope.ok()) (void)DecodeBodyAsEveryType(*envelope);
  ForEachMessageType([&](auto m) { (void)DecodeAs<decltype(m)>(frame, limits); });
}

// ---- mesh_messages.hpp ----
template <>
inline PackageChunksRequest Sample<PackageChunksRequest>() {
  return PackageChunksRequest{std::string(64, 'c')};
}
template <>
inline PackageChunks Sample<PackageChunks>() {
  return PackageChunks{std::string(64, 'c'), 1'572'864, 1'048'576,
                       {std::string(64, '1'), std::string(64, '2')}};
}
template <>
inline PeerBadReport Sample<PeerBadReport>() {
  return PeerBadReport{"lab-18", std::string(64, 'c'), 4, "corrupt", "chunk 4 hashes to 0f.."};
}
template <>
inline PeerChunkRequest Sample<PeerChunkRequest>() {
  return PeerChunkRequest{std::string(64, 'c'), 4, "lab-17", std::vector<char>(32, '\0')};
}
template <>
inline PeerChunk Sample<PeerChunk>() {
  return PeerChunk{std::string(64, 'c'), 4, {'\x1f', '\0', 'z'}};
}

}  // namespace labmesh::protocol::testing
