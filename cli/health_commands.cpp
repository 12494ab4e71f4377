#include "labmesh/cli/health_commands.hpp"

#include <cstdio>
#include <iostream>
#include <sstream>

#include "labmesh/common/duration.hpp"
#include "labmesh/protocol/json.hpp"
#include "table.hpp"

namespace labmesh::cli {
namespace {

std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", value);
  return text;
}

}  // namespace

std::string FormatHostFlaky(const protocol::HostFlakyReply& reply, bool evidence, int64_t now_ms) {
  std::ostringstream out;
  if (reply.computed_ms == 0) {
    out << "health scores: not computed yet (quarantine " << reply.mode << ")\n";
    return out.str();
  }
  out << "health scores computed " << AgeAt(reply.computed_ms, now_ms) << " over the last "
      << FormatDurationMs(reply.window_ms) << " (at most " << reply.window_entries
      << " entries a host); threshold " << Number(reply.threshold) << ", quarantine "
      << reply.mode << "\n";
  Table table({"HOST", "STATUS", "SCORE", "SUSPECT", "ENTRIES", "RESULTS", "WHY"});
  for (const auto& h : reply.hosts) {
    std::string why = h.evidence.empty() ? "-" : h.evidence.front().detail;
    if (h.evidence.size() > 1) why += " (+" + std::to_string(h.evidence.size() - 1) + ")";
    table.Add({h.hostname, h.status, Number(h.score), h.suspect ? "yes" : "no",
               std::to_string(h.entries), std::to_string(h.results), why});
  }
  table.Print(out);
  if (evidence) {
    for (const auto& h : reply.hosts) {
      if (h.evidence.empty()) continue;
      out << "\n" << h.hostname << " (score " << Number(h.score) << ")\n";
      if (!h.quarantine_reason.empty()) out << "  quarantined: " << h.quarantine_reason << "\n";
      for (const auto& e : h.evidence) {
        out << "  +" << Number(e.weight) << " " << e.kind << ": " << e.detail;
        if (!e.peers_passed.empty()) out << " (passed on " << Join(e.peers_passed, ", ") << ")";
        out << "\n";
      }
    }
  }
  if (!reply.flaky_tests.empty()) {
    out << "\nflaky tests (passed and failed on one host with one build):\n";
    Table tests({"TEST", "PASSED", "FAILED", "HOSTS", "BUILD"});
    for (const auto& t : reply.flaky_tests) {
      tests.Add({t.test, std::to_string(t.passed), std::to_string(t.failed), Join(t.hosts, ","),
                 t.build});
    }
    tests.Print(out);
  }
  return out.str();
}

HealthCommands::HealthCommands(CLI::App& app, const Globals& g, Action& action) : g_(g) {
  CLI::App* host = app.get_subcommand("host");
  auto* flaky = host->add_subcommand(
      "flaky", "hosts' health scores from their history, worst first, and the flaky tests");
  flaky->add_option("--label", label_, "only hosts with this label");
  flaky->add_option("--host", host_, "only this host");
  flaky->add_option("--limit", limit_, "at most this many hosts (0: all)");
  flaky->add_flag("--evidence", evidence_, "every piece of evidence under its host");
  flaky->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Flaky(api); }; });
  auto* quarantine = host->add_subcommand(
      "quarantine", "take a host out (admins): no work but probe jobs until it is released");
  quarantine->add_option("name", hostname_, "hostname")->required();
  quarantine->add_option("--reason", reason_, "why (recorded and shown)");
  quarantine->callback([this, &action] {
    action = [this](client::ApiClient& api) { return Quarantine(api, /*release=*/false); };
  });
  auto* unquarantine = host->add_subcommand(
      "unquarantine", "release a quarantined host (admins): Ready, its score counted afresh");
  unquarantine->add_option("name", hostname_, "hostname")->required();
  unquarantine->add_option("--reason", reason_, "why (recorded)");
  unquarantine->callback([this, &action] {
    action = [this](client::ApiClient& api) { return Quarantine(api, /*release=*/true); };
  });
}

int HealthCommands::Flaky(client::ApiClient& api) {
  auto reply = api.Call<protocol::HostFlakyReply>(
      protocol::HostFlakyRequest{label_, host_, limit_});
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    std::cout << Dump(protocol::ToJson(*reply)) << "\n";
  } else {
    std::cout << FormatHostFlaky(*reply, evidence_, NowMs());
  }
  return kExitOk;
}

int HealthCommands::Quarantine(client::ApiClient& api, bool release) {
  if (reason_.size() > 256) {
    return UsageError(std::string("host ") + (release ? "unquarantine" : "quarantine") +
                      ": --reason: at most 256 bytes");
  }
  auto reply = api.Call<protocol::HostShowReply>(
      protocol::HostQuarantineRequest{hostname_, release, reason_});
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    std::cout << Dump(protocol::ToJson(reply->host)) << "\n";
  } else if (release) {
    std::cout << "host " << reply->host.hostname << " released from quarantine ("
              << reply->host.status << ")\n";
  } else {
    std::cout << "host " << reply->host.hostname << " quarantined (" << reply->host.status
              << "): " << reply->host.quarantine_reason << "\n";
  }
  return kExitOk;
}

}  // namespace labmesh::cli
