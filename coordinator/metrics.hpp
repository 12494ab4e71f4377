#pragma once
// Metrics: the coordinator's counters and histograms (docs/monitoring.md lists every one),
// counted where things happen: an entry's start and end (JobService::Move), a scheduling pass
// (Core::Flush), a loop turn (the coordinator's loop), a result chunk, a parse. What is cheap to
// read from the loop's own state (hosts by status, the queue, store use) is not counted here
// but read at scrape time (MetricsService).
//
// Built on prometheus-cpp's core (its counters are atomics, its histograms lock): the event loop
// updates them, and Collect() may run on any thread. The header stays light: prometheus-cpp is
// included by metrics.cpp only.

#include <cstdint>
#include <memory>
#include <vector>

#include "labmesh/protocol/types.hpp"

namespace prometheus {
struct MetricFamily;
}  // namespace prometheus

namespace labmesh::coordinator {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // An entry moved to Starting (its host was given), `waited_s` after its job was submitted
  // (an entry queued again after a lost host counts from there too).
  void EntryStarted(double waited_s);
  // An entry reached a final status (Completed, Failed, Aborted, Stopped).
  void EntryFinished(protocol::EntryStatus status);
  // One scheduling pass took `seconds`.
  void SchedulingPass(double seconds);
  // One busy turn of the event loop (from the wake-up to the end of its commit) took `seconds`.
  void LoopTurn(double seconds);
  // A parse of an entry's files: `results` indexed, `errors` problems (warnings and a failed
  // indexing each count one).
  void Parsed(uint64_t results, uint64_t errors);
  // Bytes of result files written from agents' chunks.
  void UploadBytes(uint64_t bytes);
  // A heartbeat of a registered agent, `gap_s` after its previous one (or its registration).
  void Heartbeat(double gap_s);

  // Every family above, for the text format. Any thread.
  std::vector<prometheus::MetricFamily> Collect() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace labmesh::coordinator
