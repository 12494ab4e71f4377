#pragma once
// JobService: jobs and host queue entries - creation, the scheduler, the agent side of running
// entries (reports, result chunks, re-attach after restarts), abort and timeouts.
// docs/jobs.md describes the flow; this header who owns what.
//
// Owned and called only by the event-loop thread. Work is batched: handlers change the active
// jobs and entries in memory, mark them dirty and queue their outgoing messages; Flush() runs a
// scheduling pass, commits every dirty record (and host status change) in one write
// transaction (group commit) and only then sends the queued messages, so nothing is announced
// before it is durable. A failed commit drops the queued messages (agents repeat their reports,
// API callers get an error) and reloads the state from the store.
//
// Only active jobs (with an entry that is not final) are kept in memory; readers (list, show,
// log) read the store.
//
// Synchronous jobs (synch_count K > 1) run on groups of K entries (docs/sync.md): a free host
// is held for an entry (entry and host Pending) until its whole group holds its hosts, then the
// group starts in one fan-out. Groups that already hold hosts are served before anything else;
// a group that cannot gather its hosts within sync_hold_ms gives them back and waits half as
// long before it tries again, so overlapping groups cannot hold each other's hosts forever.
// Barriers and values of started groups are the SyncService's.
//
// Special tasks (Verify, Repair, Cleanup; job_lifecycle.cpp, docs/lifecycle.md) live here too,
// because they share the hosts, the scheduling and the commit with entries: each host has at
// most one open task (Queued or Running), kept in memory and committed with the batch; a task
// runs only while no entry is started on its host (a run-verify entry's own Verify aside). A
// task moves the host to Verifying / Repairing / Cleaning and its report decides what comes
// next (Ready, a Repair, Repair Failed, the waiting entry's start).
//
// Agent self-update (job_update.cpp, docs/update.md) is one more special task, Update: an idle
// host whose agent version differs from its target version (package_rules.hpp) gets it in the
// scheduling pass before any entry is given out. It ends when the agent registers again (with
// the target version: Completed; with an update_report for it: Failed) or reports failure; a
// Failed or Aborted Update records the host's update_failed_version. The desired version is
// kept here (and committed with the batch) because it decides scheduling.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "host_registry.hpp"
#include "labmesh/common/clock.hpp"
#include "labmesh/coordinator/config.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "labmesh/store/store.hpp"
#include "principal.hpp"
#include "results_intake.hpp"
#include "results_repository.hpp"
#include "sync_service.hpp"
#include "test_catalog.hpp"

namespace labmesh::coordinator {

// Sends one frame to a peer of a ROUTER socket (dropped when the peer is gone).
using FrameOutbox = std::function<void(const std::string& routing_id, std::string frame)>;

class JobService {
 public:
  JobService(const CoordinatorConfig& config, const Clock* clock, store::Store* store,
             HostRegistry* registry, TestCatalog* catalog, ResultsRepository* results,
             FrameOutbox to_agent, FrameOutbox to_api);

  // Loads the active jobs and entries and the id counters from the store.
  Status Load();

  // True for the API request types this service answers.
  static bool IsJobRequest(protocol::MessageType type);
  // One API request from `routing_id`. The reply goes out through to_api: at once for reads,
  // after the next Flush() for changes.
  // `who` was admitted by AuthService: jobs are created as theirs, and only owners and admins
  // may abort.
  void HandleApi(const std::string& routing_id, const protocol::Envelope& envelope,
                 const Principal& who);

  // True for the agent-socket message types this service takes.
  static bool IsWorkMessage(protocol::MessageType type);
  // One work message from the registered agent of `host`.
  void HandleAgent(const HostState& host, const protocol::Envelope& envelope);
  // The agent of `hostname` (re)registered and holds `held`: re-attach, requeue or fail the
  // entries the coordinator expected on it. Called after its Welcome was sent. `update_report`
  // is the hello's (task_id 0 = none): the Update it rolled back from.
  void OnAgentRegistered(const std::string& hostname,
                         const std::vector<protocol::HeldEntry>& held,
                         const protocol::TaskReport& update_report = {});
  // The host went Dead: its started entries fail (infrastructure).
  void OnHostDead(const std::string& hostname);
  // The host was deleted: every entry on it that is not final fails.
  void OnHostDeleted(const std::string& hostname);
  // Something outside this service changed a host so that a queued task may start or must be
  // reconsidered (an unlock of a Repair Failed host, an accept).
  void OnHostChanged(const std::string& hostname) { (void)hostname; schedule_needed_ = true; }

  // Entries whose files are all received go to `parse` (after the commit that made them
  // Parsing); OnParsed() finishes them. Without a parser they finish at once.
  void set_parser(std::function<void(ParseWork)> parse) { parse_ = std::move(parse); }
  // The results of an entry's first parse are indexed: it becomes Completed or Failed.
  void OnParsed(const ParseDone& done);

  // Job timeouts and periodic verifies. Called by the loop's timer.
  void CheckTimeouts();
  // Sync timeouts, group holds that expired, groups whose pause ended. Call when the steady
  // clock reaches NextDeadlineMs() (calling it earlier does no harm).
  void OnTimer();
  int64_t NextDeadlineMs() const;

  // Schedules (when something happened that may let an entry start), commits and sends (see
  // above). Called after each batch of messages.
  void Flush();
  // Something outside this service may have made a host eligible (an unlock, an accept): the
  // next Flush() runs a scheduling pass.
  void RequestSchedule() { schedule_needed_ = true; }

  // Agent self-update (job_update.cpp). The desired version as this service schedules by it
  // (committed, or staged by SetDesiredVersion).
  const store::DesiredVersion& desired_version() const { return desired_; }
  // Makes `desired` (its package is `package`) the desired version: every host's
  // update_failed_version naming it is cleared (so they try again), and a scheduling pass runs.
  // Committed with the next Flush(); `reply` goes to `routing_id` after that commit (or an
  // error, when it fails).
  void SetDesiredVersion(const store::DesiredVersion& desired, const store::Package& package,
                         const std::string& routing_id, std::string reply, uint64_t request_id);

  size_t queued_entries() const { return queue_.size(); }
  size_t open_tasks() const { return tasks_.size(); }
  size_t active_jobs() const { return jobs_.size(); }
  const SyncService& sync() const { return sync_; }

 private:
  struct ActiveJob {
    store::Job job;
    std::vector<std::string> owner_groups;
    size_t open_entries = 0;  // entries not final
  };
  // Queue order: higher priority first, then older job, then entry id.
  struct QueueKey {
    int priority;  // negated, so that std::set's order is the run order
    uint64_t job_id;
    uint64_t entry_id;
    auto operator<=>(const QueueKey&) const = default;
  };
  // A synchronous group's scheduling state (started groups are the SyncService's).
  struct GroupState {
    uint32_t pending = 0;       // entries holding a host
    int64_t hold_since_ms = 0;  // steady: when the first of them got its host
    int64_t retry_after_ms = 0; // steady: a released group is not served before then
    bool started = false;
  };
  struct HostChange {
    protocol::HostStatus status;
    std::string reason;
    int64_t at_ms;
  };

  // API.
  void Create(const std::string& routing_id, const protocol::Envelope& e, const Principal& who);
  void Abort(const std::string& routing_id, const protocol::Envelope& e, const Principal& who);
  std::string List(const protocol::Envelope& e) const;
  std::string Show(const protocol::Envelope& e) const;
  std::string Log(const protocol::Envelope& e) const;
  struct StoredJob {
    store::Job job;
    std::vector<store::Entry> entries;
  };
  // A job and its entries as committed; NotFound when there is no such job.
  Result<StoredJob> ReadJob(uint64_t id) const;
  Result<std::vector<std::string>> GroupsOf(const std::string& user) const;
  // Why `host` may never run an entry of this job for this owner ("" = it may).
  std::string Unsuitable(const store::Host& host, const std::vector<std::string>& groups,
                         const std::string& meta_label,
                         const std::vector<std::string>& depends) const;

  // Agent side.
  void OnWorkRequest(const HostState& host);
  void OnReport(const HostState& host, const protocol::Envelope& e);
  void OnChunk(const HostState& host, const protocol::Envelope& e);
  void OnSync(const HostState& host, const protocol::Envelope& e);

  // Scheduling.
  void Schedule();
  bool Eligible(const HostState& host, const ActiveJob& job, const store::Entry& entry) const;
  // The first eligible idle host for a queued entry, or nullptr.
  const HostState* ChooseHost(const store::Entry& entry, const ActiveJob& job) const;
  bool JobUsesHost(const ActiveJob& job, const std::string& hostname) const;
  void Assign(store::Entry& entry, ActiveJob& job, const HostState& host);
  // A client-side entry's start on its host (after Assign, or after its Verify passed).
  void StartOn(store::Entry& entry, ActiveJob& job, const std::string& hostname);
  // Synchronous jobs: holds `host` for the entry; starts the group when it is complete.
  void Hold(store::Entry& entry, ActiveJob& job, const HostState& host);
  void StartGroup(const GroupKey& key, ActiveJob& job);
  // A Pending entry gives its host back (Ready, idle again when connected) and is queued again.
  void Unhold(store::Entry& entry, const std::string& reason);
  void ReleaseExpiredHolds();
  std::vector<store::Entry*> GroupEntries(const ActiveJob& job, uint32_t group);
  // LABMESH_HOSTS of an entry: its group's hosts (synchronous) or the job's hosts so far.
  std::vector<std::string> HostsFor(const store::Entry& entry, const ActiveJob& job) const;
  // What a StartEntry tells about the other hosts: LABMESH_HOSTS and LABMESH_PEERS.
  struct Roster {
    std::vector<std::string> hosts;
    std::map<std::string, std::string> peers;
  };
  Roster RosterFor(const store::Entry& entry, const ActiveJob& job) const;
  // `roster` is RosterFor(entry, job) when the caller has it: the members of a group share one,
  // so a group of K hosts costs K rosters' worth of encoding, not K^2 lookups and sorts. It is
  // lent to the message while it is encoded and left as it was.
  void SendStart(const store::Entry& entry, const ActiveJob& job, Roster* roster = nullptr);
  static GroupKey KeyOf(const store::Entry& entry) { return {entry.job_id, entry.group}; }
  // Group bookkeeping after an entry moved from `from`.
  void OnEntryMoved(store::Entry& entry, protocol::EntryStatus from, const std::string& reason);
  // After an entry became final: close its group when it was the last one; abort the rest of
  // a group that can no longer start or lost a host.
  void OnEntryFinished(store::Entry& entry, const std::string& reason, const std::string& fault);
  void QueueEntry(const store::Entry& entry);
  // Back to Queued with `reason`: a label entry lets go of its host, a named one keeps it.
  void Requeue(store::Entry& entry, const std::string& reason);
  ParseWork ParseWorkFor(const store::Entry& entry, const ActiveJob& job) const;
  // The final status of a Parsing entry from its outcome and (when parsed) its results.
  void FinishParsed(store::Entry& entry, const ParseDone* done);

  // Special tasks (job_lifecycle.cpp).
  struct LifecycleFields {  // store::Host fields this service writes
    uint64_t last_task_id = 0;
    int64_t last_verified_ms = 0;
    std::vector<int64_t> repairs_ms;
    bool repair_on_return = false;
    std::string last_known_good;        // self-update (job_update.cpp)
    std::string update_failed_version;
  };
  Status LoadTasks();
  void RequestTask(const std::string& routing_id, const protocol::Envelope& e,
                   const Principal& who);
  std::string History(const protocol::Envelope& e) const;
  void OnTaskReport(const HostState& host, const protocol::Envelope& e);
  // Queues a task on `hostname` (its open task; committed with the next Flush) for `entry`
  // when given. The caller made sure the host has no open task.
  store::SpecialTask& QueueTask(const std::string& hostname, protocol::TaskKind kind,
                                const std::string& reason, const std::string& by,
                                const store::Entry* entry = nullptr);
  // Starts the queued tasks whose host is free; called by Flush before scheduling.
  void StartTasks();
  bool CanStartTask(const std::string& hostname) const;
  void StartTask(store::SpecialTask& task);
  // Sends the task's RunTask (again, after a re-registration) to its host's agent.
  void SendTask(const store::SpecialTask& task);
  // Ends the host's open task and acts on the result (AfterTask).
  void EndTask(const std::string& hostname, bool passed, const std::string& reason,
               std::vector<protocol::TaskCheck> checks);
  void AfterTask(const store::SpecialTask& task, bool passed, const std::string& reason);
  // A host needs a Repair (verify or cleanup failed): queued and started, unless its protection
  // or its recent repairs forbid it, which leaves it Repair Failed.
  void NeedRepair(const std::string& hostname, const std::string& reason, uint64_t entry_id);
  // The host goes Repair Failed; the named-host entry `entry_id` that waited for it fails.
  void LeaveRepairFailed(const std::string& hostname, const std::string& reason,
                         uint64_t entry_id);
  // A run-verify entry given `hostname`: the entry and host go Verifying until the Verify ends.
  bool NeedsVerifyFirst(const ActiveJob& job, const HostState& host) const;
  void VerifyBeforeRun(store::Entry& entry, const std::string& hostname);
  // The entry's host was lost (Dead, or its agent came back without it): queued again when
  // the job's retry allows, else Failed ("host lost ...").
  void LoseEntry(store::Entry& entry, const std::string& reason);
  // After an entry's results were received: its Cleanup, when the job's policy asks.
  void MaybeCleanup(const store::Entry& entry, const std::string& outcome);
  void CheckPeriodicVerify();
  LifecycleFields& StageLifecycle(const std::string& hostname);

  // Agent self-update (job_update.cpp).
  // Reads the desired version and the targets of open Update tasks (from their reasons).
  Status LoadUpdates();
  // Queues and starts an Update task on each idle host whose agent should run another
  // version. Called at the start of a scheduling pass, so it comes before entries.
  void ScheduleUpdates();
  // The package `hostname` should run now; nullopt = leave it alone.
  std::optional<store::Package> UpdateTargetOf(const HostState& host) const;
  // The Update task's RunTask fields (version and package).
  void FillUpdate(const store::SpecialTask& task, protocol::RunTask& run) const;
  // An agent with a Running Update task registered again: the task ends (Completed when it
  // runs the target, Failed when it reports the rollback) or is sent again (it resumes).
  void OnUpdaterRegistered(const HostState& host, const protocol::TaskReport& update_report);
  // A Failed or Aborted Update: the host does not try that version again until it is desired
  // again. Forgets the task's target.
  void UpdateEnded(const store::SpecialTask& task, bool passed);
  // An entry completed on `hostname`: the version it ran is the host's last known good.
  void NoteEntryCompleted(const std::string& hostname);
  protocol::HostStatus StagedStatus(const std::string& hostname) const;
  protocol::Protection ProtectionOf(const std::string& hostname) const;

  // State changes (all staged for the next Flush).
  void Move(store::Entry& entry, protocol::EntryStatus to, const std::string& reason);
  // Ends an entry (final status), frees its host and updates its job.
  void Finish(store::Entry& entry, protocol::EntryStatus to, const std::string& reason,
              const std::string& fault);
  void AbortEntry(store::Entry& entry, const std::string& reason);
  void FreeHost(const std::string& hostname);
  void StageHostStatus(const std::string& hostname, protocol::HostStatus to,
                       const std::string& reason);
  void ToAgent(const std::string& hostname, std::string frame);
  void ToApi(const std::string& routing_id, std::string frame, bool after_commit);
  Status Commit();
  void Prune();

  const CoordinatorConfig& config_;
  const Clock* clock_;
  store::Store* store_;
  HostRegistry* registry_;
  TestCatalog* catalog_;
  ResultsRepository* results_;
  FrameOutbox to_agent_;
  FrameOutbox to_api_;
  protocol::DecodeLimits limits_;

  uint64_t last_job_id_ = 0;
  uint64_t last_entry_id_ = 0;
  std::map<uint64_t, ActiveJob> jobs_;
  std::unordered_map<uint64_t, store::Entry> entries_;  // entries of active jobs
  std::set<QueueKey> queue_;                            // Queued entries
  std::unordered_map<std::string, uint64_t> busy_;      // host -> its started entry
  std::set<std::string> idle_;                          // hosts that asked for work
  std::set<std::string> idle_after_entry_;  // asked while their entry's results are checked
  std::map<GroupKey, GroupState> groups_;   // synchronous groups of active jobs
  std::function<void(ParseWork)> parse_;
  std::vector<ParseWork> to_parse_;  // handed to parse_ after the next commit
  SyncService sync_;
  bool schedule_needed_ = true;
  std::vector<uint64_t> finished_jobs_;  // jobs whose last entry became final: pruned after commit

  // Staged for the next Flush().
  std::set<uint64_t> dirty_jobs_;
  std::set<uint64_t> dirty_entries_;
  std::map<std::string, HostChange> host_changes_;
  struct Outgoing {
    bool to_agent;
    std::string target;  // hostname (agent) or routing id (API)
    std::string frame;
    uint64_t request_id;  // API: for the error reply when the commit fails
  };
  std::vector<Outgoing> outgoing_;

  // Special tasks.
  uint64_t last_task_id_ = 0;
  std::map<std::string, store::SpecialTask> tasks_;  // host -> its open task
  std::set<std::string> dirty_tasks_;                // hosts whose open task changed
  std::vector<store::SpecialTask> ended_tasks_;      // ended since the last commit
  std::map<std::string, LifecycleFields> lifecycle_changes_;
  // Self-update: the desired version and its package (nullopt when none), whether it changed
  // since the last commit, and the target of each open Update task (host -> package).
  store::DesiredVersion desired_;
  std::optional<store::Package> desired_package_;
  bool desired_dirty_ = false;
  std::map<std::string, store::Package> update_targets_;
  int64_t started_wall_ms_ = 0;        // periodic verifies count from here at the earliest
  int64_t next_periodic_check_ms_ = 0;  // steady
};

}  // namespace labmesh::coordinator
