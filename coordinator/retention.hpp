#pragma once
// RetentionSweeper: the retention policies at work (docs/retention.md) and the two API requests
// that go with them, `job delete` (JobDeleteRequest) and `results usage` (ResultsUsageRequest).
//
// A sweep starts every --retention-sweep-interval (the first soon after a start) when any
// policy is set. It pages through the jobs table, asks retention_rules.hpp what expired, adds
// the byte cap's oldest jobs, and then works through that list a few jobs per loop turn: a job
// whose results go is staged `removing` into the turn's batch, handed after the commit to the
// RetentionWorker (index rows, then files, off the loop) and staged `removed` - or deleted with
// its entries, for --job-retention - when the worker is done. Old audit records go last, a page
// per turn. Each turn spends at most --retention-turn-budget on all of this (measured), so the
// loop's other work never waits long; one summary line per sweep goes to the log and the
// counters to stats().
//
// Its writes do not make the turn's commit durable (no fsync of their own: under a sweep's
// file removals one costs up to hundreds of ms, all of it the loop's): the worker syncs the
// store before it removes anything, so a `removing` mark is on disk before its files go, and
// everything later is redone by the next sweep when a machine crash loses it.
//
// It never touches a job that is not finished, nor one the `busy` callback names (active in the
// JobService, being reparsed). Finished jobs' retention fields are written only here (the
// JobService lets go of a job when it finished).
//
// Owned and called only by the event-loop thread, except Snapshot() (any thread).

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "batch.hpp"
#include "labmesh/common/clock.hpp"
#include "labmesh/coordinator/config.hpp"
#include "labmesh/coordinator/retention_stats.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "labmesh/store/store.hpp"
#include "principal.hpp"
#include "retention_rules.hpp"
#include "retention_worker.hpp"

namespace labmesh::coordinator {

class DiskGuard;

class RetentionSweeper {
 public:
  using Outbox = std::function<void(const std::string& routing_id, std::string frame)>;
  static constexpr size_t kJobsPerPage = 64;
  static constexpr size_t kAuditPerPage = 256;
  static constexpr size_t kMaxActionsPerTurn = 32;
  static constexpr int64_t kFirstSweepAfterMs = 5'000;

  RetentionSweeper(const CoordinatorConfig& config, const Clock* clock, store::Store* store,
                   Batch* batch, RetentionWorker* worker, Outbox to_api);

  // Jobs to leave alone for now (not finished, being reparsed).
  void set_busy(std::function<bool(uint64_t job_id)> busy) { busy_ = std::move(busy); }
  // Told when results were removed, so that it looks at the free space again at once.
  void set_disk_guard(DiskGuard* disk) { disk_ = disk; }

  // One loop turn's share (before the turn's commit): takes the worker's finished removals,
  // then sweeps until the turn's budget is spent.
  void Step();
  // When Step() next has something to do (steady ms).
  int64_t NextDeadlineMs() const;

  // JobDeleteRequest and ResultsUsageRequest (the route table's kRetention rows).
  void HandleApi(const std::string& routing_id, const protocol::Envelope& e, const Principal& who);

  const RetentionStats& stats() const { return stats_; }
  // A copy of stats(), for any thread.
  RetentionStats Snapshot() const;
  bool sweeping() const { return phase_ != Phase::kIdle; }

 private:
  enum class Phase { kIdle, kScan, kApply, kAudit };
  enum class Action { kRemoveResults, kDeleteRecord };
  struct Todo {
    uint64_t job_id = 0;
    Action action = Action::kRemoveResults;
    std::string reason;
  };
  struct Waiter {
    std::string routing_id;
    uint64_t request_id = 0;
  };

  void StartSweep();
  void ScanPage();
  void ApplyOne();
  void AuditPage();
  void EndSweep();
  // One of the worker's finished removals: staged `removed` (or deleted), the waiters answered.
  void TakeDone(const RemoveDone& done);
  // Stages the job `removing` with `reason`; after the commit the worker gets it.
  void StageRemoval(store::Job job, const std::string& reason);
  void Submit(const store::Job& job);
  void FinishRemoval(const RemoveDone& done);
  void Delete(const std::string& routing_id, const protocol::Envelope& e, const Principal& who);
  std::string Usage(const protocol::Envelope& e) const;
  void Answer(uint64_t job_id, const Status& status, const protocol::JobDeleteReply* reply);
  bool Busy(uint64_t job_id) const { return busy_ && busy_(job_id); }
  void Publish();

  const CoordinatorConfig& config_;
  const Clock* clock_;
  store::Store* store_;
  Batch* batch_;
  RetentionWorker* worker_;
  Outbox to_api_;
  DiskGuard* disk_ = nullptr;
  std::function<bool(uint64_t)> busy_;
  RetentionPolicy policy_;

  Phase phase_ = Phase::kIdle;
  int64_t next_sweep_ms_ = 0;
  int64_t sweep_started_ms_ = 0;
  int64_t sweep_now_us_ = 0;  // wall time the sweep judges ages by
  uint64_t scan_after_ = 0;   // the last job id scanned
  uint64_t present_bytes_ = 0;
  std::vector<SizedJob> cap_candidates_;
  std::deque<Todo> todo_;
  std::set<uint64_t> staged_;       // marked `removing` in this turn's batch
  std::set<uint64_t> in_flight_;    // with the worker (until its Done is taken)
  std::deque<RemoveDone> done_;     // the worker's, not taken yet
  std::set<uint64_t> drop_record_;  // their record goes once their results are gone
  std::map<uint64_t, std::vector<Waiter>> waiters_;  // `job delete`s waiting for the worker
  bool turn_done_ = false;  // this turn staged what the next step would read again
  RetentionStats tally_;    // this sweep's share, for its log line
  RetentionStats stats_;
  mutable std::mutex snapshot_mu_;
  RetentionStats snapshot_;
};

}  // namespace labmesh::coordinator
