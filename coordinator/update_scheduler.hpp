#pragma once
// UpdateScheduler: agent self-update (docs/update.md). It keeps the desired version (staged
// into the loop turn's batch), gives each idle host whose agent runs another version than its
// target an Update task before the Scheduler gives it work, decides how an Update ends when the
// agent registers again, and keeps the hosts' last_known_good / update_failed_version (through
// the HostRegistry). The decisions themselves are in package_rules.hpp; the packages and their
// bytes are PackageService's, which asks this class to desire a version.
//
// A peer of the coordinator core (core.hpp); owned and called only by the event-loop thread.

#include <map>
#include <optional>
#include <string>

#include "batch.hpp"
#include "host_registry.hpp"
#include "labmesh/store/store.hpp"

namespace labmesh::coordinator {

class HostTasks;
class Scheduler;

class UpdateScheduler {
 public:
  UpdateScheduler(store::Store* store, HostRegistry* registry, Batch* batch);
  void Wire(HostTasks* tasks, Scheduler* scheduler);

  // Reads the desired version and the targets of open Update tasks (from their reasons).
  // After HostTasks::Load.
  Status Load();

  // The desired version as scheduling uses it (committed, or staged by SetDesiredVersion).
  const store::DesiredVersion& desired_version() const { return desired_; }
  // Makes `desired` (its package is `package`) the desired version: every host's
  // update_failed_version naming it is cleared (so they try again), and a scheduling pass runs.
  // Committed with the turn's batch; `reply` goes to `routing_id` after that commit (or an
  // error, when it fails).
  void SetDesiredVersion(const store::DesiredVersion& desired, const store::Package& package,
                         const std::string& routing_id, std::string reply, uint64_t request_id);

  // Queues and starts an Update task on each idle host whose agent should run another
  // version. Called at the start of a scheduling pass, so it comes before entries.
  void ScheduleUpdates();
  // The Update task's RunTask fields (version and package).
  void FillUpdate(const store::SpecialTask& task, protocol::RunTask& run) const;
  // An agent with a Running Update task registered again: the task ends (Completed when it
  // runs the target, Failed when it reports the rollback) or is sent again (it resumes).
  void OnUpdaterRegistered(const std::string& hostname, const protocol::TaskReport& update_report);
  // A Failed or Aborted Update: the host does not try that version again until it is desired
  // again. Forgets the task's target.
  void UpdateEnded(const store::SpecialTask& task, bool passed);
  // An entry completed on `hostname`: the version it ran is the host's last known good.
  void NoteEntryCompleted(const std::string& hostname);
  // The agent registered running `update_failed_version`: that is no failure any more.
  void OnAgentRegistered(const std::string& hostname);
  void Forget(const std::string& hostname) { update_targets_.erase(hostname); }

  void Stage(store::WriteBatch& writes);
  bool HasStaged() const { return desired_dirty_; }

 private:
  // The package `host` should run now; nullopt = leave it alone.
  std::optional<store::Package> UpdateTargetOf(const store::Host& host) const;

  store::Store* store_;
  HostRegistry* registry_;
  Batch* batch_;
  HostTasks* tasks_ = nullptr;
  Scheduler* scheduler_ = nullptr;

  // The desired version and its package (nullopt when none), whether it changed since the last
  // commit, and the target of each open Update task (host -> package).
  store::DesiredVersion desired_;
  std::optional<store::Package> desired_package_;
  bool desired_dirty_ = false;
  std::map<std::string, store::Package> update_targets_;
};

}  // namespace labmesh::coordinator
