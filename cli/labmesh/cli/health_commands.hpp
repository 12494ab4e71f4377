#pragma once
// Host health and quarantine (issue 26, docs/quarantine.md), added to the `host` noun
// HostCommands made: `host flaky [--label L] [--host H] [--limit N] [--evidence]` (scores with
// their evidence, and the tests found flaky), `host quarantine NAME [--reason R]` and
// `host unquarantine NAME [--reason R]` (admins).

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "labmesh/cli/cli_util.hpp"
#include "labmesh/client/api_client.hpp"
#include "labmesh/protocol/messages.hpp"

namespace labmesh::cli {

// `host flaky` as text: a line of what the scores are, the table HOST, STATUS, SCORE, SUSPECT,
// ENTRIES, RESULTS, WHY (the heaviest evidence), then with `evidence` every evidence line under
// its host, then the flaky tests. "now" is passed in so that the text is tested.
std::string FormatHostFlaky(const protocol::HostFlakyReply& reply, bool evidence, int64_t now_ms);

class HealthCommands {
 public:
  // Must be made after HostCommands. `app`, `g` and `action` must outlive this object, and this
  // object the parse and the action.
  HealthCommands(CLI::App& app, const Globals& g, Action& action);
  HealthCommands(const HealthCommands&) = delete;
  HealthCommands& operator=(const HealthCommands&) = delete;

 private:
  int Flaky(client::ApiClient& api);
  int Quarantine(client::ApiClient& api, bool release);

  const Globals& g_;
  std::string label_;
  std::string host_;
  uint32_t limit_ = 0;
  bool evidence_ = false;
  std::string hostname_;
  std::string reason_;
};

}  // namespace labmesh::cli
