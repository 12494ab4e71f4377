#include "labmesh/cli/label_commands.hpp"

#include <iostream>

#include "labmesh/protocol/json.hpp"
#include "table.hpp"

namespace labmesh::cli {

LabelCommands::LabelCommands(CLI::App& app, const Globals& g, Action& action) : g_(g) {
  auto* label = app.add_subcommand("label", "labels")->require_subcommand(1);

  auto* list = label->add_subcommand("list", "labels with their kind and host count");
  list->add_option("--kind", kind_, "admin, agent or auto");
  list->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return List(api); }; });

  for (const char* verb : {"create", "delete"}) {
    auto* sub = label->add_subcommand(verb, std::string(verb) + " an admin label");
    sub->add_option("name", name_, "label")->required();
    std::string v = verb;
    sub->callback([this, &action, v] {
      action = [this, v](client::ApiClient& api) { return LabelAction(api, v); };
    });
  }
}

int LabelCommands::List(client::ApiClient& api) {
  auto reply = api.Call<protocol::LabelListReply>(protocol::LabelListRequest{kind_});
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    nlohmann::json array = nlohmann::json::array();
    for (const auto& l : reply->labels) array.push_back(protocol::ToJson(l));
    std::cout << array.dump(2) << "\n";
  } else {
    Table table({"LABEL", "KIND", "HOSTS"});
    for (const auto& l : reply->labels) table.Add({l.name, l.kind, std::to_string(l.hosts)});
    table.Print(std::cout);
  }
  return kExitOk;
}

int LabelCommands::LabelAction(client::ApiClient& api, const std::string& verb) {
  auto reply = api.Call<protocol::OkReply>(protocol::LabelActionRequest{name_, verb, UserOf(g_)});
  if (!reply.ok()) return Fail(reply.status());
  PrintOk(*reply, g_.json);
  return kExitOk;
}

}  // namespace labmesh::cli
