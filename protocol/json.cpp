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

}  // namespace labmesh::protocol
