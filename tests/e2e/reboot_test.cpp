// Reboots inside a job, unexpected reboots and crash collection (issue 21, docs/kernel-lab.md),
// on a real coordinator and agent. "Rebooting" here is what the agent sees of a reboot: the
// reboot command (--reboot-command) writes a new boot id into the agent's --boot-id-file and
// stops the agent; a supervisor loop starts it again, as systemd would after the boot, and may
// be held closed (a gate file) to keep the host "down".

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "browser.hpp"
#include "cluster.hpp"
#include "jobs_fixture.hpp"

namespace labmesh::testing {
namespace {

class Reboots : public JobsE2e {
 protected:
  void SetUp() override {
    boot_id_ = WriteFile("boot_id", "boot-0\n");
    gate_ = cluster_.root() + "/gate";
    stop_ = cluster_.root() + "/stop";
    pstore_ = cluster_.root() + "/pstore";
    crash_dir_ = cluster_.root() + "/crash";
    std::filesystem::create_directories(pstore_);
    std::filesystem::create_directories(crash_dir_);
    // The agent again after every exit, as systemd restarts it after a boot; while the gate
    // file is missing the host stays down (held = 1 makes it wait).
    supervisor_ = WriteFile("supervise.sh",
                            "#!/bin/sh\n"
                            "while [ ! -e '" + stop_ + "' ]; do\n"
                            "  \"$@\" &\n"
                            "  echo $! >'" + cluster_.root() + "/agent.pid'\n"
                            "  wait $!\n"
                            "  while [ -e '" + cluster_.root() + "/held' ] && [ ! -e '" + gate_ +
                                "' ]; do sleep 0.05; done\n"
                            "  rm -f '" + gate_ + "'\n"
                            "done\n");
    // A new boot id, then the agent is stopped: what a machine's reboot looks like to it.
    reboot_ = WriteFile("reboot.sh",
                        "#!/bin/sh\n"
                        "n=$(cat '" + boot_id_ + "' | tr -dc 0-9)\n"
                        "echo \"boot-$((n + 1))\" >'" + boot_id_ + "'\n"
                        "echo rebooting >>'" + cluster_.root() + "/reboots'\n"
                        "kill -TERM $(cat '" + cluster_.root() + "/agent.pid')\n");
    cluster_.StartCoordinator();
    cluster_.StartAgentWrapped("lab1", {"/bin/sh", supervisor_},
                               {"--reboot-command", "sh " + reboot_, "--boot-id-file", boot_id_,
                                "--pstore-dir", pstore_, "--crash-dir", crash_dir_});
    ASSERT_TRUE(cluster_.WaitForStatus("lab1", "Ready"));
  }
  void TearDown() override { std::ofstream(stop_) << ""; }

  std::vector<std::string> Statuses(const nlohmann::json& entry) {
    std::vector<std::string> out;
    for (const auto& h : entry["history"]) out.push_back(h["status"].get<std::string>());
    return out;
  }

  std::string boot_id_, gate_, stop_, supervisor_, reboot_, pstore_, crash_dir_;
};

// Two reboots in one control with tests before, between and after: each test runs once, on the
// boot it belongs to, and the job completes.
TEST_F(Reboots, TwoRebootsInOneControl) {
  std::string control = WriteFile(
      "two-reboots.sh",
      "#!/bin/sh\n"
      "labmesh-test run before -- cat '" + boot_id_ + "'\n"
      "labmesh-test reboot --timeout 60s || exit 1\n"
      "labmesh-test run between -- cat '" + boot_id_ + "'\n"
      "labmesh-test reboot --timeout 60s || exit 1\n"
      "labmesh-test run after -- sh -c 'cat \"" + boot_id_ + "\"; echo count=$LABMESH_BOOT_COUNT'\n");
  uint64_t id = Create({"--name", "two-reboots", "--control", control, "--hosts", "lab1"});
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(WaitForJobStatus(id, "Completed", Scaled(std::chrono::seconds(60))))
      << Show(id).dump(2) << cluster_.agent("lab1").Log();
  nlohmann::json entry = Show(id)["entries"][0];
  EXPECT_EQ(entry["boot_count"], 2);
  auto statuses = Statuses(entry);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), "Rebooting"), 2) << entry.dump(2);
  std::string dir = ResultsDir(entry);
  EXPECT_EQ(ReadFile(dir + "/before/output.log"), "boot-0\n");
  EXPECT_EQ(ReadFile(dir + "/between/output.log"), "boot-1\n");
  EXPECT_EQ(ReadFile(dir + "/after/output.log"), "boot-2\ncount=2\n");
  // Each test once; Autotest's reboot groups, each with the kernel that came up.
  std::string status_log = ReadFile(dir + "/status.log");
  for (const char* name : {"before", "between", "after"}) {
    std::string end = std::string("END GOOD\t----\t") + name + "\t";
    size_t first = status_log.find(end);
    EXPECT_NE(first, std::string::npos) << status_log;
    EXPECT_EQ(status_log.find(end, first + 1), std::string::npos) << status_log;
  }
  size_t reboots = 0;
  for (size_t at = status_log.find("END GOOD\t----\treboot\t"); at != std::string::npos;
       at = status_log.find("END GOOD\t----\treboot\t", at + 1)) {
    ++reboots;
  }
  EXPECT_EQ(reboots, 2u) << status_log;
  EXPECT_NE(status_log.find("reboot.verify\ttimestamp="), std::string::npos);
  std::string keyval = ReadFile(dir + "/keyval");
  EXPECT_NE(keyval.find("boot1.kernel="), std::string::npos) << keyval;
  EXPECT_NE(keyval.find("boot2.kernel="), std::string::npos) << keyval;
  EXPECT_EQ(entry["result_counts"].value("GOOD", 0), 3 + 2 * 2) << entry.dump(2);
  EXPECT_EQ(ReadFile(cluster_.root() + "/reboots"), "rebooting\nrebooting\n");
}

// The host does not come back within the reboot's timeout: the entry fails as infrastructure
// with the reason; the host, silent, goes Dead.
TEST_F(Reboots, NoBootWithinTimeout) {
  std::ofstream(cluster_.root() + "/held") << "";
  std::string control = WriteFile("hang.sh",
                                  "#!/bin/sh\n"
                                  "labmesh-test reboot --timeout 3s || exit 1\n"
                                  "labmesh-test run never -- true\n");
  uint64_t id = Create({"--name", "no-boot", "--control", control, "--hosts", "lab1"});
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(WaitForJobStatus(id, "Failed", Scaled(std::chrono::seconds(30))))
      << Show(id).dump(2);
  nlohmann::json entry = Show(id)["entries"][0];
  EXPECT_EQ(entry["fault"], "infrastructure");
  EXPECT_NE(entry["reason"].get<std::string>().find("no boot within 3.0s"), std::string::npos)
      << entry.dump(2);
  EXPECT_TRUE(cluster_.WaitForStatus("lab1", "Dead"));
  // Back at last: it gets the task of a host that returns after it was lost (no repair
  // scripts: the built-in checks) and is Ready after it.
  std::ofstream(gate_) << "";
  EXPECT_TRUE(cluster_.WaitForStatus("lab1", "Ready", Scaled(std::chrono::seconds(30))));
  auto history = cluster_.Cli({"--json", "host", "history", "lab1"});
  EXPECT_NE(history.out.find("the host came back after it was lost"), std::string::npos)
      << history.out << history.err;
}

// The same reboot that never comes back, on a host with a power method (issue 28,
// docs/power-console.md): once it is Dead the coordinator power cycles it - here the "power
// button" opens the gate, and the supervisor starts the agent as a boot would - and it comes
// back through the Repair to Ready with nobody's help.
TEST_F(Reboots, NoBootWithinTimeoutIsPowerCycled) {
  std::ofstream(cluster_.root() + "/held") << "";
  auto configured = cluster_.Cli({"host", "power-config", "lab1", "--cycle",
                                  "echo cycled >> '" + cluster_.root() + "/cycles'; : > '" +
                                      gate_ + "'"});
  ASSERT_EQ(configured.exit_code, 0) << configured.err;
  std::string control = WriteFile("hang.sh",
                                  "#!/bin/sh\n"
                                  "labmesh-test reboot --timeout 3s || exit 1\n"
                                  "labmesh-test run never -- true\n");
  uint64_t id = Create({"--name", "no-boot", "--control", control, "--hosts", "lab1"});
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(WaitForJobStatus(id, "Failed", Scaled(std::chrono::seconds(30))))
      << Show(id).dump(2);
  ASSERT_TRUE(WaitFor([&] { return ReadFile(cluster_.root() + "/cycles") == "cycled\n"; },
                      std::chrono::seconds(30)));
  EXPECT_TRUE(cluster_.WaitForStatus("lab1", "Ready", Scaled(std::chrono::seconds(30))));
  auto history = cluster_.Cli({"--json", "host", "history", "lab1"});
  EXPECT_NE(history.out.find("\"name\": \"Power\""), std::string::npos) << history.out;
  EXPECT_NE(history.out.find("power cycle 1 of 3"), std::string::npos) << history.out;
  EXPECT_NE(history.out.find("the host came back after it was lost"), std::string::npos)
      << history.out;
}

// The coordinator is killed and started again while the host reboots: the entry stays
// Rebooting across the restart and completes once the host is back.
TEST_F(Reboots, CoordinatorRestartedWhileRebooting) {
  std::ofstream(cluster_.root() + "/held") << "";
  std::string control = WriteFile("one.sh",
                                  "#!/bin/sh\n"
                                  "labmesh-test reboot --timeout 60s || exit 1\n"
                                  "labmesh-test run after -- true\n");
  uint64_t id = Create({"--name", "restart", "--control", control, "--hosts", "lab1"});
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(WaitForEntryStatus(id, "Rebooting")) << Show(id).dump(2);
  ASSERT_TRUE(WaitFor([&] { return ReadFile(cluster_.root() + "/reboots") == "rebooting\n"; }));
  cluster_.StopCoordinator(SIGKILL);
  cluster_.StartCoordinator();
  EXPECT_EQ(Show(id)["entries"][0]["status"], "Rebooting");
  std::ofstream(gate_) << "";
  ASSERT_TRUE(WaitForJobStatus(id, "Completed", Scaled(std::chrono::seconds(60))))
      << Show(id).dump(2) << cluster_.agent("lab1").Log();
  EXPECT_EQ(Show(id)["entries"][0]["boot_count"], 1);
}

// A control that panics the "kernel": the panic line in pstore, a new boot id, the agent killed.
std::string PanicControl(const std::string& dir, const std::string& pstore,
                         const std::string& boot_id) {
  std::string path = dir + "/panic.sh";
  std::ofstream(path) << "#!/bin/sh\n"
                         "labmesh-test run first -- true\n"
                         "echo '<0>Kernel panic - not syncing: sysrq triggered crash' >'" +
                             pstore + "/dmesg-ramoops-0'\n"
                             "echo boot-9 >'" + boot_id + "'\n"
                             "kill -KILL $(cat '" + dir + "/agent.pid')\n";
  return path;
}

// The machine reboots under a running control (a panic): the entry fails as infrastructure,
// marked as a crash with the panic line its crashinfo/ caught from pstore.
TEST_F(Reboots, UnexpectedRebootCollectsCrashInfo) {
  std::string control = PanicControl(cluster_.root(), pstore_, boot_id_);
  uint64_t id = Create({"--name", "panic", "--control", control, "--hosts", "lab1"});
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(WaitForJobStatus(id, "Failed", Scaled(std::chrono::seconds(40))))
      << Show(id).dump(2) << cluster_.agent("lab1").Log();
  nlohmann::json entry = Show(id)["entries"][0];
  EXPECT_EQ(entry["fault"], "infrastructure");
  EXPECT_EQ(entry["reason"], "host rebooted unexpectedly (boot id changed)");
  EXPECT_TRUE(entry["crash"].get<bool>());
  EXPECT_EQ(entry["crash_line"], "<0>Kernel panic - not syncing: sysrq triggered crash");
  std::string dir = ResultsDir(entry);
  EXPECT_NE(ReadFile(dir + "/crashinfo/pstore/dmesg-ramoops-0").find("Kernel panic"),
            std::string::npos);
  std::string sources = ReadFile(dir + "/crashinfo/sources.txt");
  EXPECT_NE(sources.find("pstore/dmesg-ramoops-0"), std::string::npos) << sources;
  EXPECT_NE(sources.find("journal-previous-boot.log"), std::string::npos) << sources;
  EXPECT_NE(sources.find("processes.txt"), std::string::npos) << sources;
  EXPECT_FALSE(ReadFile(dir + "/crashinfo/df.txt").empty());
}

// The page shows the crash: the host's history in Chromium has the panic line.
TEST_F(Reboots, PageShowsTheCrash) {
  LABMESH_SKIP_WITHOUT_BROWSER();
  std::string control = PanicControl(cluster_.root(), pstore_, boot_id_);
  uint64_t id = Create({"--name", "panic", "--control", control, "--hosts", "lab1"});
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(WaitForJobStatus(id, "Failed", Scaled(std::chrono::seconds(40))));
  ASSERT_TRUE(Show(id)["entries"][0]["crash"].get<bool>());
  std::string url = "http://" + cluster_.http_endpoint() + "/";
  auto page = RunCommand({"/usr/bin/python3", LABMESH_PAGE_TEST_PY, url, "--login", "admin",
                          cluster_.AdminToken(), "--history", "lab1",
                          "crash: <0>Kernel panic - not syncing", "lab1"},
                         std::chrono::seconds(90));
  EXPECT_EQ(page.exit_code, 0) << page.out << page.err;
}

// With --retry the entry lost to an unexpected reboot runs again, as for a lost host.
TEST_F(Reboots, UnexpectedRebootHonoursRetry) {
  std::string marker = cluster_.root() + "/crashed-once";
  std::string control = WriteFile(
      "panic-once.sh",
      "#!/bin/sh\n"
      "if [ ! -e '" + marker + "' ]; then\n"
      "  touch '" + marker + "'\n"
      "  echo boot-7 >'" + boot_id_ + "'\n"
      "  kill -KILL $(cat '" + cluster_.root() + "/agent.pid')\n"
      "  exit 0\n"
      "fi\n"
      "labmesh-test run second -- true\n");
  uint64_t id = Create({"--name", "panic-once", "--control", control, "--hosts", "lab1",
                        "--retry", "1"});
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(WaitForJobStatus(id, "Completed", Scaled(std::chrono::seconds(40))))
      << Show(id).dump(2) << cluster_.coordinator().Log();
  nlohmann::json entry = Show(id)["entries"][0];
  EXPECT_EQ(entry["retries"], 1);
  bool requeued = false;
  for (const auto& h : entry["history"]) {
    if (h["reason"].get<std::string>().find("host rebooted unexpectedly") != std::string::npos) {
      requeued = true;
    }
  }
  EXPECT_TRUE(requeued) << entry.dump(2);
}

// A control that fails leaves crashinfo/ too (the kernel log since it started, processes,
// disk usage), and a failing test is not a crash.
TEST_F(Reboots, FailedControlCollectsCrashInfo) {
  uint64_t id = Create({"--name", "fails", "--command", "exit 3", "--hosts", "lab1"});
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(WaitForJobStatus(id, "Failed")) << Show(id).dump(2);
  nlohmann::json entry = Show(id)["entries"][0];
  EXPECT_EQ(entry["fault"], "test");
  EXPECT_FALSE(entry["crash"].get<bool>());
  std::string dir = ResultsDir(entry);
  EXPECT_FALSE(ReadFile(dir + "/crashinfo/processes.txt").empty());
  std::string sources = ReadFile(dir + "/crashinfo/sources.txt");
  EXPECT_NE(sources.find("kernel.log"), std::string::npos) << sources;
  EXPECT_EQ(sources.find("journal-previous-boot.log"), std::string::npos) << sources;
}

}  // namespace
}  // namespace labmesh::testing
