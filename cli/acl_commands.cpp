#include "labmesh/cli/acl_commands.hpp"

#include <iostream>

#include "labmesh/cli/auth_logic.hpp"
#include "labmesh/protocol/json.hpp"

namespace labmesh::cli {

AclCommands::AclCommands(CLI::App& app, const Globals& g, Action& action) : g_(g) {
  auto* acl = app.add_subcommand("acl", "ACL groups: which users may use which hosts")
                  ->require_subcommand(1);

  auto* list = acl->add_subcommand("list", "groups with description, users and hosts");
  list->add_option("name", name_, "just this group");
  list->callback([this, &action] { action = [this](client::ApiClient& api) { return List(api); }; });

  auto* create = acl->add_subcommand("create", "create a group (admins only)");
  create->add_option("name", name_, "group name")->required();
  create->add_option("--description", description_, "what the group is for");
  create->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Create(api); }; });

  auto* del = acl->add_subcommand("delete", "delete a group (admins only; not Everyone)");
  del->add_option("name", name_, "group name")->required();
  del->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Delete(api); }; });

  for (bool remove : {false, true}) {
    auto* sub = acl->add_subcommand(remove ? "remove" : "add",
                                    remove ? "take users and/or hosts out of a group (admins only)"
                                           : "put users and/or hosts into a group (admins only)");
    sub->add_option("name", name_, "group name")->required();
    sub->add_option("--users", users_, "user names, comma-separated")->delimiter(',');
    sub->add_option("--hosts", hosts_, "hostnames, comma-separated")->delimiter(',');
    sub->callback([this, &action, remove] {
      action = [this, remove](client::ApiClient& api) { return Members(api, remove); };
    });
  }
}

void AclCommands::PrintGroups(const std::vector<protocol::AclInfo>& groups,
                              bool as_object) const {
  if (!g_.json) {
    std::cout << FormatAclList(groups);
    return;
  }
  if (as_object) {
    std::cout << Dump(groups.empty() ? nlohmann::json(nullptr) : protocol::ToJson(groups.front()))
              << "\n";
    return;
  }
  nlohmann::json array = nlohmann::json::array();
  for (const auto& group : groups) array.push_back(protocol::ToJson(group));
  std::cout << Dump(array) << "\n";
}

int AclCommands::List(client::ApiClient& api) {
  auto reply = api.Call<protocol::AclListReply>(protocol::AclListRequest{name_});
  if (!reply.ok()) return Fail(reply.status());
  PrintGroups(reply->groups, /*as_object=*/false);
  return kExitOk;
}

int AclCommands::Create(client::ApiClient& api) {
  auto reply = api.Call<protocol::OkReply>(protocol::AclCreateRequest{name_, description_});
  if (!reply.ok()) return Fail(reply.status());
  PrintOk(*reply, g_.json);
  return kExitOk;
}

int AclCommands::Delete(client::ApiClient& api) {
  auto reply = api.Call<protocol::OkReply>(protocol::AclDeleteRequest{name_});
  if (!reply.ok()) return Fail(reply.status());
  PrintOk(*reply, g_.json);
  return kExitOk;
}

int AclCommands::Members(client::ApiClient& api, bool remove) {
  const char* verb = remove ? "acl remove" : "acl add";
  if (users_.empty() && hosts_.empty()) {
    return UsageError(std::string(verb) + ": give --users and/or --hosts");
  }
  for (const auto& [names, flag] : {std::pair{&users_, "--users"}, std::pair{&hosts_, "--hosts"}}) {
    if (Status s = CheckNames(*names, flag); !s.ok()) {
      return UsageError(std::string(verb) + ": " + s.message());
    }
  }
  auto reply = api.Call<protocol::AclListReply>(
      protocol::AclMemberRequest{name_, remove, users_, hosts_});
  if (!reply.ok()) return Fail(reply.status());
  // The answer is the changed group: one object with --json, as a `show` would print.
  PrintGroups(reply->groups, /*as_object=*/true);
  return kExitOk;
}

}  // namespace labmesh::cli
