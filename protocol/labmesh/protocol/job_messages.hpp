#pragma once
// Jobs: the API requests that create, list, show, abort and read the log of jobs, and the
// agent-socket messages that hand work to agents and bring its results back.
// docs/jobs.md tells the whole flow; PROTOCOL.md the wire format.
//
// Every agent-to-coordinator message here is safe to repeat: an EntryReport carries the entry
// id and a sequence number (the coordinator applies a sequence once), a ResultChunk its file
// offset and hash (the coordinator writes bytes at that offset, so a repeat rewrites the same
// bytes). Times are wall-clock microseconds since the epoch (`*_us`), 0 = not yet.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "labmesh/protocol/types.hpp"
#include "labmesh/protocol/workflow_messages.hpp"

namespace labmesh::protocol {

// ---- shared value types ----

// One file of an entry's results, as the agent has it when it finished uploading.
struct FileDigest {
  std::string path;  // relative to the entry's results directory, '/'-separated, no ".."
  uint64_t size = 0;
  std::string hash;  // BLAKE2b-256 (libsodium crypto_generichash) of the whole file, lower hex
};

// An entry an agent holds (runs, or has results of not yet acknowledged), told in AgentHello so
// a restarted coordinator can re-attach it.
struct HeldEntry {
  uint64_t entry_id = 0;
  std::string phase;  // "running", "exited", "uploaded" (as EntryReport::phase)
};

// One move of an entry's status (its history).
struct EntryStatusChange {
  std::string status;  // EntryStatusName
  int64_t at_us = 0;
  std::string reason;
};

// One host queue entry as readers see it.
struct EntryInfo {
  uint64_t id = 0;
  uint64_t job_id = 0;
  std::string host;        // "" while a label entry (meta-host) has no host yet
  std::string meta_label;  // the label a `--label L --count K` entry asks for; "" for named hosts
  std::string status;      // EntryStatusName
  std::string reason;      // why it is in that status (failures: what failed)
  std::string fault;       // "" (none), "test" (the control failed) or "infrastructure"
  int32_t exit_code = -1;  // the control's exit status; -1 = none (not ended, or signalled)
  int32_t signal = 0;      // the signal that ended the control, 0 = none
  int64_t queued_us = 0;
  int64_t started_us = 0;   // the control was spawned on the agent (agent's clock)
  int64_t finished_us = 0;  // the entry became final
  std::string results_path;  // relative to the results repository: "<job_id>-<owner>/<host>"
  uint32_t group = 0;        // synchronous jobs: the group of synch_count entries it starts with
  // What the control waits for right now: "barrier setup (use 2): 3/4 arrived", "wait KEY";
  // "" when nothing.
  std::string waiting_in;
  // Parsing the entry's files: results per status (GOOD, FAIL, ...; none = not parsed yet) and
  // what could not be parsed ("status.log: line 7: END without START").
  std::map<std::string, uint64_t> result_counts;
  std::vector<std::string> parse_warnings;
  uint32_t retries = 0;  // times it was queued again after its host was lost (job's --retry)
  // A Queued entry (JobShowReply only): why it has not started, e.g. "3 hosts carry gpu: 2
  // busy (jobs 41, 42), 1 locked (alice: bisecting)"; "" when not queued.
  std::string waiting_for;
  // A Queued entry (JobShowReply only): its place among the queued entries that want the same
  // hosts (its label, or its named host), 1 = next; and how many those are. 0 = not queued.
  uint32_t queue_position = 0;
  uint32_t queue_length = 0;
  // Reboots inside the control (`labmesh-test reboot`) done so far (docs/kernel-lab.md).
  uint32_t boot_count = 0;
  // The entry crashed its host: it rebooted unexpectedly, or its crashinfo/ holds a kernel panic
  // or oops; `crash_line` is the first such line found ("" when none was).
  bool crash = false;
  std::string crash_line;
  // Every status it had, oldest first (JobShowReply only; empty in lists).
  std::vector<EntryStatusChange> history;
};

struct JobInfo {
  uint64_t id = 0;
  std::string name;
  std::string owner;
  std::string priority;  // PriorityName
  uint32_t synch_count = 1;
  // "Waiting" while it waits for its --after jobs; then derived from the entries: "Queued"
  // (none started), "Running" (some not final),
  // then when all are final "Completed" (all Completed), "Aborted" (any Aborted) or "Failed".
  std::string status;
  std::string control_kind;  // "command", "control" or "test"
  std::string control;       // the command line or script text (JobShowReply only)
  std::string test_name;     // for "test": the catalog test the control was copied from
  std::vector<std::string> hosts;    // named hosts
  std::string meta_label;            // --label
  uint32_t meta_count = 0;           // --count
  std::vector<std::string> depends;  // labels every chosen host must carry
  bool run_verify = false;
  int64_t timeout_ms = 0;      // whole job; 0 = none
  int64_t max_runtime_ms = 0;  // one entry's running time; 0 = none
  int64_t created_us = 0;
  int64_t finished_us = 0;
  std::string abort_reason;  // set once the job (or all of it) was aborted
  std::vector<EntryInfo> entries;
  std::string cleanup = "on-failure";  // "never", "always" or "on-failure"
  uint32_t retry = 0;
  // Retention (docs/retention.md): 0 = the coordinator's policy, -1 = forever, else ms.
  int64_t keep_results_ms = 0;
  uint64_t result_bytes = 0;           // bytes its entries uploaded
  std::string results = "present";     // "present", "removing" or "removed"
  int64_t results_removed_us = 0;      // when their removal was decided; 0 = never
  std::string results_removed_reason;  // "retention 90d", "deleted by alice", ...
  // Notifications (docs/notifications.md): the targets told when the job ends, when
  // ("always" or "failure"), and each one's delivery once the job ended (JobShowReply only).
  std::vector<std::string> notify;
  std::string notify_on;
  std::vector<NotificationInfo> notifications;
  // --after: the jobs it waits for; while it waits its status is "Waiting".
  std::vector<uint64_t> after;
  bool after_any = false;
  // Where it came from (docs/schedules.md): the template it was made from and the schedule that
  // created it; "" = none.
  std::string template_name;
  std::string schedule;
  // --reserve-on-failure: a host whose entry of this job failed is reserved to the owner for
  // this long (docs/reservations.md); 0 = not.
  int64_t reserve_on_failure_ms = 0;
  // A probe job of this quarantined host (docs/quarantine.md); "" = an ordinary job.
  std::string probe_for;
};

// ---- agent socket ----

// The agent is idle and wants work. The coordinator answers with StartEntry as soon as it has
// something for this host (possibly much later); it never answers "nothing".
struct WorkRequest {
  static constexpr MessageType kType = MessageType::kWorkRequest;
  uint64_t incarnation = 0;
};

// Run one entry. Sent again (same entry_id) after a reconnect when the coordinator has no
// report for it: the agent ignores a StartEntry for an entry it already holds.
struct StartEntry {
  static constexpr MessageType kType = MessageType::kStartEntry;
  uint64_t entry_id = 0;
  uint64_t job_id = 0;
  std::string job_name;
  std::string owner;
  std::string hostname;  // this host
  // LABMESH_HOSTS: synchronous jobs: the hosts of this entry's group, sorted; client-side jobs:
  // every host of the job known so far, sorted.
  std::vector<std::string> hosts;
  std::string control_kind;  // "command" (sh -c) or "control"/"test" (a script to execute)
  std::string control;
  int64_t max_runtime_ms = 0;  // 0 = none: kill the process group after this long
  uint32_t synch_count = 1;    // > 1: started together with the rest of its group
  uint32_t group = 0;          // the group's index within the job
  // LABMESH_PEERS: host -> address as that host's agent reported it (HostFacts::address), for
  // every host in `hosts` whose address is known.
  std::map<std::string, std::string> peers;
};

// An entry's phase on the agent. Sent when it changes and again after every (re)connect until
// acknowledged. `sequence` grows with each new report of the entry.
//   running  - the control was spawned (started_us); again after each reboot it asked for, with
//              boot_count one higher (the control runs again from the top)
//   rebooting - the control asked for a reboot (`labmesh-test reboot`); the agent runs the
//              machine's reboot command once this report is acknowledged. The host may be
//              silent for reboot_timeout_ms.
//   exited   - the control ended (exit_code/signal, outcome); results are being uploaded
//   uploaded - every file is acknowledged; `files` lists them for the coordinator to check
struct EntryReport {
  static constexpr MessageType kType = MessageType::kEntryReport;
  uint64_t entry_id = 0;
  uint64_t sequence = 0;
  uint64_t incarnation = 0;
  std::string phase;
  int64_t started_us = 0;
  int64_t ended_us = 0;
  int32_t exit_code = -1;
  int32_t signal = 0;
  // "passed" (exit 0), "failed" (the control failed: non-zero exit, killed by a signal, max
  // runtime), "aborted" (killed because the coordinator said so), "error" (the agent could not
  // run it: spawn failed, spool unusable - an infrastructure failure).
  std::string outcome;
  std::string reason;  // human words for a failure, e.g. "exit status 3", "max runtime 2s exceeded"
  std::vector<FileDigest> files;  // phase "uploaded" only
  uint32_t boot_count = 0;        // reboots the control asked for that have happened
  int64_t reboot_timeout_ms = 0;  // phase "rebooting": how long the host may take to come back
  // The machine rebooted while the control ran without asking (a panic, a power cut): outcome
  // "error"; the coordinator treats the entry as lost with its host (the job's --retry applies).
  bool unexpected_reboot = false;
};

struct EntryReportAck {
  static constexpr MessageType kType = MessageType::kEntryReportAck;
  uint64_t entry_id = 0;
  uint64_t sequence = 0;
  // True when the coordinator is finished with the entry (results checked and final, or the
  // entry no longer exists): the agent deletes its spool for it and forgets it.
  bool done = false;
};

// The largest ResultChunk.data the coordinator accepts (PROTOCOL.md): one byte more is refused.
inline constexpr uint64_t kMaxResultChunkBytes = 256 * 1024;

// Bytes of one results file. debug/control.log is streamed this way while the control runs;
// every file is sent this way after it ended. `hash` is BLAKE2b-256 (lower hex) of `data`.
struct ResultChunk {
  static constexpr MessageType kType = MessageType::kResultChunk;
  uint64_t entry_id = 0;
  std::string path;  // relative, '/'-separated, no "..", no leading '/'
  uint64_t offset = 0;
  std::vector<char> data;  // MessagePack bin
  std::string hash;
};

// The coordinator holds bytes [0, next_offset) of the file. Sent for every chunk, also for one
// it refused (bad hash, a gap): the agent continues from next_offset.
struct ResultAck {
  static constexpr MessageType kType = MessageType::kResultAck;
  uint64_t entry_id = 0;
  std::string path;
  uint64_t next_offset = 0;
  std::string error;  // why a chunk was refused; "" when it was written
  // With an error: send this file's chunks again only after this long (the coordinator's disk
  // is full); 0 = at once.
  uint64_t retry_after_ms = 0;
};

// Kill the entry's control (TERM to its process group, KILL after a grace period) and upload
// what it left; the entry ends with outcome "aborted". For an entry the agent holds only in
// its spool, the agent drops the spool when `discard`.
struct AbortEntry {
  static constexpr MessageType kType = MessageType::kAbortEntry;
  uint64_t entry_id = 0;
  std::string reason;
  bool discard = false;  // the coordinator is done with the entry: nothing more to upload
};

// ---- API socket ----

// Exactly one of command, control, test. Hosts come from `hosts` and/or `meta_label` +
// `meta_count`.
struct JobCreateRequest {
  static constexpr MessageType kType = MessageType::kJobCreateRequest;
  std::string name;
  std::string user;  // the owner
  std::string command;
  std::string control;  // a script's text
  std::string test;     // a catalog test's name
  std::vector<std::string> hosts;
  std::string meta_label;
  uint32_t meta_count = 0;
  std::vector<std::string> depends;
  uint32_t synch_count = 1;
  std::string priority = "medium";
  bool run_verify = false;
  int64_t timeout_ms = 0;
  int64_t max_runtime_ms = 0;
  std::string cleanup = "on-failure";  // "never", "always" or "on-failure"
  uint32_t retry = 0;  // an entry whose host is lost is queued again up to this many times
  // How long its results are kept after it finished: 0 = the coordinator's --results-retention,
  // -1 = forever (no policy removes them), else ms (docs/retention.md).
  int64_t keep_results_ms = 0;
  // Who is told when the job ends ("email:ADDR", "webhook:URL"); empty = the owner's defaults
  // (user mod --notify). notify_on: "always" or "failure"; "" = the owner's default, else always.
  std::vector<std::string> notify;
  std::string notify_on;
  // Queue its entries only once these jobs are final (ids of existing jobs; `job create
  // --after`); when one did not complete it is aborted, unless after_any.
  std::vector<uint64_t> after;
  bool after_any = false;
  // The template it was made from (`job create --template`, docs/schedules.md); "" = none. It
  // must exist; the job records its name (the request carries the template's fields already).
  std::string template_name;
  // A host whose entry of this job ends Failed is reserved to the owner for this long, with
  // the reason "job N failed on HOST" (docs/reservations.md); 0 = not. At most 7 days.
  int64_t reserve_on_failure_ms = 0;
};

struct JobCreateReply {
  static constexpr MessageType kType = MessageType::kJobCreateReply;
  uint64_t id = 0;
};

struct JobListRequest {
  static constexpr MessageType kType = MessageType::kJobListRequest;
  std::string owner;   // filter; "" = any
  std::string status;  // filter on JobInfo::status; "" = any
  uint32_t limit = 0;  // newest first; 0 = all
  std::string name;    // filter: the name contains this, ignoring ASCII case; "" = any
  // Paging, newest first: only jobs whose id is below this (the last id of the previous
  // page); 0 = from the newest.
  uint64_t before_id = 0;
  // Only jobs that finished (all entries final) at or after this wall time, µs since the
  // epoch; 0 = finished or not.
  int64_t finished_since_us = 0;
  // Only the jobs this schedule created (`job list --schedule NAME`); "" = any.
  std::string schedule;
};

struct JobListReply {
  static constexpr MessageType kType = MessageType::kJobListReply;
  std::vector<JobInfo> jobs;  // newest first; `control` left empty
};

struct JobShowRequest {
  static constexpr MessageType kType = MessageType::kJobShowRequest;
  uint64_t id = 0;
};

struct JobShowReply {
  static constexpr MessageType kType = MessageType::kJobShowReply;
  JobInfo job;
};

// Before a submission: what the hosts with `label` (and every label of `depends`) that the
// asking user may use are doing now, and how many entries already queue for them.
struct HostAvailRequest {
  static constexpr MessageType kType = MessageType::kHostAvailRequest;
  std::string label;                 // required
  uint32_t count = 1;                // hosts the job would want (1..10000)
  std::vector<std::string> depends;  // further labels each host must carry
};

struct HostAvailReply {
  static constexpr MessageType kType = MessageType::kHostAvailReply;
  std::string label;
  uint32_t count = 1;
  uint32_t hosts = 0;  // carry the labels and are usable by the user (ACL groups, accepted)
  uint32_t free = 0;   // of those: Ready, connected, asking for work: could start now
  uint32_t busy = 0;   // running or held for an entry
  uint32_t locked = 0;
  uint32_t in_task = 0;    // verifying, repairing, cleaning, updating, or a task queued first
  uint32_t down = 0;       // Dead, Repair Failed, not connected, or not asking for work
  uint32_t unusable = 0;   // carry the labels, but none of the user's ACL groups / not accepted
  uint32_t queued_ahead = 0;  // Queued entries that want hosts with `label` now
  std::vector<uint64_t> busy_jobs;  // the jobs the busy hosts run, sorted
  bool can_start = false;   // free >= count and nothing queued ahead
  std::string summary;      // one line of the above for people
  uint32_t reserved = 0;    // reserved for someone else (docs/reservations.md)
};

// Aborts every entry of the job that is not final, or only the one on `host`.
struct JobAbortRequest {
  static constexpr MessageType kType = MessageType::kJobAbortRequest;
  uint64_t id = 0;
  std::string host;  // "" = the whole job
  std::string user;
};

// Removes a finished job's results (files, index rows) at once; the job's record stays, saying
// who removed them. The job's owner or an admin; a job with an entry not final is refused
// (FailedPrecondition). The reply comes when the files are gone.
struct JobDeleteRequest {
  static constexpr MessageType kType = MessageType::kJobDeleteRequest;
  uint64_t id = 0;
};

struct JobDeleteReply {
  static constexpr MessageType kType = MessageType::kJobDeleteReply;
  uint64_t job_id = 0;
  bool already_removed = false;  // an earlier delete or a policy had removed them
  uint64_t dirs = 0;        // entry directories removed
  uint64_t files = 0;       // files removed
  uint64_t bytes = 0;       // their bytes
  uint64_t index_rows = 0;  // results removed from the results index
  std::string reason;       // the job's results_removed_reason
};

// Reads the control's output (debug/control.log) of the job's entry on `host`, from `offset`.
struct JobLogRequest {
  static constexpr MessageType kType = MessageType::kJobLogRequest;
  uint64_t id = 0;
  std::string host;
  uint64_t offset = 0;
  uint32_t max_bytes = 0;  // 0 = the coordinator's cap (1 MiB)
};

struct JobLogReply {
  static constexpr MessageType kType = MessageType::kJobLogReply;
  std::vector<char> data;
  uint64_t next_offset = 0;
  // True when the entry is final and `next_offset` is the end of the log: nothing more will come.
  bool complete = false;
  std::string status;  // the entry's status
};

}  // namespace labmesh::protocol
