#include "labmesh/cli/power_logic.hpp"

#include <sstream>

#include "labmesh/common/duration.hpp"
#include "labmesh/protocol/json.hpp"

namespace labmesh::cli {

Result<std::map<std::string, std::string>> ParseAssignments(const std::vector<std::string>& items,
                                                            const std::string& flag) {
  std::map<std::string, std::string> out;
  for (const std::string& item : items) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument(flag + " " + item.substr(0, 64) + ": expected KEY=VALUE");
    }
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

std::string FormatPowerConfig(const protocol::PowerConfigInfo& c, int64_t now_ms) {
  std::ostringstream out;
  auto line = [&](const std::string& key, const std::string& value) {
    out << key << std::string(key.size() < 16 ? 16 - key.size() : 1, ' ')
        << (value.empty() ? "-" : value) << "\n";
  };
  line("host", c.hostname);
  line("power on", c.on);
  line("power off", c.off);
  line("power cycle", c.cycle);
  line("power status", c.status);
  line("console", c.console);
  if (!c.console.empty()) {
    line("console reader", std::string(c.console_reading ? "reading" : "not running") + ", " +
                               std::to_string(c.console_bytes) + " bytes read");
  }
  std::string patterns;
  for (const std::string& p : c.panic_patterns) patterns += (patterns.empty() ? "" : " | ") + p;
  line("panic patterns", patterns + (c.default_patterns ? "  (defaults)" : ""));
  std::string attributes;
  for (const auto& [k, v] : c.attributes) {
    attributes += (attributes.empty() ? "" : " ") + k + "=" + v;
  }
  line("attributes", attributes);
  if (!c.last_panic.empty()) {
    line("last panic", protocol::FormatWallTimeIso(c.last_panic_ms) + " " + c.last_panic);
  }
  std::string cycles;
  for (int64_t at : c.power_cycles_ms) {
    cycles += (cycles.empty() ? "" : ", ") + FormatDurationMs(std::max<int64_t>(0, now_ms - at)) +
              " ago";
  }
  line("auto cycles", cycles);
  return out.str();
}

std::string FormatPowerReply(const protocol::HostPowerReply& r) {
  std::string text = "host " + r.hostname + ": power " + r.action + " " +
                     (r.passed ? "passed" : "failed: " + r.reason) + " in " +
                     FormatDurationMs(r.duration_ms) + " (task " + std::to_string(r.task_id) +
                     ")\n";
  if (!r.output.empty()) {
    text += r.output;
    if (r.output.back() != '\n') text += "\n";
  }
  return text;
}

}  // namespace labmesh::cli
