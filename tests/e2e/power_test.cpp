// Out-of-band power and consoles end to end (issue 28, docs/power-console.md): the real
// coordinator, agents and CLI over 127.0.0.1, with a fake BMC (a script that records its calls)
// and a fake serial console (a file the test writes, read through `tail -F`). Covered: power
// config with a secret that is never shown back nor put on a command line, `host power` by an
// admin and by the reservation holder (others refused), the quiet period, the timeout and an
// output flood (both killed), every operation in the host's history and the audit log; a hung
// agent (SIGSTOP) that goes Dead is power cycled, comes back through Repair to Ready and runs
// the next job, and a second hang past --power-cycle-limit leaves it Repair Failed; a panic on
// the console marks the running entry as a crash, lands in its console.log and in the rolling
// log `host console [--follow]` shows.

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "jobs_fixture.hpp"

namespace labmesh::testing {
namespace {

class PowerE2e : public JobsE2e {
 protected:
  CommandResult As(const std::string& user, std::vector<std::string> args) {
    std::vector<std::string> argv = {"--json", "--user", user};
    argv.insert(argv.end(), args.begin(), args.end());
    return cluster_.Cli(argv);
  }
  // The fake BMC: records "ACTION HOST BMC SECRET" in calls.txt, says what ipmitool says, and
  // (to check the masking) prints the password it was given.
  std::string FakeBmc() {
    return WriteFile("bmc.sh",
                     "#!/bin/sh\n"
                     "echo \"$1 $LABMESH_HOST $2 $3\" >> \"" + cluster_.root() + "/calls.txt\"\n"
                     "echo \"Chassis Power Control: $1 (password $3)\"\n");
  }
  std::vector<std::string> Calls() {
    std::vector<std::string> lines;
    std::istringstream in(ReadFile(cluster_.root() + "/calls.txt"));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
  nlohmann::json History(const std::string& host) {
    auto history = cluster_.Cli({"--json", "host", "history", host});
    EXPECT_EQ(history.exit_code, 0) << history.err;
    return history.exit_code == 0 ? nlohmann::json::parse(history.out) : nlohmann::json::array();
  }
  std::vector<nlohmann::json> PowerItems(const std::string& host) {
    std::vector<nlohmann::json> items;
    for (const auto& item : History(host)) {
      if (item["type"] == "task" && item["name"] == "Power") items.push_back(item);
    }
    return items;
  }
  void AppendSerial(const std::string& text) {
    std::ofstream(cluster_.root() + "/serial.txt", std::ios::app) << text;
  }
};

TEST_F(PowerE2e, PowerIsConfiguredRunAuditedQuietTimedOutAndKeptInTheHistory) {
  cluster_.coordinator_flags().insert(cluster_.coordinator_flags().end(),
                                      {"--power-quiet", "1500ms", "--power-timeout", "2s"});
  StartCluster({"pw-1"});
  const std::string bmc = FakeBmc();
  const std::string pidfile = cluster_.root() + "/hang.pid";
  auto configured = cluster_.Cli(
      {"--json", "host", "power-config", "pw-1", "--cycle", "sh " + bmc + " cycle {bmc} {password}",
       "--status", "sh " + bmc + " status {bmc} {password}",
       "--on", "echo $$ > " + pidfile + "; exec sleep 60",  // hangs: killed at --power-timeout
       "--off", "yes flood",                                 // floods: killed at 64 KiB
       "--attr", "bmc=10.1.0.1", "--secret", "password=hunter22"});
  ASSERT_EQ(configured.exit_code, 0) << configured.err;
  auto config = nlohmann::json::parse(configured.out);
  EXPECT_EQ(config["attributes"]["password"], "***");
  EXPECT_EQ(config["attributes"]["bmc"], "10.1.0.1");
  EXPECT_EQ(configured.out.find("hunter22"), std::string::npos);
  EXPECT_TRUE((*cluster_.Host("pw-1"))["power"].get<bool>());
  auto shown = cluster_.Cli({"host", "power-config", "pw-1"});  // no flags: show
  EXPECT_NE(shown.out.find("power cycle"), std::string::npos) << shown.out;
  EXPECT_EQ(shown.out.find("hunter22"), std::string::npos);

  // Bad input is refused and changes nothing.
  auto bad_regex = cluster_.Cli({"host", "power-config", "pw-1", "--panic-pattern", "(oops"});
  EXPECT_EQ(bad_regex.exit_code, 1);
  EXPECT_NE(bad_regex.err.find("(oops"), std::string::npos) << bad_regex.err;
  auto bad_var = cluster_.Cli({"host", "power-config", "pw-1", "--cycle", "ipmitool -H {bmx}"});
  EXPECT_EQ(bad_var.exit_code, 1);
  EXPECT_NE(bad_var.err.find("{bmx}"), std::string::npos) << bad_var.err;
  EXPECT_EQ(cluster_.Cli({"host", "power", "no-such-host", "cycle"}).exit_code, 1);
  EXPECT_EQ(cluster_.Cli({"host", "power", "pw-1", "reboot"}).exit_code, 2);
  EXPECT_EQ(nlohmann::json::parse(cluster_.Cli({"--json", "host", "power-config", "pw-1"}).out)
                ["cycle"],
            "sh " + bmc + " cycle {bmc} {password}");

  // Not for an ordinary user without the host's reservation.
  ASSERT_FALSE(cluster_.AddUser("bob", false).empty());
  auto refused = As("bob", {"host", "power", "pw-1", "cycle"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("admins and its reservation holder"), std::string::npos)
      << refused.err;
  EXPECT_TRUE(Calls().empty());

  // The admin cycles it: the secret reached the command through its environment and is
  // masked in what is shown.
  auto cycled = cluster_.Cli({"--json", "host", "power", "pw-1", "cycle"});
  ASSERT_EQ(cycled.exit_code, 0) << cycled.err;
  auto reply = nlohmann::json::parse(cycled.out);
  EXPECT_TRUE(reply["passed"].get<bool>());
  EXPECT_EQ(reply["output"], "Chassis Power Control: cycle (password ***)\n");
  EXPECT_EQ(Calls(), std::vector<std::string>{"cycle pw-1 10.1.0.1 hunter22"});

  // At once again: the quiet period refuses it, and nothing runs.
  auto quiet = cluster_.Cli({"host", "power", "pw-1", "status"});
  EXPECT_EQ(quiet.exit_code, 1);
  EXPECT_NE(quiet.err.find("--power-quiet"), std::string::npos) << quiet.err;
  EXPECT_EQ(Calls().size(), 1u);

  // The reservation holder may, once the quiet period is over.
  ASSERT_EQ(As("bob", {"host", "reserve", "pw-1", "--for", "1h"}).exit_code, 0);
  CommandResult status;
  ASSERT_TRUE(WaitFor([&] {
    status = As("bob", {"host", "power", "pw-1", "status"});
    return status.exit_code == 0;
  })) << status.err;
  EXPECT_EQ(Calls().size(), 2u);

  // A command that hangs is killed at the timeout; one that floods is killed at 64 KiB.
  CommandResult hung;
  ASSERT_TRUE(WaitFor([&] {
    hung = cluster_.Cli({"--json", "host", "power", "pw-1", "on"});
    return hung.err.find("--power-quiet") == std::string::npos;
  }));
  EXPECT_EQ(hung.exit_code, 1);
  EXPECT_NE(nlohmann::json::parse(hung.out)["reason"].get<std::string>().find("timed out after 2.0s"),
            std::string::npos)
      << hung.out;
  const pid_t sleeper = std::stoi(ReadFile(pidfile));
  EXPECT_TRUE(WaitFor([&] { return ProcessGone(sleeper); }));
  CommandResult flood;
  ASSERT_TRUE(WaitFor([&] {
    flood = cluster_.Cli({"--json", "host", "power", "pw-1", "off"});
    return flood.err.find("--power-quiet") == std::string::npos;
  }));
  EXPECT_EQ(flood.exit_code, 1);
  EXPECT_NE(nlohmann::json::parse(flood.out)["reason"].get<std::string>().find("64 KiB"),
            std::string::npos)
      << flood.out;
  // The coordinator still serves everyone.
  EXPECT_TRUE(cluster_.WaitForStatus("pw-1", "Ready"));

  // Each operation is a Power task in the host's history, with its output.
  auto items = PowerItems("pw-1");
  ASSERT_EQ(items.size(), 4u) << History("pw-1").dump();
  int completed = 0, failed = 0;
  for (const auto& item : items) {
    (item["status"] == "Completed" ? completed : failed)++;
    ASSERT_EQ(item["checks"].size(), 1u);
    EXPECT_EQ(item["checks"][0]["output"].get<std::string>().find("hunter22"), std::string::npos);
  }
  EXPECT_EQ(completed, 2);
  EXPECT_EQ(failed, 2);
  EXPECT_EQ(items.back()["requested_by"], "admin");  // oldest last: the admin's cycle

  // And in the audit log, allowed or refused; the secret nowhere.
  auto audit = cluster_.Cli({"--json", "audit", "--limit", "500"});
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  EXPECT_EQ(audit.out.find("hunter22"), std::string::npos);
  int power_ok = 0, power_refused = 0, config_ok = 0;
  for (const auto& record : nlohmann::json::parse(audit.out)) {
    if (record["action"] == "HostPowerRequest") {
      (record["ok"].get<bool>() ? power_ok : power_refused)++;
    } else if (record["action"] == "HostPowerConfigRequest" && record["ok"].get<bool>()) {
      ++config_ok;
    }
  }
  EXPECT_EQ(power_ok, 4);          // the replies of failed commands are answers, not refusals
  EXPECT_GE(power_refused, 2);     // bob; the quiet period (at least once)
  EXPECT_EQ(config_ok, 1);
}

TEST_F(PowerE2e, AHungHostIsPowerCycledRepairedAndRunsAgainUntilTheLimit) {
  cluster_.coordinator_flags().insert(
      cluster_.coordinator_flags().end(),
      {"--power-quiet", "200ms", "--power-cycle-limit", "2", "--power-boot-timeout", "3s"});
  StartCluster({"pw-1"});
  const std::string bmc = FakeBmc();
  ASSERT_EQ(cluster_.Cli({"host", "power-config", "pw-1", "--cycle", "sh " + bmc + " cycle {bmc} x",
                          "--attr", "bmc=10.1.0.1"})
                .exit_code,
            0);
  const std::string before = std::to_string(cluster_.agent("pw-1").pid());

  // A job runs when the host hangs: the agent stops dead (SIGSTOP), the host goes Dead, its
  // entry fails as lost, and the coordinator power cycles it on its own.
  uint64_t job = Create({"--name", "hangs", "--hosts", "pw-1", "--command", "sleep 60"});
  ASSERT_TRUE(WaitForEntryStatus(job, "Running"));
  cluster_.agent("pw-1").Signal(SIGSTOP);  // hung: silent, not gone
  ASSERT_TRUE(WaitFor([&] { return Calls().size() == 1; }, std::chrono::seconds(20)));
  EXPECT_EQ(Calls()[0], "cycle pw-1 10.1.0.1 x");
  ASSERT_TRUE(WaitForJobStatus(job, "Failed"));
  // The machine "boots": a fresh agent on the same work dir (same key).
  cluster_.KillAgent("pw-1", SIGKILL);
  cluster_.StartAgent("pw-1");
  ASSERT_TRUE(cluster_.WaitForStatus("pw-1", "Ready", std::chrono::seconds(30)));
  // It was repaired (and so verified) before it got work again, after the cycle.
  auto history = History("pw-1");
  std::vector<std::string> tasks;
  for (const auto& item : history) {
    if (item["type"] == "task") tasks.push_back(item["name"].get<std::string>() + " " +
                                                item["status"].get<std::string>());
  }
  // Newest first: the Power task, then (newer) the Repair that ran when the agent came back.
  auto power_at = std::find(tasks.begin(), tasks.end(), "Power Completed");
  auto repair_at = std::find(tasks.begin(), tasks.end(), "Repair Completed");
  ASSERT_NE(power_at, tasks.end()) << History("pw-1").dump();
  ASSERT_NE(repair_at, tasks.end()) << History("pw-1").dump();
  EXPECT_LT(repair_at - tasks.begin(), power_at - tasks.begin());
  auto power = PowerItems("pw-1");
  ASSERT_EQ(power.size(), 1u);
  EXPECT_EQ(power[0]["requested_by"], "labmesh");
  EXPECT_NE(power[0]["reason"].get<std::string>().find("host lost"), std::string::npos);
  EXPECT_NE(power[0]["reason"].get<std::string>().find("power cycle 1 of 2"), std::string::npos);
  uint64_t next = Create({"--name", "after", "--hosts", "pw-1", "--command", "true"});
  ASSERT_TRUE(WaitForJobStatus(next, "Completed"));

  // Hung again, and this time it never comes back: cycled once more (the limit is 2 within
  // the window), and when no agent registers within --power-boot-timeout it is left for a
  // person, Repair Failed, without a third cycle.
  cluster_.agent("pw-1").Signal(SIGSTOP);  // hung: silent, not gone
  ASSERT_TRUE(WaitFor([&] { return Calls().size() == 2; }, std::chrono::seconds(20)));
  ASSERT_TRUE(cluster_.WaitForStatus("pw-1", "Repair Failed", std::chrono::seconds(20)));
  auto host = *cluster_.Host("pw-1");
  EXPECT_NE(host["status_reason"].get<std::string>().find("power cycled 2 times"),
            std::string::npos)
      << host["status_reason"];
  EXPECT_EQ(Calls().size(), 2u);
  auto shown = nlohmann::json::parse(cluster_.Cli({"--json", "host", "power-config", "pw-1"}).out);
  EXPECT_EQ(shown["power_cycles_ms"].size(), 2u);
  (void)before;
}

TEST_F(PowerE2e, APanicOnTheConsoleMarksTheRunningEntryAndIsKeptAndFollowed) {
  StartCluster({"pw-1"});
  AppendSerial("[    0.0] Linux version 6.1.0 (booting)\n");
  auto configured = cluster_.Cli(
      {"host", "power-config", "pw-1", "--console",
       "exec tail -n +1 -F " + cluster_.root() + "/serial.txt"});
  ASSERT_EQ(configured.exit_code, 0) << configured.err;
  EXPECT_TRUE((*cluster_.Host("pw-1"))["console"].get<bool>());
  ASSERT_TRUE(WaitFor([&] {
    return cluster_.Cli({"host", "console", "pw-1"}).out.find("Linux version") !=
           std::string::npos;
  }));

  // `host console --follow` keeps printing as the console writes.
  Process follower({CliBinary(), "--api", cluster_.api_endpoint(), "--token",
                    cluster_.AdminToken(), "host", "console", "pw-1", "--follow"},
                   cluster_.root() + "/follow.log",
                   {{"HOME", cluster_.root()}, {"LABMESH_CREDENTIALS", "none"}});

  uint64_t job = Create({"--name", "oops", "--hosts", "pw-1", "--command", "sleep 60"});
  ASSERT_TRUE(WaitForEntryStatus(job, "Running"));
  AppendSerial("[   41.9] sysrq: Trigger a crash\n"
               "[   42.0] Kernel panic - not syncing: sysrq triggered crash\r\n"
               "[   42.0] CPU: 0 PID: 77 Comm: sh\n");
  ASSERT_TRUE(WaitFor([&] {
    auto shown = Show(job);
    return shown.contains("entries") && shown["entries"][0].value("crash", false);
  })) << Show(job).dump();
  auto entry = Show(job)["entries"][0];
  EXPECT_EQ(entry["crash_line"], "[   42.0] Kernel panic - not syncing: sysrq triggered crash");
  ASSERT_TRUE(WaitFor([&] {
    return ReadFile(follower.log_path()).find("CPU: 0 PID: 77") != std::string::npos;
  })) << ReadFile(follower.log_path());
  EXPECT_NE(ReadFile(follower.log_path()).find("Linux version"), std::string::npos);
  follower.Signal(SIGKILL);

  // The entry's results hold what the console said while it ran.
  ASSERT_EQ(cluster_.Cli({"job", "abort", std::to_string(job)}).exit_code, 0);
  ASSERT_TRUE(WaitForJobStatus(job, "Aborted"));
  entry = Show(job)["entries"][0];
  EXPECT_TRUE(entry["crash"].get<bool>());  // the abort keeps the crash seen on the console
  std::string console_log = ReadFile(ResultsDir(entry) + "/console.log");
  EXPECT_NE(console_log.find("Kernel panic - not syncing"), std::string::npos) << console_log;
  EXPECT_EQ(console_log.find("Linux version"), std::string::npos);  // before the entry
  EXPECT_TRUE(entry["parse_warnings"].empty()) << entry["parse_warnings"];

  auto config = nlohmann::json::parse(cluster_.Cli({"--json", "host", "power-config", "pw-1"}).out);
  EXPECT_TRUE(config["console_reading"].get<bool>());
  EXPECT_EQ(config["last_panic"], "[   42.0] Kernel panic - not syncing: sysrq triggered crash");
  // The history lists the crashed entry as crashed.
  auto history = History("pw-1");
  bool crashed = false;
  for (const auto& item : history) crashed = crashed || item.value("crash", false);
  EXPECT_TRUE(crashed);

  // A console command that ends is started again; its end is noted in the log.
  auto restarted = cluster_.Cli({"host", "power-config", "pw-1", "--console", "echo short-lived"});
  ASSERT_EQ(restarted.exit_code, 0);
  ASSERT_TRUE(WaitFor([&] {
    std::string text = cluster_.Cli({"host", "console", "pw-1"}).out;
    size_t first = text.find("short-lived");
    return first != std::string::npos && text.find("short-lived", first + 1) != std::string::npos;
  }, std::chrono::seconds(30)));
  EXPECT_NE(cluster_.Cli({"host", "console", "pw-1"}).out.find("console command ended"),
            std::string::npos);
}

TEST_F(PowerE2e, APanicFollowedBySilenceMakesTheHostLostWithinTheGrace) {
  // --panic-grace: a panic on the console, then no heartbeat for 500 ms, and the host is lost
  // at once, well before --dead-after (2 s) would have said so.
  cluster_.coordinator_flags().insert(cluster_.coordinator_flags().end(),
                                      {"--panic-grace", "500ms"});
  StartCluster({"pw-1"});
  const std::string trigger = cluster_.root() + "/trigger.txt";
  // A console that prints what is put in `trigger` within 50 ms.
  auto configured = cluster_.Cli(
      {"host", "power-config", "pw-1", "--console",
       "while :; do if [ -f " + trigger + " ]; then cat " + trigger + "; rm -f " + trigger +
           "; fi; sleep 0.05; done"});
  ASSERT_EQ(configured.exit_code, 0) << configured.err;
  ASSERT_TRUE(WaitFor([&] {
    auto config = cluster_.Cli({"--json", "host", "power-config", "pw-1"});
    return config.exit_code == 0 &&
           nlohmann::json::parse(config.out)["console_reading"].get<bool>();
  }));
  cluster_.agent("pw-1").Signal(SIGSTOP);
  WriteFile("trigger.tmp", "[   77.7] BUG: soft lockup - CPU#0 stuck for 23s!\n");
  std::filesystem::rename(cluster_.root() + "/trigger.tmp", trigger);
  ASSERT_TRUE(cluster_.WaitForStatus("pw-1", "Dead"));
  auto host = *cluster_.Host("pw-1");
  EXPECT_NE(host["status_reason"].get<std::string>().find("panic on its console"),
            std::string::npos)
      << host["status_reason"];
  EXPECT_NE(host["status_reason"].get<std::string>().find("soft lockup"), std::string::npos);
}

}  // namespace
}  // namespace labmesh::testing
