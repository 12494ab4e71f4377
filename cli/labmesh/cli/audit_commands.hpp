#pragma once
// `labmesh audit [--user U] [--since D] [--limit N]` (docs/security-cli.md): the coordinator's
// log of mutating API requests, newest first. Texts and --since live in auth_logic.hpp.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "labmesh/cli/cli_util.hpp"
#include "labmesh/client/api_client.hpp"

namespace labmesh::cli {

class AuditCommands {
 public:
  // Adds `audit` to `app`; choosing it sets `action`. `app`, `g` and `action` must outlive this
  // object, and this object must outlive the parse and the action.
  AuditCommands(CLI::App& app, const Globals& g, Action& action);
  AuditCommands(const AuditCommands&) = delete;
  AuditCommands& operator=(const AuditCommands&) = delete;

 private:
  int List(client::ApiClient& api);

  const Globals& g_;

  std::string user_;
  std::string since_;
  uint32_t limit_ = 0;  // 0 = the coordinator's default (100)
};

}  // namespace labmesh::cli
