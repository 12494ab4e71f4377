// The host status transition table (CanTransition): the one rule every status change of the
// coordinator goes through.

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>
#include <utility>

#include "host_registry.hpp"

namespace labmesh::coordinator {
namespace {

using protocol::HostStatus;
using S = HostStatus;

constexpr std::array<HostStatus, 9> kAll = {S::kReady,    S::kPending,   S::kRunning,
                                            S::kVerifying, S::kRepairing, S::kCleaning,
                                            S::kUpdating,  S::kRepairFailed, S::kDead};

std::string Name(HostStatus s) { return std::string(protocol::HostStatusName(s)); }

TEST(CanTransition, EveryStatusCanGoDeadExceptDeadItself) {
  for (HostStatus from : kAll) {
    EXPECT_EQ(CanTransition(from, S::kDead), from != S::kDead) << Name(from);
  }
}

TEST(CanTransition, NoStatusMovesToItself) {
  for (HostStatus s : kAll) EXPECT_FALSE(CanTransition(s, s)) << Name(s);
}

TEST(CanTransition, ADeadHostComesBackReadyOrThroughVerifyOrRepair) {
  EXPECT_TRUE(CanTransition(S::kDead, S::kReady));
  EXPECT_TRUE(CanTransition(S::kDead, S::kVerifying));
  EXPECT_TRUE(CanTransition(S::kDead, S::kRepairing));
  // Power cycled as often as allowed and still silent (docs/power-console.md).
  EXPECT_TRUE(CanTransition(S::kDead, S::kRepairFailed));
  // Straight back to work (or anything else) is not allowed.
  for (HostStatus to : {S::kPending, S::kRunning, S::kCleaning, S::kUpdating}) {
    EXPECT_FALSE(CanTransition(S::kDead, to)) << Name(to);
  }
}

TEST(CanTransition, ForbiddenMoves) {
  // Repair Failed is the verdict of a repair, or of a verify or cleanup that failed where no
  // repair may run (protection do-not-repair, the repair limit), or of power cycles of a lost
  // host that did not bring it back, nothing else.
  for (HostStatus from : kAll) {
    if (from == S::kRepairing || from == S::kVerifying || from == S::kCleaning ||
        from == S::kDead) {
      continue;
    }
    EXPECT_FALSE(CanTransition(from, S::kRepairFailed)) << Name(from);
  }
  EXPECT_FALSE(CanTransition(S::kRepairFailed, S::kRunning));  // repair first
  EXPECT_FALSE(CanTransition(S::kRepairFailed, S::kPending));
  EXPECT_FALSE(CanTransition(S::kRepairing, S::kRunning));
  EXPECT_FALSE(CanTransition(S::kUpdating, S::kRunning));  // an update ends in verify or Ready
  EXPECT_FALSE(CanTransition(S::kCleaning, S::kRunning));
  EXPECT_FALSE(CanTransition(S::kPending, S::kCleaning));
}

// The whole table, spelled out: a change to it must be a deliberate change to this test too.
TEST(CanTransition, TheTableIsExactlyThis) {
  const std::set<std::pair<HostStatus, HostStatus>> allowed = {
      {S::kReady, S::kPending},         {S::kReady, S::kRunning},
      {S::kReady, S::kVerifying},       {S::kReady, S::kRepairing},
      {S::kReady, S::kCleaning},        {S::kReady, S::kUpdating},
      {S::kPending, S::kReady},         {S::kPending, S::kRunning},
      {S::kPending, S::kVerifying},     {S::kRunning, S::kReady},
      {S::kRunning, S::kCleaning},      {S::kRunning, S::kVerifying},
      {S::kRunning, S::kRepairing},     {S::kVerifying, S::kReady},
      {S::kVerifying, S::kPending},     {S::kVerifying, S::kRunning},
      {S::kVerifying, S::kRepairing},   {S::kVerifying, S::kRepairFailed},
      {S::kCleaning, S::kRepairFailed}, {S::kRepairing, S::kReady},
      {S::kRepairing, S::kVerifying},   {S::kRepairing, S::kRepairFailed},
      {S::kCleaning, S::kReady},        {S::kCleaning, S::kRepairing},
      {S::kCleaning, S::kVerifying},    {S::kUpdating, S::kReady},
      {S::kUpdating, S::kVerifying},    {S::kUpdating, S::kRepairing},
      {S::kRepairFailed, S::kRepairing}, {S::kRepairFailed, S::kVerifying},
      {S::kRepairFailed, S::kReady},    {S::kDead, S::kReady},
      {S::kDead, S::kVerifying},        {S::kDead, S::kRepairing},
      {S::kDead, S::kRepairFailed},
  };
  for (HostStatus from : kAll) {
    for (HostStatus to : kAll) {
      bool want = to == S::kDead ? from != S::kDead : allowed.count({from, to}) > 0;
      EXPECT_EQ(CanTransition(from, to), want) << Name(from) << " -> " << Name(to);
    }
  }
}

// No status is a trap: from every one there is a path of allowed moves back to Ready, and every
// status can be reached from Ready.
TEST(CanTransition, EveryStatusReachesReadyAndIsReachableFromIt) {
  auto reachable_from = [](HostStatus start) {
    std::set<HostStatus> seen = {start};
    bool grew = true;
    while (grew) {
      grew = false;
      for (HostStatus from : std::set<HostStatus>(seen)) {
        for (HostStatus to : kAll) {
          if (CanTransition(from, to) && seen.insert(to).second) grew = true;
        }
      }
    }
    return seen;
  };
  EXPECT_EQ(reachable_from(S::kReady).size(), kAll.size());
  for (HostStatus s : kAll) EXPECT_TRUE(reachable_from(s).count(S::kReady)) << Name(s);
}

}  // namespace
}  // namespace labmesh::coordinator
