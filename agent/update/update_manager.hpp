#pragma once
// UpdateManager: the agent side of an Update task (docs/update.md "Agent side").
//
// RunTask kind "Update" -> download the package with PackageChunkRequest/PackageChunk into
// WORK_DIR/update/<sha256>.part (resuming at the bytes on disk; again at every Welcome, at a
// repeated RunTask and after an unanswered request times out; at most
// config.update_rate_limit_bytes per second) -> SHA-256 of the whole file -> `tar` (a child
// process) into versions/V.tmp -> MANIFEST check -> rename to versions/V -> `current` switched,
// the trial recorded in state.json -> the exec plan is ready and `ready_to_exec` asks the agent
// to stop its loop. The agent's caller (RunAgent) then execs (exec.hpp); tests read the plan.
// Any failure is one TaskReport (passed=false, a TaskCheck per step that ran, the failing one
// last) and the agent keeps running as it was. An Update is refused while an entry is held.
//
// It also keeps state.json current outside an update: a completed entry makes this version the
// last known good (OnEntryDone); a new version on trial confirms itself at its first Welcome
// (one byte on the trial pipe, state.json's current_version, old versions pruned); a failure a
// watchdog recorded goes into AgentHello.update_report (UpdateReport) until a Welcome.
//
// Ownership and threads: the agent's event loop thread owns it and is the only caller. It is
// one of the loop's Managers (manager.hpp). Nothing blocks for long: the loop polls its
// AppendPollItems() (tar's pipe and pidfd), calls Service() at every turn and wakes no later
// than NextDeadlineMs(). Blocking parts, each bounded by the package
// size: hashing the bytes already on disk when a download resumes, and hashing the unpacked
// files for the MANIFEST check (a package is a few tens of MiB: well under a second).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "labmesh/agent/config.hpp"
#include "labmesh/agent/exec_plan.hpp"
#include "labmesh/agent/exec_plan.hpp"
#include "labmesh/common/clock.hpp"
#include "labmesh/common/status.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "labmesh/protocol/package_messages.hpp"
#include "labmesh/protocol/task_messages.hpp"
#include "manager.hpp"
#include "update/mesh_fetch.hpp"
#include "update/peer_server.hpp"
#include "update/state.hpp"

namespace labmesh {
class Sha256Hasher;
}  // namespace labmesh

namespace labmesh {
class Runner;  // labmesh/common/runner.hpp
}  // namespace labmesh

namespace labmesh::agent {

using labmesh::Runner;

class UpdateManager final : public Manager {
 public:
  using SendFn = std::function<bool(const std::string& frame)>;
  struct Hooks {
    std::function<bool()> entry_held;          // unset = none held
    std::function<uint64_t()> next_request_id;  // the agent's request id counter
    std::function<void()> ready_to_exec;        // the exec plan is ready: stop the loop
    // The package mesh (docs/mesh.md): with a context (and --peer-listen set), chunks are
    // fetched from the peers the coordinator names; without, all come from the coordinator.
    zmq::context_t* context = nullptr;
  };

  // `config.work_dir` must exist; update/ and versions/ below it are created when needed.
  UpdateManager(const AgentConfig& config, const Clock* clock, std::string hostname, SendFn send,
                Hooks hooks);
  // A tar still running is killed. A trial not yet passed tells the watchdog this process was
  // stopped (kTrialStopped), so it rolls back without starting another agent.
  ~UpdateManager();
  UpdateManager(const UpdateManager&) = delete;
  UpdateManager& operator=(const UpdateManager&) = delete;

  // Reads state.json (an unreadable one is logged and replaced). Never fails the agent.
  void Load();

  // The failure a rollback left to report (task_id 0 = none), for AgentHello.update_report.
  protocol::TaskReport UpdateReport() const;
  void FillHello(protocol::AgentHello* hello) const override;  // update_report = UpdateReport()

  // A Welcome: passes a trial, clears a reported failure, resends an unsent report and asks
  // again for the next chunk of a download.
  void OnWelcome() override;
  void OnDisconnected() override;

  // Handles RunTask of kind Update, PackageChunk and ErrorReply answering our requests; false
  // for anything else (a RunTask of another kind is the TaskManager's).
  bool Handle(const protocol::Envelope& envelope) override;

  // tar's pipe and pidfd, the socket of a chunk fetch from a peer
  void AppendPollItems(std::vector<zmq_pollitem_t>* items) const override;
  void OnPolled(std::span<const zmq_pollitem_t> items) override;
  void Service() override;
  int64_t NextDeadlineMs() const override;

  // An entry completed: this version (and binary) becomes the last known good.
  void OnEntryDone();

  // An update task is downloading, unpacking or waiting to exec.
  bool Busy() const { return task_ != nullptr || plan_.has_value(); }
  // The plan, once; nullopt when no update is ready.
  std::optional<ExecPlan> TakeExecPlan();
  const UpdateState& state() const { return state_; }
  // Bytes of the current download on disk (0 when none).
  uint64_t downloaded_bytes() const;
  std::string PartPath(const std::string& sha256) const;
  // Where whole packages are kept for peers (docs/mesh.md): update/cache/<sha256>.tar.gz.
  std::string CacheDir() const { return work_dir_ + "/update/cache"; }
  // The download in progress of `sha256` (for the PeerServer), if it is that package's.
  std::optional<HeldPackage> Partial(const std::string& sha256) const;

 private:
  struct Task;

  void Start(const protocol::RunTask& run);
  void OnChunk(uint64_t request_id, const protocol::PackageChunk& chunk);
  // Bytes at t.have, checked: written, hashed, paced; then the next request or Downloaded.
  void Accept(std::string_view data, int64_t now);
  void OnPeerOutcome(const MeshFetch::Outcome& outcome, int64_t now);
  void AskChunkHashes(int64_t now);
  void MeshOff(const std::string& why);
  // Moves the downloaded package into CacheDir() and keeps the newest that fit the cache size.
  void KeepForPeers(const std::string& sha256);
  void RequestChunk(int64_t now);
  void Downloaded(int64_t now);
  void StartUnpack(int64_t now);
  void ServiceUnpack(int64_t now);
  void Install(int64_t now);
  void Check(const std::string& name, bool passed, std::string output, int64_t started_ms);
  void Fail(const std::string& step, const std::string& why, int64_t started_ms);
  void SendReport();
  void Save();
  void PassTrial();

  AgentConfig config_;
  const Clock* clock_;
  std::string hostname_;
  SendFn send_;
  Hooks hooks_;
  std::string work_dir_;  // absolute, no trailing '/'
  std::string self_exe_;
  UpdateState state_;
  bool connected_ = false;
  bool failure_reported_ = false;  // state_.failure went out in a hello of this connection
  int trial_fd_ = -1;
  std::unique_ptr<Task> task_;
  std::optional<ExecPlan> plan_;
  std::optional<protocol::TaskReport> last_report_;
  bool report_unsent_ = false;
  int64_t send_retry_ms_ = 0;
};

}  // namespace labmesh::agent
