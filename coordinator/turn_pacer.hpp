#pragma once
// TurnPacer: under a large, steady fleet, holds the event loop's turns a little apart so that
// one wakeup reads many heartbeats instead of one.
//
// Why: with 20,000 agents at 5 s the loop woke for almost every heartbeat, and each wakeup cost
// more than the heartbeat (an eventfd write from ZeroMQ's I/O thread, a poll, a context switch
// each way, then the same for the ack going out): 22% of a core for 4,000 heartbeats/s, of which
// the coordinator's own code was 5%. Holding turns 2 ms apart reads about 8 per wakeup and cut
// that to 14%, for 1-2 ms more on a heartbeat's ack (docs/decisions.md).
//
// Only heartbeats are paced: a turn that read anything else (a hello, a report, a work request,
// an API request) is followed by an immediate poll, so registration, jobs and the CLI see no
// delay; and only when heartbeats arrive at `min_rate` per second or more (measured over the
// last whole second), where wakeups, not the work, are the cost.
//
// Pure arithmetic on the times it is given; owned by the loop thread.

#include <chrono>
#include <cstdint>

namespace labmesh::coordinator {

class TurnPacer {
 public:
  static constexpr uint64_t kDefaultMinRate = 2000;  // heartbeats per second

  // `window_us` <= 0: never holds.
  explicit TurnPacer(int64_t window_us, uint64_t min_rate = kDefaultMinRate)
      : window_us_(window_us), min_rate_(min_rate) {}

  // A turn began (woke) at `begin_us` and read `heartbeats` heartbeats; `other` says it read
  // anything else. Returns the time before which the next poll should not start (`begin_us`
  // or earlier: at once).
  int64_t After(int64_t begin_us, uint64_t heartbeats, bool other);

  // After() on the loop's clock, then sleeps until the time it returned.
  void Hold(std::chrono::steady_clock::time_point begin, uint64_t heartbeats, bool other);

  // Heartbeats per second over the last whole second (as of the last After).
  uint64_t rate() const { return rate_; }

 private:
  const int64_t window_us_;
  const uint64_t min_rate_;
  int64_t second_start_us_ = 0;
  uint64_t counted_ = 0;  // heartbeats since second_start_us_
  uint64_t rate_ = 0;
};

}  // namespace labmesh::coordinator
