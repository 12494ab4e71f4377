// End to end: the host lifecycle (docs/lifecycle.md) with real agents running verify / repair
// scripts written by the test - verify, repair, Repair Failed, verify before a run, protection
// levels, lost hosts with and without --retry, a verify script that hangs.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "jobs_fixture.hpp"

namespace labmesh::testing {
namespace {

class HostTasksE2e : public JobsE2e {
 protected:
  // Writes an executable script `name` into the host's verify/repair/cleanup directory.
  void Script(const std::string& host, const std::string& kind, const std::string& name,
              const std::string& body) {
    std::string dir = cluster_.ScriptDir(host, kind);
    std::filesystem::create_directories(dir);
    std::string path = dir + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    ASSERT_EQ(chmod(path.c_str(), 0755), 0);
  }

  nlohmann::json History(const std::string& host) {
    auto shown = cluster_.Cli({"--json", "host", "history", host});
    EXPECT_EQ(shown.exit_code, 0) << shown.err;
    return shown.exit_code == 0 ? nlohmann::json::parse(shown.out) : nlohmann::json::array();
  }

  // The newest task of `kind` in the host's history that has ended, or null.
  nlohmann::json LastEnded(const std::string& host, const std::string& kind) {
    for (const auto& item : History(host)) {
      if (item["type"] == "task" && item["name"] == kind && item["status"] != "Queued" &&
          item["status"] != "Running") {
        return item;
      }
    }
    return nullptr;
  }

  bool WaitForTask(const std::string& host, const std::string& kind, const std::string& status) {
    return WaitFor([&] {
      auto task = LastEnded(host, kind);
      return !task.is_null() && task["status"] == status;
    });
  }

  static bool HasCheck(const nlohmann::json& task, const std::string& prefix) {
    for (const auto& check : task["checks"]) {
      if (check["name"].get<std::string>().rfind(prefix, 0) == 0) return true;
    }
    return false;
  }

  std::string Flag(const std::string& name) { return cluster_.root() + "/" + name; }
};

// A verify script that fails, a repair script that mends what it wants: Ready again, and the
// history tells the story check by check.
TEST_F(HostTasksE2e, RepairScriptFixesWhatVerifyFoundAndTheHostIsReady) {
  StartCluster({"lab-1"});
  Script("lab-1", "verify", "10-flag",
         "test -f " + Flag("ok") + " || { echo 'the ok file is missing'; exit 1; }");
  Script("lab-1", "repair", "10-fix", "touch " + Flag("ok"));
  auto asked = cluster_.Cli({"host", "verify", "lab-1"});
  ASSERT_EQ(asked.exit_code, 0) << asked.err;
  EXPECT_NE(asked.out.find("Verify task"), std::string::npos) << asked.out;

  ASSERT_TRUE(WaitForTask("lab-1", "Repair", "Completed")) << cluster_.coordinator().Log();
  ASSERT_TRUE(cluster_.WaitForStatus("lab-1", "Ready"));
  auto verify = LastEnded("lab-1", "Verify");
  EXPECT_EQ(verify["status"], "Failed");
  bool found = false;
  for (const auto& check : verify["checks"]) {
    if (check["name"] == "verify.d/10-flag") {
      found = true;
      EXPECT_FALSE(check["passed"].get<bool>());
      EXPECT_NE(check["output"].get<std::string>().find("the ok file is missing"),
                std::string::npos);
    }
  }
  EXPECT_TRUE(found) << verify.dump();
  auto repair = LastEnded("lab-1", "Repair");
  EXPECT_TRUE(HasCheck(repair, "repair.d/10-fix")) << repair.dump();
  EXPECT_TRUE(HasCheck(repair, "verify.d/10-flag"));  // verified again after the repair
  EXPECT_TRUE(std::filesystem::exists(Flag("ok")));
  auto host = *cluster_.Host("lab-1");
  EXPECT_EQ(host["last_task"]["kind"], "Repair");
  EXPECT_EQ(host["last_task"]["status"], "Completed");
}

// A repair that cannot fix: Repair Failed, no work for that host; label jobs go elsewhere.
TEST_F(HostTasksE2e, HostThatCannotBeRepairedGetsNoWork) {
  StartCluster({"lab-1", "lab-2"}, {{"lab-1", {"--labels", "pool"}}, {"lab-2", {"--labels", "pool"}}});
  Script("lab-1", "verify", "10-broken", "echo 'disk is gone'; exit 1");
  ASSERT_EQ(cluster_.Cli({"host", "verify", "lab-1"}).exit_code, 0);
  ASSERT_TRUE(cluster_.WaitForStatus("lab-1", "Repair Failed")) << cluster_.coordinator().Log();
  EXPECT_EQ(LastEnded("lab-1", "Repair")["status"], "Failed");

  uint64_t id = Create({"--name", "pool", "--command", "true", "--label", "pool", "--count", "1"});
  ASSERT_NE(id, 0u);
  ASSERT_EQ(Wait(id).exit_code, 0);
  EXPECT_EQ(Show(id)["entries"][0]["host"], "lab-2");
  EXPECT_EQ((*cluster_.Host("lab-1"))["status"], "Repair Failed");
}

// --run-verify on a host whose verify fails: the entry moves to a healthy host.
TEST_F(HostTasksE2e, RunVerifyEntryMovesOffAHostThatFailsItsVerify) {
  StartCluster({"lab-1", "lab-2"}, {{"lab-1", {"--labels", "pool"}}, {"lab-2", {"--labels", "pool"}}});
  Script("lab-1", "verify", "10-broken", "exit 1");
  ASSERT_EQ(cluster_.Cli({"host", "lock", "lab-2", "--reason", "not yet"}).exit_code, 0);
  uint64_t id = Create({"--name", "verified", "--command", "echo ran", "--label", "pool",
                        "--count", "1", "--run-verify"});
  ASSERT_NE(id, 0u);
  // lab-1 is the only host: it is verified for the entry, fails, and goes to repair.
  ASSERT_TRUE(WaitForTask("lab-1", "Verify", "Failed")) << cluster_.coordinator().Log();
  ASSERT_EQ(cluster_.Cli({"host", "unlock", "lab-2"}).exit_code, 0);
  ASSERT_EQ(Wait(id).exit_code, 0) << cluster_.coordinator().Log();
  auto job = Show(id);
  EXPECT_EQ(job["entries"][0]["host"], "lab-2");
  auto verify1 = LastEnded("lab-1", "Verify");
  EXPECT_EQ(verify1["job_id"], id);
  auto verify2 = LastEnded("lab-2", "Verify");
  EXPECT_EQ(verify2["status"], "Completed");
  EXPECT_EQ(verify2["job_id"], id);
}

TEST_F(HostTasksE2e, EachProtectionLevelChangesWhatRuns) {
  StartCluster({"soft", "no-repair", "no-verify"});
  for (const char* host : {"soft", "no-repair", "no-verify"}) {
    Script(host, "verify", "10-broken", "exit 1");
    Script(host, "repair", "10-mark", std::string("touch ") + Flag(std::string(host) + ".repaired"));
  }
  ASSERT_EQ(cluster_.Cli({"host", "mod", "soft", "--protection", "repair-software-only"}).exit_code, 0);
  ASSERT_EQ(cluster_.Cli({"host", "mod", "no-repair", "--protection", "do-not-repair"}).exit_code, 0);
  ASSERT_EQ(cluster_.Cli({"host", "mod", "no-verify", "--protection", "do-not-verify"}).exit_code, 0);
  EXPECT_EQ((*cluster_.Host("no-repair"))["protection"], "do-not-repair");

  // repair-software-only: the repair runs its built-in actions but not repair.d.
  ASSERT_EQ(cluster_.Cli({"host", "verify", "soft"}).exit_code, 0);
  ASSERT_TRUE(WaitForTask("soft", "Repair", "Failed")) << cluster_.coordinator().Log();
  auto repair = LastEnded("soft", "Repair");
  EXPECT_TRUE(HasCheck(repair, "kill-leftovers")) << repair.dump();
  EXPECT_FALSE(HasCheck(repair, "repair.d/"));
  EXPECT_FALSE(std::filesystem::exists(Flag("soft.repaired")));

  // do-not-repair: Repair Failed straight after the failed verify; repair by hand refused.
  ASSERT_EQ(cluster_.Cli({"host", "verify", "no-repair"}).exit_code, 0);
  ASSERT_TRUE(cluster_.WaitForStatus("no-repair", "Repair Failed"));
  EXPECT_TRUE(LastEnded("no-repair", "Repair").is_null());
  EXPECT_EQ(cluster_.Cli({"host", "repair", "no-repair"}).exit_code, 1);

  // do-not-verify: verify by hand refused; a --run-verify job runs without a verify.
  EXPECT_EQ(cluster_.Cli({"host", "verify", "no-verify"}).exit_code, 1);
  uint64_t id = Create({"--name", "nv", "--command", "true", "--hosts", "no-verify", "--run-verify"});
  ASSERT_NE(id, 0u);
  ASSERT_EQ(Wait(id).exit_code, 0);
  EXPECT_TRUE(LastEnded("no-verify", "Verify").is_null());
  // ... and a repair by hand runs repair.d but no verify after it: it passes.
  ASSERT_EQ(cluster_.Cli({"host", "repair", "no-verify"}).exit_code, 0);
  ASSERT_TRUE(WaitForTask("no-verify", "Repair", "Completed"));
  auto nv_repair = LastEnded("no-verify", "Repair");
  EXPECT_TRUE(HasCheck(nv_repair, "repair.d/10-mark"));
  EXPECT_FALSE(HasCheck(nv_repair, "verify.d/"));
  EXPECT_TRUE(std::filesystem::exists(Flag("no-verify.repaired")));
}

// An agent killed during an entry: without --retry the entry fails "host lost"; with --retry 1
// it is queued again and completes elsewhere; the host that returns is repaired before Ready.
TEST_F(HostTasksE2e, AgentKilledDuringAnEntryFailsOrRetriesAndIsRepairedOnReturn) {
  StartCluster({"lab-1", "lab-2"}, {{"lab-1", {"--labels", "pool"}}, {"lab-2", {"--labels", "pool"}}});
  uint64_t lost = Create({"--name", "lost", "--command", "sleep 30", "--hosts", "lab-1"});
  ASSERT_NE(lost, 0u);
  ASSERT_TRUE(WaitForEntryStatus(lost, "Running"));
  cluster_.KillAgent("lab-1", SIGKILL);
  ASSERT_TRUE(WaitForJobStatus(lost, "Failed")) << cluster_.coordinator().Log();
  std::string reason = Show(lost)["entries"][0]["reason"];
  EXPECT_EQ(reason.rfind("host lost", 0), 0u) << reason;

  cluster_.StartAgent("lab-1", {"--labels", "pool"});
  ASSERT_TRUE(cluster_.WaitForStatus("lab-1", "Ready"));
  auto back = LastEnded("lab-1", "Repair");
  ASSERT_FALSE(back.is_null()) << History("lab-1").dump();
  EXPECT_EQ(back["status"], "Completed");
  EXPECT_NE(back["reason"].get<std::string>().find("came back"), std::string::npos) << back.dump();
  // The orphaned `sleep 30` of the lost entry was a leftover the repair killed.
  EXPECT_TRUE(HasCheck(back, "kill-leftovers"));

  // Now with --retry 1: whichever host runs it is killed; the other one completes it. The
  // control runs until the test has killed the first agent (the flag file), so it cannot finish
  // before the kill on a slow machine (a fixed `sleep 2` could); after 60 s without the flag it
  // fails, and so does the test.
  std::string killed = Flag("first-agent-killed");
  std::string control = "i=0; while [ ! -e " + killed + " ] && [ $i -lt 600 ]; do sleep 0.1; " +
                        "i=$((i+1)); done; test -e " + killed;
  uint64_t retried = Create({"--name", "retried", "--command", control, "--label", "pool",
                             "--count", "1", "--retry", "1"});
  ASSERT_NE(retried, 0u);
  ASSERT_TRUE(WaitForEntryStatus(retried, "Running"));
  std::string first = Show(retried)["entries"][0]["host"];
  cluster_.KillAgent(first, SIGKILL);
  std::ofstream(killed).close();
  ASSERT_TRUE(WaitForJobStatus(retried, "Completed", std::chrono::seconds(40)))
      << cluster_.coordinator().Log();
  auto entry = Show(retried)["entries"][0];
  EXPECT_NE(entry["host"], first);
  EXPECT_EQ(entry["retries"], 1);
}

// A verify script that hangs is killed at its timeout and counts as failed.
TEST_F(HostTasksE2e, HangingVerifyScriptIsKilledAtItsTimeout) {
  StartCluster({"lab-1"}, {{"lab-1", {"--script-timeout", "500ms"}}});
  Script("lab-1", "verify", "10-hang", "sleep 100");
  ASSERT_EQ(cluster_.Cli({"host", "verify", "lab-1"}).exit_code, 0);
  ASSERT_TRUE(WaitForTask("lab-1", "Verify", "Failed")) << cluster_.coordinator().Log();
  auto verify = LastEnded("lab-1", "Verify");
  bool killed = false;
  for (const auto& check : verify["checks"]) {
    if (check["name"] == "verify.d/10-hang") {
      EXPECT_FALSE(check["passed"].get<bool>());
      killed = check["output"].get<std::string>().find("timeout") != std::string::npos;
    }
  }
  EXPECT_TRUE(killed) << verify.dump();
  // The repair that follows verifies again, which hangs again: Repair Failed.
  ASSERT_TRUE(cluster_.WaitForStatus("lab-1", "Repair Failed"));
}

}  // namespace
}  // namespace labmesh::testing
