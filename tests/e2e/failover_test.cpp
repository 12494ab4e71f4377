// End to end, PostgreSQL run only (e2e_pg.PgFailover.*): an active coordinator and a standby
// (--standby) on one PostgreSQL store and one data directory, agents that list both
// (--coordinator A,B). The active is killed -9 in the middle of the work: the standby claims the
// store, takes the data directory and serves; the agents move to it and their running entries
// re-attach; every job, synchronous groups included, ends once with its results, and the store
// checks clean (docs/scale-out.md).

#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <vector>

#include "standby_fixture.hpp"

namespace labmesh::testing {
namespace {

class PgFailover : public StandbyE2e {};

TEST_F(PgFailover, AStandbyTakesOverFromAKilledActiveAndEveryJobEndsOnce) {
  if (!PgMode()) GTEST_SKIP() << "PostgreSQL run only (e2e_pg.*)";
  cluster_.StartCoordinator();
  Standby standby = StartStandby("standby");
  ASSERT_TRUE(WaitFor([&] {
    return standby.process->Log().find("waiting to take over") != std::string::npos;
  })) << standby.process->Log();
  const std::vector<std::string> hosts = {"h1", "h2", "h3", "h4"};
  for (const std::string& host : hosts) {
    cluster_.StartAgent(host, {"--coordinator", cluster_.agent_endpoint() + "," + standby.agent});
  }
  for (const std::string& host : hosts) ASSERT_TRUE(cluster_.WaitForStatus(host, "Ready"));

  for (int i = 0; i < 24; ++i) {
    std::vector<std::string> on = {hosts[i % 4]};
    if (i % 4 == 3) on.push_back(hosts[(i + 1) % 4]);  // a synchronous pair
    SubmitLedgerJob("j" + std::to_string(i), on, "0.3");
  }
  // Midway: some work done, some running, some queued.
  ASSERT_TRUE(WaitFor([&] { return LedgerLines() >= 6; }));
  cluster_.StopCoordinator(SIGKILL);
  ASSERT_TRUE(WaitFor([&] {
    return standby.process->Log().find("taking over") != std::string::npos;
  })) << standby.process->Log();
  cluster_.set_api_endpoint(standby.api);

  ExpectEveryJobEndedOnce([&] { return standby.process->Log(); });
  for (const std::string& host : hosts) EXPECT_TRUE(cluster_.WaitForStatus(host, "Ready"));
  EXPECT_TRUE(standby.process->Running());
  auto check = RunCommand(cluster_.CheckCommand());
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

}  // namespace
}  // namespace labmesh::testing
