#include "metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <iterator>
#include <string>

namespace labmesh::coordinator {
namespace {

using prometheus::Histogram;

// Waiting for a host: from a second to a day.
const Histogram::BucketBoundaries kWaitBuckets = {0.1, 0.5, 1, 5, 15, 30, 60, 300, 900,
                                                  1800, 3600, 4 * 3600, 24 * 3600};
// Between two heartbeats of one agent (5 s by default): late ones stand out.
const Histogram::BucketBoundaries kGapBuckets = {0.5, 1, 2, 3, 5, 6, 8, 10, 15, 20, 30, 60, 120};
// Work on the loop: 50 us to 2.5 s (a turn past a second stalls every agent's heartbeat).
const Histogram::BucketBoundaries kLoopBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                  0.0025,  0.005,  0.01,    0.025,  0.05,
                                                  0.1,     0.25,   0.5,     1,      2.5};

// The final statuses an entry can end in, each a time series from the start (a counter that
// appears only at its first increment hides the first one from rate()).
constexpr protocol::EntryStatus kFinal[] = {
    protocol::EntryStatus::kCompleted, protocol::EntryStatus::kFailed,
    protocol::EntryStatus::kAborted, protocol::EntryStatus::kStopped};

}  // namespace

struct Metrics::Impl {
  prometheus::Registry registry;
  prometheus::Counter& entries_started =
      prometheus::BuildCounter()
          .Name("labmesh_entries_started_total")
          .Help("Host queue entries given a host (moved to Starting)")
          .Register(registry)
          .Add({});
  prometheus::Family<prometheus::Counter>& entries_finished =
      prometheus::BuildCounter()
          .Name("labmesh_entries_finished_total")
          .Help("Host queue entries that reached a final status, by that status")
          .Register(registry);
  prometheus::Counter* finished[std::size(kFinal)] = {};
  prometheus::Histogram& start_wait =
      prometheus::BuildHistogram()
          .Name("labmesh_entry_start_wait_seconds")
          .Help("Time from an entry's submission to its start on a host")
          .Register(registry)
          .Add({}, kWaitBuckets);
  prometheus::Histogram& scheduling_pass =
      prometheus::BuildHistogram()
          .Name("labmesh_scheduling_pass_seconds")
          .Help("Time one scheduling pass took on the event loop")
          .Register(registry)
          .Add({}, kLoopBuckets);
  prometheus::Histogram& loop_turn =
      prometheus::BuildHistogram()
          .Name("labmesh_loop_turn_seconds")
          .Help("Time one busy event-loop turn took, from its wake-up to the end of its commit")
          .Register(registry)
          .Add({}, kLoopBuckets);
  prometheus::Counter& results_ingested =
      prometheus::BuildCounter()
          .Name("labmesh_results_ingested_total")
          .Help("Test results written into the results index by the parser")
          .Register(registry)
          .Add({});
  prometheus::Counter& parse_errors =
      prometheus::BuildCounter()
          .Name("labmesh_results_parse_errors_total")
          .Help("Problems parsing result files: parse warnings, and entries not indexed")
          .Register(registry)
          .Add({});
  prometheus::Counter& parsed_entries =
      prometheus::BuildCounter()
          .Name("labmesh_results_parsed_entries_total")
          .Help("Entries whose result files were parsed (first parses and reparses)")
          .Register(registry)
          .Add({});
  prometheus::Counter& upload_bytes =
      prometheus::BuildCounter()
          .Name("labmesh_upload_bytes_total")
          .Help("Bytes of result files received from agents and written")
          .Register(registry)
          .Add({});

  prometheus::Histogram& heartbeat_gap =
      prometheus::BuildHistogram()
          .Name("labmesh_heartbeat_gap_seconds")
          .Help("Time between two heartbeats of one agent (or its registration and first one)")
          .Register(registry)
          .Add({}, kGapBuckets);

  Impl() {
    for (size_t i = 0; i < std::size(kFinal); ++i) {
      finished[i] =
          &entries_finished.Add({{"status", std::string(protocol::EntryStatusName(kFinal[i]))}});
    }
  }
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::EntryStarted(double waited_s) {
  impl_->entries_started.Increment();
  impl_->start_wait.Observe(waited_s < 0 ? 0 : waited_s);
}

void Metrics::EntryFinished(protocol::EntryStatus status) {
  for (size_t i = 0; i < std::size(kFinal); ++i) {
    if (kFinal[i] == status) impl_->finished[i]->Increment();
  }
}

void Metrics::SchedulingPass(double seconds) { impl_->scheduling_pass.Observe(seconds); }
void Metrics::LoopTurn(double seconds) { impl_->loop_turn.Observe(seconds); }

void Metrics::Parsed(uint64_t results, uint64_t errors) {
  impl_->parsed_entries.Increment();
  impl_->results_ingested.Increment(static_cast<double>(results));
  impl_->parse_errors.Increment(static_cast<double>(errors));
}

void Metrics::UploadBytes(uint64_t bytes) {
  impl_->upload_bytes.Increment(static_cast<double>(bytes));
}

void Metrics::Heartbeat(double gap_s) { impl_->heartbeat_gap.Observe(gap_s < 0 ? 0 : gap_s); }

std::vector<prometheus::MetricFamily> Metrics::Collect() const {
  return impl_->registry.Collect();
}

}  // namespace labmesh::coordinator
