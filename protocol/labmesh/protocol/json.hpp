#pragma once
// JSON views of protocol values, with the field names CLI.md fixes (snake_case). The CLI's
// --json output and the web API's responses both come from here, so they cannot drift apart.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "labmesh/protocol/messages.hpp"

namespace labmesh::protocol {

// "2026-11-28T21:32:28.123Z", or "" for 0 (never).
std::string FormatWallTimeIso(int64_t wall_ms);

nlohmann::json ToJson(const HostFacts& facts);
nlohmann::json ToJson(const HostHealth& health);
// At least {"hostname","status","locked","labels","agent_version","last_heartbeat"};
// last_heartbeat and registered are ISO-8601 UTC or null (never), last_heartbeat_ms and
// registered_ms the same instants in ms.
// ... plus "protection" and "last_task" (ToJson(TaskInfo), null when the host never had one),
// "last_known_good" and "update_failed_version" ("" = none).
nlohmann::json ToJson(const HostInfo& host);
// {"name","passed","output","duration_ms"}.
nlohmann::json ToJson(const TaskCheck& check);
// {"id","hostname","kind","status","reason","requested_by","job_id","entry_id","queued",
//  "queued_ms","started","started_ms","finished","finished_ms","checks"}; times ISO or null.
nlohmann::json ToJson(const TaskInfo& task);
// {"type" ("task"|"entry"),"id","job_id","name","status","reason","requested_by","queued",
//  "queued_ms","started","started_ms","finished","finished_ms","checks"}.
nlohmann::json ToJson(const HistoryItem& item);
nlohmann::json ToJson(const LabelInfo& label);
// {"hostname","on","off","cycle","status","console","panic_patterns","default_patterns",
//  "attributes" (secrets "***"),"secret_names","power_cycles","power_cycles_ms",
//  "console_reading","console_bytes","last_panic","last_panic_at","last_panic_ms"}.
nlohmann::json ToJson(const PowerConfigInfo& config);
// {"hostname","action","passed","reason","exit_code","output","duration_ms","task_id"}.
nlohmann::json ToJson(const HostPowerReply& reply);
// {"name","admin","acl_groups","created","created_ms","tokens","has_password"}.
nlohmann::json ToJson(const UserInfo& user);
// {"name","description","created","created_ms","users","hosts"}.
nlohmann::json ToJson(const AclInfo& group);
// {"id","time","time_ms","user","action","target","from","ok","error"}.
nlohmann::json ToJson(const AuditRecord& record);
// {"name","description","control_bytes","created_by","created","created_ms","updated_by",
//  "updated","updated_ms"} plus "control" when `with_control` (show, not list).
nlohmann::json ToJson(const TestInfo& test, bool with_control = true);

// An instant in wall-clock microseconds as JSON: the ISO-8601 UTC string (ms precision), or
// null for 0 (not yet).
nlohmann::json WallTimeUsJson(int64_t wall_us);

// {"id","job_id","host","meta_label","status","reason","fault","exit_code","signal","queued",
//  "queued_us","started","started_us","finished","finished_us","results_path","group",
//  "waiting_in","result_counts","parse_warnings","retries","waiting_for","queue_position",
//  "queue_length"}.
// exit_code is null when there is none (-1); the ISO times are null when 0 (not yet), the
// `*_us` fields carry the same instants in microseconds. result_counts is an object
// {"GOOD": 12, "FAIL": 1} ({} before parsing), parse_warnings an array of strings.
nlohmann::json ToJson(const EntryInfo& entry);
// {"label","count","hosts","free","busy","locked","in_task","down","unusable","queued_ahead",
//  "busy_jobs","can_start","summary"} (`host avail`).
nlohmann::json ToJson(const HostAvailReply& reply);
// {"target","state","attempts","last_error","created","created_us","last_attempt",
//  "last_attempt_us","delivered","delivered_us"}: one notification of a job's end.
nlohmann::json ToJson(const NotificationInfo& notification);
// At least {"id","name","owner","priority","synch_count","status","entries":[{"host","status"}]}
// (CLI.md) plus control_kind, test_name, hosts, meta_label, meta_count, depends, run_verify,
// timeout_ms, max_runtime_ms, created(+_us), finished(+_us), abort_reason, cleanup, retry,
// notify, notify_on, notifications (ToJson(NotificationInfo));
// "control" only when
// `with_control` (show, not list). Entries are ToJson(EntryInfo).
nlohmann::json ToJson(const JobInfo& job, bool with_control = true);
// ... and "template", "schedule" (where it came from; "" = nowhere).

// ---- templates and schedules (schedule_messages.hpp) ----
// A job definition: {"name","command","test","hosts","meta_label","meta_count","depends",
// "synch_count","priority","run_verify","timeout_ms","max_runtime_ms","cleanup","retry",
// "keep_results_ms","notify","notify_on","after","after_any","reserve_on_failure_ms"} plus
// "control" when `with_control`.
nlohmann::json ToJson(const JobCreateRequest& job, bool with_control = true);
// {"name","owner","description","job" (ToJson(JobCreateRequest)),"created(_us)","updated(_us)"}.
nlohmann::json ToJson(const TemplateInfo& t, bool with_control = true);
// {"name","owner","template","cron","timezone","description","paused","created(_us)",
//  "next_run(_us)" (null/0 while paused),"last_run(_us)","last_job_id","last_error",
//  "jobs_created"}.
nlohmann::json ToJson(const ScheduleInfo& schedule);

// ---- host health (health_messages.hpp, docs/quarantine.md) ----
// {"kind","weight","job_id","entry_id","task_id","test","detail","time","time_us","failed",
//  "runs","peer_hosts","peer_runs","peer_failed","peers_passed"}.
nlohmann::json ToJson(const HealthEvidenceInfo& evidence);
// {"hostname","status","labels","score","suspect","entries","results","evidence":[...],
//  "quarantine_reason","quarantined","quarantined_ms"}.
nlohmann::json ToJson(const HostHealthInfo& host);
// {"computed","computed_ms","window_ms","window_entries","mode","threshold","hosts":[...],
//  "flaky_tests":[{"test","hosts","build","passed","failed"}],"compute_ms"}.
nlohmann::json ToJson(const HostFlakyReply& reply);

// ---- the results index (results_messages.hpp) ----
// Times as elsewhere: "start"/"end" ISO-8601 UTC or null for 0 (unknown), "start_us"/"end_us"
// the same instants in microseconds.

// {"id","job_id","entry_id","host","labels","test","status","reason","start","start_us","end",
//  "end_us","duration_us","keyvals":{k: "v"},"perf":{k: 1.5},"file","link"}.
nlohmann::json ToJson(const TestResultInfo& result);
// {"results": [TestResultInfo...], "next_cursor": "..." or null when there is no more}.
nlohmann::json ToJson(const ResultsListReply& reply);
// {"test","group","total","counts":{"GOOD": 9, ...},"pass_rate","first","first_us","last",
//  "last_us"}; pass_rate is a fraction in [0, 1], or null when every result was TEST_NA (-1).
nlohmann::json ToJson(const SummaryRowInfo& row);
// {"rows": [SummaryRowInfo...]}.
nlohmann::json ToJson(const ResultsSummaryReply& reply);
// {"time","time_us","value","job_id","host","link"}.
nlohmann::json ToJson(const SeriesPointInfo& point);
// {"points": [SeriesPointInfo...]}.
nlohmann::json ToJson(const ResultsSeriesReply& reply);
// {"job_id","entries","results","warnings"}.
nlohmann::json ToJson(const ResultsReparseReply& reply);
nlohmann::json ToJson(const ResultsUsageReply& reply);
nlohmann::json ToJson(const JobDeleteReply& reply);
// {"version","sha256","bytes","uploaded_by","uploaded","uploaded_ms"}.
nlohmann::json ToJson(const PackageInfo& package);
// {"packages":[...], "desired": null or {"version","canary_percent","set_by","set","set_ms"},
//  "host_versions": {"0.1.0": 3, ...}}.
nlohmann::json ToJson(const PackageListReply& reply);

}  // namespace labmesh::protocol
