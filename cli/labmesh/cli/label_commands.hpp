#pragma once
// `labmesh label list|create|delete` (CLI.md): the fleet's labels (LabelListRequest,
// LabelActionRequest) and their output. A host's own labels change with `host label`
// (host_commands.hpp).

#include <CLI/CLI.hpp>
#include <string>

#include "labmesh/cli/cli_util.hpp"
#include "labmesh/client/api_client.hpp"

namespace labmesh::cli {

class LabelCommands {
 public:
  // Adds `label` and its verbs to `app`; choosing one sets `action`. `app`, `g` and `action`
  // must outlive this object, and this object must outlive the parse and the action.
  LabelCommands(CLI::App& app, const Globals& g, Action& action);
  LabelCommands(const LabelCommands&) = delete;
  LabelCommands& operator=(const LabelCommands&) = delete;

 private:
  int List(client::ApiClient& api);
  // `verb` is "create" or "delete" (admin labels only; the coordinator checks).
  int LabelAction(client::ApiClient& api, const std::string& verb);

  const Globals& g_;

  // Parsed flags (one set per verb; only the chosen verb's are read).
  std::string name_;
  std::string kind_;
};

}  // namespace labmesh::cli
