#pragma once
// ResultsService: the results index on the API socket (list, summary, series, reparse) and the
// hand-over of finished parses from the ResultsIntake worker: an entry's first parse goes to
// the JobService (which decides Completed or Failed), a reparse counts towards its reply.
// docs/results.md tells the flow.
//
// Owned and called only by the event-loop thread. Queries (list, summary, series) are answered
// off the loop: Query gives the work a reader thread of the QueryPool runs, reading the index in
// its own read transaction with a snapshot of the flaky tests taken on the loop.

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "host_registry.hpp"
#include "job_service.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "labmesh/store/results_index.hpp"
#include "labmesh/store/store.hpp"
#include "principal.hpp"
#include "query_pool.hpp"
#include "results_intake.hpp"

namespace labmesh::coordinator {

class ResultsService {
 public:
  ResultsService(const CoordinatorConfig& config, const Clock* clock, store::Store* store,
                 store::ResultsIndex* index, ResultsIntake* intake, HostRegistry* registry,
                 FrameOutbox to_api, std::function<void(const ParseDone&)> on_first_parse);

  // The reparse requests: for the job's owner and admins (`who`, admitted by AuthService). The
  // queries go through Query instead.
  void HandleApi(const std::string& routing_id, const protocol::Envelope& envelope,
                 const Principal& who);
  // The read-only requests (list, summary, series): true for them.
  static bool IsQuery(protocol::MessageType type);
  // The work that answers one of them, for any thread (QueryPool): it holds a copy of `envelope`
  // and of the flaky tests as they are now.
  QueryPool::Work Query(const protocol::Envelope& envelope) const;

  // The intake's fd() is readable: hands every finished parse on.
  void OnIntakeReady();

  // A reparse of the job is under way (retention leaves such a job alone until it is done).
  bool Reparsing(uint64_t job_id) const;

 private:
  std::string List(const protocol::Envelope& e, const HealthView* health) const;
  std::string Summary(const protocol::Envelope& e, const HealthView* health) const;
  std::string Series(const protocol::Envelope& e) const;
  void Reparse(const std::string& routing_id, const protocol::Envelope& e, const Principal& who);

  struct PendingReparse {
    std::string routing_id;
    uint64_t request_id = 0;
    uint32_t left = 0;
    protocol::ResultsReparseReply reply;
  };

  const CoordinatorConfig& config_;
  const Clock* clock_;
  store::Store* store_;
  store::ResultsIndex* index_;
  ResultsIntake* intake_;
  HostRegistry* registry_;
  FrameOutbox to_api_;
  std::function<void(const ParseDone&)> on_first_parse_;
  protocol::DecodeLimits limits_;
  std::map<uint64_t, PendingReparse> reparses_;
  uint64_t last_reparse_ = 0;
};

}  // namespace labmesh::coordinator
