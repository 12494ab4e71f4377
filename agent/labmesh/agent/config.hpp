#pragma once
// The agent's configuration. Every default lives here; main.cpp fills it from flags, the config
// file and LABMESH_* environment variables.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "labmesh/protocol/envelope.hpp"
#include "labmesh/protocol/job_messages.hpp"

namespace labmesh::agent {

// An --address must fit LABMESH_PEERS ("host=address,..."): no ',', '=', space or control
// character, at most 255 bytes.
inline bool IsValidAgentAddress(std::string_view address) {
  if (address.size() > 255) return false;
  for (char c : address) {
    if (c == ',' || c == '=' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  }
  return true;
}

// The agent socket refused a frame (its queue is full or the connection is not up): the part
// that sent it tries again this soon.
inline constexpr int64_t kSendRetryMs = 10;

struct AgentConfig {
  std::string coordinator = "tcp://127.0.0.1:7710";
  std::string coordinator_key;  // Z85 public key of the coordinator (resolved by main)
  std::string hostname;         // empty = the machine's name
  std::string work_dir = "./var/labmesh-agent";
  std::vector<std::string> labels;
  // The address other hosts reach this one at (HostFacts.address, a job's LABMESH_PEERS);
  // "" = the first IPv4 address of an interface that is up and not loopback.
  std::string address;
  std::string enroll_token;
  int64_t heartbeat_interval_ms = 5'000;  // until the coordinator's Welcome says otherwise
  std::string verify_dir = "/etc/labmesh/verify.d";
  std::string repair_dir = "/etc/labmesh/repair.d";
  std::string cleanup_dir = "/etc/labmesh/cleanup.d";
  // Special tasks (docs/lifecycle-agent.md). free-space passes with at least this much
  // available in the work directory's file system; clock-skew with the agent's wall clock at
  // most this far from the coordinator's; a verify/repair/cleanup script running longer than
  // script_timeout_ms is stopped (TERM, KILL after kill_grace_ms) and fails.
  uint64_t min_free_space_bytes = uint64_t{256} << 20;
  int64_t max_clock_skew_ms = 30'000;
  int64_t script_timeout_ms = 5 * 60'000;
  // Reconnection: capped exponential backoff with jitter, first attempt included.
  int64_t reconnect_initial_ms = 200;
  int64_t reconnect_max_ms = 30'000;
  // No answer to a hello within this long: drop the connection and try again.
  int64_t hello_timeout_ms = 3'000;
  // No heartbeat acknowledged for this many intervals: the coordinator is gone.
  int missed_acks_before_reconnect = 3;
  size_t max_frame_bytes = protocol::kDefaultMaxFrameBytes;

  // Entries (docs/jobs.md "Agent side of one entry").
  // After TERM to a control's process group (max runtime, abort), KILL follows this much later.
  int64_t kill_grace_ms = 5'000;
  // Where labmesh-test lives, put first on the control's PATH; "" = the agent binary's directory.
  std::string helper_dir;
  uint64_t upload_chunk_bytes = protocol::kMaxResultChunkBytes;  // one ResultChunk at most
  uint64_t upload_window_bytes = 4 * 1024 * 1024;  // unacknowledged bytes per entry at most
  int64_t log_flush_ms = 100;  // debug/control.log is streamed at most this often (or per 64 KiB)
  // Reboots and crashes (docs/kernel-lab.md). `labmesh-test reboot` runs reboot_command (through
  // /bin/sh -c); a changed boot_id_file says the machine booted. After a failed control or an
  // unexpected reboot, crashinfo/ gets copies of pstore_dir and of crash_dir's new files.
  std::string reboot_command = "systemctl reboot";
  std::string boot_id_file = "/proc/sys/kernel/random/boot_id";
  std::string pstore_dir = "/sys/fs/pstore";
  std::string crash_dir = "/var/crash";
  // Fault point for tests: wait this long between result chunks (0 = off).
  int64_t fault_chunk_delay_ms = 0;
  // Fault filter for tests: rules that drop, delay or duplicate chosen messages to and from the
  // coordinator (agent/fault_filter.hpp, docs/chaos.md); "" = off.
  std::string fault_filter;

  // Self-update (docs/update.md "Agent side").
  // The version this agent reports (AgentHello.agent_version); main sets it from the binary.
  std::string version = LABMESH_VERSION;
  // The arguments the agent was started with (argv[1..]): an update re-executes the new binary
  // and the watchdog with them.
  std::vector<std::string> exec_args;
  // Package download speed cap in bytes per second (0 = no limit).
  uint64_t update_rate_limit_bytes = 0;
  uint64_t update_chunk_bytes = 256 * 1024;  // one PackageChunkRequest at most
  // A chunk request unanswered this long is sent again (from the bytes on disk).
  int64_t update_chunk_timeout_ms = 10'000;
  // A new version that has not registered this long after the switch is killed and rolled back.
  int64_t update_trial_ms = 2 * 60'000;
  // The write end of the trial pipe when this process is a new version on trial (main reads it
  // from LABMESH_UPDATE_TRIAL_FD); -1 = not on trial.
  int update_trial_fd = -1;

  // The package mesh (docs/mesh.md): the peer socket other agents fetch package chunks from
  // ("" = none: this agent neither serves nor fetches from peers, only from the coordinator);
  // the host they reach it at when it listens on every address ("" = `address`); its upload
  // cap in bytes per second (0 = none); fetches waiting at most; the disk kept for whole
  // packages; how long a fetch from a peer may take before the next peer is tried.
  std::string peer_listen = "tcp://*:7712";
  std::string peer_advertise;
  uint64_t peer_upload_rate = 0;
  uint32_t peer_max_fetchers = 8;
  uint64_t peer_cache_bytes = uint64_t{256} << 20;
  int64_t peer_timeout_ms = 5'000;
};

}  // namespace labmesh::agent
