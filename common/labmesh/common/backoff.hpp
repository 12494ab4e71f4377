#pragma once
// Capped exponential backoff with full jitter. Jitter applies to the first attempt too, so a
// lab-wide restart does not make every agent knock on the coordinator in the same millisecond.

#include <cstdint>
#include <random>

namespace labmesh {

class Backoff {
 public:
  Backoff(int64_t initial_ms, int64_t max_ms, uint64_t seed);
  // The delay before the next attempt: uniform in [ceiling/2, ceiling], ceiling doubling from
  // initial_ms up to max_ms.
  int64_t NextDelayMs();
  void Reset() { ceiling_ms_ = initial_ms_; }

 private:
  int64_t initial_ms_;
  int64_t max_ms_;
  int64_t ceiling_ms_;
  std::mt19937_64 rng_;
};

// An agent's ZeroMQ reconnect intervals (ZMQ_RECONNECT_IVL and _MAX), shared by labmesh-agent
// and the simulated agents of the benchmarks. ZeroMQ reconnects after the interval plus a
// jitter of at most the interval, doubling up to the maximum. With one interval for the whole
// fleet, every agent that lost a restarted coordinator knocks again in the same 200 ms waves
// (0.2, 0.6, 1.4, 3, 6.2 s ...): 10,000 handshakes in half a second, and hellos queued for 3 s
// behind them. Each agent draws its own first interval, 0.2-1 s from `random`, so the waves
// blur into a steady stream within a few tries.
int64_t AgentReconnectIntervalMs(uint64_t random);
inline constexpr int64_t kAgentReconnectMaxMs = 5'000;

}  // namespace labmesh
