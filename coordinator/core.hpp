#pragma once
// Core: the coordinator's job-side peers wired together - JobService (jobs and entries),
// Scheduler (queue, idle/busy hosts, group holds), HostTasks (verify/repair/cleanup/update
// tasks) and UpdateScheduler (the desired agent version) - around the loop turn's one Batch,
// and the end of a turn: start tasks, schedule, stage every peer's changes with the
// HostRegistry's and the audit log's, commit once, send (docs/architecture.md).
//
// Owned and called only by the event-loop thread. The peers know each other (a job's path
// crosses all four), but each owns its own state and writes only its own records.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "audit_log.hpp"
#include "disk_guard.hpp"
#include "batch.hpp"
#include "host_registry.hpp"
#include "host_tasks.hpp"
#include "job_service.hpp"
#include "scheduler.hpp"
#include "update_scheduler.hpp"

namespace labmesh::coordinator {

class Core {
 public:
  // `to_agent` and `to_api` send at once (by routing id): replies that need no commit, and the
  // batch's frames after it.
  Core(const CoordinatorConfig& config, const Clock* clock, store::Store* store,
       HostRegistry* registry, TestCatalog* catalog, ResultsRepository* results,
       FrameOutbox to_agent, FrameOutbox to_api);

  // Loads every peer from the store (at start, and after a failed commit).
  Status Load();

  Batch& batch() { return batch_; }
  JobService& jobs() { return jobs_; }
  Scheduler& scheduler() { return scheduler_; }
  HostTasks& tasks() { return tasks_; }
  UpdateScheduler& updates() { return updates_; }
  const JobService& jobs() const { return jobs_; }
  const Scheduler& scheduler() const { return scheduler_; }
  const HostTasks& tasks() const { return tasks_; }
  const UpdateScheduler& updates() const { return updates_; }

  // Audit records are staged with the turn's batch (nullptr: none).
  void set_audit(AuditLog* audit) { audit_ = audit; }
  // Running out of disk: result chunks are refused while it is full, heartbeats stay in memory
  // (they are written when there is room again) and a failed commit tells it.
  void set_disk_guard(DiskGuard* disk) {
    disk_ = disk;
    jobs_.set_disk_guard(disk);
  }

  // Out-of-band power (PowerService, docs/power-console.md) hears of hosts lost and of agents
  // registered, after the peers have acted on them.
  using HostHook = std::function<void(const std::string& hostname)>;
  void set_power_hooks(HostHook on_dead, HostHook on_registered) {
    on_dead_ = std::move(on_dead);
    on_registered_ = std::move(on_registered);
  }

  // Scheduling passes, entries started and finished, uploads and parses are counted there
  // (nullptr: not counted).
  void set_metrics(Metrics* metrics) {
    metrics_ = metrics;
    jobs_.set_metrics(metrics);
  }

  // The agent-socket message types the job side takes, and one of them from the registered
  // agent of `host`.
  static bool IsWorkMessage(protocol::MessageType type);
  void HandleAgent(const HostState& host, const protocol::Envelope& envelope);

  // Host events (AgentService, ApiService): staged into the turn's batch.
  void OnAgentRegistered(const std::string& hostname,
                         const std::vector<protocol::HeldEntry>& held,
                         const protocol::TaskReport& update_report = {});
  void OnHostDead(const std::string& hostname);
  // The host's entry is Rebooting: its silence is expected (JobService::Rebooting).
  bool Rebooting(const std::string& hostname) const { return jobs_.Rebooting(hostname); }
  void OnHostDeleted(const std::string& hostname);
  // Something outside the core may have made a host eligible (an unlock, an accept).
  void RequestSchedule() { scheduler_.RequestSchedule(); }

  // Job timeouts, reservations that ended and periodic verifies. Called by the loop's timer.
  void CheckTimeouts();
  // Sync timeouts and group holds; call when the steady clock reaches NextDeadlineMs().
  void OnTimer() { scheduler_.OnTimer(); }
  int64_t NextDeadlineMs() const { return scheduler_.NextDeadlineMs(); }

  // The end of a loop turn: starts queued tasks, runs a scheduling pass when one is needed,
  // stages every peer's changes, the registry's (`heartbeats` opens a heartbeat round, written
  // a slice a turn) and the audit log's, and commits the batch once; then sends. A failed commit reloads the peers.
  Status Flush(bool heartbeats = false);
  // A heartbeat round is half written (a large fleet's takes several turns): the loop should
  // turn again soon even when nothing arrives. False while the disk is full.
  bool FlushPending() const;
  // Not OK once a failed commit's reload failed too (the store is unreachable): the peers'
  // memory is half loaded, so the coordinator must stop; a restart loads everything again.
  const Status& fatal() const { return fatal_; }
  // Heartbeat records written per turn at most (HostRegistry::WriteTo).
  static constexpr size_t kHeartbeatsPerTurn = 1000;

 private:
  store::Store* store_;
  HostRegistry* registry_;
  FrameOutbox to_agent_;
  FrameOutbox to_api_;
  Batch batch_;
  JobService jobs_;
  Scheduler scheduler_;
  HostTasks tasks_;
  UpdateScheduler updates_;
  AuditLog* audit_ = nullptr;
  DiskGuard* disk_ = nullptr;
  Metrics* metrics_ = nullptr;
  HostHook on_dead_;
  HostHook on_registered_;
  Status fatal_;
};

}  // namespace labmesh::coordinator
