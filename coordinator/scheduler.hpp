#pragma once
// Scheduler: which queued entry runs on which idle host. It owns the queue (priority, then
// job, then entry), the idle and busy hosts, the holds of synchronous groups and the
// SyncService of started groups; it asks the JobService to move entries, the HostRegistry to
// move hosts, and the HostTasks whether a host has a task first.
//
// Synchronous jobs (synch_count K > 1) run on groups of K entries (docs/sync.md): a free host
// is held for an entry (entry and host Pending) until its whole group holds its hosts, then the
// group starts in one fan-out. Groups that already hold hosts are served before anything else;
// a group that cannot gather its hosts within sync_hold_ms gives them back and waits half as
// long before it tries again, so overlapping groups cannot hold each other's hosts forever.
//
// A peer of the coordinator core (core.hpp); owned and called only by the event-loop thread.
// Starts go out through the loop turn's Batch, after its commit.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "batch.hpp"
#include "host_registry.hpp"
#include "job_service.hpp"
#include "sync_service.hpp"

namespace labmesh::coordinator {

class HostTasks;
class UpdateScheduler;

class Scheduler {
 public:
  using ActiveJob = JobService::ActiveJob;

  Scheduler(const CoordinatorConfig& config, const Clock* clock, HostRegistry* registry,
            Batch* batch, FrameOutbox to_agent);
  void Wire(JobService* jobs, HostTasks* tasks, UpdateScheduler* updates);

  // Rebuilds the queue, the busy hosts and the started groups from the JobService's active
  // entries (after its Load); Pending holds do not survive a restart.
  void Load();

  // One scheduling pass, when something happened that may let an entry start.
  void ScheduleIfNeeded();
  void RequestSchedule() { schedule_needed_ = true; }
  bool schedule_needed() const { return schedule_needed_; }

  // Agent messages.
  void OnWorkRequest(const HostState& host);
  void OnSync(const HostState& host, const protocol::Envelope& e);

  // Host events: forget the host's idleness (it asks again after its Welcome / when back).
  void ForgetIdle(const std::string& hostname);
  void ForgetHost(const std::string& hostname);

  // ---- for the peers ----
  bool IsBusy(const std::string& hostname) const { return busy_.count(hostname) > 0; }
  // The entry started (or held, or verified) on `hostname`, or 0.
  uint64_t BusyWith(const std::string& hostname) const;
  void SetBusy(const std::string& hostname, uint64_t entry_id);
  void ClearBusy(const std::string& hostname, uint64_t entry_id);
  const std::set<std::string>& idle() const { return idle_; }
  void QueueEntry(const store::Entry& entry);
  void Dequeue(const store::Entry& entry);
  // Back to Queued with `reason`: a label entry lets go of its host, a named one keeps it.
  void Requeue(store::Entry& entry, const std::string& reason);
  // A client-side entry's start on its host (after a pass gave it the host, or its Verify).
  void StartOn(store::Entry& entry, ActiveJob& job, const std::string& hostname);
  // Synchronous jobs: holds `hostname` for the entry; starts the group when it is complete.
  void Hold(store::Entry& entry, ActiveJob& job, const std::string& hostname);
  // The agent never got the start: it is sent again.
  void SendStart(const store::Entry& entry, const ActiveJob& job);
  // The host's entry ended (or let go of it): the host is free again.
  void FreeHost(const std::string& hostname);
  // The entry's host asked for work while the entry's results are checked: idle after it.
  void IdleAfterEntry(const std::string& hostname) { idle_after_entry_.insert(hostname); }
  // Group bookkeeping after an entry moved from `from` / became final.
  void OnEntryMoved(store::Entry& entry, protocol::EntryStatus from, const std::string& reason);
  void OnEntryFinished(store::Entry& entry, const std::string& reason, const std::string& fault);
  // A held entry gives its host back (Ready, idle again when connected) and is queued again.
  void Unhold(store::Entry& entry, const std::string& reason);
  // LABMESH_HOSTS of an entry: its group's hosts (synchronous) or the job's hosts so far.
  std::vector<std::string> HostsFor(const store::Entry& entry, const ActiveJob& job) const;
  static GroupKey KeyOf(const store::Entry& entry) { return {entry.job_id, entry.group}; }
  // The turn's batch was committed (or reloaded after a failure): forget which hosts it gave
  // an entry (Load keeps those idle after a failed commit).
  void EndTurn() { started_this_turn_.clear(); }

  // Sync timeouts, group holds that expired, groups whose pause ended. Call when the steady
  // clock reaches NextDeadlineMs() (calling it earlier does no harm).
  void OnTimer();
  int64_t NextDeadlineMs() const;

  size_t queued_entries() const { return queue_.size(); }
  const SyncService& sync() const { return sync_; }

  // ---- for readers (scheduler_explain.cpp; docs/jobs.md "Why is my job waiting?") ----
  // What keeps a host from taking an entry now, as the scheduler sees it.
  struct HostCondition {
    enum class Kind { kFree, kBusy, kLocked, kReserved, kTask, kDown, kNotAsking };
    Kind kind = Kind::kFree;
    // kLocked: "alice: bisecting"; kReserved: "bob until 2026-12-06 17:30:00 UTC (bisect)";
    // kTask: "verifying"; kDown: "Dead"
    std::string detail;
    uint64_t job_id = 0;  // kBusy: the job of the entry it runs or is held for; 0 = unknown
  };
  // `user` is whose entry would run there: a host reserved for someone else is kReserved.
  HostCondition ConditionOf(const std::string& hostname, const std::string& user) const;
  // Sets a Queued entry's waiting_for, queue_position and queue_length: what holds the hosts it
  // could run on and its place among the queued entries that want the same hosts.
  void ExplainWaiting(const store::Entry& entry, protocol::EntryInfo& info) const;
  // What the hosts with the request's labels that `groups` may use are doing now (host avail).
  protocol::HostAvailReply Availability(const protocol::HostAvailRequest& request,
                                        const std::string& user,
                                        const std::vector<std::string>& groups) const;
  // Reservations end by time: when one has ended since the last call, a pass is needed (an
  // entry may wait for that host). Called by the loop's timer (Core::CheckTimeouts).
  void CheckReservations();

 private:
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
  // What a StartEntry tells about the other hosts: LABMESH_HOSTS and LABMESH_PEERS.
  struct Roster {
    std::vector<std::string> hosts;
    std::map<std::string, std::string> peers;
  };

  void Schedule();
  bool Eligible(const HostState& host, const ActiveJob& job, const store::Entry& entry) const;
  // The first eligible idle host for a queued entry, or nullptr.
  const HostState* ChooseHost(const store::Entry& entry, const ActiveJob& job) const;
  bool JobUsesHost(const ActiveJob& job, const std::string& hostname) const;
  void StartGroup(const GroupKey& key, ActiveJob& job);
  void ReleaseExpiredHolds();
  std::vector<store::Entry*> GroupEntries(const ActiveJob& job, uint32_t group);
  Roster RosterFor(const store::Entry& entry, const ActiveJob& job) const;
  // `roster` is RosterFor(entry, job) when the caller has it: the members of a group share one,
  // so a group of K hosts costs K rosters' worth of encoding, not K^2 lookups and sorts. It is
  // lent to the message while it is encoded and left as it was.
  void SendStart(const store::Entry& entry, const ActiveJob& job, Roster* roster);
  QueueKey KeyInQueue(const store::Entry& entry) const;
  void SetHost(const std::string& hostname, protocol::HostStatus to, const std::string& reason);

  const CoordinatorConfig& config_;
  const Clock* clock_;
  HostRegistry* registry_;
  Batch* batch_;
  FrameOutbox to_agent_;
  JobService* jobs_ = nullptr;
  HostTasks* tasks_ = nullptr;
  UpdateScheduler* updates_ = nullptr;

  std::set<QueueKey> queue_;                        // Queued entries
  std::unordered_map<std::string, uint64_t> busy_;  // host -> its started entry
  std::set<std::string> idle_;                      // hosts that asked for work
  std::set<std::string> idle_after_entry_;  // asked while their entry's results are checked
  std::map<GroupKey, GroupState> groups_;   // synchronous groups of active jobs
  std::set<std::string> started_this_turn_;
  SyncService sync_;
  bool schedule_needed_ = true;
  int64_t reservations_checked_ms_ = 0;  // wall clock of the last CheckReservations
};

}  // namespace labmesh::coordinator
