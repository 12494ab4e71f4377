#include "labmesh/common/backoff.hpp"

#include <algorithm>

namespace labmesh {

Backoff::Backoff(int64_t initial_ms, int64_t max_ms, uint64_t seed)
    : initial_ms_(std::max<int64_t>(1, initial_ms)),
      max_ms_(std::max(initial_ms_, max_ms)),
      ceiling_ms_(initial_ms_),
      rng_(seed) {}

int64_t Backoff::NextDelayMs() {
  std::uniform_int_distribution<int64_t> dist(ceiling_ms_ / 2, ceiling_ms_);
  int64_t delay = dist(rng_);
  ceiling_ms_ = ceiling_ms_ > max_ms_ / 2 ? max_ms_ : ceiling_ms_ * 2;  // no overflow
  return delay;
}

int64_t AgentReconnectIntervalMs(uint64_t random) {
  constexpr int64_t kMinMs = 200;
  constexpr int64_t kSpreadMs = 800;
  return kMinMs + static_cast<int64_t>(random % (kSpreadMs + 1));
}

}  // namespace labmesh
