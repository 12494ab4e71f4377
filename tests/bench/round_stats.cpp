#include "round_stats.hpp"

#include <unistd.h>

#include <cstdio>

#include "sim_fleet.hpp"

namespace labmesh::bench {

RoundTimes ReadRoundTimes(int coordinator_pid) {
  RoundTimes times;
  if (coordinator_pid <= 0) return times;
  times.coord = ReadThreadTimes(coordinator_pid);
  times.sim = ReadThreadTimes(static_cast<int>(getpid()));
  return times;
}

void RoundStats::Add(uint32_t generation, double last_ms, double first_ms, const RoundTimes& start,
                     const RoundTimes& end) {
  last_ms_.push_back(last_ms);
  first_ms_.push_back(first_ms);
  std::printf("barrierbench: round=%u kind=%s latency_ms=%.2f first_reply_ms=%.2f", generation,
              kind_.c_str(), last_ms, first_ms);
  if (start.coord.ok && end.coord.ok && start.sim.ok && end.sim.ok) {
    coord_run_ms_.push_back(end.coord.run_ms - start.coord.run_ms);
    coord_main_ms_.push_back(end.coord.main_run_ms - start.coord.main_run_ms);
    coord_wait_ms_.push_back(end.coord.wait_ms - start.coord.wait_ms);
    sim_run_ms_.push_back(end.sim.run_ms - start.sim.run_ms);
    sim_wait_ms_.push_back(end.sim.wait_ms - start.sim.wait_ms);
    std::printf(
        " coord_run_ms=%.2f coord_main_ms=%.2f coord_wait_ms=%.2f sim_run_ms=%.2f "
        "sim_wait_ms=%.2f",
        coord_run_ms_.back(), coord_main_ms_.back(), coord_wait_ms_.back(), sim_run_ms_.back(),
        sim_wait_ms_.back());
  }
  std::printf("\n");
  std::fflush(stdout);
}

double RoundStats::last_ms(double q) const { return Percentile(last_ms_, q); }
double RoundStats::first_ms(double q) const { return Percentile(first_ms_, q); }

void RoundStats::PrintTimes() const {
  if (coord_run_ms_.empty()) return;
  std::printf(
      "barrierbench: cpu kind=%s coord_run_ms=%.2f coord_main_ms=%.2f coord_wait_ms=%.2f "
      "sim_run_ms=%.2f sim_wait_ms=%.2f (p50 per round)\n",
      kind_.c_str(), Percentile(coord_run_ms_, 0.5), Percentile(coord_main_ms_, 0.5),
      Percentile(coord_wait_ms_, 0.5), Percentile(sim_run_ms_, 0.5), Percentile(sim_wait_ms_, 0.5));
}

}  // namespace labmesh::bench
