#include "labmesh/cli/host_lifecycle_commands.hpp"

#include <iostream>

#include "labmesh/cli/host_lifecycle.hpp"
#include "labmesh/cli/host_output.hpp"
#include "labmesh/protocol/json.hpp"

namespace labmesh::cli {

HostLifecycleCommands::HostLifecycleCommands(CLI::App& host, const Globals& g, Action& action)
    : g_(g) {
  for (const char* kind : {"verify", "repair"}) {
    std::string k = kind;
    auto* sub = host.add_subcommand(
        k, k == "verify" ? "queue a Verify task: run the host's checks and verify scripts"
                         : "queue a Repair task: repair actions and scripts, then verify");
    sub->add_option("name", hostname_, "hostname")->required();
    sub->callback([this, &action, k] {
      action = [this, k](client::ApiClient& api) { return QueueTask(api, k); };
    });
  }

  auto* history = host.add_subcommand(
      "history", "special tasks and job entries on the host, newest first");
  history->add_option("name", hostname_, "hostname")->required();
  history->add_option("--limit", limit_, "at most this many (0 = the coordinator's 100)");
  history->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return History(api); }; });

  auto* mod = host.add_subcommand("mod", "change a host's protection level");
  mod->add_option("name", hostname_, "hostname")->required();
  mod->add_option("--protection", protection_,
                  "what the lifecycle may do to the host: " + ProtectionLevelList())
      ->required();
  mod->callback([this, &action] { action = [this](client::ApiClient& api) { return Mod(api); }; });
}

int HostLifecycleCommands::QueueTask(client::ApiClient& api, const std::string& kind) {
  protocol::HostTaskRequest request{hostname_, kind, UserOf(g_)};
  auto reply = api.Call<protocol::HostTaskReply>(request);
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    std::cout << Dump(protocol::ToJson(reply->task)) << "\n";
  } else {
    std::cout << FormatTaskQueued(reply->task) << "\n";
  }
  return kExitOk;
}

int HostLifecycleCommands::History(client::ApiClient& api) {
  auto reply = api.Call<protocol::HostHistoryReply>(protocol::HostHistoryRequest{hostname_, limit_});
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    nlohmann::json array = nlohmann::json::array();
    for (const auto& item : reply->items) array.push_back(protocol::ToJson(item));
    std::cout << Dump(array) << "\n";
  } else {
    std::cout << FormatHostHistory(hostname_, reply->items);
  }
  return kExitOk;
}

int HostLifecycleCommands::Mod(client::ApiClient& api) {
  auto level = ParseProtectionLevel(protection_);
  if (!level.ok()) return UsageError("host mod: " + level.status().message());
  auto reply = api.Call<protocol::HostShowReply>(
      protocol::HostModRequest{hostname_, *level, UserOf(g_)});
  if (!reply.ok()) return Fail(reply.status());
  PrintHost(reply->host, g_.json);
  return kExitOk;
}

}  // namespace labmesh::cli
