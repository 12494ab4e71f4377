// TurnPacer: when it holds the loop's next poll back, and when it must not.
#include "turn_pacer.hpp"

#include <gtest/gtest.h>

namespace labmesh::coordinator {
namespace {

constexpr int64_t kMs = 1000;
constexpr int64_t kSecond = 1000 * kMs;

// Feeds `per_second` heartbeats a second, one per turn, for `seconds` from `*now`.
void Beat(TurnPacer& pacer, int64_t* now, uint64_t per_second, int seconds) {
  int64_t step = kSecond / static_cast<int64_t>(per_second);
  for (uint64_t i = 0; i < per_second * static_cast<uint64_t>(seconds); ++i) {
    pacer.After(*now, 1, false);
    *now += step;
  }
}

TEST(TurnPacerTest, HoldsOnlyWhenHeartbeatsComeFastAndAlone) {
  TurnPacer pacer(2 * kMs, 2000);
  int64_t now = 5 * kSecond;
  // The first second has no rate yet: no hold.
  EXPECT_EQ(pacer.After(now, 3, false), now);
  Beat(pacer, &now, 4000, 2);
  EXPECT_GE(pacer.rate(), 3900u);
  EXPECT_EQ(pacer.After(now, 5, false), now + 2 * kMs);
  // A turn that read anything but heartbeats (a hello, a report, an API request) is followed
  // by an immediate poll, and so is a turn that read no heartbeat.
  EXPECT_EQ(pacer.After(now, 5, true), now);
  EXPECT_EQ(pacer.After(now, 0, false), now);
}

TEST(TurnPacerTest, ASlowFleetIsNeverHeld) {
  TurnPacer pacer(2 * kMs, 2000);
  int64_t now = 0;
  Beat(pacer, &now, 1000, 3);  // 1,000 agents at 1 s
  EXPECT_LT(pacer.rate(), 2000u);
  EXPECT_EQ(pacer.After(now, 1, false), now);
}

TEST(TurnPacerTest, TheRateFallsAfterAQuietStretch) {
  TurnPacer pacer(2 * kMs, 2000);
  int64_t now = 0;
  Beat(pacer, &now, 5000, 2);
  EXPECT_EQ(pacer.After(now, 1, false), now + 2 * kMs);
  now += 10 * kSecond;  // the fleet went quiet (a restart, a network cut)
  EXPECT_EQ(pacer.After(now, 1, false), now);
  EXPECT_LT(pacer.rate(), 2000u);
}

TEST(TurnPacerTest, AZeroWindowNeverHolds) {
  TurnPacer pacer(0, 2000);
  int64_t now = 0;
  Beat(pacer, &now, 5000, 2);
  EXPECT_EQ(pacer.After(now, 1, false), now);
}

}  // namespace
}  // namespace labmesh::coordinator
