#pragma once
// HostTasks: the special tasks of hosts (Verify, Repair, Cleanup, and the Update the
// UpdateScheduler queues) - queueing, starting, their reports and what comes after them:
// verify before an entry runs, cleanup after it, repair of failed and returning hosts,
// periodic verifies, and the API's `host verify|repair|history` (docs/lifecycle.md; the
// decisions themselves are in lifecycle_rules.hpp).
//
// Each host has at most one open task (Queued or Running), kept in memory and staged into the
// loop turn's batch. A task's status moves only through MoveTask (the table below). A task runs
// only while no entry is started on its host (a run-verify entry's own Verify aside); it moves
// the host to Verifying / Repairing / Cleaning / Updating through the HostRegistry, and its
// report decides what comes next (Ready, a Repair, Repair Failed, the waiting entry's start).
//
// A peer of the coordinator core (core.hpp); owned and called only by the event-loop thread.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "batch.hpp"
#include "host_registry.hpp"
#include "job_service.hpp"

namespace labmesh::coordinator {

class Scheduler;
class UpdateScheduler;

// Whether a task may go `from -> to`: Queued -> Running | Aborted, Running -> Completed |
// Failed | Aborted; nothing leaves a final status.
bool CanMoveTask(protocol::TaskStatus from, protocol::TaskStatus to);

class HostTasks {
 public:
  HostTasks(const CoordinatorConfig& config, const Clock* clock, store::Store* store,
            HostRegistry* registry, Batch* batch, FrameOutbox to_agent, FrameOutbox to_api);
  void Wire(JobService* jobs, Scheduler* scheduler, UpdateScheduler* updates);

  // Loads the open tasks (from each host's last task) and the task id counter.
  Status Load();

  // API requests (the route table's handlers).
  void RequestTask(const std::string& routing_id, const protocol::Envelope& e,
                   const Principal& who);
  std::string History(const protocol::Envelope& e) const;

  // An agent's TaskReport.
  void OnTaskReport(const HostState& host, const protocol::Envelope& e);

  // Host events. Registered: the task it was running is sent again; a host that was lost is
  // repaired (or verified, per its protection) before it is Ready. `update_report` is the
  // hello's (task_id 0 = none). Dead: its open task is Aborted. Deleted: forgotten.
  void OnAgentRegistered(const std::string& hostname, const protocol::TaskReport& update_report);
  void OnHostDead(const std::string& hostname);
  void OnHostDeleted(const std::string& hostname);

  // Starts the queued tasks whose host is free; called before each scheduling pass.
  void StartTasks();
  // Periodic verifies of idle hosts. Called by the loop's timer.
  void CheckPeriodicVerify();
  // Running tasks past --task-deadline fail (their host's agent never reported). Called by the
  // loop's timer.
  void CheckDeadlines();

  // ---- for the peers ----
  bool HasOpenTask(const std::string& hostname) const { return tasks_.count(hostname) > 0; }
  const store::SpecialTask* OpenTask(const std::string& hostname) const;
  // Queues a task on `hostname` for `entry` when given. The caller made sure the host has no
  // open task.
  store::SpecialTask& QueueTask(const std::string& hostname, protocol::TaskKind kind,
                                const std::string& reason, const std::string& by,
                                const store::Entry* entry = nullptr);
  void StartTask(store::SpecialTask& task);
  // Sends the task's RunTask (again, after a re-registration) to its host's agent.
  void SendTask(const store::SpecialTask& task);
  // Ends the host's open task and acts on the result.
  void EndTask(const std::string& hostname, bool passed, const std::string& reason,
               std::vector<protocol::TaskCheck> checks);
  // A run-verify entry given `hostname`: the entry and host go Verifying until the Verify ends.
  bool NeedsVerifyFirst(const JobService::ActiveJob& job, const store::Host& host) const;
  void VerifyBeforeRun(store::Entry& entry, const std::string& hostname);
  // After an entry's results were received: its Cleanup, when the job's policy asks.
  void MaybeCleanup(const store::Entry& entry, const std::string& outcome);

  // Records a power operation the coordinator ran (kind Power, already final: PowerService):
  // it gets the next task id and is staged with the turn's batch. It is never the host's open
  // task, and the host's last_task_id stays.
  uint64_t RecordPowerTask(store::SpecialTask task);

  void Stage(store::WriteBatch& writes);
  bool HasStaged() const { return !dirty_tasks_.empty() || !ended_tasks_.empty(); }
  size_t open_tasks() const { return tasks_.size(); }

 private:
  bool CanStartTask(const std::string& hostname) const;
  void MoveTask(store::SpecialTask& task, protocol::TaskStatus to);
  void AfterTask(const store::SpecialTask& task, bool passed, const std::string& reason);
  // A host needs a Repair (verify or cleanup failed): queued and started, unless its protection
  // or its recent repairs forbid it, which leaves it Repair Failed.
  void NeedRepair(const std::string& hostname, const std::string& reason, uint64_t entry_id);
  // The host goes Repair Failed; the named-host entry `entry_id` that waited for it fails.
  void LeaveRepairFailed(const std::string& hostname, const std::string& reason,
                         uint64_t entry_id);
  protocol::Protection ProtectionOf(const std::string& hostname) const;
  void SetHost(const std::string& hostname, protocol::HostStatus to, const std::string& reason);

  const CoordinatorConfig& config_;
  const Clock* clock_;
  store::Store* store_;
  HostRegistry* registry_;
  Batch* batch_;
  FrameOutbox to_agent_;
  FrameOutbox to_api_;
  JobService* jobs_ = nullptr;
  Scheduler* scheduler_ = nullptr;
  UpdateScheduler* updates_ = nullptr;

  uint64_t last_task_id_ = 0;
  std::map<std::string, store::SpecialTask> tasks_;  // host -> its open task
  std::set<std::string> dirty_tasks_;                // hosts whose open task changed
  std::vector<store::SpecialTask> ended_tasks_;      // ended since the last commit
  int64_t started_wall_ms_ = 0;         // periodic verifies count from here at the earliest
  int64_t next_periodic_check_ms_ = 0;  // steady
};

}  // namespace labmesh::coordinator
