#include "labmesh/cli/host_output.hpp"

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "labmesh/cli/cli_util.hpp"
#include "labmesh/cli/host_lifecycle.hpp"
#include "labmesh/cli/job_logic.hpp"
#include "labmesh/common/duration.hpp"
#include "labmesh/protocol/json.hpp"
#include "table.hpp"

namespace labmesh::cli {
namespace {

std::string Bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return buf;
}

}  // namespace

std::string FormatHostList(const std::vector<protocol::HostInfo>& hosts, int64_t now_ms) {
  Table table({"HOSTNAME", "STATUS", "LOCKED", "RESERVED", "LABELS", "VERSION", "HEARTBEAT",
               "LAST TASK"});
  for (const auto& h : hosts) {
    // Who holds it and for how much longer: "alice 3h59m"; "-" when it is not reserved.
    std::string reserved = h.reserved_by.empty()
                               ? "-"
                               : h.reserved_by + " " +
                                     FormatDurationMs(std::max<int64_t>(
                                         0, h.reserved_until_ms - now_ms));
    table.Add({h.hostname, h.status, h.locked ? "yes" : "no", reserved, Join(h.labels),
               h.agent_version, AgeAt(h.last_heartbeat_ms, now_ms),
               FormatLastTaskColumn(h.last_task)});
  }
  std::ostringstream out;
  table.Print(out);
  return out.str();
}

std::string FormatHost(const protocol::HostInfo& h, int64_t now_ms) {
  std::ostringstream out;
  auto line = [&out](const char* key, const std::string& value) {
    out << std::left << std::setw(16) << key << value << "\n";
  };
  line("hostname", h.hostname);
  line("status", h.status + (h.status_reason.empty() ? "" : " (" + h.status_reason + ")"));
  line("locked", h.locked ? "yes, by " + h.locked_by + ": " + h.lock_reason : "no");
  line("reserved", FormatReservation(h, now_ms));
  if (h.quarantined_ms != 0) {
    line("quarantined", "since " + protocol::FormatWallTimeIso(h.quarantined_ms) + " by " +
                            h.quarantined_by + ", " + std::to_string(h.probes_passed) +
                            " probe(s) passed: " + h.quarantine_reason);
  }
  if (h.health_score >= 0) {
    char score[32];
    std::snprintf(score, sizeof score, "%.1f", h.health_score);
    line("health score", std::string(score) + (h.suspect ? " (suspect: see host flaky)" : ""));
  }
  line("protection", h.protection.empty() ? "none" : h.protection);
  line("last task", FormatLastTask(h.last_task, now_ms));
  line("connected", h.connected ? "yes" : "no");
  line("labels", Join(h.labels, ", "));
  line("admin labels", Join(h.admin_labels, ", "));
  line("acl groups", Join(h.acl_groups, ", "));
  line("agent version", h.agent_version);
  line("last heartbeat", AgeAt(h.last_heartbeat_ms, now_ms));
  line("registered", protocol::FormatWallTimeIso(h.registered_ms));
  line("os", h.facts.os + " " + h.facts.os_version + " (" + h.facts.arch + ", kernel " +
                 h.facts.kernel + ")");
  line("cpus", std::to_string(h.facts.cpus));
  line("memory", Bytes(h.health.mem_available_bytes) + " available of " +
                     Bytes(h.health.mem_total_bytes));
  line("disk", Bytes(h.health.disk_free_bytes) + " free of " + Bytes(h.health.disk_total_bytes));
  char load[64];
  std::snprintf(load, sizeof load, "%.2f %.2f %.2f", h.health.load1, h.health.load5,
                h.health.load15);
  line("load", load);
  line("uptime", FormatDurationMs(static_cast<int64_t>(h.health.uptime_s) * 1000));
  line("address", h.facts.address);
  line("public key", h.public_key);
  // The package mesh (docs/mesh.md).
  line("peer socket", h.peer_endpoint.empty() ? "none (packages come from the coordinator only)"
                                              : h.peer_endpoint);
  if (h.mesh_bad_reports > 0) {
    line("bad peer", std::to_string(h.mesh_bad_reports) + " report(s)" +
                         (h.mesh_avoided ? ", avoided now" : "") + "; latest: " + h.mesh_last_bad);
  }
  return out.str();
}

void PrintHosts(const std::vector<protocol::HostInfo>& hosts, bool json) {
  if (json) {
    nlohmann::json array = nlohmann::json::array();
    for (const auto& h : hosts) array.push_back(protocol::ToJson(h));
    std::cout << Dump(array) << "\n";
    return;
  }
  std::cout << FormatHostList(hosts, NowMs());
}

void PrintHost(const protocol::HostInfo& host, bool json) {
  if (json) {
    std::cout << Dump(protocol::ToJson(host)) << "\n";
    return;
  }
  std::cout << FormatHost(host, NowMs());
}

}  // namespace labmesh::cli
