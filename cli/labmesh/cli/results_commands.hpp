#pragma once
// `labmesh results list|summary|series|reparse` (CLI.md, docs/results.md): flags, the
// coordinator calls and the output. Request building and texts live in results_logic.hpp.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "labmesh/cli/cli_util.hpp"
#include "labmesh/cli/results_logic.hpp"
#include "labmesh/client/api_client.hpp"

namespace labmesh::cli {

// How long `results reparse` waits for its answer unless --timeout is given: a reparse of a big
// job reads every file of it again.
inline constexpr int64_t kReparseTimeoutMs = 10 * 60 * 1000;

class ResultsCommands {
 public:
  // Adds `results` and its verbs to `app`; choosing one sets `action`. `app`, `g` and `action`
  // must outlive this object, and this object must outlive the parse and the action.
  ResultsCommands(CLI::App& app, const Globals& g, Action& action);
  ResultsCommands(const ResultsCommands&) = delete;
  ResultsCommands& operator=(const ResultsCommands&) = delete;

 private:
  int List(client::ApiClient& api);
  int Summary(client::ApiClient& api);
  int Series(client::ApiClient& api);
  int Reparse(client::ApiClient& api);
  int Usage(client::ApiClient& api);
  int Import(client::ApiClient& api);

  const Globals& g_;

  // Parsed flags (one set per verb; only the chosen verb's are read).
  ResultsListArgs list_;
  CLI::Option* list_limit_option_ = nullptr;
  uint32_t list_limit_ = 0;
  ResultsSummaryArgs summary_;
  ResultsSeriesArgs series_;
  CLI::Option* series_limit_option_ = nullptr;
  uint32_t series_limit_ = 0;
  uint64_t reparse_job_ = 0;
  std::string usage_owner_;
  std::string import_dir_;
  std::string import_host_;
  std::string import_job_name_;
};

}  // namespace labmesh::cli
