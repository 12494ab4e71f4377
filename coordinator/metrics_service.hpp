#pragma once
// MetricsService: answers MetricsRequest (the web server's GET /metrics, docs/monitoring.md)
// with the Prometheus text format: the counters and histograms of Metrics, counted where things
// happen, and gauges read from the loop's own state at scrape time - hosts by status, agents
// connected and their versions, the queue by label and priority, heartbeat lag, the stores'
// map use, the data directory's free space. Reading them costs one walk over the hosts and the
// active entries per scrape and nothing between scrapes.
//
// Who may scrape is AuthService's decision (scrape_rules.hpp), taken before Handle. Owned and
// called only by the event-loop thread (it reads the registry's and the jobs' maps).

#include <cstdint>
#include <map>
#include <string>

#include "labmesh/common/clock.hpp"
#include "labmesh/common/status.hpp"
#include "labmesh/coordinator/config.hpp"
#include "labmesh/protocol/envelope.hpp"

namespace labmesh::store {
class Store;
class ResultsIndex;
}  // namespace labmesh::store

namespace labmesh::coordinator {

class DiskGuard;
class HostRegistry;
class JobService;
class Metrics;
struct RetentionStats;
class MeshTracker;

class MetricsService {
 public:
  // What the gauges are read from; none owned. `index`, `disk` and `retention` may be null (not
  // reported).
  struct Sources {
    const Metrics* metrics = nullptr;
    const HostRegistry* registry = nullptr;
    const JobService* jobs = nullptr;
    const store::Store* store = nullptr;
    const store::ResultsIndex* index = nullptr;
    const DiskGuard* disk = nullptr;
    const RetentionStats* retention = nullptr;  // the sweeper's, read on the loop like the rest
    const MeshTracker* mesh = nullptr;          // the package mesh's routing (docs/mesh.md)
  };

  MetricsService(const CoordinatorConfig& config, const Clock* clock, Sources sources);

  // The reply frame (MetricsReply) to an admitted MetricsRequest.
  std::string Handle(const protocol::Envelope& e) const;
  // The whole exposition: Metrics' families, then the gauges read now.
  std::string Text() const;

  // Logs a refused scrape from `from` (where the API request came from): the first one, then
  // at most one line per client a minute saying how many were refused meanwhile. A scraper with
  // a wrong token retries every scrape interval, forever.
  void NoteRefused(const std::string& from, const Status& why);
  static constexpr int64_t kRefusalLogEveryMs = 60'000;

 private:
  struct Refusals {
    int64_t next_log_ms = 0;  // steady clock; before it, refusals are only counted
    uint64_t unlogged = 0;
  };

  const CoordinatorConfig& config_;
  const Clock* clock_;
  Sources sources_;
  int64_t start_wall_ms_;
  std::map<std::string, Refusals> refusals_;  // by client; cleared past kMaxRefusingClients
  static constexpr size_t kMaxRefusingClients = 1024;
};

}  // namespace labmesh::coordinator
