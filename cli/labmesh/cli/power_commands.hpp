#pragma once
// `labmesh host power-config NAME ...`, `host power NAME on|off|cycle|status`, `host power-show
// NAME` and `host console NAME [--follow]` (issue 28, docs/power-console.md): flags, the
// coordinator calls (HostPowerConfigRequest, HostPowerShowRequest, HostPowerRequest,
// HostConsoleRequest) and the output. The pure parts are in power_logic.hpp.

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "labmesh/cli/cli_util.hpp"
#include "labmesh/client/api_client.hpp"

namespace labmesh::cli {

class PowerCommands {
 public:
  // Must be made after HostCommands (it adds verbs to `host`). `app`, `g` and `action` must
  // outlive this object, and this object the parse and the action.
  PowerCommands(CLI::App& app, const Globals& g, Action& action);
  PowerCommands(const PowerCommands&) = delete;
  PowerCommands& operator=(const PowerCommands&) = delete;

 private:
  int Config(client::ApiClient& api);
  int Show(client::ApiClient& api);
  int Power(client::ApiClient& api);
  int Console(client::ApiClient& api);

  const Globals& g_;
  std::string hostname_;
  // power-config
  std::string on_, off_, cycle_, status_, console_;
  std::vector<std::string> patterns_;
  std::vector<std::string> attrs_;
  std::vector<std::string> secrets_;
  std::vector<std::string> unset_;
  // power
  std::string action_;
  // console
  bool follow_ = false;
  uint32_t bytes_ = 0;
};

}  // namespace labmesh::cli
