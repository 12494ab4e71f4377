// The coordinator with real agents in one process (TestCluster): registration, Dead detection
// when an agent stops, and a coordinator restart under running agents. Sockets are real, so
// the clock is too: every wait has a deadline, none is a bare sleep.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "test_cluster.hpp"

namespace labmesh::testing {
namespace {

using agent::AgentState;
using Link = TestCluster::Link;

bool HasLabel(const protocol::HostInfo& host, const std::string& label) {
  return std::find(host.labels.begin(), host.labels.end(), label) != host.labels.end();
}

TEST(Cluster, ThreeAgentsRegisterAndReportHealth) {
  TestCluster cluster;
  ASSERT_TRUE(cluster.Start().ok());
  ASSERT_TRUE(cluster.WaitForHosts(3, "Ready", Link::kConnected));
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(cluster.WaitForAgentState(i, AgentState::kRegistered)) << i;
  }
  auto hosts = cluster.Hosts();
  ASSERT_TRUE(hosts.ok());
  ASSERT_EQ(hosts->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const protocol::HostInfo& host = (*hosts)[i];
    EXPECT_EQ(host.hostname, cluster.hostname(i));
    EXPECT_EQ(host.public_key, cluster.agent(i)->public_key());
    EXPECT_EQ(host.agent_version, LABMESH_VERSION);
    EXPECT_TRUE(std::any_of(host.labels.begin(), host.labels.end(),
                            [](const std::string& l) { return l.rfind("arch:", 0) == 0; }));
  }
  // Health comes with the heartbeats.
  ASSERT_TRUE(WaitFor([&] {
    auto host = cluster.Host("lab-2");
    return host.ok() && host->health.mem_total_bytes > 0 && host->last_heartbeat_ms > 0;
  }));
  EXPECT_GT(cluster.Host("lab-2")->health.disk_total_bytes, 0u);
}

TEST(Cluster, AStoppedAgentTurnsDeadAndComesBackReadyWhenStartedAgain) {
  TestCluster cluster;
  ASSERT_TRUE(cluster.Start().ok());
  ASSERT_TRUE(cluster.WaitForHosts(3, "Ready", Link::kConnected));
  uint64_t incarnation = cluster.Host("lab-1")->incarnation;

  cluster.StopAgent(1);
  ASSERT_TRUE(cluster.WaitForHostStatus("lab-1", "Dead", Link::kDisconnected));
  auto dead = cluster.Host("lab-1");
  ASSERT_TRUE(dead.ok());
  EXPECT_NE(dead->status_reason.find("no heartbeat"), std::string::npos) << dead->status_reason;
  // The others keep heartbeating and stay Ready.
  ASSERT_TRUE(cluster.WaitForHosts(2, "Ready", Link::kConnected));
  EXPECT_EQ(cluster.Hosts("Dead")->size(), 1u);

  ASSERT_TRUE(cluster.StartAgent(1).ok());  // same work dir: same key, new incarnation
  ASSERT_TRUE(cluster.WaitForHostStatus("lab-1", "Ready", Link::kConnected));
  EXPECT_NE(cluster.Host("lab-1")->incarnation, incarnation);
  ASSERT_TRUE(cluster.WaitForHosts(3, "Ready", Link::kConnected));
}

TEST(Cluster, ACoordinatorRestartKeepsEveryHostAndAgentsComeBackByThemselves) {
  TestCluster cluster;
  ASSERT_TRUE(cluster.Start().ok());
  ASSERT_TRUE(cluster.WaitForHosts(3, "Ready", Link::kConnected));
  ASSERT_TRUE(cluster.HostAction("lab-1", "lock", "bad fan").ok());
  auto labelled = cluster.api().Call<protocol::HostShowReply>(
      protocol::HostLabelRequest{"lab-2", {"rack:9"}, {}});
  ASSERT_TRUE(labelled.ok()) << labelled.status().ToString();
  std::string agent_endpoint = cluster.agent_endpoint();
  std::string api_endpoint = cluster.api_endpoint();
  agent::Agent* agents_before[3] = {cluster.agent(0), cluster.agent(1), cluster.agent(2)};

  ASSERT_TRUE(cluster.RestartCoordinator().ok());
  EXPECT_EQ(cluster.agent_endpoint(), agent_endpoint);  // the same ports
  EXPECT_EQ(cluster.api_endpoint(), api_endpoint);

  // Every host is there at once (from the store), and within the grace period every agent
  // registers again on its own: nobody restarted them.
  ASSERT_TRUE(cluster.WaitForHosts(3, "Ready", Link::kConnected))
      << "hosts did not come back connected after the restart";
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(cluster.agent(i), agents_before[i]);
    EXPECT_TRUE(cluster.WaitForAgentState(i, AgentState::kRegistered)) << i;
  }
  // Registered twice as the coordinator sees it: once before the restart, once after.
  EXPECT_GE(CapturedLogs::Get().Count("host=lab-0 registered (incarnation="), 2u);
  auto lab1 = cluster.Host("lab-1");
  ASSERT_TRUE(lab1.ok());
  EXPECT_TRUE(lab1->locked);
  EXPECT_EQ(lab1->lock_reason, "bad fan");
  EXPECT_TRUE(HasLabel(*cluster.Host("lab-2"), "rack:9"));
  EXPECT_EQ(cluster.Hosts("Dead")->size(), 0u);
}

TEST(Cluster, HostsWhoseAgentsDoNotReturnAfterARestartTurnDead) {
  TestCluster cluster;
  ASSERT_TRUE(cluster.Start().ok());
  ASSERT_TRUE(cluster.WaitForHosts(3, "Ready", Link::kConnected));
  ASSERT_TRUE(cluster.StopCoordinator().ok());
  cluster.StopAgent(2);
  ASSERT_TRUE(cluster.StartCoordinator().ok());
  // lab-2 is loaded as it was stored, then declared Dead once the grace period is over.
  ASSERT_TRUE(cluster.WaitForHostStatus("lab-2", "Dead", Link::kDisconnected));
  ASSERT_TRUE(cluster.WaitForHosts(2, "Ready", Link::kConnected));
}

TEST(Cluster, DeletingAHostDisconnectsItsAgentForGood) {
  TestCluster cluster;
  ASSERT_TRUE(cluster.Start().ok());
  ASSERT_TRUE(cluster.WaitForHosts(3, "Ready", Link::kConnected));
  ASSERT_TRUE(cluster.WaitForAgentState(0, AgentState::kRegistered));
  ASSERT_TRUE(cluster.HostAction("lab-0", "delete").ok());
  ASSERT_TRUE(WaitFor([] {
    return CapturedLogs::Get().Contains("host=lab-0 refused by the coordinator");
  }));
  // It waits a long while before knocking again (and its key is revoked by then).
  EXPECT_TRUE(cluster.WaitForAgentState(0, AgentState::kDisconnected));
  EXPECT_EQ(cluster.Host("lab-0").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(cluster.PendingHosts()->empty());
  EXPECT_EQ(cluster.Hosts()->size(), 2u);
}

}  // namespace
}  // namespace labmesh::testing
