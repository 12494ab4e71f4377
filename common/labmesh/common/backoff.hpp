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

}  // namespace labmesh
