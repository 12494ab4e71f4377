// End to end: hosts dying and coming back, and the coordinator restarting under its agents.

#include <gtest/gtest.h>
#include <signal.h>

#include "cluster.hpp"

namespace labmesh::testing {
namespace {

TEST(Lifecycle, AKilledAgentTurnsDeadAndComesBackReadyWhenRestarted) {
  E2eCluster cluster;
  cluster.StartCoordinator();
  cluster.StartAgent("lab-1");
  cluster.StartAgent("lab-2");
  ASSERT_TRUE(cluster.WaitForStatus("lab-1", "Ready"));
  ASSERT_TRUE(cluster.WaitForStatus("lab-2", "Ready"));

  cluster.KillAgent("lab-1", SIGKILL);
  ASSERT_TRUE(cluster.WaitForStatus("lab-1", "Dead")) << cluster.coordinator().Log();
  auto dead = *cluster.Host("lab-1");
  EXPECT_EQ(dead["connected"], false);
  EXPECT_NE(dead["status_reason"].get<std::string>().find("no heartbeat"), std::string::npos);
  EXPECT_EQ((*cluster.Host("lab-2"))["status"], "Ready");  // the other one is unaffected

  cluster.StartAgent("lab-1");  // same work dir: same key, new incarnation
  ASSERT_TRUE(cluster.WaitForStatus("lab-1", "Ready"));
  EXPECT_NE((*cluster.Host("lab-1"))["incarnation"], dead["incarnation"]);
}

TEST(Lifecycle, ACoordinatorRestartKeepsEveryHostAndAgentsComeBackByThemselves) {
  E2eCluster cluster;
  cluster.StartCoordinator();
  for (const char* name : {"lab-1", "lab-2", "lab-3"}) cluster.StartAgent(name);
  for (const char* name : {"lab-1", "lab-2", "lab-3"}) {
    ASSERT_TRUE(cluster.WaitForStatus(name, "Ready"));
  }
  ASSERT_EQ(cluster.Cli({"host", "lock", "lab-2", "--reason", "bad fan"}).exit_code, 0);
  ASSERT_EQ(cluster.Cli({"host", "label", "lab-3", "--add", "rack:9"}).exit_code, 0);
  auto before = *cluster.Host("lab-1");

  // Hard kill: nothing gets a chance to flush.
  EXPECT_EQ(cluster.StopCoordinator(SIGKILL), 128 + SIGKILL);
  auto unreachable = cluster.Cli({"host", "list"});
  EXPECT_EQ(unreachable.exit_code, 3);

  cluster.StartCoordinator();
  ASSERT_EQ(cluster.Hosts().size(), 3u);
  // Agents were not restarted: they notice, reconnect and register again on their own.
  for (const char* name : {"lab-1", "lab-2", "lab-3"}) {
    ASSERT_TRUE(WaitFor([&] {
      auto h = cluster.Host(name);
      return h && (*h)["status"] == "Ready" && (*h)["connected"] == true;
    })) << name << "\n" << cluster.coordinator().Log();
    EXPECT_TRUE(cluster.agent(name).Running());
  }
  auto lab2 = *cluster.Host("lab-2");
  EXPECT_EQ(lab2["locked"], true);
  EXPECT_EQ(lab2["lock_reason"], "bad fan");
  auto lab3 = *cluster.Host("lab-3");
  EXPECT_NE(std::find(lab3["labels"].begin(), lab3["labels"].end(), "rack:9"),
            lab3["labels"].end());
  // Same agent process: same incarnation, so the coordinator knows it is a reconnect.
  EXPECT_EQ((*cluster.Host("lab-1"))["incarnation"], before["incarnation"]);
}

TEST(Lifecycle, SigtermStopsTheCoordinatorCleanlyAndHeartbeatsArePersisted) {
  E2eCluster cluster;
  cluster.StartCoordinator();
  cluster.StartAgent("lab-1");
  ASSERT_TRUE(cluster.WaitForStatus("lab-1", "Ready"));
  ASSERT_TRUE(WaitFor([&] { return (*cluster.Host("lab-1"))["health"]["uptime_s"] > 0; }));
  cluster.KillAgent("lab-1", SIGKILL);
  auto last = *cluster.Host("lab-1");
  EXPECT_EQ(cluster.StopCoordinator(SIGTERM), 0);
  EXPECT_NE(cluster.coordinator().Log().find("coordinator stopped"), std::string::npos);

  cluster.StartCoordinator();
  auto after = *cluster.Host("lab-1");
  // At least what we saw before the stop (a heartbeat still in flight may have landed after).
  EXPECT_GE(after["last_heartbeat_ms"], last["last_heartbeat_ms"]);
  EXPECT_GE(after["health"]["uptime_s"], last["health"]["uptime_s"]);
  // The agent is gone for good: after the restart grace period it is declared Dead.
  EXPECT_TRUE(cluster.WaitForStatus("lab-1", "Dead"));
}

TEST(Lifecycle, AgentSigtermExitsZero) {
  E2eCluster cluster;
  cluster.StartCoordinator();
  cluster.StartAgent("lab-1");
  ASSERT_TRUE(cluster.WaitForStatus("lab-1", "Ready"));
  cluster.agent("lab-1").Signal(SIGTERM);
  EXPECT_EQ(cluster.agent("lab-1").Wait(), 0);
}

TEST(Lifecycle, DeletingAHostRevokesItsKey) {
  E2eCluster cluster;
  cluster.StartCoordinator();
  cluster.StartAgent("lab-1");
  ASSERT_TRUE(cluster.WaitForStatus("lab-1", "Ready"));
  auto deleted = cluster.Cli({"host", "delete", "lab-1"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_FALSE(cluster.Host("lab-1").has_value());
  // The running agent is told; when it knocks again its key is refused at the handshake.
  ASSERT_TRUE(WaitFor([&] {
    return cluster.agent("lab-1").Log().find("host deleted by an admin") != std::string::npos;
  }));
  cluster.KillAgent("lab-1", SIGKILL);
  cluster.StartAgent("lab-1");
  ASSERT_TRUE(WaitFor([&] {
    return cluster.coordinator().Log().find("refused at the Curve handshake") != std::string::npos;
  }));
  EXPECT_FALSE(cluster.Host("lab-1").has_value());
}

}  // namespace
}  // namespace labmesh::testing
