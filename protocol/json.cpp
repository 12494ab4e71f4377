#include "labmesh/protocol/json.hpp"

#include "json_time.hpp"

#include <cstdint>
#include <ctime>
#include <map>
#include <string>

namespace labmesh::protocol {

std::string FormatWallTimeIso(int64_t wall_ms) {
  if (wall_ms <= 0) return "";
  std::time_t seconds = static_cast<std::time_t>(wall_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(wall_ms % 1000));
  return buf;
}

nlohmann::json ToJson(const HostFacts& f) {
  return {{"arch", f.arch},     {"os", f.os},     {"os_version", f.os_version},
          {"kernel", f.kernel}, {"cpus", f.cpus}, {"memory_bytes", f.memory_bytes},
          {"address", f.address}};
}

nlohmann::json ToJson(const HostHealth& h) {
  return {{"load1", h.load1},
          {"load5", h.load5},
          {"load15", h.load15},
          {"mem_total_bytes", h.mem_total_bytes},
          {"mem_available_bytes", h.mem_available_bytes},
          {"disk_total_bytes", h.disk_total_bytes},
          {"disk_free_bytes", h.disk_free_bytes},
          {"uptime_s", h.uptime_s}};
}

nlohmann::json ToJson(const TaskCheck& c) {
  return {{"name", c.name}, {"passed", c.passed}, {"output", c.output},
          {"duration_ms", c.duration_ms}};
}

namespace {
nlohmann::json ChecksJson(const std::vector<TaskCheck>& checks) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : checks) out.push_back(ToJson(c));
  return out;
}
}  // namespace

nlohmann::json WallTimeMsJson(int64_t wall_ms) {
  return wall_ms > 0 ? nlohmann::json(FormatWallTimeIso(wall_ms)) : nlohmann::json(nullptr);
}

nlohmann::json ToJson(const TaskInfo& t) {
  return {
      {"id", t.id},
      {"hostname", t.hostname},
      {"kind", t.kind},
      {"status", t.status},
      {"reason", t.reason},
      {"requested_by", t.requested_by},
      {"job_id", t.job_id},
      {"entry_id", t.entry_id},
      {"queued", WallTimeMsJson(t.queued_ms)},
      {"queued_ms", t.queued_ms},
      {"started", WallTimeMsJson(t.started_ms)},
      {"started_ms", t.started_ms},
      {"finished", WallTimeMsJson(t.finished_ms)},
      {"finished_ms", t.finished_ms},
      {"checks", ChecksJson(t.checks)},
  };
}

nlohmann::json ToJson(const HistoryItem& item) {
  return {
      {"type", item.type},
      {"id", item.id},
      {"job_id", item.job_id},
      {"name", item.name},
      {"status", item.status},
      {"reason", item.reason},
      {"requested_by", item.requested_by},
      {"queued", WallTimeMsJson(item.queued_ms)},
      {"queued_ms", item.queued_ms},
      {"started", WallTimeMsJson(item.started_ms)},
      {"started_ms", item.started_ms},
      {"finished", WallTimeMsJson(item.finished_ms)},
      {"finished_ms", item.finished_ms},
      {"checks", ChecksJson(item.checks)},
      {"crash", item.crash},
      {"crash_line", item.crash_line},
  };
}

nlohmann::json ToJson(const HostInfo& h) {
  nlohmann::json j = {
      {"hostname", h.hostname},
      {"status", h.status},
      {"status_reason", h.status_reason},
      {"locked", h.locked},
      {"locked_by", h.locked_by},
      {"lock_reason", h.lock_reason},
      {"labels", h.labels},
      {"agent_labels", h.agent_labels},
      {"admin_labels", h.admin_labels},
      {"acl_groups", h.acl_groups},
      {"agent_version", h.agent_version},
      {"last_heartbeat_ms", h.last_heartbeat_ms},
      {"registered", WallTimeMsJson(h.registered_ms)},
      {"registered_ms", h.registered_ms},
      {"incarnation", h.incarnation},
      {"connected", h.connected},
      {"public_key", h.public_key},
      {"facts", ToJson(h.facts)},
      {"health", ToJson(h.health)},
      {"protection", h.protection},
      {"last_task", h.last_task.id == 0 ? nlohmann::json(nullptr) : ToJson(h.last_task)},
      {"last_known_good", h.last_known_good},
      {"update_failed_version", h.update_failed_version},
      {"power", h.power},
      {"console", h.console},
      {"mesh",
       {{"peer_endpoint", h.peer_endpoint},
        {"bad_reports", h.mesh_bad_reports},
        {"last_bad", h.mesh_last_bad},
        {"avoided", h.mesh_avoided}}},
  };
  j["last_heartbeat"] =
      h.last_heartbeat_ms > 0 ? nlohmann::json(FormatWallTimeIso(h.last_heartbeat_ms)) : nullptr;
  // The reservation in force (docs/reservations.md); null when there is none.
  if (h.reserved_by.empty()) {
    j["reservation"] = nullptr;
  } else {
    j["reservation"] = {{"by", h.reserved_by},
                        {"reason", h.reserve_reason},
                        {"since", WallTimeMsJson(h.reserved_ms)},
                        {"since_ms", h.reserved_ms},
                        {"until", WallTimeMsJson(h.reserved_until_ms)},
                        {"until_ms", h.reserved_until_ms}};
  }
  // Health (docs/quarantine.md): score null until computed; quarantine null when none.
  j["health_score"] = h.health_score < 0 ? nlohmann::json(nullptr) : nlohmann::json(h.health_score);
  j["suspect"] = h.suspect;
  if (h.quarantined_ms == 0) {
    j["quarantine"] = nullptr;
  } else {
    j["quarantine"] = {{"reason", h.quarantine_reason},
                       {"by", h.quarantined_by},
                       {"since", WallTimeMsJson(h.quarantined_ms)},
                       {"since_ms", h.quarantined_ms},
                       {"probes_passed", h.probes_passed}};
  }
  return j;
}

nlohmann::json ToJson(const LabelInfo& l) {
  return {{"name", l.name}, {"kind", l.kind}, {"hosts", l.hosts}};
}

nlohmann::json ToJson(const UserInfo& u) {
  return {{"name", u.name},
          {"admin", u.admin},
          {"acl_groups", u.acl_groups},
          {"created", WallTimeMsJson(u.created_ms)},
          {"created_ms", u.created_ms},
          {"tokens", u.tokens},
          {"has_password", u.has_password},
          {"notify", u.notify},
          {"notify_on", u.notify_on}};
}

nlohmann::json ToJson(const AclInfo& g) {
  return {{"name", g.name},
          {"description", g.description},
          {"created", WallTimeMsJson(g.created_ms)},
          {"created_ms", g.created_ms},
          {"users", g.users},
          {"hosts", g.hosts}};
}

nlohmann::json ToJson(const AuditRecord& r) {
  return {{"id", r.id},
          {"time", WallTimeMsJson(r.time_ms)},
          {"time_ms", r.time_ms},
          {"user", r.user},
          {"action", r.action},
          {"target", r.target},
          {"from", r.from},
          {"ok", r.ok},
          {"error", r.error}};
}

nlohmann::json ToJson(const TestInfo& t, bool with_control) {
  nlohmann::json j = {
      {"name", t.name},
      {"description", t.description},
      {"control_bytes", t.control_bytes},
      {"created_by", t.created_by},
      {"created", FormatWallTimeIso(t.created_ms)},
      {"created_ms", t.created_ms},
      {"updated_by", t.updated_by},
      {"updated", FormatWallTimeIso(t.updated_ms)},
      {"updated_ms", t.updated_ms},
  };
  if (with_control) j["control"] = t.control;
  return j;
}

nlohmann::json WallTimeUsJson(int64_t wall_us) {
  std::string iso = FormatWallTimeIso(wall_us / 1000);
  return iso.empty() ? nlohmann::json(nullptr) : nlohmann::json(iso);
}

namespace {

// A status -> count map as a JSON object ({} when empty, never null).
nlohmann::json CountsJson(const std::map<std::string, uint64_t>& counts) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [status, count] : counts) j[status] = count;
  return j;
}

// An entry's status moves as a JSON array ([] when not sent).
nlohmann::json History(const std::vector<EntryStatusChange>& history) {
  nlohmann::json j = nlohmann::json::array();
  for (const EntryStatusChange& c : history) {
    j.push_back({{"status", c.status}, {"at", WallTimeUsJson(c.at_us)}, {"at_us", c.at_us},
                 {"reason", c.reason}});
  }
  return j;
}

}  // namespace

nlohmann::json ToJson(const EntryInfo& e) {
  return {
      {"id", e.id},
      {"job_id", e.job_id},
      {"host", e.host},
      {"meta_label", e.meta_label},
      {"status", e.status},
      {"reason", e.reason},
      {"fault", e.fault},
      {"exit_code", e.exit_code == -1 ? nlohmann::json(nullptr) : nlohmann::json(e.exit_code)},
      {"signal", e.signal},
      {"queued", WallTimeUsJson(e.queued_us)},
      {"queued_us", e.queued_us},
      {"started", WallTimeUsJson(e.started_us)},
      {"started_us", e.started_us},
      {"finished", WallTimeUsJson(e.finished_us)},
      {"finished_us", e.finished_us},
      {"results_path", e.results_path},
      {"group", e.group},
      {"waiting_in", e.waiting_in},
      {"result_counts", CountsJson(e.result_counts)},
      {"parse_warnings", e.parse_warnings},
      {"retries", e.retries},
      {"waiting_for", e.waiting_for},
      {"queue_position", e.queue_position},
      {"queue_length", e.queue_length},
      {"boot_count", e.boot_count},
      {"crash", e.crash},
      {"crash_line", e.crash_line},
      {"history", History(e.history)},
  };
}

nlohmann::json ToJson(const HostAvailReply& r) {
  return {
      {"label", r.label},
      {"count", r.count},
      {"hosts", r.hosts},
      {"free", r.free},
      {"busy", r.busy},
      {"locked", r.locked},
      {"in_task", r.in_task},
      {"down", r.down},
      {"unusable", r.unusable},
      {"queued_ahead", r.queued_ahead},
      {"busy_jobs", r.busy_jobs},
      {"can_start", r.can_start},
      {"summary", r.summary},
      {"reserved", r.reserved},
  };
}

nlohmann::json ToJson(const NotificationInfo& n) {
  return {
      {"target", n.target},
      {"state", n.state},
      {"attempts", n.attempts},
      {"last_error", n.last_error},
      {"created", WallTimeUsJson(n.created_us)},
      {"created_us", n.created_us},
      {"last_attempt", WallTimeUsJson(n.last_attempt_us)},
      {"last_attempt_us", n.last_attempt_us},
      {"delivered", WallTimeUsJson(n.delivered_us)},
      {"delivered_us", n.delivered_us},
      {"event", n.event.empty() ? std::string("job.finished") : n.event},
      {"host", n.host},
  };
}

nlohmann::json ToJson(const JobInfo& job, bool with_control) {
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& e : job.entries) entries.push_back(ToJson(e));
  nlohmann::json notifications = nlohmann::json::array();
  for (const auto& n : job.notifications) notifications.push_back(ToJson(n));
  nlohmann::json j = {
      {"id", job.id},
      {"name", job.name},
      {"owner", job.owner},
      {"priority", job.priority},
      {"synch_count", job.synch_count},
      {"status", job.status},
      {"control_kind", job.control_kind},
      {"test_name", job.test_name},
      {"hosts", job.hosts},
      {"meta_label", job.meta_label},
      {"meta_count", job.meta_count},
      {"depends", job.depends},
      {"run_verify", job.run_verify},
      {"timeout_ms", job.timeout_ms},
      {"max_runtime_ms", job.max_runtime_ms},
      {"created", WallTimeUsJson(job.created_us)},
      {"created_us", job.created_us},
      {"finished", WallTimeUsJson(job.finished_us)},
      {"finished_us", job.finished_us},
      {"abort_reason", job.abort_reason},
      {"cleanup", job.cleanup},
      {"retry", job.retry},
      {"keep_results_ms", job.keep_results_ms},
      {"result_bytes", job.result_bytes},
      {"results", job.results},
      {"results_removed", WallTimeUsJson(job.results_removed_us)},
      {"results_removed_us", job.results_removed_us},
      {"results_removed_reason", job.results_removed_reason},
      {"entries", std::move(entries)},
      {"notify", job.notify},
      {"notify_on", job.notify_on},
      {"notifications", std::move(notifications)},
      {"after", job.after},
      {"after_any", job.after_any},
      {"template", job.template_name},
      {"schedule", job.schedule},
      {"reserve_on_failure_ms", job.reserve_on_failure_ms},
      {"probe_for", job.probe_for},
  };
  if (with_control) j["control"] = job.control;
  return j;
}

nlohmann::json ToJson(const JobCreateRequest& job, bool with_control) {
  nlohmann::json j = {
      {"name", job.name},
      {"command", job.command},
      {"test", job.test},
      {"hosts", job.hosts},
      {"meta_label", job.meta_label},
      {"meta_count", job.meta_count},
      {"depends", job.depends},
      {"synch_count", job.synch_count},
      {"priority", job.priority},
      {"run_verify", job.run_verify},
      {"timeout_ms", job.timeout_ms},
      {"max_runtime_ms", job.max_runtime_ms},
      {"cleanup", job.cleanup},
      {"retry", job.retry},
      {"keep_results_ms", job.keep_results_ms},
      {"notify", job.notify},
      {"notify_on", job.notify_on},
      {"after", job.after},
      {"after_any", job.after_any},
      {"reserve_on_failure_ms", job.reserve_on_failure_ms},
  };
  if (with_control) j["control"] = job.control;
  return j;
}

nlohmann::json ToJson(const TemplateInfo& t, bool with_control) {
  return {
      {"name", t.name},
      {"owner", t.owner},
      {"description", t.description},
      {"job", ToJson(t.job, with_control)},
      {"created", WallTimeUsJson(t.created_us)},
      {"created_us", t.created_us},
      {"updated", WallTimeUsJson(t.updated_us)},
      {"updated_us", t.updated_us},
  };
}

nlohmann::json ToJson(const ScheduleInfo& s) {
  return {
      {"name", s.name},
      {"owner", s.owner},
      {"template", s.template_name},
      {"cron", s.cron},
      {"timezone", s.timezone},
      {"description", s.description},
      {"paused", s.paused},
      {"created", WallTimeUsJson(s.created_us)},
      {"created_us", s.created_us},
      {"next_run", s.paused ? nlohmann::json(nullptr) : WallTimeUsJson(s.next_run_us)},
      {"next_run_us", s.paused ? 0 : s.next_run_us},
      {"last_run", WallTimeUsJson(s.last_run_us)},
      {"last_run_us", s.last_run_us},
      {"last_job_id", s.last_job_id},
      {"last_error", s.last_error},
      {"jobs_created", s.jobs_created},
  };
}

nlohmann::json ToJson(const TestResultInfo& r) {
  nlohmann::json perf = nlohmann::json::object();
  for (const auto& [key, value] : r.perf) perf[key] = value;
  nlohmann::json keyvals = nlohmann::json::object();
  for (const auto& [key, value] : r.keyvals) keyvals[key] = value;
  return {
      {"id", r.id},
      {"job_id", r.job_id},
      {"entry_id", r.entry_id},
      {"host", r.host},
      {"labels", r.labels},
      {"test", r.test},
      {"status", r.status},
      {"reason", r.reason},
      {"start", WallTimeUsJson(r.start_us)},
      {"start_us", r.start_us},
      {"end", WallTimeUsJson(r.end_us)},
      {"end_us", r.end_us},
      {"duration_us", r.duration_us},
      {"keyvals", std::move(keyvals)},
      {"perf", std::move(perf)},
      {"file", r.file},
      {"link", r.link},
      {"flaky", r.flaky},
  };
}

nlohmann::json ToJson(const ResultsListReply& reply) {
  nlohmann::json results = nlohmann::json::array();
  for (const auto& r : reply.results) results.push_back(ToJson(r));
  return {
      {"results", std::move(results)},
      {"next_cursor",
       reply.next_cursor.empty() ? nlohmann::json(nullptr) : nlohmann::json(reply.next_cursor)},
  };
}

nlohmann::json ToJson(const SummaryRowInfo& row) {
  return {
      {"test", row.test},
      {"group", row.group},
      {"total", row.total},
      {"counts", CountsJson(row.counts)},
      {"pass_rate", row.pass_rate < 0 ? nlohmann::json(nullptr) : nlohmann::json(row.pass_rate)},
      {"first", WallTimeUsJson(row.first_us)},
      {"first_us", row.first_us},
      {"last", WallTimeUsJson(row.last_us)},
      {"last_us", row.last_us},
      {"flaky", row.flaky},
  };
}

nlohmann::json ToJson(const ResultsSummaryReply& reply) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : reply.rows) rows.push_back(ToJson(row));
  return {{"rows", std::move(rows)}};
}

nlohmann::json ToJson(const SeriesPointInfo& point) {
  return {
      {"time", WallTimeUsJson(point.time_us)},
      {"time_us", point.time_us},
      {"value", point.value},
      {"job_id", point.job_id},
      {"host", point.host},
      {"link", point.link},
  };
}

nlohmann::json ToJson(const ResultsSeriesReply& reply) {
  nlohmann::json points = nlohmann::json::array();
  for (const auto& point : reply.points) points.push_back(ToJson(point));
  return {{"points", std::move(points)}};
}

nlohmann::json ToJson(const ResultsReparseReply& reply) {
  return {{"job_id", reply.job_id},
          {"entries", reply.entries},
          {"results", reply.results},
          {"warnings", reply.warnings}};
}

nlohmann::json ToJson(const ResultsUsageReply& reply) {
  auto rows = [](const std::vector<UsageRow>& rows, const char* key) {
    nlohmann::json out = nlohmann::json::array();
    for (const UsageRow& row : rows) {
      out.push_back({{key, row.key}, {"bytes", row.bytes}, {"jobs", row.jobs}});
    }
    return out;
  };
  return {{"total_bytes", reply.total_bytes},
          {"jobs", reply.jobs},
          {"by_owner", rows(reply.by_owner, "owner")},
          {"by_month", rows(reply.by_month, "month")}};
}

nlohmann::json ToJson(const JobDeleteReply& reply) {
  return {{"job_id", reply.job_id},       {"already_removed", reply.already_removed},
          {"dirs", reply.dirs},           {"files", reply.files},
          {"bytes", reply.bytes},         {"index_rows", reply.index_rows},
          {"reason", reply.reason}};
}

nlohmann::json ToJson(const PackageInfo& p) {
  return {{"version", p.version},
          {"sha256", p.sha256},
          {"bytes", p.bytes},
          {"uploaded_by", p.uploaded_by},
          {"uploaded", WallTimeMsJson(p.uploaded_ms)},
          {"uploaded_ms", p.uploaded_ms}};
}

nlohmann::json ToJson(const PackageListReply& reply) {
  nlohmann::json packages = nlohmann::json::array();
  for (const PackageInfo& p : reply.packages) packages.push_back(ToJson(p));
  nlohmann::json desired = nullptr;
  if (!reply.desired.version.empty()) {
    desired = {{"version", reply.desired.version},
               {"canary_percent", reply.desired.canary_percent},
               {"set_by", reply.desired.set_by},
               {"set", WallTimeMsJson(reply.desired.set_ms)},
               {"set_ms", reply.desired.set_ms}};
  }
  return {{"packages", std::move(packages)},
          {"desired", std::move(desired)},
          {"host_versions", reply.host_versions}};
}

}  // namespace labmesh::protocol
