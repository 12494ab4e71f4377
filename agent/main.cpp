// labmesh-agent: parses configuration (flags > environment > config file > defaults), sets up
// logging and runs the agent. Everything else lives in the library.
//
// Self-update (docs/update.md) adds three ways this binary starts: `--update-watchdog FD ARGS`
// (hidden; must come first) runs the watchdog of an update trial with the agent's own ARGS; a
// process with LABMESH_UPDATE_TRIAL_FD is a new version on trial; any other start first settles
// an unconfirmed trial and a newly installed package (ApplyStartupRules), then execs
// WORK_DIR/current/labmesh-agent when `current` points at another binary.

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <vector>

#include "labmesh/agent/agent.hpp"
#include "labmesh/agent/flags.hpp"
#include "labmesh/common/curve_keys.hpp"
#include "labmesh/common/flags.hpp"
#include "labmesh/common/logging.hpp"
#include "update/exec.hpp"

// A test build sets another version (-DLABMESH_AGENT_VERSION="9.9.9") to play a new release.
#ifdef LABMESH_AGENT_VERSION
constexpr const char* kAgentVersion = LABMESH_AGENT_VERSION;
#else
constexpr const char* kAgentVersion = LABMESH_VERSION;
#endif

int main(int argc, char** argv) {
  namespace flags = labmesh::flags;
  labmesh::agent::CommandLine line;
  labmesh::agent::AgentConfig& config = line.config;
  config.version = kAgentVersion;
  // `--update-watchdog FD` is taken off before CLI11 sees the agent's own arguments.
  int watchdog_fd = -1;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 2 && args[0] == "--update-watchdog") {
    char* end = nullptr;
    long fd = std::strtol(args[1].c_str(), &end, 10);
    if (end == args[1].c_str() || *end != '\0' || fd < 0) {
      std::cerr << "labmesh-agent: --update-watchdog needs a descriptor number\n";
      return 2;
    }
    watchdog_fd = static_cast<int>(fd);
    args.erase(args.begin(), args.begin() + 2);
  }
  config.exec_args = args;
  CLI::App app{"labmesh-agent: registers this machine with a labmesh coordinator and runs its work"};
  app.set_version_flag("--version", std::string(kAgentVersion));
  labmesh::agent::AddFlags(app, line);
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 wants them reversed
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return flags::ExitForParseError(app, e);
  }
  auto key = labmesh::ResolveCurveKey(line.key_or_file);
  if (!key.ok()) {
    std::cerr << "labmesh-agent: --coordinator-key: " << key.status().message() << "\n";
    return 2;
  }
  config.coordinator_key = *key;
  if (auto s = labmesh::SetupLogging("agent", line.log); !s.ok()) {
    std::cerr << "labmesh-agent: " << s.message() << "\n";
    return 2;
  }
  if (watchdog_fd >= 0) return labmesh::agent::RunWatchdog(watchdog_fd, config);
  config.update_trial_fd = labmesh::agent::TakeTrialFd();
  // One agent per work directory, before anything in it changes (the start-up rules too). A
  // successor of an update or a hop waits a moment for the process it replaces to be gone.
  auto lock = labmesh::agent::LockWorkDir(config);
  if (!lock.ok()) {
    spdlog::error("{}", lock.status().ToString());
    return 1;
  }
  labmesh::agent::ApplyStartupRules(config);  // an unconfirmed trial, a new package
  labmesh::agent::MaybeHopToCurrent(config);  // returns when this binary is the one to run
  flags::LogGivenOptions(app, {"--enroll-token"});
  if (config.version != LABMESH_VERSION) spdlog::info("agent version {}", config.version);
  labmesh::Status status = labmesh::agent::RunAgent(config);
  if (!status.ok()) {
    spdlog::error("{}", status.ToString());
    return 1;
  }
  return 0;
}
