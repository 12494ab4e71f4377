#pragma once
// HealthService: host health scores and quarantine (docs/quarantine.md).
//
// Every --health-interval the loop hands the worker thread the hosts (names, labels, statuses,
// the start of each one's counted history); the worker reads their entries and tasks from the
// store and their results from the results index (read transactions: nothing waits on the
// loop, and the loop never waits on it) and scores them with health_rules.hpp. The loop picks
// the scores up on a later turn (Step) and acts by --quarantine: marks suspects, or quarantines
// them (host record fields staged through the HostRegistry, a Repair queued, an audit record),
// all committed with the turn. A quarantined host gets only its probe jobs (made from
// --quarantine-probe-template, one at a time); --quarantine-probes of them passed in a row
// release it, a failed one leaves it for an admin.
//
// Threads: everything but the worker's computation is for the event-loop thread.

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "health_rules.hpp"
#include "labmesh/common/clock.hpp"
#include "labmesh/coordinator/config.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "principal.hpp"

namespace labmesh::store {
class ResultsIndex;
class Store;
}

namespace labmesh::coordinator {

class AuditLog;
class Core;
class HostRegistry;

class HealthService {
 public:
  HealthService(const CoordinatorConfig& config, const Clock* clock, store::Store* store,
                store::ResultsIndex* index, HostRegistry* registry, Core* core, AuditLog* audit);
  ~HealthService();
  HealthService(const HealthService&) = delete;
  HealthService& operator=(const HealthService&) = delete;

  // Checks the flags and starts the worker; the first computation is asked for at once.
  Status Start();
  // Each loop turn: publishes and acts on finished scores, asks for the next ones when due,
  // starts probe jobs. Its changes commit with the turn.
  void Step();
  // While scores are being computed the loop's 100 ms poll picks them up.
  int64_t NextDeadlineMs() const {
    return in_flight_ ? next_probe_check_ms_ : std::min(next_compute_ms_, next_probe_check_ms_);
  }

  // Computes the scores on the calling (loop) thread and acts on them at once: for tests and the
  // benchmark, which need no worker.
  void ComputeNow();

  // HostFlakyRequest (from the latest scores) and HostQuarantineRequest (staged; the reply
  // leaves after the turn's commit).
  std::string HandleFlaky(const protocol::Envelope& e) const;
  std::string HandleQuarantine(const protocol::Envelope& e, const Principal& who);
  // A job ended (JobService's hook): a probe job counts for or against its host.
  void OnJobEnd(const store::Job& job, const std::vector<store::Entry>& entries);

  // The latest published scores (never null).
  std::shared_ptr<const HealthView> view() const { return view_; }

  // One computation from the caller's thread (tests and the benchmark): what the worker does.
  struct HostInput {
    std::string hostname;
    std::vector<std::string> labels;
    std::string status;
    std::string quarantine_reason;
    int64_t quarantined_ms = 0;
    int64_t since_ms = 0;  // health_since_ms
  };
  struct Computed {
    int64_t requested_ms = 0;
    HealthScores scores;
    uint64_t compute_ms = 0;
    Status status;
  };
  static Computed Compute(const CoordinatorConfig& config, const store::Store& store,
                          const store::ResultsIndex& index, std::vector<HostInput> hosts,
                          int64_t now_ms);

 private:
  void Run();
  std::vector<HostInput> Inputs() const;
  void Request(int64_t now_ms);
  void Apply(Computed computed);
  void Quarantine(const std::string& hostname, const std::string& reason, const std::string& by);
  void Release(const std::string& hostname, const std::string& why);
  void StartProbes();

  const CoordinatorConfig& config_;
  const Clock* clock_;
  store::Store* store_;
  store::ResultsIndex* index_;
  HostRegistry* registry_;
  Core* core_;
  AuditLog* audit_;

  std::shared_ptr<const HealthView> view_;
  std::optional<Computed> latest_;  // the scores HandleFlaky answers from
  int64_t next_compute_ms_ = 0;     // steady clock
  int64_t next_probe_check_ms_ = 0;
  bool in_flight_ = false;
  std::set<std::string> quarantined_;  // hosts whose probes may need starting

  std::mutex mu_;
  std::condition_variable wake_;
  std::optional<std::pair<int64_t, std::vector<HostInput>>> request_;
  std::optional<Computed> done_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace labmesh::coordinator
