#include "labmesh/protocol/json.hpp"

#include <ctime>

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
      {"registered", FormatWallTimeIso(h.registered_ms)},
      {"incarnation", h.incarnation},
      {"connected", h.connected},
      {"public_key", h.public_key},
      {"facts", ToJson(h.facts)},
      {"health", ToJson(h.health)},
  };
  j["last_heartbeat"] =
      h.last_heartbeat_ms > 0 ? nlohmann::json(FormatWallTimeIso(h.last_heartbeat_ms)) : nullptr;
  return j;
}

nlohmann::json ToJson(const LabelInfo& l) {
  return {{"name", l.name}, {"kind", l.kind}, {"hosts", l.hosts}};
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
  };
}

nlohmann::json ToJson(const JobInfo& job, bool with_control) {
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& e : job.entries) entries.push_back(ToJson(e));
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
      {"entries", std::move(entries)},
  };
  if (with_control) j["control"] = job.control;
  return j;
}

}  // namespace labmesh::protocol
