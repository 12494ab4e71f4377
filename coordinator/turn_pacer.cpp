#include "turn_pacer.hpp"

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

}  // namespace labmesh::coordinator
