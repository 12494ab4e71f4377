#include "labmesh/cli/audit_commands.hpp"

#include <iostream>

#include "labmesh/cli/auth_logic.hpp"
#include "labmesh/protocol/json.hpp"

namespace labmesh::cli {

AuditCommands::AuditCommands(CLI::App& app, const Globals& g, Action& action) : g_(g) {
  auto* audit = app.add_subcommand(
      "audit", "the audit log: who changed what, from where, and whether it was allowed");
  audit->add_option("--user", user_, "only requests of this user");
  audit->add_option("--since", since_,
                    "only records since: how long ago (30m, 2h, 7d) or a UTC date or time "
                    "(2026-11-29, 2026-11-29T10:00:00Z)");
  audit->add_option("--limit", limit_, "at most this many records (default 100)")
      ->check(CLI::PositiveNumber);
  audit->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return List(api); }; });
}

int AuditCommands::List(client::ApiClient& api) {
  protocol::AuditListRequest request;
  request.user = user_;
  request.limit = limit_;
  if (!since_.empty()) {
    auto since_ms = ParseSinceMs(since_, NowMs());
    if (!since_ms.ok()) return UsageError("audit: " + since_ms.status().message());
    request.since_ms = *since_ms;
  }
  auto reply = api.Call<protocol::AuditListReply>(request);
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    nlohmann::json array = nlohmann::json::array();
    for (const auto& record : reply->records) array.push_back(protocol::ToJson(record));
    std::cout << Dump(array) << "\n";
  } else {
    std::cout << FormatAuditList(reply->records);
  }
  return kExitOk;
}

}  // namespace labmesh::cli
