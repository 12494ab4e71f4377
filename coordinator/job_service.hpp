#pragma once
// JobService: jobs and their host queue entries - creation, abort, the readers (list, show,
// log), the agent's entry reports and result chunks, timeouts, and the entries' status moves.
// docs/jobs.md describes the flow, docs/architecture.md who owns what.
//
// One of the coordinator core's four peers (core.hpp): the Scheduler gives entries hosts, the
// HostTasks run verify/repair/cleanup, the UpdateScheduler updates agents; this service owns
// the entries themselves and is the only one that changes their status (Move, through the
// transition table in entry_status.hpp). Owned and called only by the event-loop thread.
//
// Work is batched: handlers change the active jobs and entries in memory and mark them dirty;
// Stage() puts the dirty ones into the loop turn's Batch, which commits them with everything
// else of the turn and only then sends what they announced. A failed commit makes the core
// reload every peer from the store.
//
// Only active jobs (with an entry that is not final) are kept in memory; readers (list, show,
// log) read the store.

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "batch.hpp"
#include "host_registry.hpp"
#include "labmesh/common/clock.hpp"
#include "labmesh/coordinator/config.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "labmesh/store/store.hpp"
#include "principal.hpp"
#include "results_intake.hpp"
#include "results_repository.hpp"
#include "test_catalog.hpp"

namespace labmesh::coordinator {

class DiskGuard;
class Metrics;
class Scheduler;
class HostTasks;
class UpdateScheduler;

// Sends one frame to a peer of a ROUTER socket at once (dropped when the peer is gone).
using FrameOutbox = std::function<void(const std::string& routing_id, std::string frame)>;

class JobService {
 public:
  struct ActiveJob {
    store::Job job;
    std::vector<std::string> owner_groups;
    size_t open_entries = 0;  // entries not final
  };

  JobService(const CoordinatorConfig& config, const Clock* clock, store::Store* store,
             HostRegistry* registry, TestCatalog* catalog, ResultsRepository* results,
             Batch* batch, FrameOutbox to_agent, FrameOutbox to_api);
  void Wire(Scheduler* scheduler, HostTasks* tasks, UpdateScheduler* updates);

  // Loads the active jobs and entries and the id counters from the store.
  Status Load();

  // API requests (the route table's handlers). Reads answer at once through to_api; changes
  // answer through the batch, after the commit.
  void Create(const std::string& routing_id, const protocol::Envelope& e, const Principal& who);
  // Creates the job `request` describes for `request.user` (checked as Create checks it, the
  // owner's ACL groups included), its rows staged into the turn's batch; `schedule` names the
  // schedule that made it ("" = none), `probe_for` the quarantined host it probes ("" = an
  // ordinary job; docs/quarantine.md). Returns its id, or why it was refused (nothing changed).
  Result<uint64_t> CreateJob(protocol::JobCreateRequest request, const std::string& schedule,
                             const std::string& probe_for = "");
  void Abort(const std::string& routing_id, const protocol::Envelope& e, const Principal& who);
  std::string Show(const protocol::Envelope& e) const;
  std::string Log(const protocol::Envelope& e) const;
  // host avail: what the hosts with a label that `who` may use are doing (the Scheduler's view).
  std::string Avail(const protocol::Envelope& e, const Principal& who) const;
  // `labmesh results import` (job_import.cpp, docs/kernel-lab.md): a hand run's directory as a
  // finished job of `who`. Begin creates the job (its entry Gathering), chunks are answered at
  // once, done checks the files and parses them (answered after the commit).
  void ImportBegin(const std::string& routing_id, const protocol::Envelope& e, const Principal& who);
  std::string ImportChunk(const protocol::Envelope& e, const Principal& who);
  void ImportDone(const std::string& routing_id, const protocol::Envelope& e, const Principal& who);

  // Agent messages of a registered host.
  void OnReport(const HostState& host, const protocol::Envelope& e);
  void OnChunk(const HostState& host, const protocol::Envelope& e);

  // The agent of `hostname` registered again holding `held`: re-attach, requeue or fail the
  // entries the coordinator expected on it.
  void OnAgentRegistered(const std::string& hostname, const std::vector<protocol::HeldEntry>& held);
  // The host went Dead: its started entries are lost (retried or failed).
  void OnHostDead(const std::string& hostname);
  // The host was deleted: every entry on it that is not final fails.
  void OnHostDeleted(const std::string& hostname);

  // Entries whose files are all received go to `parse` (after the commit that made them
  // Parsing); OnParsed() finishes them. Without a parser they finish at once.
  void set_parser(std::function<void(ParseWork)> parse) { parse_ = std::move(parse); }
  // While it says the disk is full, result chunks are refused (the agent sends them again later).
  void set_disk_guard(DiskGuard* disk) { disk_ = disk; }
  // Entries started and finished, upload bytes and parses are counted there (nullptr: not).
  void set_metrics(Metrics* metrics) { metrics_ = metrics; }
  // Called when the turn a job's last entry became final is staged, with the job and its
  // entries as that turn commits them: the notifications outbox stages its rows into the
  // same batch.
  using JobEndHook = std::function<void(const store::Job&, const std::vector<store::Entry>&)>;
  void set_on_job_end(JobEndHook hook) { on_job_end_ = std::move(hook); }
  // Called when --reserve-on-failure reserved `host` (as staged) to the job's owner because
  // `entry` failed there, in that turn: the notifications outbox stages its host.reserved rows
  // into the same batch, numbered from `first_index`, and returns how many it staged.
  using HostReservedHook = std::function<uint32_t(const store::Job&, const store::Entry&,
                                                  const store::Host&, uint32_t first_index)>;
  void set_on_host_reserved(HostReservedHook hook) { on_host_reserved_ = std::move(hook); }
  void OnParsed(const ParseDone& done);

  // Job timeouts, and entries Rebooting past their reboot's deadline (failed as infrastructure).
  // Called by the loop's timer.
  void CheckTimeouts();
  // True while the entry holding `hostname` is Rebooting: the host's silence is expected and
  // does not make it Dead (until the reboot's deadline fails the entry).
  bool Rebooting(const std::string& hostname) const;

  // ---- for the peers ----
  ActiveJob* FindJob(uint64_t id);
  ActiveJob& job(uint64_t id) { return jobs_.at(id); }
  const std::map<uint64_t, ActiveJob>& jobs() const { return jobs_; }
  // An entry of an active job (nullptr when its job is not active or there is no such entry).
  store::Entry* FindEntry(uint64_t id);
  const store::Entry* FindEntry(uint64_t id) const;
  std::unordered_map<uint64_t, store::Entry>& entries() { return entries_; }
  const std::unordered_map<uint64_t, store::Entry>& entries() const { return entries_; }
  // Why `host` may never run an entry of this job for this owner ("" = it may).
  std::string Unsuitable(const store::Host& host, const std::vector<std::string>& groups,
                         const std::string& meta_label,
                         const std::vector<std::string>& depends) const;
  // The entry's status moves (checked against the table, logged, staged).
  void Move(store::Entry& entry, protocol::EntryStatus to, const std::string& reason);
  // Ends an entry (final status), frees its host and updates its job.
  void Finish(store::Entry& entry, protocol::EntryStatus to, const std::string& reason,
              const std::string& fault);
  void AbortEntry(store::Entry& entry, const std::string& reason);
  // The entry's host was lost (Dead, or its agent came back without it): queued again when the
  // job's retry allows, else Failed ("host lost ...").
  void LoseEntry(store::Entry& entry, const std::string& reason);
  // A field of the entry changed outside Move: it is written with the batch.
  void MarkDirty(const store::Entry& entry) { dirty_entries_.insert(entry.id); }

  // --after (job_after.cpp): why a waiting job waits, for `job show` ("waiting for job 12
  // (Running) to end (--after)").
  std::string WaitingForText(const ActiveJob& job) const;

  // Puts the dirty jobs and entries into the batch's writes.
  void Stage(store::WriteBatch& writes);
  // After the commit: hands finished entries to the parser and forgets finished jobs.
  void AfterCommit();
  bool HasStaged() const { return !dirty_jobs_.empty() || !dirty_entries_.empty() || !to_parse_.empty(); }

  size_t active_jobs() const { return jobs_.size(); }

 private:
  struct StoredJob {
    store::Job job;
    std::vector<store::Entry> entries;
  };
  // A job and its entries as committed; NotFound when there is no such job.
  Result<StoredJob> ReadJob(uint64_t id) const;
  Result<std::vector<std::string>> GroupsOf(const std::string& user) const;
  ParseWork ParseWorkFor(const store::Entry& entry, const ActiveJob& job) const;
  // --reserve-on-failure: the failed entry's host is reserved to the job's owner (staged
  // through the registry, in this turn's batch with the entry's final state).
  void ReserveOnFailure(const store::Entry& entry, ActiveJob& job);
  // The final status of a Parsing entry from its outcome and (when parsed) its results.
  void FinishParsed(store::Entry& entry, const ParseDone* done);

  // --after (job_after.cpp). Every id of r.after names a job that exists (ids are only ever
  // those of jobs made before, so no cycle can form); NotFound otherwise.
  Status CheckAfter(const protocol::JobCreateRequest& r) const;
  // "" while job `id` is not final, else its status ("Completed", "Failed", "Aborted").
  std::string FinalStatus(uint64_t id) const;
  // A new or loaded waiting job: registered with the jobs it waits for, or decided at once
  // when they are all final.
  void WaitFor(ActiveJob& job);
  // Once every job it waits for is final: its entries are queued, or (one did not complete,
  // without after_any) aborted with the reason.
  void DecideWaiting(ActiveJob& job);
  // Job `ended` became final: decide the jobs waiting for it.
  void OnAfterEnded(uint64_t ended);

  const CoordinatorConfig& config_;
  const Clock* clock_;
  store::Store* store_;
  HostRegistry* registry_;
  TestCatalog* catalog_;
  ResultsRepository* results_;
  DiskGuard* disk_ = nullptr;
  Metrics* metrics_ = nullptr;
  JobEndHook on_job_end_;
  HostReservedHook on_host_reserved_;
  Batch* batch_;
  FrameOutbox to_agent_;
  FrameOutbox to_api_;
  Scheduler* scheduler_ = nullptr;
  HostTasks* tasks_ = nullptr;
  UpdateScheduler* updates_ = nullptr;

  uint64_t last_job_id_ = 0;
  uint64_t last_entry_id_ = 0;
  std::map<uint64_t, ActiveJob> jobs_;
  std::unordered_map<uint64_t, store::Entry> entries_;  // entries of active jobs
  std::function<void(ParseWork)> parse_;
  std::vector<ParseWork> to_parse_;       // handed to parse_ after the next commit
  std::vector<uint64_t> finished_jobs_;   // jobs whose last entry became final: pruned after commit
  std::set<uint64_t> dirty_jobs_;
  std::set<uint64_t> end_hooked_;  // finished jobs whose end hook ran this turn
  std::map<uint64_t, std::vector<uint64_t>> waiters_;  // job -> waiting jobs (--after)
  std::set<uint64_t> dirty_entries_;
  // Imports under way: entry id -> the files its request listed (lost with a restart, which
  // fails the import: Load).
  std::map<uint64_t, std::vector<protocol::FileDigest>> imports_;
};

}  // namespace labmesh::coordinator
