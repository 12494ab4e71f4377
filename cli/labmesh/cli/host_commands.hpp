#pragma once
// `labmesh host list|show|pending|accept|reject|lock|unlock|delete|label|avail` (CLI.md): flags,
// the coordinator calls (HostListRequest, HostShowRequest, HostPendingRequest, HostActionRequest,
// HostLabelRequest, HostAvailRequest) and the output. The lifecycle verbs of `host` (verify, repair, history,
// mod) are HostLifecycleCommands', which this class adds after its own; the host printing lives
// in host_output.hpp.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "labmesh/cli/cli_util.hpp"
#include "labmesh/cli/host_lifecycle_commands.hpp"
#include "labmesh/client/api_client.hpp"

namespace labmesh::cli {

class HostCommands {
 public:
  // Adds `host` and its verbs to `app`; choosing one sets `action`. `app`, `g` and `action` must
  // outlive this object, and this object must outlive the parse and the action.
  HostCommands(CLI::App& app, const Globals& g, Action& action);
  HostCommands(const HostCommands&) = delete;
  HostCommands& operator=(const HostCommands&) = delete;

 private:
  int List(client::ApiClient& api);
  int Show(client::ApiClient& api);
  int Pending(client::ApiClient& api);
  // accept / reject / lock / unlock / delete: one HostActionRequest with `verb`.
  int HostAction(client::ApiClient& api, const std::string& verb);
  // `host label`: at least one of --add/--remove, else a usage error and nothing is sent.
  int Label(client::ApiClient& api);
  // `host avail --label L [--count N] [--depends ...]` (HostAvailRequest).
  int Avail(client::ApiClient& api);

  const Globals& g_;

  // Parsed flags (one set per verb; only the chosen verb's are read).
  std::string status_;
  std::string label_;
  std::string hostname_;
  std::string reason_;
  std::vector<std::string> add_labels_;
  std::vector<std::string> remove_labels_;
  uint32_t count_ = 1;
  std::vector<std::string> depends_;

  // verify / repair / history / mod, added after the verbs above (the order `host --help` shows).
  std::optional<HostLifecycleCommands> lifecycle_;
};

}  // namespace labmesh::cli
