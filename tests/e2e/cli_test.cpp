// End to end: the `labmesh` client's outputs and exit codes (CLI.md) against a real coordinator.

#include <gtest/gtest.h>

#include <chrono>

#include "cluster.hpp"

namespace labmesh::testing {
namespace {

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.StartCoordinator();
    cluster_.StartAgent("lab-1", {"--labels", "gpu"});
    cluster_.StartAgent("lab-2");
    ASSERT_TRUE(cluster_.WaitForStatus("lab-1", "Ready"));
    ASSERT_TRUE(cluster_.WaitForStatus("lab-2", "Ready"));
  }
  E2eCluster cluster_;
};

TEST_F(Cli, HostListPrintsATableForPeopleAndJsonForScripts) {
  auto table = cluster_.Cli({"host", "list"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.out.rfind("HOSTNAME", 0), 0u);
  EXPECT_NE(table.out.find("lab-1"), std::string::npos);
  EXPECT_NE(table.out.find("Ready"), std::string::npos);

  auto json = cluster_.Cli({"--json", "host", "list"});
  ASSERT_EQ(json.exit_code, 0);
  auto hosts = nlohmann::json::parse(json.out);
  ASSERT_TRUE(hosts.is_array());
  ASSERT_EQ(hosts.size(), 2u);
  for (const char* field :
       {"hostname", "status", "locked", "labels", "agent_version", "last_heartbeat"}) {
    EXPECT_TRUE(hosts[0].contains(field)) << field;
  }
  auto ready = cluster_.Cli({"--json", "host", "list", "--status", "Ready"});
  EXPECT_EQ(nlohmann::json::parse(ready.out).size(), 2u);
  auto dead = cluster_.Cli({"--json", "host", "list", "--status", "dead"});
  EXPECT_EQ(nlohmann::json::parse(dead.out).size(), 0u);
  auto repair_failed = cluster_.Cli({"--json", "host", "list", "--status", "repair-failed"});
  EXPECT_EQ(repair_failed.exit_code, 0);
  EXPECT_EQ(cluster_.Cli({"host", "list", "--status", "Sleepy"}).exit_code, 1);
}

TEST_F(Cli, HostShowGivesOneObjectAndExitOneForAnUnknownHost) {
  auto show = cluster_.Cli({"--json", "host", "show", "lab-1"});
  ASSERT_EQ(show.exit_code, 0);
  auto host = nlohmann::json::parse(show.out);
  EXPECT_TRUE(host.is_object());
  EXPECT_EQ(host["hostname"], "lab-1");
  EXPECT_GT(host["facts"]["cpus"], 0);
  auto text = cluster_.Cli({"host", "show", "lab-1"});
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("cpus"), std::string::npos);
  EXPECT_NE(text.out.find("lab-1"), std::string::npos);
  auto missing = cluster_.Cli({"host", "show", "nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("not found"), std::string::npos);
}

TEST_F(Cli, LockNeedsAReasonAndUnlockRestores) {
  EXPECT_EQ(cluster_.Cli({"host", "lock", "lab-1"}).exit_code, 2);  // --reason is required
  auto lock = cluster_.Cli({"--user", "alice", "host", "lock", "lab-1", "--reason", "flaky disk"});
  ASSERT_EQ(lock.exit_code, 0) << lock.err;
  auto host = *cluster_.Host("lab-1");
  EXPECT_EQ(host["locked"], true);
  EXPECT_EQ(host["locked_by"], "alice");
  EXPECT_EQ(host["lock_reason"], "flaky disk");
  EXPECT_EQ(cluster_.Cli({"host", "lock", "lab-1", "--reason", "again"}).exit_code, 1);
  ASSERT_EQ(cluster_.Cli({"host", "unlock", "lab-1"}).exit_code, 0);
  EXPECT_EQ((*cluster_.Host("lab-1"))["locked"], false);
  EXPECT_EQ(cluster_.Cli({"host", "unlock", "lab-1"}).exit_code, 1);
}

TEST_F(Cli, LabelCommands) {
  ASSERT_EQ(cluster_.Cli({"label", "create", "team:red"}).exit_code, 0);
  EXPECT_EQ(cluster_.Cli({"label", "create", "team:red"}).exit_code, 1);  // exists
  EXPECT_EQ(cluster_.Cli({"label", "create", "bad label!"}).exit_code, 1);
  EXPECT_EQ(cluster_.Cli({"label", "create", "arch:mips"}).exit_code, 1);  // reserved prefix
  auto list = cluster_.Cli({"--json", "label", "list"});
  ASSERT_EQ(list.exit_code, 0);
  auto labels = nlohmann::json::parse(list.out);
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& l : labels) by_name[l["name"]] = l;
  ASSERT_TRUE(by_name.count("team:red"));
  EXPECT_EQ(by_name["team:red"]["kind"], "admin");
  ASSERT_TRUE(by_name.count("gpu"));
  EXPECT_EQ(by_name["gpu"]["kind"], "agent");
  EXPECT_EQ(by_name["gpu"]["hosts"], 1);
  ASSERT_TRUE(by_name.count("arch:x86_64") || by_name.count("arch:aarch64"));

  auto labelled = cluster_.Cli({"host", "label", "lab-2", "--add", "team:red"});
  ASSERT_EQ(labelled.exit_code, 0) << labelled.err;
  auto red = nlohmann::json::parse(cluster_.Cli({"--json", "host", "list", "--label", "team:red"}).out);
  ASSERT_EQ(red.size(), 1u);
  EXPECT_EQ(red[0]["hostname"], "lab-2");
  EXPECT_EQ(cluster_.Cli({"host", "label", "lab-2"}).exit_code, 2);  // nothing to change
  EXPECT_EQ(cluster_.Cli({"host", "label", "nope", "--add", "x"}).exit_code, 1);
  ASSERT_EQ(cluster_.Cli({"label", "delete", "team:red"}).exit_code, 0);
  EXPECT_EQ(cluster_.Cli({"label", "delete", "team:red"}).exit_code, 1);
  EXPECT_EQ(cluster_.Cli({"label", "delete", "gpu"}).exit_code, 1);  // the agent's, not admin's
}

TEST_F(Cli, UsageErrorsExitTwoAndHelpExitsZero) {
  EXPECT_EQ(RunCommand({CliBinary()}).exit_code, 2);
  EXPECT_EQ(RunCommand({CliBinary(), "host"}).exit_code, 2);
  EXPECT_EQ(RunCommand({CliBinary(), "host", "frobnicate"}).exit_code, 2);
  EXPECT_EQ(RunCommand({CliBinary(), "--bogus-flag", "host", "list"}).exit_code, 2);
  EXPECT_EQ(RunCommand({CliBinary(), "host", "show"}).exit_code, 2);  // NAME missing
  auto help = RunCommand({CliBinary(), "host", "list", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--status"), std::string::npos);
  EXPECT_EQ(RunCommand({CliBinary(), "--version"}).exit_code, 0);
  EXPECT_EQ(RunCommand({CoordinatorBinary(), "--no-such-flag"}).exit_code, 2);
  EXPECT_EQ(RunCommand({CoordinatorBinary(), "--dead-after", "soon"}).exit_code, 2);
  EXPECT_EQ(RunCommand({AgentBinary(), "--hostname", "x"}).exit_code, 2);  // key missing
  EXPECT_EQ(RunCommand({AgentBinary(), "--coordinator-key", "not-a-key"}).exit_code, 2);
}

TEST_F(Cli, TheApiAddressAndTokenComeFromTheEnvironment) {
  auto result = RunCommand({CliBinary(), "--json", "host", "list"}, std::chrono::seconds(30),
                           {{"LABMESH_API", cluster_.api_endpoint()},
                            {"LABMESH_TOKEN", cluster_.AdminToken()},
                            {"LABMESH_CREDENTIALS", "none"}});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(nlohmann::json::parse(result.out).size(), 2u);
}

TEST(CliUnreachable, ExitsThreeWithinSecondsWhenNoCoordinatorListens) {
  // A port nobody listens on: bind one, learn its number, close it.
  E2eCluster cluster;
  cluster.StartCoordinator();
  std::string api = cluster.api_endpoint();
  cluster.StopCoordinator(SIGTERM);
  auto result = RunCommand({CliBinary(), "--api", api, "--timeout", "2s", "host", "list"},
                           std::chrono::seconds(20));
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_NE(result.err.find("not reachable"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace labmesh::testing
