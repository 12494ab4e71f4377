// Backoff delays stay in [ceiling/2, ceiling] with the ceiling doubling from the initial delay up
// to the cap, are jittered from the first attempt, are reproducible for a seed, and reset.

#include "labmesh/common/backoff.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>

namespace labmesh {
namespace {

TEST(Backoff, EveryDelayIsWithinHalfTheCeilingAndTheCeiling) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    Backoff backoff(100, 5'000, seed);
    int64_t ceiling = 100;
    for (int attempt = 0; attempt < 20; ++attempt) {
      int64_t delay = backoff.NextDelayMs();
      EXPECT_GE(delay, ceiling / 2) << "seed " << seed << " attempt " << attempt;
      EXPECT_LE(delay, ceiling) << "seed " << seed << " attempt " << attempt;
      ceiling = std::min<int64_t>(ceiling * 2, 5'000);
    }
  }
}

TEST(Backoff, CapsAtTheMaximum) {
  Backoff backoff(100, 1'000, 7);
  for (int attempt = 0; attempt < 10; ++attempt) (void)backoff.NextDelayMs();
  for (int attempt = 0; attempt < 1'000; ++attempt) {
    int64_t delay = backoff.NextDelayMs();
    EXPECT_GE(delay, 500);
    EXPECT_LE(delay, 1'000);
  }
}

TEST(Backoff, FirstAttemptIsJitteredAcrossAgents) {
  // A lab-wide restart must not make every agent retry in the same millisecond.
  std::set<int64_t> first_delays;
  for (uint64_t seed = 0; seed < 100; ++seed)
    first_delays.insert(Backoff(1'000, 60'000, seed).NextDelayMs());
  EXPECT_GT(first_delays.size(), 50u);
}

TEST(Backoff, SameSeedGivesTheSameDelays) {
  Backoff a(100, 10'000, 42), b(100, 10'000, 42);
  for (int attempt = 0; attempt < 20; ++attempt) EXPECT_EQ(a.NextDelayMs(), b.NextDelayMs());
}

TEST(Backoff, ResetStartsAgainFromTheInitialDelay) {
  Backoff backoff(100, 100'000, 3);
  for (int attempt = 0; attempt < 12; ++attempt) (void)backoff.NextDelayMs();
  backoff.Reset();
  int64_t delay = backoff.NextDelayMs();
  EXPECT_GE(delay, 50);
  EXPECT_LE(delay, 100);
}

TEST(Backoff, NonsenseBoundsAreClampedToUsableOnes) {
  Backoff zero(0, 0, 1);  // initial clamped to 1 ms, cap to the initial
  for (int attempt = 0; attempt < 10; ++attempt) {
    int64_t delay = zero.NextDelayMs();
    EXPECT_GE(delay, 0);
    EXPECT_LE(delay, 1);
  }
  Backoff inverted(1'000, 10, 1);  // cap below initial: the initial wins
  for (int attempt = 0; attempt < 10; ++attempt) {
    int64_t delay = inverted.NextDelayMs();
    EXPECT_GE(delay, 500);
    EXPECT_LE(delay, 1'000);
  }
}

TEST(Backoff, AgentsDrawTheirReconnectIntervalsAcrossTheWholeRange) {
  std::set<int64_t> seen;
  for (uint64_t random = 0; random < 2000; ++random) {
    int64_t ms = AgentReconnectIntervalMs(random * 7919);
    EXPECT_GE(ms, 200);
    EXPECT_LE(ms, 1000);
    EXPECT_LT(ms, kAgentReconnectMaxMs);
    seen.insert(ms / 100);
  }
  EXPECT_EQ(seen.size(), 9u);  // every 100 ms band of 200-1000 (1000 itself in the last)
}

}  // namespace
}  // namespace labmesh
