// labmesh-agent: parses configuration (flags > environment > config file > defaults), sets up
// logging and runs the agent. Everything else lives in the library.

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

#include "labmesh/agent/agent.hpp"
#include "labmesh/common/curve_keys.hpp"
#include "labmesh/common/flags.hpp"
#include "labmesh/common/logging.hpp"
#include "work/builtin_checks.hpp"

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
  std::string key_or_file, log_level = "info";
  CLI::App app{"labmesh-agent: registers this machine with a labmesh coordinator and runs its work"};
  app.set_version_flag("--version", std::string(LABMESH_VERSION));
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
             "largest result chunk sent to the coordinator, in bytes")
      ->check(CLI::Range(uint64_t{1024}, uint64_t{8} << 20));
  flags::AddDuration(app, "fault-chunk-delay", config.fault_chunk_delay_ms,
                     "tests only: wait this long between result chunks")
      ->group("");  // hidden from --help
  flags::Add(app, "log-level", log_level, "trace, debug, info, warn, error, off");
  try {
    app.parse(argc, argv);
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
  flags::LogGivenOptions(app, {"--enroll-token"});
  labmesh::Status status = labmesh::agent::RunAgent(config);
  if (!status.ok()) {
    spdlog::error("{}", status.ToString());
    return 1;
  }
  return 0;
}
