#pragma once
// `labmesh host verify|repair|history|mod` (CLI.md, issue 5): flags, the coordinator calls
// (HostTaskRequest, HostHistoryRequest, HostModRequest) and the output. The texts and the
// protection level rules live in host_lifecycle.hpp, the host printing in host_output.hpp.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "labmesh/cli/cli_util.hpp"
#include "labmesh/client/api_client.hpp"

namespace labmesh::cli {

class HostLifecycleCommands {
 public:
  // Adds the verbs to `host` (the `host` subcommand); choosing one sets `action`. `host`, `g`
  // and `action` must outlive this object, and this object must outlive the parse and the
  // action.
  HostLifecycleCommands(CLI::App& host, const Globals& g, Action& action);
  HostLifecycleCommands(const HostLifecycleCommands&) = delete;
  HostLifecycleCommands& operator=(const HostLifecycleCommands&) = delete;

 private:
  // `kind` is "verify" or "repair".
  int QueueTask(client::ApiClient& api, const std::string& kind);
  int History(client::ApiClient& api);
  int Mod(client::ApiClient& api);

  const Globals& g_;

  // Parsed flags (one set per verb; only the chosen verb's are read).
  std::string hostname_;
  uint32_t limit_ = 0;
  std::string protection_;
};

}  // namespace labmesh::cli
