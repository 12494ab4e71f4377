#include "turn_pacer.hpp"

#include <thread>

namespace labmesh::coordinator {

int64_t TurnPacer::After(int64_t begin_us, uint64_t heartbeats, bool other) {
  constexpr int64_t kSecondUs = 1'000'000;
  int64_t elapsed = begin_us - second_start_us_;
  if (elapsed >= kSecondUs) {
    // A quiet stretch longer than a second counts as the rate it really was.
    rate_ = static_cast<uint64_t>(static_cast<double>(counted_) * kSecondUs /
                                  static_cast<double>(elapsed));
    counted_ = 0;
    second_start_us_ = begin_us;
  }
  counted_ += heartbeats;
  if (window_us_ <= 0 || other || heartbeats == 0 || rate_ < min_rate_) return begin_us;
  return begin_us + window_us_;
}

void TurnPacer::Hold(std::chrono::steady_clock::time_point begin, uint64_t heartbeats,
                     bool other) {
  using std::chrono::microseconds;
  int64_t begin_us =
      std::chrono::duration_cast<microseconds>(begin.time_since_epoch()).count();
  int64_t until_us = After(begin_us, heartbeats, other);
  if (until_us > begin_us) {
    std::this_thread::sleep_until(std::chrono::steady_clock::time_point(microseconds(until_us)));
  }
}

}  // namespace labmesh::coordinator
