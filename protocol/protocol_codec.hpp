#pragma once
// The MessagePack encoding of every protocol struct: PRIVATE to labmesh_protocol and the store.
// Included only by protocol/*.cpp, store/*.cpp (stored records embed protocol structs) and tests
// that look at raw MessagePack; never by a header under labmesh/. Everything else names plain
// structs and calls Encode / DecodeBody / DecodeAs (envelope.hpp), compiled once in codec.cpp.
//
// Each struct's map keys are listed below, in wire order, with LABMESH_CODEC_MAP. A field added
// to a struct must be added to its line here too, or it never travels: the round-trip test
// (tests/protocol/message_roundtrip_test.cpp) sets every field of every message and fails on a
// field that does not come back.

#include <msgpack.hpp>

#include "labmesh/protocol/envelope.hpp"
#include "labmesh/protocol/messages.hpp"
#include "labmesh/protocol/types.hpp"

// LABMESH_CODEC_MAP(Type, field, ...): msgpack-c's non-intrusive adaptors (convert, pack,
// object_with_zone) for a plain struct, encoding it exactly as MSGPACK_DEFINE_MAP(field, ...)
// inside the struct would: a map whose keys are the field names in the order given. Decoding
// keeps a field's current value when its key is missing and ignores keys it does not know
// (msgpack::type::define_map does the work, as it does for MSGPACK_DEFINE_MAP). Use it at global
// scope, with the type's qualified name.
#define LABMESH_CODEC_FIELD_(r, value, field) (MSGPACK_PP_STRINGIZE(field))(value.field)
#define LABMESH_CODEC_FIELDS_(value, ...)                                        \
  MSGPACK_PP_SEQ_TO_TUPLE(MSGPACK_PP_SEQ_FOR_EACH(LABMESH_CODEC_FIELD_, value, \
                                                  MSGPACK_PP_VARIADIC_TO_SEQ(__VA_ARGS__)))
#define LABMESH_CODEC_MAP(Type, ...)                                                            \
  namespace msgpack {                                                                           \
  MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {                                       \
    namespace adaptor {                                                                         \
    template <>                                                                                 \
    struct convert<Type> {                                                                      \
      const msgpack::object& operator()(const msgpack::object& o, Type& v) const {              \
        msgpack::type::make_define_map LABMESH_CODEC_FIELDS_(v, __VA_ARGS__).msgpack_unpack(o); \
        return o;                                                                               \
      }                                                                                         \
    };                                                                                          \
    template <>                                                                                 \
    struct pack<Type> {                                                                         \
      template <typename Stream>                                                                \
      msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& p, const Type& v) const {    \
        msgpack::type::make_define_map LABMESH_CODEC_FIELDS_(v, __VA_ARGS__).msgpack_pack(p);   \
        return p;                                                                               \
      }                                                                                         \
    };                                                                                          \
    template <>                                                                                 \
    struct object_with_zone<Type> {                                                             \
      void operator()(msgpack::object::with_zone& o, const Type& v) const {                     \
        msgpack::type::make_define_map LABMESH_CODEC_FIELDS_(v, __VA_ARGS__)                    \
            .msgpack_object(&o, o.zone);                                                        \
      }                                                                                         \
    };                                                                                          \
    }                                                                                           \
  }                                                                                             \
  }                                                                                             \
  static_assert(true, "LABMESH_CODEC_MAP needs a semicolon")

// Enums stored by their number (the wire spells HostStatus as a string; store/ keeps numbers).
MSGPACK_ADD_ENUM(labmesh::protocol::HostStatus);
MSGPACK_ADD_ENUM(labmesh::protocol::EntryStatus);
MSGPACK_ADD_ENUM(labmesh::protocol::Priority);
MSGPACK_ADD_ENUM(labmesh::protocol::Protection);
MSGPACK_ADD_ENUM(labmesh::protocol::TaskKind);
MSGPACK_ADD_ENUM(labmesh::protocol::TaskStatus);

// Value types come before the messages that hold them (a specialization must precede its use).
// ---- labmesh/protocol/sync_messages.hpp ----
LABMESH_CODEC_MAP(labmesh::protocol::SyncRequest, entry_id, op, name, generation, value, from_host,
                  timeout_ms);
LABMESH_CODEC_MAP(labmesh::protocol::SyncReply, entry_id, op, name, generation, ok, error, value,
                  from_host);

// ---- labmesh/protocol/auth_messages.hpp ----
LABMESH_CODEC_MAP(labmesh::protocol::UserInfo, name, admin, acl_groups, created_ms, tokens,
                  has_password, notify, notify_on);
LABMESH_CODEC_MAP(labmesh::protocol::UserListRequest, name);
LABMESH_CODEC_MAP(labmesh::protocol::UserListReply, users);
LABMESH_CODEC_MAP(labmesh::protocol::UserCreateRequest, name, admin);
LABMESH_CODEC_MAP(labmesh::protocol::UserTokenReply, name, token);
LABMESH_CODEC_MAP(labmesh::protocol::UserDeleteRequest, name);
LABMESH_CODEC_MAP(labmesh::protocol::UserTokenRequest, name, revoke_others);
LABMESH_CODEC_MAP(labmesh::protocol::UserPasswdRequest, name, password);
LABMESH_CODEC_MAP(labmesh::protocol::AclInfo, name, description, created_ms, users, hosts);
LABMESH_CODEC_MAP(labmesh::protocol::AclListRequest, name);
LABMESH_CODEC_MAP(labmesh::protocol::AclListReply, groups);
LABMESH_CODEC_MAP(labmesh::protocol::AclCreateRequest, name, description);
LABMESH_CODEC_MAP(labmesh::protocol::AclDeleteRequest, name);
LABMESH_CODEC_MAP(labmesh::protocol::AclMemberRequest, name, remove, users, hosts);
LABMESH_CODEC_MAP(labmesh::protocol::AuditRecord, id, time_ms, user, action, target, from, ok,
                  error);
LABMESH_CODEC_MAP(labmesh::protocol::AuditListRequest, user, since_ms, limit);
LABMESH_CODEC_MAP(labmesh::protocol::AuditListReply, records);
LABMESH_CODEC_MAP(labmesh::protocol::LoginRequest, user, token, password);
LABMESH_CODEC_MAP(labmesh::protocol::LoginReply, user, admin, session, csrf, expires_ms);
LABMESH_CODEC_MAP(labmesh::protocol::WhoAmIRequest, with_groups);
LABMESH_CODEC_MAP(labmesh::protocol::WhoAmIReply, user, admin, acl_groups, csrf, expires_ms);
LABMESH_CODEC_MAP(labmesh::protocol::LogoutRequest, all_sessions);

// ---- labmesh/protocol/workflow_messages.hpp ----
LABMESH_CODEC_MAP(labmesh::protocol::NotificationInfo, target, state, attempts, last_error,
                  created_us, last_attempt_us, delivered_us, event, host);
LABMESH_CODEC_MAP(labmesh::protocol::UserModRequest, name, notify, notify_on, clear_notify);
LABMESH_CODEC_MAP(labmesh::protocol::NotifySecretRequest, target);
LABMESH_CODEC_MAP(labmesh::protocol::NotifySecretReply, target, owner, secret);
LABMESH_CODEC_MAP(labmesh::protocol::PowerConfigInfo, hostname, on, off, cycle, status, console,
                  panic_patterns, default_patterns, attributes, secret_names, power_cycles_ms,
                  console_reading, console_bytes, last_panic, last_panic_ms);
LABMESH_CODEC_MAP(labmesh::protocol::HostPowerConfigRequest, hostname, on, off, cycle, status,
                  console, panic_patterns, attributes, secrets, unset);
LABMESH_CODEC_MAP(labmesh::protocol::HostPowerShowRequest, hostname);
LABMESH_CODEC_MAP(labmesh::protocol::HostPowerShowReply, config);
LABMESH_CODEC_MAP(labmesh::protocol::HostPowerRequest, hostname, action);
LABMESH_CODEC_MAP(labmesh::protocol::HostPowerReply, hostname, action, passed, reason, exit_code,
                  output, duration_ms, task_id);
LABMESH_CODEC_MAP(labmesh::protocol::HostConsoleRequest, hostname, offset, max_bytes);
LABMESH_CODEC_MAP(labmesh::protocol::HostConsoleReply, hostname, data, offset, next_offset, reading,
                  configured);
LABMESH_CODEC_MAP(labmesh::protocol::HostReserveRequest, hostname, duration_ms, reason);
LABMESH_CODEC_MAP(labmesh::protocol::HostReleaseRequest, hostname);

// ---- labmesh/protocol/health_messages.hpp ----
LABMESH_CODEC_MAP(labmesh::protocol::HealthEvidenceInfo, kind, weight, job_id, entry_id, task_id,
                  test, detail, time_us, failed, runs, peer_hosts, peer_runs, peer_failed,
                  peers_passed);
LABMESH_CODEC_MAP(labmesh::protocol::HostHealthInfo, hostname, status, labels, score, suspect,
                  entries, results, evidence, quarantine_reason, quarantined_ms);
LABMESH_CODEC_MAP(labmesh::protocol::FlakyTestInfo, test, hosts, build, passed, failed);
LABMESH_CODEC_MAP(labmesh::protocol::HostFlakyRequest, label, host, limit);
LABMESH_CODEC_MAP(labmesh::protocol::HostFlakyReply, computed_ms, window_ms, window_entries, mode,
                  threshold, hosts, flaky_tests, compute_ms);
LABMESH_CODEC_MAP(labmesh::protocol::HostQuarantineRequest, hostname, release, reason);

// ---- labmesh/protocol/job_messages.hpp ----
LABMESH_CODEC_MAP(labmesh::protocol::FileDigest, path, size, hash);
LABMESH_CODEC_MAP(labmesh::protocol::HeldEntry, entry_id, phase);
LABMESH_CODEC_MAP(labmesh::protocol::EntryStatusChange, status, at_us, reason);
LABMESH_CODEC_MAP(labmesh::protocol::EntryInfo, id, job_id, host, meta_label, status, reason,
                  fault, exit_code, signal, queued_us, started_us, finished_us, results_path,
                  group, waiting_in, result_counts, parse_warnings, retries, waiting_for,
                  queue_position, queue_length, boot_count, crash, crash_line,
                  history);
LABMESH_CODEC_MAP(labmesh::protocol::JobInfo, id, name, owner, priority, synch_count, status,
                  control_kind, control, test_name, hosts, meta_label, meta_count, depends,
                  run_verify, timeout_ms, max_runtime_ms, created_us, finished_us, abort_reason,
                  entries, cleanup, retry, keep_results_ms, result_bytes, results,
                  results_removed_us, results_removed_reason, notify, notify_on, notifications,
                  after, after_any, template_name, schedule, reserve_on_failure_ms, probe_for);
LABMESH_CODEC_MAP(labmesh::protocol::HostAvailRequest, label, count, depends);
LABMESH_CODEC_MAP(labmesh::protocol::HostAvailReply, label, count, hosts, free, busy, locked,
                  in_task, down, unusable, queued_ahead, busy_jobs, can_start, summary,
                  reserved);
LABMESH_CODEC_MAP(labmesh::protocol::WorkRequest, incarnation);
LABMESH_CODEC_MAP(labmesh::protocol::StartEntry, entry_id, job_id, job_name, owner, hostname,
                  hosts, control_kind, control, max_runtime_ms, synch_count, group, peers);
LABMESH_CODEC_MAP(labmesh::protocol::EntryReport, entry_id, sequence, incarnation, phase,
                  started_us, ended_us, exit_code, signal, outcome, reason, files, boot_count,
                  reboot_timeout_ms, unexpected_reboot);
LABMESH_CODEC_MAP(labmesh::protocol::EntryReportAck, entry_id, sequence, done);
LABMESH_CODEC_MAP(labmesh::protocol::ResultChunk, entry_id, path, offset, data, hash);
LABMESH_CODEC_MAP(labmesh::protocol::ResultAck, entry_id, path, next_offset, error,
                  retry_after_ms);
LABMESH_CODEC_MAP(labmesh::protocol::AbortEntry, entry_id, reason, discard);
LABMESH_CODEC_MAP(labmesh::protocol::JobCreateRequest, name, user, command, control, test, hosts,
                  meta_label, meta_count, depends, synch_count, priority, run_verify, timeout_ms,
                  max_runtime_ms, cleanup, retry, keep_results_ms, notify, notify_on, after,
                  after_any, template_name, reserve_on_failure_ms);
LABMESH_CODEC_MAP(labmesh::protocol::JobCreateReply, id);
LABMESH_CODEC_MAP(labmesh::protocol::JobDeleteRequest, id);
LABMESH_CODEC_MAP(labmesh::protocol::JobDeleteReply, job_id, already_removed, dirs, files, bytes,
                  index_rows, reason);
LABMESH_CODEC_MAP(labmesh::protocol::JobListRequest, owner, status, limit, name, before_id,
                  finished_since_us, schedule);
LABMESH_CODEC_MAP(labmesh::protocol::JobListReply, jobs);
LABMESH_CODEC_MAP(labmesh::protocol::JobShowRequest, id);
LABMESH_CODEC_MAP(labmesh::protocol::JobShowReply, job);
LABMESH_CODEC_MAP(labmesh::protocol::JobAbortRequest, id, host, user);
LABMESH_CODEC_MAP(labmesh::protocol::JobLogRequest, id, host, offset, max_bytes);
LABMESH_CODEC_MAP(labmesh::protocol::JobLogReply, data, next_offset, complete, status);

// ---- labmesh/protocol/schedule_messages.hpp ----
LABMESH_CODEC_MAP(labmesh::protocol::TemplateInfo, name, owner, description, job, created_us,
                  updated_us);
LABMESH_CODEC_MAP(labmesh::protocol::TemplateSaveRequest, name, description, job, from_job,
                  replace);
LABMESH_CODEC_MAP(labmesh::protocol::TemplateListRequest, owner);
LABMESH_CODEC_MAP(labmesh::protocol::TemplateListReply, templates);
LABMESH_CODEC_MAP(labmesh::protocol::TemplateShowRequest, name);
LABMESH_CODEC_MAP(labmesh::protocol::TemplateShowReply, template_info, schedules);
LABMESH_CODEC_MAP(labmesh::protocol::TemplateDeleteRequest, name);
LABMESH_CODEC_MAP(labmesh::protocol::ScheduleInfo, name, owner, template_name, cron, timezone,
                  description, paused, created_us, next_run_us, last_run_us, last_job_id,
                  last_error, jobs_created);
LABMESH_CODEC_MAP(labmesh::protocol::ScheduleCreateRequest, name, template_name, cron, timezone,
                  description);
LABMESH_CODEC_MAP(labmesh::protocol::ScheduleListRequest, owner);
LABMESH_CODEC_MAP(labmesh::protocol::ScheduleListReply, schedules);
LABMESH_CODEC_MAP(labmesh::protocol::ScheduleShowRequest, name);
LABMESH_CODEC_MAP(labmesh::protocol::ScheduleShowReply, schedule, upcoming_us);
LABMESH_CODEC_MAP(labmesh::protocol::ScheduleActionRequest, name, action);

// ---- labmesh/protocol/package_messages.hpp ----
LABMESH_CODEC_MAP(labmesh::protocol::PackageInfo, version, sha256, bytes, uploaded_by, uploaded_ms);
LABMESH_CODEC_MAP(labmesh::protocol::DesiredVersion, version, canary_percent, set_by, set_ms);
LABMESH_CODEC_MAP(labmesh::protocol::PackageUploadRequest, version, sha256, total_bytes, offset,
                  data);
LABMESH_CODEC_MAP(labmesh::protocol::PackageUploadReply, received_bytes, done, package);
LABMESH_CODEC_MAP(labmesh::protocol::PackageListRequest, version);
LABMESH_CODEC_MAP(labmesh::protocol::PackageListReply, packages, desired, host_versions);
LABMESH_CODEC_MAP(labmesh::protocol::PackageDesireRequest, version, canary_percent);
LABMESH_CODEC_MAP(labmesh::protocol::MetricsRequest, token);
LABMESH_CODEC_MAP(labmesh::protocol::MetricsReply, text);
// ---- labmesh/protocol/mesh_messages.hpp ----
LABMESH_CODEC_MAP(labmesh::protocol::PeerSource, hostname, endpoint, public_key, ticket);
LABMESH_CODEC_MAP(labmesh::protocol::PackageChunksRequest, sha256);
LABMESH_CODEC_MAP(labmesh::protocol::PackageChunks, sha256, total_bytes, chunk_bytes,
                  chunk_sha256s);
LABMESH_CODEC_MAP(labmesh::protocol::PeerBadReport, peer, sha256, index, problem, detail);
LABMESH_CODEC_MAP(labmesh::protocol::PeerChunkRequest, sha256, index, fetcher, ticket);
LABMESH_CODEC_MAP(labmesh::protocol::PeerChunk, sha256, index, data);
LABMESH_CODEC_MAP(labmesh::protocol::PackageChunkRequest, sha256, offset, max_bytes, mesh);
LABMESH_CODEC_MAP(labmesh::protocol::PackageChunk, sha256, offset, total_bytes, data, peer,
                  retry_after_ms);

// ---- labmesh/protocol/results_messages.hpp ----
LABMESH_CODEC_MAP(labmesh::protocol::TestResultInfo, id, job_id, entry_id, host, labels, test,
                  status, reason, start_us, end_us, duration_us, keyvals, perf, file, link,
                  flaky);
LABMESH_CODEC_MAP(labmesh::protocol::ResultsListRequest, job_id, host, label, test, status,
                  since_us, until_us, limit, cursor);
LABMESH_CODEC_MAP(labmesh::protocol::ResultsListReply, results, next_cursor);
LABMESH_CODEC_MAP(labmesh::protocol::SummaryRowInfo, test, group, total, counts, pass_rate,
                  first_us, last_us, flaky);
LABMESH_CODEC_MAP(labmesh::protocol::ResultsSummaryRequest, group_by, test, test_prefix, host,
                  label, since_us, until_us);
LABMESH_CODEC_MAP(labmesh::protocol::ResultsSummaryReply, rows);
LABMESH_CODEC_MAP(labmesh::protocol::SeriesPointInfo, time_us, value, job_id, host, link);
LABMESH_CODEC_MAP(labmesh::protocol::ResultsSeriesRequest, test, key, host, label, since_us,
                  until_us, limit);
LABMESH_CODEC_MAP(labmesh::protocol::ResultsSeriesReply, points);
LABMESH_CODEC_MAP(labmesh::protocol::ResultsReparseRequest, job_id, user);
LABMESH_CODEC_MAP(labmesh::protocol::ResultsReparseReply, job_id, entries, results, warnings);
LABMESH_CODEC_MAP(labmesh::protocol::ResultsUsageRequest, owner);
LABMESH_CODEC_MAP(labmesh::protocol::UsageRow, key, bytes, jobs);
LABMESH_CODEC_MAP(labmesh::protocol::ResultsUsageReply, total_bytes, jobs, by_owner, by_month);
LABMESH_CODEC_MAP(labmesh::protocol::ResultsImportRequest, host, job_name, files);
LABMESH_CODEC_MAP(labmesh::protocol::ResultsImportReply, job_id, entry_id, results_path);
LABMESH_CODEC_MAP(labmesh::protocol::ResultsImportChunkRequest, entry_id, path, offset, data, hash);
LABMESH_CODEC_MAP(labmesh::protocol::ResultsImportChunkReply, entry_id, path, next_offset, error);
LABMESH_CODEC_MAP(labmesh::protocol::ResultsImportDoneRequest, entry_id);

// ---- labmesh/protocol/task_messages.hpp ----
LABMESH_CODEC_MAP(labmesh::protocol::TaskCheck, name, passed, output, duration_ms);
LABMESH_CODEC_MAP(labmesh::protocol::TaskInfo, id, hostname, kind, status, reason, requested_by,
                  job_id, entry_id, queued_ms, started_ms, finished_ms, checks);
LABMESH_CODEC_MAP(labmesh::protocol::RunTask, task_id, kind, repair_scripts, verify_after,
                  coordinator_ms, version, package_sha256, package_bytes);
LABMESH_CODEC_MAP(labmesh::protocol::TaskReport, task_id, kind, passed, reason, checks);
LABMESH_CODEC_MAP(labmesh::protocol::HostTaskRequest, hostname, kind, user);
LABMESH_CODEC_MAP(labmesh::protocol::HostTaskReply, task);
LABMESH_CODEC_MAP(labmesh::protocol::HostHistoryRequest, hostname, limit);
LABMESH_CODEC_MAP(labmesh::protocol::HistoryItem, type, id, job_id, name, status, reason,
                  requested_by, queued_ms, started_ms, finished_ms, checks, crash, crash_line);
LABMESH_CODEC_MAP(labmesh::protocol::HostHistoryReply, items);
LABMESH_CODEC_MAP(labmesh::protocol::HostModRequest, hostname, protection, user);

// ---- labmesh/protocol/messages.hpp ----
LABMESH_CODEC_MAP(labmesh::protocol::HostFacts, arch, os, os_version, kernel, cpus, memory_bytes,
                  address);
LABMESH_CODEC_MAP(labmesh::protocol::HostHealth, load1, load5, load15, mem_total_bytes,
                  mem_available_bytes, disk_total_bytes, disk_free_bytes, uptime_s);
LABMESH_CODEC_MAP(labmesh::protocol::HostInfo, hostname, status, status_reason, locked, locked_by,
                  lock_reason, labels, agent_labels, admin_labels, acl_groups, agent_version,
                  last_heartbeat_ms, registered_ms, incarnation, connected, public_key, facts,
                  health, protection, last_task, last_known_good, update_failed_version,
                  reserved_by, reserve_reason, reserved_ms, reserved_until_ms, health_score,
                  suspect, quarantine_reason, quarantined_by, quarantined_ms, probes_passed,
                  power, console, peer_endpoint, mesh_bad_reports, mesh_last_bad, mesh_avoided);
LABMESH_CODEC_MAP(labmesh::protocol::LabelInfo, name, kind, hosts);
LABMESH_CODEC_MAP(labmesh::protocol::TestInfo, name, description, control, control_bytes,
                  created_by, created_ms, updated_by, updated_ms);
LABMESH_CODEC_MAP(labmesh::protocol::ErrorReply, code, message);
LABMESH_CODEC_MAP(labmesh::protocol::OkReply, message);
LABMESH_CODEC_MAP(labmesh::protocol::AgentHello, hostname, agent_version, incarnation, public_key,
                  enroll_token, labels, facts, entries, update_report, peer_endpoint,
                  peer_public_key, peer_secret, packages_held);
LABMESH_CODEC_MAP(labmesh::protocol::Welcome, hostname, heartbeat_interval_ms, labels);
LABMESH_CODEC_MAP(labmesh::protocol::PendingApproval, message);
LABMESH_CODEC_MAP(labmesh::protocol::Reject, reason);
LABMESH_CODEC_MAP(labmesh::protocol::Heartbeat, incarnation, sequence, health);
LABMESH_CODEC_MAP(labmesh::protocol::HeartbeatAck, sequence);
LABMESH_CODEC_MAP(labmesh::protocol::Reregister, reason);
LABMESH_CODEC_MAP(labmesh::protocol::HostListRequest, status, label);
LABMESH_CODEC_MAP(labmesh::protocol::HostListReply, hosts);
LABMESH_CODEC_MAP(labmesh::protocol::HostShowRequest, hostname);
LABMESH_CODEC_MAP(labmesh::protocol::HealthSample, time_ms, health);
LABMESH_CODEC_MAP(labmesh::protocol::HostShowReply, host, health_history);
LABMESH_CODEC_MAP(labmesh::protocol::HostPendingRequest, label);
LABMESH_CODEC_MAP(labmesh::protocol::HostActionRequest, hostname, action, reason, user);
LABMESH_CODEC_MAP(labmesh::protocol::HostLabelRequest, hostname, add, remove);
LABMESH_CODEC_MAP(labmesh::protocol::LabelListRequest, kind);
LABMESH_CODEC_MAP(labmesh::protocol::LabelListReply, labels);
LABMESH_CODEC_MAP(labmesh::protocol::LabelActionRequest, name, action, user);
LABMESH_CODEC_MAP(labmesh::protocol::TestAddRequest, name, control, description, user);
LABMESH_CODEC_MAP(labmesh::protocol::TestListRequest, prefix);
LABMESH_CODEC_MAP(labmesh::protocol::TestListReply, tests);
LABMESH_CODEC_MAP(labmesh::protocol::TestShowRequest, name);
LABMESH_CODEC_MAP(labmesh::protocol::TestShowReply, test);

// ---- labmesh/protocol/envelope.hpp ----
LABMESH_CODEC_MAP(labmesh::protocol::Credentials, user, token, session, csrf, from);
namespace labmesh::protocol {

// What MessageBody holds: the body map and the zone its memory lives in.
struct MessageBody::Impl {
  msgpack::object_handle handle;
};

// The body as a MessagePack object (nil when the envelope has none). Valid while `envelope`
// (or a copy of its body) lives.
const msgpack::object& BodyObject(const Envelope& envelope);
// A body holding `object`, whose memory `zone` owns (null: the caller keeps it alive).
MessageBody MakeBody(const msgpack::object& object, msgpack::unique_ptr<msgpack::zone> zone);

}  // namespace labmesh::protocol
