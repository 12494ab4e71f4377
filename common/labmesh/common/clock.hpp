#pragma once
// Time for every labmesh component comes from a Clock so that tests can drive it.
// SteadyMs() is for deadlines and intervals (never jumps); WallMs() is for timestamps shown to
// people and stored (milliseconds since the Unix epoch).

#include <atomic>
#include <cstdint>

namespace labmesh {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t SteadyMs() const = 0;
  virtual int64_t WallMs() const = 0;
  // Wall clock in microseconds since the epoch (job and entry times; latency figures).
  virtual int64_t WallUs() const { return WallMs() * 1000; }
};

// The real clock. Stateless; one instance can be shared by all threads.
class SystemClock final : public Clock {
 public:
  int64_t SteadyMs() const override;
  int64_t WallMs() const override;
  int64_t WallUs() const override;
  static SystemClock* Default();
};

// A clock that moves only when the test says so. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_wall_ms = 1'700'000'000'000) : wall_(start_wall_ms) {}
  int64_t SteadyMs() const override { return steady_.load(); }
  int64_t WallMs() const override { return wall_.load(); }
  void AdvanceMs(int64_t ms) {
    steady_ += ms;
    wall_ += ms;
  }

 private:
  std::atomic<int64_t> steady_{1'000'000};
  std::atomic<int64_t> wall_;
};

}  // namespace labmesh
