// The agent's state machine (Disconnected, Connecting, Pending, Registered) against an
// in-process coordinator (TestCluster). Every move is logged by the one writer of the state,
// so the order of moves is read from the captured log; waits have deadlines.

#include <gtest/gtest.h>
#include <zmq.h>

#include <algorithm>
#include <string>
#include <vector>

#include "labmesh/agent/agent.hpp"
#include "test_cluster.hpp"

namespace labmesh::testing {
namespace {

using agent::AgentState;
using Link = TestCluster::Link;

// The logged state moves of `hostname`, e.g. "Disconnected -> Connecting", oldest first.
std::vector<std::string> Moves(const std::string& hostname) {
  std::vector<std::string> moves;
  std::string marker = "host=" + hostname + " agent ";
  for (const std::string& line : CapturedLogs::Get().Lines(marker)) {
    std::string rest = line.substr(line.find(marker) + marker.size());
    moves.push_back(rest.substr(0, rest.find(" (")));
  }
  return moves;
}

// The state is stored before its move is logged: wait for the log line, not only the state.
bool WaitForMoves(const std::string& hostname, size_t n) {
  return WaitFor([&] { return Moves(hostname).size() >= n; });
}

std::string OtherCurveKey() {
  char public_key[41] = {};
  char secret_key[41] = {};
  EXPECT_EQ(zmq_curve_keypair(public_key, secret_key), 0);
  return public_key;
}

TestClusterOptions NoAgents() {
  TestClusterOptions options;
  options.agents = 0;
  return options;
}

TEST(AgentState, ANewAgentStartsDisconnectedWithItsOwnKey) {
  TempDir tmp;
  agent::AgentConfig config;
  config.coordinator = "tcp://127.0.0.1:1";
  config.coordinator_key = OtherCurveKey();
  config.hostname = "lab-x";
  config.peer_listen = "tcp://127.0.0.1:0";
  config.work_dir = tmp.path() + "/work";
  auto created = agent::Agent::Create(config, SystemClock::Default());
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ((*created)->state(), AgentState::kDisconnected);
  EXPECT_EQ((*created)->hostname(), "lab-x");
  EXPECT_EQ((*created)->public_key().size(), 40u);
  // The key pair lives in the work dir and is the same at the next start.
  std::string key = (*created)->public_key();
  created = agent::Agent::Create(config, SystemClock::Default());
  ASSERT_TRUE(created.ok());
  EXPECT_EQ((*created)->public_key(), key);
  EXPECT_EQ(AgentStateName(AgentState::kRegistered), "Registered");
}

TEST(AgentState, AnAgentNeedsAValidCoordinatorKey) {
  TempDir tmp;
  agent::AgentConfig config;
  config.work_dir = tmp.path() + "/work";
  config.hostname = "lab-x";
  // Empty, too short, and 40 characters that are not all Z85.
  for (const std::string& key : {std::string(), std::string("short"), std::string(39, 'a') + " "}) {
    config.coordinator_key = key;
    auto created = agent::Agent::Create(config, SystemClock::Default());
    EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument) << key;
  }
}

TEST(AgentState, ConnectsAndRegisters) {
  TestCluster cluster(NoAgents());
  ASSERT_TRUE(cluster.Start().ok());
  auto added = cluster.AddAgent();
  ASSERT_TRUE(added.ok());
  ASSERT_TRUE(cluster.WaitForAgentState(*added, AgentState::kRegistered));
  ASSERT_TRUE(WaitForMoves("lab-0", 2));
  std::vector<std::string> moves = Moves("lab-0");
  EXPECT_EQ(moves[0], "Disconnected -> Connecting");
  EXPECT_EQ(moves[1], "Connecting -> Registered");
  ASSERT_TRUE(cluster.WaitForHostStatus("lab-0", "Ready", Link::kConnected));
}

TEST(AgentState, WithoutATokenItWaitsPendingUntilAccepted) {
  TestClusterOptions options = NoAgents();
  options.auto_accept = false;
  options.enroll_token = "s3cret";
  TestCluster cluster(options);
  ASSERT_TRUE(cluster.Start().ok());
  ASSERT_TRUE(cluster.AddAgent().ok());  // lab-0: no token
  auto with_token = cluster.AddAgent([](agent::AgentConfig& c) { c.enroll_token = "s3cret"; });
  ASSERT_TRUE(with_token.ok());

  ASSERT_TRUE(cluster.WaitForAgentState(0, AgentState::kPending));
  ASSERT_TRUE(cluster.WaitForAgentState(1, AgentState::kRegistered));
  ASSERT_TRUE(WaitForMoves("lab-1", 2));
  std::vector<std::string> lab1 = Moves("lab-1");
  EXPECT_EQ(lab1[0], "Disconnected -> Connecting");
  EXPECT_EQ(lab1[1], "Connecting -> Registered");  // straight in: never Pending
  auto pending = cluster.PendingHosts();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].hostname, "lab-0");

  ASSERT_TRUE(cluster.HostAction("lab-0", "accept").ok());
  ASSERT_TRUE(cluster.WaitForAgentState(0, AgentState::kRegistered));
  ASSERT_TRUE(WaitForMoves("lab-0", 3));
  std::vector<std::string> moves = Moves("lab-0");
  EXPECT_EQ(moves[0], "Disconnected -> Connecting");
  EXPECT_EQ(moves[1], "Connecting -> Pending");
  EXPECT_EQ(moves[2], "Pending -> Registered");
  ASSERT_TRUE(cluster.WaitForHosts(2, "Ready", Link::kConnected));
}

TEST(AgentState, RegisteredAgainAfterACoordinatorRestart) {
  TestClusterOptions options = NoAgents();
  options.agents = 1;
  TestCluster cluster(options);
  ASSERT_TRUE(cluster.Start().ok());
  ASSERT_TRUE(cluster.WaitForAgentState(0, AgentState::kRegistered));
  agent::Agent* before = cluster.agent(0);

  ASSERT_TRUE(cluster.RestartCoordinator().ok());
  // The agent leaves Registered (asked for a hello, or the coordinator fell silent) and comes
  // back to it by itself; the new coordinator saw a second registration.
  ASSERT_TRUE(WaitFor([] {
    return CapturedLogs::Get().Count("host=lab-0 registered (incarnation=") >= 2;
  }));
  ASSERT_TRUE(cluster.WaitForAgentState(0, AgentState::kRegistered));
  ASSERT_TRUE(cluster.WaitForHostStatus("lab-0", "Ready", Link::kConnected));
  EXPECT_EQ(cluster.agent(0), before);
  // Out of Registered and back into it, as logged by the state's one writer.
  ASSERT_TRUE(WaitFor([] {
    std::vector<std::string> moves = Moves("lab-0");
    bool left = std::any_of(moves.begin(), moves.end(), [](const std::string& m) {
      return m.rfind("Registered -> ", 0) == 0;
    });
    return left && moves.back().find("-> Registered") != std::string::npos;
  })) << ::testing::PrintToString(Moves("lab-0"));
}

TEST(AgentState, KeepsTryingUntilTheCoordinatorIsThere) {
  TestCluster cluster(NoAgents());
  ASSERT_TRUE(cluster.StartCoordinator().ok());
  ASSERT_TRUE(cluster.StopCoordinator().ok());
  auto added = cluster.AddAgent([](agent::AgentConfig& c) { c.hello_timeout_ms = 300; });
  ASSERT_TRUE(added.ok());
  ASSERT_TRUE(WaitFor([] { return CapturedLogs::Get().Count("host=lab-0 no answer from") >= 2; }));
  AgentState state = cluster.agent(0)->state();
  EXPECT_TRUE(state == AgentState::kConnecting || state == AgentState::kDisconnected)
      << AgentStateName(state);

  ASSERT_TRUE(cluster.StartCoordinator().ok());
  ASSERT_TRUE(cluster.WaitForAgentState(0, AgentState::kRegistered));
  ASSERT_TRUE(cluster.WaitForHostStatus("lab-0", "Ready", Link::kConnected));
}

TEST(AgentState, AnAgentWithTheWrongCoordinatorKeyNeverGetsIn) {
  TestCluster cluster(NoAgents());
  ASSERT_TRUE(cluster.Start().ok());
  std::string wrong = OtherCurveKey();
  ASSERT_NE(wrong, cluster.coordinator_key());
  auto spoof = cluster.AddAgent([&](agent::AgentConfig& c) {
    c.hostname = "spoof";
    c.coordinator_key = wrong;
    c.hello_timeout_ms = 300;
  });
  ASSERT_TRUE(spoof.ok());
  auto honest = cluster.AddAgent();
  ASSERT_TRUE(honest.ok());
  ASSERT_TRUE(cluster.WaitForAgentState(*honest, AgentState::kRegistered));

  // Two full hello timeouts, each followed by a fresh connection: the handshake never completes.
  ASSERT_TRUE(WaitFor([] { return CapturedLogs::Get().Count("host=spoof no answer from") >= 2; }));
  AgentState state = cluster.agent(*spoof)->state();
  EXPECT_TRUE(state == AgentState::kConnecting || state == AgentState::kDisconnected)
      << AgentStateName(state);
  for (const std::string& move : Moves("spoof")) {
    EXPECT_TRUE(move == "Disconnected -> Connecting" || move == "Connecting -> Disconnected")
        << move;
  }
  EXPECT_EQ(cluster.Host("spoof").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(cluster.PendingHosts()->empty());
  EXPECT_EQ(cluster.Hosts()->size(), 1u);
}

}  // namespace
}  // namespace labmesh::testing
