// JSON views of the out-of-band messages about hosts: health and quarantine (issue 26) and
// power and consoles (issue 28). The rest of labmesh/protocol/json.hpp is in json.cpp.

#include <cstdint>
#include <string>

#include "labmesh/protocol/json.hpp"
#include "json_time.hpp"

namespace labmesh::protocol {

nlohmann::json ToJson(const HealthEvidenceInfo& e) {
  return {
      {"kind", e.kind},         {"weight", e.weight},
      {"job_id", e.job_id},     {"entry_id", e.entry_id},
      {"task_id", e.task_id},   {"test", e.test},
      {"detail", e.detail},     {"time", WallTimeUsJson(e.time_us)},
      {"time_us", e.time_us},   {"failed", e.failed},
      {"runs", e.runs},         {"peer_hosts", e.peer_hosts},
      {"peer_runs", e.peer_runs}, {"peer_failed", e.peer_failed},
      {"peers_passed", e.peers_passed},
  };
}

nlohmann::json ToJson(const HostHealthInfo& h) {
  nlohmann::json evidence = nlohmann::json::array();
  for (const auto& e : h.evidence) evidence.push_back(ToJson(e));
  return {
      {"hostname", h.hostname},
      {"status", h.status},
      {"labels", h.labels},
      {"score", h.score},
      {"suspect", h.suspect},
      {"entries", h.entries},
      {"results", h.results},
      {"evidence", std::move(evidence)},
      {"quarantine_reason", h.quarantine_reason},
      {"quarantined", WallTimeMsJson(h.quarantined_ms)},
      {"quarantined_ms", h.quarantined_ms},
  };
}

nlohmann::json ToJson(const HostFlakyReply& r) {
  nlohmann::json hosts = nlohmann::json::array();
  for (const auto& h : r.hosts) hosts.push_back(ToJson(h));
  nlohmann::json tests = nlohmann::json::array();
  for (const auto& t : r.flaky_tests) {
    tests.push_back({{"test", t.test},
                     {"hosts", t.hosts},
                     {"build", t.build},
                     {"passed", t.passed},
                     {"failed", t.failed}});
  }
  return {
      {"computed", WallTimeMsJson(r.computed_ms)},
      {"computed_ms", r.computed_ms},
      {"window_ms", r.window_ms},
      {"window_entries", r.window_entries},
      {"mode", r.mode},
      {"threshold", r.threshold},
      {"hosts", std::move(hosts)},
      {"flaky_tests", std::move(tests)},
      {"compute_ms", r.compute_ms},
  };
}

nlohmann::json ToJson(const PowerConfigInfo& c) {
  nlohmann::json cycles = nlohmann::json::array();
  for (int64_t at : c.power_cycles_ms) cycles.push_back(WallTimeMsJson(at));
  return {
      {"hostname", c.hostname},
      {"on", c.on},
      {"off", c.off},
      {"cycle", c.cycle},
      {"status", c.status},
      {"console", c.console},
      {"panic_patterns", c.panic_patterns},
      {"default_patterns", c.default_patterns},
      {"attributes", c.attributes},
      {"secret_names", c.secret_names},
      {"power_cycles", cycles},
      {"power_cycles_ms", c.power_cycles_ms},
      {"console_reading", c.console_reading},
      {"console_bytes", c.console_bytes},
      {"last_panic", c.last_panic},
      {"last_panic_at", WallTimeMsJson(c.last_panic_ms)},
      {"last_panic_ms", c.last_panic_ms},
  };
}

nlohmann::json ToJson(const HostPowerReply& r) {
  return {
      {"hostname", r.hostname},   {"action", r.action},
      {"passed", r.passed},       {"reason", r.reason},
      {"exit_code", r.exit_code}, {"output", r.output},
      {"duration_ms", r.duration_ms}, {"task_id", r.task_id},
  };
}

}  // namespace labmesh::protocol
