// End to end: agents registering with a real coordinator over Curve on 127.0.0.1 - enrollment
// policy (auto-accept, token, pending + accept/reject), labels, and keys that must not get in.

#include <gtest/gtest.h>

#include <algorithm>

#include "cluster.hpp"

namespace labmesh::testing {
namespace {

bool HasLabel(const nlohmann::json& host, const std::string& label) {
  const auto& labels = host["labels"];
  return std::find(labels.begin(), labels.end(), label) != labels.end();
}

TEST(Registration, ThreeAgentsBecomeReadyWithAutomaticAndAskedForLabels) {
  E2eCluster cluster;
  cluster.StartCoordinator();
  cluster.StartAgent("lab-1", {"--labels", "gpu"});
  cluster.StartAgent("lab-2", {"--labels", "gpu,usb"});
  cluster.StartAgent("lab-3");
  for (const char* name : {"lab-1", "lab-2", "lab-3"}) {
    ASSERT_TRUE(cluster.WaitForStatus(name, "Ready")) << name << "\n" << cluster.coordinator().Log();
  }
  auto hosts = cluster.Hosts();
  ASSERT_EQ(hosts.size(), 3u);
  auto lab2 = *cluster.Host("lab-2");
  EXPECT_TRUE(HasLabel(lab2, "gpu"));
  EXPECT_TRUE(HasLabel(lab2, "usb"));
  EXPECT_TRUE(HasLabel(lab2, "arch:x86_64") || HasLabel(lab2, "arch:aarch64"));
  EXPECT_TRUE(std::any_of(lab2["labels"].begin(), lab2["labels"].end(), [](const auto& l) {
    return l.template get<std::string>().rfind("os:", 0) == 0;
  }));
  EXPECT_TRUE(std::any_of(lab2["labels"].begin(), lab2["labels"].end(), [](const auto& l) {
    return l.template get<std::string>().rfind("cpus:", 0) == 0;
  }));
  EXPECT_FALSE(HasLabel(*cluster.Host("lab-3"), "gpu"));
  EXPECT_EQ(lab2["agent_version"], LABMESH_VERSION);
  EXPECT_TRUE(lab2["last_heartbeat"].is_string());
  // Health arrives with the heartbeats.
  ASSERT_TRUE(WaitFor([&] { return (*cluster.Host("lab-1"))["health"]["mem_total_bytes"] > 0; }));
  EXPECT_GT((*cluster.Host("lab-1"))["health"]["disk_total_bytes"], 0);
  // Label filter.
  auto gpu = cluster.Cli({"--json", "host", "list", "--label", "usb"});
  ASSERT_EQ(gpu.exit_code, 0);
  auto gpu_hosts = nlohmann::json::parse(gpu.out);
  ASSERT_EQ(gpu_hosts.size(), 1u);
  EXPECT_EQ(gpu_hosts[0]["hostname"], "lab-2");
}

TEST(Registration, WithoutTokenAnAgentWaitsUntilAccepted) {
  E2eCluster cluster(std::vector<std::string>{});  // no --auto-accept, no token
  cluster.StartCoordinator();
  cluster.StartAgent("newbie");
  ASSERT_TRUE(WaitFor([&] {
    auto pending = cluster.Cli({"--json", "host", "pending"});
    return pending.exit_code == 0 && nlohmann::json::parse(pending.out).size() == 1;
  })) << cluster.coordinator().Log();
  EXPECT_EQ((*cluster.Host("newbie"))["status"], "Pending Approval");
  EXPECT_EQ(cluster.Hosts().size(), 0u);  // not part of the fleet yet

  auto accepted = cluster.Cli({"host", "accept", "newbie"});
  ASSERT_EQ(accepted.exit_code, 0) << accepted.err;
  // Ready without restarting the agent, and heartbeating.
  ASSERT_TRUE(cluster.WaitForStatus("newbie", "Ready"));
  ASSERT_TRUE(WaitFor([&] { return (*cluster.Host("newbie"))["health"]["uptime_s"] > 0; }));
  EXPECT_TRUE(cluster.agent("newbie").Running());
  EXPECT_NE(cluster.Cli({"host", "accept", "newbie"}).exit_code, 0);  // not pending any more
}

TEST(Registration, ARejectedAgentNeverBecomesReadyAndItsKeyStaysOut) {
  E2eCluster cluster(std::vector<std::string>{});
  cluster.StartCoordinator();
  cluster.StartAgent("intruder");
  ASSERT_TRUE(WaitFor([&] { return cluster.Host("intruder").has_value(); }));
  auto rejected = cluster.Cli({"host", "reject", "intruder"});
  ASSERT_EQ(rejected.exit_code, 0) << rejected.err;
  EXPECT_FALSE(cluster.Host("intruder").has_value());
  // The agent keeps trying (it is not told to stop existing); restart it to be sure it knocks
  // again at once, and check it never comes back, neither pending nor Ready.
  cluster.KillAgent("intruder", SIGKILL);
  cluster.StartAgent("intruder");
  ASSERT_TRUE(WaitFor([&] {
    return cluster.coordinator().Log().find("refused at the Curve handshake") != std::string::npos;
  })) << cluster.coordinator().Log();
  EXPECT_FALSE(cluster.Host("intruder").has_value());
  EXPECT_EQ(cluster.Cli({"--json", "host", "pending"}).out.find("intruder"), std::string::npos);
}

TEST(Registration, TheEnrollTokenAdmitsAtOnceAndAWrongTokenWaits) {
  E2eCluster cluster({"--enroll-token", "s3cret-token"});
  cluster.StartCoordinator();
  cluster.StartAgent("good", {"--enroll-token", "s3cret-token"});
  cluster.StartAgent("bad", {"--enroll-token", "guess"});
  ASSERT_TRUE(cluster.WaitForStatus("good", "Ready"));
  ASSERT_TRUE(cluster.WaitForStatus("bad", "Pending Approval"));
}

TEST(Registration, AnAgentWithTheWrongCoordinatorKeyGetsNothing) {
  E2eCluster cluster;
  cluster.StartCoordinator();
  // A valid Z85 key that is not the coordinator's: the Curve handshake cannot complete.
  std::string wrong = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
  ASSERT_NE(wrong, cluster.public_key());
  cluster.StartAgent("spoof", {"--coordinator-key", wrong});
  cluster.StartAgent("honest");
  ASSERT_TRUE(cluster.WaitForStatus("honest", "Ready"));
  // The honest agent registered after the spoofing one started; give the spoofer a full hello
  // timeout and a retry, observed through its own log, then check it is unknown.
  ASSERT_TRUE(WaitFor([&] {
    return cluster.agent("spoof").Log().find("no answer from") != std::string::npos;
  }));
  EXPECT_FALSE(cluster.Host("spoof").has_value());
}

TEST(Registration, AKnownHostnameFromAnotherKeyIsRefused) {
  E2eCluster cluster;
  cluster.StartCoordinator();
  cluster.StartAgent("lab-1");
  ASSERT_TRUE(cluster.WaitForStatus("lab-1", "Ready"));
  std::string key = (*cluster.Host("lab-1"))["public_key"];
  // Same hostname, different work dir, so a different key pair: a takeover attempt.
  cluster.StartAgent("impostor", {"--hostname", "lab-1", "--work-dir",
                                  cluster.root() + "/impostor"});
  ASSERT_TRUE(WaitFor([&] {
    return cluster.agent("impostor").Log().find("registered with another key") != std::string::npos;
  })) << cluster.agent("impostor").Log();
  EXPECT_EQ((*cluster.Host("lab-1"))["public_key"], key);
  EXPECT_TRUE(cluster.WaitForStatus("lab-1", "Ready"));
}

TEST(Registration, AgentsCannotClaimOrRemoveAdminLabels) {
  E2eCluster cluster;
  cluster.StartCoordinator();
  ASSERT_EQ(cluster.Cli({"label", "create", "pool:prod"}).exit_code, 0);
  // The agent asks for an admin label and fakes an automatic one: both are dropped.
  cluster.StartAgent("lab-1", {"--labels", "pool:prod,arch:sparc,mine"});
  ASSERT_TRUE(cluster.WaitForStatus("lab-1", "Ready"));
  auto host = *cluster.Host("lab-1");
  EXPECT_FALSE(HasLabel(host, "pool:prod"));
  EXPECT_FALSE(HasLabel(host, "arch:sparc"));
  EXPECT_TRUE(HasLabel(host, "mine"));

  // An admin puts it in the pool; an agent restart keeps it there, and the agent's own label
  // cannot be removed by the admin command (it belongs to the agent's configuration).
  auto labelled = cluster.Cli({"host", "label", "lab-1", "--add", "pool:prod,rack:7"});
  ASSERT_EQ(labelled.exit_code, 0) << labelled.err;
  EXPECT_EQ(cluster.Cli({"host", "label", "lab-1", "--remove", "mine"}).exit_code, 1);
  cluster.KillAgent("lab-1", SIGKILL);
  cluster.StartAgent("lab-1", {"--labels", "mine"});
  ASSERT_TRUE(WaitFor([&] {
    auto h = cluster.Host("lab-1");
    return h && (*h)["status"] == "Ready" && (*h)["connected"] == true;
  }));
  host = *cluster.Host("lab-1");
  EXPECT_TRUE(HasLabel(host, "pool:prod"));
  EXPECT_TRUE(HasLabel(host, "rack:7"));
  EXPECT_EQ(host["admin_labels"].size(), 2u);

  ASSERT_EQ(cluster.Cli({"host", "label", "lab-1", "--remove", "rack:7"}).exit_code, 0);
  EXPECT_FALSE(HasLabel(*cluster.Host("lab-1"), "rack:7"));
  // Deleting an admin label takes it off every host.
  ASSERT_EQ(cluster.Cli({"label", "delete", "pool:prod"}).exit_code, 0);
  EXPECT_FALSE(HasLabel(*cluster.Host("lab-1"), "pool:prod"));
}

}  // namespace
}  // namespace labmesh::testing
