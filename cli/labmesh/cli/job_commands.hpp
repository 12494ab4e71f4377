#pragma once
// `labmesh job create|list|show|wait|abort|delete|log` (CLI.md): flags, the coordinator calls and
// the output. The rules and texts that need no socket live in job_logic.hpp.

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "labmesh/cli/cli_util.hpp"
#include "labmesh/cli/job_flags.hpp"
#include "labmesh/cli/job_logic.hpp"
#include "labmesh/client/api_client.hpp"

namespace labmesh::cli {

class JobCommands {
 public:
  // Adds `job` and its verbs to `app`; choosing one sets `action`. `app`, `g` and `action` must
  // outlive this object, and this object must outlive the parse and the action.
  JobCommands(CLI::App& app, const Globals& g, Action& action);
  JobCommands(const JobCommands&) = delete;
  JobCommands& operator=(const JobCommands&) = delete;

 private:
  int Create(client::ApiClient& api);
  int List(client::ApiClient& api);
  int Show(client::ApiClient& api);
  int Wait(client::ApiClient& api);
  int Abort(client::ApiClient& api);
  int Delete(client::ApiClient& api);
  int Log(client::ApiClient& api);

  const Globals& g_;

  // Parsed flags (one set per verb; only the chosen verb's are read).
  JobFlags create_flags_;
  std::string template_;
  std::string schedule_;
  std::string owner_;
  std::string status_;
  uint32_t limit_ = 0;
  uint64_t id_ = 0;
  std::string host_;
  std::string wait_timeout_;
  bool follow_ = false;
};

}  // namespace labmesh::cli
