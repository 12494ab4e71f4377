// The agent's options (labmesh/agent/flags.hpp): main() and the config fuzz target declare them
// through AddFlags, so both read a config file the same way.

#include "labmesh/agent/flags.hpp"

#include <cstdint>

#include "labmesh/common/flags.hpp"
#include "work/builtin_checks.hpp"

namespace labmesh::agent {

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
      help + " (default " + labmesh::FormatBytes(bytes) + ")");
  return option->envname(labmesh::flags::EnvName(name));
}

// A duration flag's check: more than 0.
std::string MoreThanZero(const std::string& text) {
  auto ms = labmesh::ParseDurationMs(text);
  return ms.ok() && *ms <= 0 ? std::string("must be more than 0") : std::string();
}

}  // namespace

void AddFlags(CLI::App& app, CommandLine& line) {
  namespace flags = labmesh::flags;
  AgentConfig& config = line.config;
  std::string& key_or_file = line.key_or_file;
  flags::AddConfigFile(app);
  flags::Add(app, "coordinator", config.coordinator,
             "coordinator's agent socket; several, comma-separated (an active coordinator and its "
             "standbys): the next is tried when one is gone (docs/scale-out.md)");
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
      ->check(MoreThanZero);
  flags::AddDuration(app, "kill-grace", config.kill_grace_ms,
                     "time between TERM and KILL when a control is stopped");
  flags::Add(app, "helper-dir", config.helper_dir,
             "directory of labmesh-test and labmesh-sync, first on a control's PATH "
             "(default: the agent's own)");
  flags::Add(app, "upload-chunk", config.upload_chunk_bytes,
             "largest result chunk sent to the coordinator, in bytes (at most 262144: the "
             "coordinator refuses larger ones)")
      ->check(CLI::Range(uint64_t{1024}, labmesh::protocol::kMaxResultChunkBytes));
  flags::Add(app, "reboot-command", config.reboot_command,
             "command (sh -c) that reboots this machine when a control asks (labmesh-test "
             "reboot)");
  flags::Add(app, "boot-id-file", config.boot_id_file,
             "file whose content changes with every boot (tests point it elsewhere)");
  flags::Add(app, "pstore-dir", config.pstore_dir,
             "crash collection: the kernel's persistent store of crash logs");
  flags::Add(app, "crash-dir", config.crash_dir,
             "crash collection: where crash dumps appear (new files are copied)");
  AddByteSize(app, "update-rate-limit", config.update_rate_limit_bytes,
              "largest agent package download speed, per second (0 = no limit)");
  flags::AddDuration(app, "update-trial", config.update_trial_ms,
                     "a new agent version that has not registered this long after an update is "
                     "rolled back")
      ->check(MoreThanZero);
  flags::Add(app, "peer-listen", config.peer_listen,
             "the package mesh's peer socket (\"\" = none: packages come from the coordinator "
             "only)");
  flags::Add(app, "peer-advertise", config.peer_advertise,
             "the host other agents reach the peer socket at, when it listens on every "
             "address (default: --address)");
  AddByteSize(app, "peer-upload-rate", config.peer_upload_rate,
              "largest upload speed to peers, per second (0 = no limit)");
  flags::Add(app, "peer-max-fetchers", config.peer_max_fetchers,
             "peer fetches waiting at most; more are refused as busy")
      ->check(CLI::Range(1, 256));
  AddByteSize(app, "peer-cache", config.peer_cache_bytes,
              "disk kept for whole packages other agents may fetch (0 = none kept)");
  flags::AddDuration(app, "peer-timeout", config.peer_timeout_ms,
                     "a chunk fetch from a peer taking longer is given up (the next peer or "
                     "the coordinator is asked)")
      ->check(MoreThanZero);
  flags::AddDuration(app, "fault-chunk-delay", config.fault_chunk_delay_ms,
                     "tests only: wait this long between result chunks")
      ->group("");  // hidden from --help
  flags::Add(app, "fault-filter", config.fault_filter,
             "tests only: drop, delay or duplicate chosen messages (docs/chaos.md)")
      ->group("");  // hidden from --help
  flags::AddLogFlags(app, line.log);
}

}  // namespace labmesh::agent
