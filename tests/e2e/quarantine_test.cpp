// Quarantine end to end (issue 26, docs/quarantine.md): the real coordinator with
// --quarantine auto and three real agents. A control whose test "net" fails only on q-2 (its "NIC" is
// bad while a flag file exists) runs on every host; after three rounds q-2's health score
// reaches the threshold and it is quarantined (status, reason, audit record, `host flaky`) and
// repaired, and stops receiving work while the other hosts keep going. Once the NIC is fixed
// and the probe template exists, a probe job runs on q-2, passes and releases it; it takes
// ordinary work again.

#include <filesystem>

#include "jobs_fixture.hpp"

namespace labmesh::testing {
namespace {

class QuarantineE2e : public JobsE2e {
 protected:
  void SetUp() override {
    for (const char* flag : {"--quarantine=auto", "--health-interval=200ms",
                             "--quarantine-threshold=6", "--quarantine-probes=1",
                             "--quarantine-probe-template=probe"}) {
      cluster_.coordinator_flags().push_back(flag);
    }
    bad_nic_ = cluster_.root() + "/bad-nic";
    WriteFile("bad-nic", "");
    control_ = WriteFile("net.sh",
                         "#!/bin/sh\n"
                         "labmesh-test run net -- sh -c '[ ! -e \"" + bad_nic_ +
                             "\" ] || [ \"$LABMESH_HOST\" != q-2 ]'\n");
  }

  uint64_t RunNet(const std::string& host) {
    return Create({"--name", "net", "--command", "sh " + control_, "--hosts", host});
  }

  std::string bad_nic_;
  std::string control_;
};

TEST_F(QuarantineE2e, TheHostThatFailsAloneIsTakenOutAndComesBackAfterItsProbe) {
  StartCluster({"q-1", "q-2", "q-3"});

  // Three rounds: "net" passes on q-1 and q-3 and fails on q-2 each time.
  for (int round = 0; round < 3; ++round) {
    for (const char* host : {"q-1", "q-2", "q-3"}) {
      uint64_t id = RunNet(host);
      ASSERT_NE(id, 0u);
      // labmesh-test run exits with the test's status: the control fails with it.
      ASSERT_EQ(Wait(id).exit_code, std::string(host) == "q-2" ? 1 : 0) << Show(id).dump(2);
      auto counts = Show(id)["entries"][0]["result_counts"];
      EXPECT_EQ(counts.value(std::string(host) == "q-2" ? "FAIL" : "GOOD", 0), 1) << counts.dump();
    }
  }
  ASSERT_TRUE(cluster_.WaitForStatus("q-2", "Quarantined", Scaled(std::chrono::seconds(20))))
      << cluster_.Host("q-2")->dump(2) << cluster_.coordinator().Log();
  auto shown = cluster_.Host("q-2");
  ASSERT_TRUE(shown);
  EXPECT_EQ((*shown)["quarantine"]["by"], "labmesh");
  std::string reason = (*shown)["quarantine"]["reason"];
  // (Its peers' runs: 5 or 6, as q-3's third run ended before or after the computation.)
  EXPECT_EQ(reason.rfind("health score 6.0 >= 6.0: net failed 3 of 3 here; 0 of ", 0), 0u) << reason;
  EXPECT_NE(reason.find(" failed on 2 peer(s)"), std::string::npos) << reason;
  EXPECT_TRUE((*shown)["suspect"].get<bool>());
  EXPECT_EQ(cluster_.Host("q-1")->value("status", ""), "Ready");

  // host flaky: q-2 first, with its evidence; the others at 0.
  auto flaky = cluster_.Cli({"--json", "host", "flaky"});
  ASSERT_EQ(flaky.exit_code, 0) << flaky.err;
  auto scores = nlohmann::json::parse(flaky.out);
  EXPECT_EQ(scores["mode"], "auto");
  ASSERT_EQ(scores["hosts"].size(), 3u);
  EXPECT_EQ(scores["hosts"][0]["hostname"], "q-2");
  EXPECT_EQ(scores["hosts"][0]["score"], 6.0);
  EXPECT_EQ(scores["hosts"][0]["evidence"][0]["kind"], "lone-failure");
  EXPECT_EQ(scores["hosts"][1]["score"], 0.0);
  auto text = cluster_.Cli({"host", "flaky", "--evidence"});
  EXPECT_NE(text.out.find("+6.0 lone-failure: net failed 3 of 3 here"), std::string::npos)
      << text.out;

  // The audit log says so; the quarantine's repair ran (and passed: it is Quarantined again).
  auto audit = cluster_.Cli({"--json", "audit", "--user", "labmesh"});
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  EXPECT_NE(audit.out.find("HostQuarantine"), std::string::npos) << audit.out;
  ASSERT_TRUE(WaitFor([&] {
    auto history = cluster_.Cli({"--json", "host", "history", "q-2"});
    return history.out.find("\"Repair\"") != std::string::npos &&
           history.out.find("quarantined: health score") != std::string::npos;
  }));
  ASSERT_TRUE(cluster_.WaitForStatus("q-2", "Quarantined"));

  // Work goes around it: label jobs run on q-1 and q-3, a job naming q-2 waits.
  std::string label = "arch:" + (*shown)["facts"]["arch"].get<std::string>();
  std::vector<uint64_t> around;
  for (int i = 0; i < 4; ++i) {
    around.push_back(
        Create({"--name", "around", "--command", "true", "--label", label, "--count", "1"}));
  }
  uint64_t named = RunNet("q-2");
  for (uint64_t id : around) {
    ASSERT_EQ(Wait(id).exit_code, 0) << Show(id).dump(2);
    EXPECT_NE(Show(id)["entries"][0]["host"], "q-2");
  }
  EXPECT_EQ(Show(named)["status"], "Queued");
  auto waiting = Show(named)["entries"][0].value("waiting_for", "");
  EXPECT_NE(waiting.find("Quarantined"), std::string::npos) << waiting;

  // The NIC is fixed and the probe template made: one probe runs on q-2, passes, releases it.
  std::filesystem::remove(bad_nic_);
  auto made = cluster_.Cli({"template", "create", "probe", "--command", "sh " + control_,
                            "--hosts", "q-1"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  ASSERT_TRUE(cluster_.WaitForStatus("q-2", "Ready", Scaled(std::chrono::seconds(30))))
      << cluster_.Host("q-2")->dump(2);
  EXPECT_TRUE(cluster_.Host("q-2")->at("quarantine").is_null());
  audit = cluster_.Cli({"--json", "audit", "--user", "labmesh"});
  EXPECT_NE(audit.out.find("HostQuarantineRelease"), std::string::npos) << audit.out;
  // The job that waited for q-2 runs now, and passes.
  EXPECT_EQ(Wait(named).exit_code, 0) << Show(named).dump(2);
  // Its old failures no longer count: it stays Ready through later computations.
  uint64_t again = RunNet("q-2");
  EXPECT_EQ(Wait(again).exit_code, 0);
  EXPECT_EQ(cluster_.Host("q-2")->value("status", ""), "Ready");
}

}  // namespace
}  // namespace labmesh::testing
