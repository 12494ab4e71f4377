#pragma once
// The figures of labmesh-barrierbench, one kind of round at a time (burst or settled): the
// release latency of each round and, when the coordinator's pid is known, how long the
// coordinator's and the simulator's threads ran and waited for a CPU during it.

#include <cstdint>
#include <string>
#include <vector>

#include "proc_stats.hpp"

namespace labmesh::bench {

// Thread times of the coordinator and of this process at one moment.
struct RoundTimes {
  ThreadTimes coord;
  ThreadTimes sim;
};

// Reads both; leaves them !ok when coordinator_pid <= 0 (not watched).
RoundTimes ReadRoundTimes(int coordinator_pid);

class RoundStats {
 public:
  explicit RoundStats(std::string kind) : kind_(std::move(kind)) {}

  // One round of barrier generation `generation`: the last and the first release arrived
  // last_ms / first_ms after the last arrival left; `start` was read when the round's first
  // arrival left, `end` when its last release arrived. Prints the round's line.
  void Add(uint32_t generation, double last_ms, double first_ms, const RoundTimes& start,
           const RoundTimes& end);

  size_t rounds() const { return last_ms_.size(); }
  double last_ms(double q) const;   // percentile q of the latencies
  double first_ms(double q) const;  // percentile q of the first releases
  // "barrierbench: cpu kind=..." with the p50 of each time, when the times were read.
  void PrintTimes() const;

 private:
  const std::string kind_;
  std::vector<double> last_ms_;   // last arrival sent -> last release received: the latency
  std::vector<double> first_ms_;  // last arrival sent -> first release received
  // Summed over threads; coord_main: the coordinator's event loop alone.
  std::vector<double> coord_run_ms_, coord_main_ms_, coord_wait_ms_, sim_run_ms_, sim_wait_ms_;
};

}  // namespace labmesh::bench
