#pragma once
// `labmesh acl list|create|delete|add|remove` (CLI.md, docs/security-cli.md): ACL groups, which
// users may run jobs on and administer which hosts. Texts live in auth_logic.hpp.

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "labmesh/cli/cli_util.hpp"
#include "labmesh/client/api_client.hpp"

namespace labmesh::cli {

class AclCommands {
 public:
  // Adds `acl` and its verbs to `app`; choosing one sets `action`. `app`, `g` and `action` must
  // outlive this object, and this object must outlive the parse and the action.
  AclCommands(CLI::App& app, const Globals& g, Action& action);
  AclCommands(const AclCommands&) = delete;
  AclCommands& operator=(const AclCommands&) = delete;

 private:
  int List(client::ApiClient& api);
  int Create(client::ApiClient& api);
  int Delete(client::ApiClient& api);
  // `acl add` (remove false) and `acl remove`: at least one of --users/--hosts, no empty name,
  // else a usage error and nothing is sent.
  int Members(client::ApiClient& api, bool remove);
  void PrintGroups(const std::vector<protocol::AclInfo>& groups, bool as_object) const;

  const Globals& g_;

  // Parsed flags (one set per verb; only the chosen verb's are read).
  std::string name_;
  std::string description_;
  std::vector<std::string> users_;
  std::vector<std::string> hosts_;
};

}  // namespace labmesh::cli
