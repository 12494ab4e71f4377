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
#include "labmesh/common/curve_keys.hpp"
#include "labmesh/common/flags.hpp"
#include "labmesh/common/logging.hpp"
#include "update/exec.hpp"
#include "work/builtin_checks.hpp"

// A test build sets another version (-DLABMESH_AGENT_VERSION="9.9.9") to play a new release.
#ifdef LABMESH_AGENT_VERSION
constexpr const char* kAgentVersion = LABMESH_AGENT_VERSION;
#else
constexpr const char* kAgentVersion = LABMESH_VERSION;
#endif

namespace {

// A size flag ("256MiB", "1G", "1048576") stored in bytes.
CLI::Option* AddByteSize(CLI::App& app, const std::string& name, uint64_t& bytes,
                         const std::string& help) {
  auto* option = app.add_option_function<std::string>(
      "--" + name,
      [&bytes, name](const std::string& text) {
        auto parsed = labmesh::agent::ParseByteSize(text);
        if (!parsed.ok()) throw CLI::ValidationError("--" + name, parsed.status().message());
        bytes = *parsed;
      },
      help + " (default " + labmesh::agent::FormatBytes(bytes) + ")");
  return option->envname(labmesh::flags::EnvName(name));
}

}  // namespace

int main(int argc, char** argv) {
  namespace flags = labmesh::flags;
  labmesh::agent::AgentConfig config;
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
  std::string key_or_file, log_level = "info";
  CLI::App app{"labmesh-agent: registers this machine with a labmesh coordinator and runs its work"};
  app.set_version_flag("--version", std::string(kAgentVersion));
  flags::AddConfigFile(app);
  flags::Add(app, "coordinator", config.coordinator, "coordinator's agent socket");
  flags::Add(app, "coordinator-key", key_or_file,
             "coordinator's public key (Z85) or a file holding it")
      ->required();
  flags::Add(app, "hostname", config.hostname, "name to register as (default: the machine's)");
  flags::Add(app, "work-dir", config.work_dir, "state directory (keys/, spool/)");
  flags::Add(app, "labels", config.labels, "labels to ask for, comma-separated")->delimiter(',');
  flags::Add(app, "address", config.address,
             "address other hosts reach this one at, given to multi-host jobs (default: the "
             "first non-loopback IPv4 address)")
      ->check([](const std::string& address) {
        return labmesh::agent::IsValidAgentAddress(address)
                   ? std::string()
                   : std::string("no ',', '=', spaces or control characters, at most 255 bytes");
      });
  flags::Add(app, "enroll-token", config.enroll_token, "token that enrols this host at once");
  flags::AddDuration(app, "heartbeat-interval", config.heartbeat_interval_ms,
                     "heartbeat interval until the coordinator sets one");
  flags::Add(app, "verify-dir", config.verify_dir, "verify scripts");
  flags::Add(app, "repair-dir", config.repair_dir, "repair scripts");
  flags::Add(app, "cleanup-dir", config.cleanup_dir, "cleanup scripts");
  AddByteSize(app, "min-free-space", config.min_free_space_bytes,
              "verify: free space the work directory's file system must have");
  flags::AddDuration(app, "max-clock-skew", config.max_clock_skew_ms,
                     "verify: largest difference allowed between this clock and the "
                     "coordinator's");
  flags::AddDuration(app, "script-timeout", config.script_timeout_ms,
                     "verify/repair/cleanup scripts running longer are killed and fail")
      ->check([](const std::string& text) {
        auto ms = labmesh::ParseDurationMs(text);
        return ms.ok() && *ms <= 0 ? std::string("must be more than 0") : std::string();
      });
  flags::AddDuration(app, "kill-grace", config.kill_grace_ms,
                     "time between TERM and KILL when a control is stopped");
  flags::Add(app, "helper-dir", config.helper_dir,
             "directory of labmesh-test and labmesh-sync, first on a control's PATH "
             "(default: the agent's own)");
  flags::Add(app, "upload-chunk", config.upload_chunk_bytes,
             "largest result chunk sent to the coordinator, in bytes (at most 262144: the "
             "coordinator refuses larger ones)")
      ->check(CLI::Range(uint64_t{1024}, labmesh::protocol::kMaxResultChunkBytes));
  AddByteSize(app, "update-rate-limit", config.update_rate_limit_bytes,
              "largest agent package download speed, per second (0 = no limit)");
  flags::AddDuration(app, "update-trial", config.update_trial_ms,
                     "a new agent version that has not registered this long after an update is "
                     "rolled back")
      ->check([](const std::string& text) {
        auto ms = labmesh::ParseDurationMs(text);
        return ms.ok() && *ms <= 0 ? std::string("must be more than 0") : std::string();
      });
  flags::AddDuration(app, "fault-chunk-delay", config.fault_chunk_delay_ms,
                     "tests only: wait this long between result chunks")
      ->group("");  // hidden from --help
  flags::Add(app, "fault-filter", config.fault_filter,
             "tests only: drop, delay or duplicate chosen messages (docs/chaos.md)")
      ->group("");  // hidden from --help
  flags::Add(app, "log-level", log_level, "trace, debug, info, warn, error, off");
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 wants them reversed
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return flags::ExitForParseError(app, e);
  }
  auto key = labmesh::ResolveCurveKey(key_or_file);
  if (!key.ok()) {
    std::cerr << "labmesh-agent: --coordinator-key: " << key.status().message() << "\n";
    return 2;
  }
  config.coordinator_key = *key;
  if (auto s = labmesh::SetupLogging("agent", log_level); !s.ok()) {
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
