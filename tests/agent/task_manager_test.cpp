// TaskManager without sockets: RunTask frames go in, TaskReport frames come out of its send
// callback. Proves Verify's built-in checks and verify.d scripts (order, skipped files, output
// and exit status, timeouts), leftover processes found by Verify and killed by Repair, what
// Repair's repair_scripts/verify_after leave out, remove-old-spool, Cleanup, repeated RunTasks
// and a report held back while disconnected. Scripts and leftovers are real processes; waits
// have deadlines.

#include "work/task_manager.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include "labmesh/common/clock.hpp"
#include "process.hpp"
#include "work/builtin_checks.hpp"

namespace labmesh::testing {
namespace {

namespace fs = std::filesystem;
using agent::TaskManager;

void WriteScript(const std::string& path, const std::string& body, bool executable = true) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::trunc);
  out << "#!/bin/sh\n" << body << "\n";
  out.close();
  chmod(path.c_str(), executable ? 0755 : 0644);
}

std::vector<std::string> Names(const protocol::TaskReport& report) {
  std::vector<std::string> names;
  for (const auto& check : report.checks) names.push_back(check.name);
  return names;
}

const protocol::TaskCheck* Find(const protocol::TaskReport& report, const std::string& name) {
  for (const auto& check : report.checks) {
    if (check.name == name) return &check;
  }
  return nullptr;
}

const std::vector<std::string> kVerifyBuiltins = {"free-space", "spool-writable", "clock-skew",
                                                  "leftover-processes"};

class Harness {
 public:
  explicit Harness(const std::string& dir) : dir_(dir) {
    config.work_dir = dir + "/work";
    config.verify_dir = dir + "/verify.d";
    config.repair_dir = dir + "/repair.d";
    config.cleanup_dir = dir + "/cleanup.d";
    config.kill_grace_ms = 200;
    config.min_free_space_bytes = 1;
    fs::create_directories(config.work_dir + "/spool");
    spool = fs::absolute(config.work_dir + "/spool").lexically_normal().string();
  }
  void Make() {
    TaskManager::Hooks hooks;
    hooks.entry_alive = [this](uint64_t id) { return alive.count(id) > 0; };
    hooks.entry_held = [this](uint64_t id) { return held.count(id) > 0; };
    manager = std::make_unique<TaskManager>(
        config, SystemClock::Default(), "lab-t",
        [this](const std::string& frame) {
          if (refuse) return false;
          auto envelope = protocol::DecodeEnvelope(frame);
          EXPECT_TRUE(envelope.ok());
          if (!envelope.ok()) return true;
          auto report = protocol::DecodeBody<protocol::TaskReport>(*envelope);
          EXPECT_TRUE(report.ok());
          if (report.ok()) reports.push_back(*report);
          return true;
        },
        std::move(hooks));
    manager->OnWelcome();
  }
  void Run(protocol::RunTask run) {
    if (!manager) Make();
    if (run.coordinator_ms == 0) run.coordinator_ms = SystemClock::Default()->WallMs();
    auto envelope = protocol::DecodeEnvelope(protocol::Encode(run));
    ASSERT_TRUE(envelope.ok());
    ASSERT_TRUE(manager->Handle(*envelope));
  }
  // Runs the loop (Service) until `n` reports have come.
  bool WaitReports(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    return WaitFor(
        [&] {
          manager->Service();
          return reports.size() >= n;
        },
        timeout);
  }
  // Runs `run` to its report.
  protocol::TaskReport RunToEnd(const protocol::RunTask& run) {
    size_t before = reports.size();
    Run(run);
    EXPECT_TRUE(WaitReports(before + 1));
    return reports.empty() ? protocol::TaskReport{} : reports.back();
  }

  std::string dir_;
  agent::AgentConfig config;
  std::string spool;  // absolute
  std::unique_ptr<TaskManager> manager;
  std::vector<protocol::TaskReport> reports;
  std::set<uint64_t> alive, held;
  bool refuse = false;
};

protocol::RunTask Task(uint64_t id, const std::string& kind, bool repair_scripts = true,
                       bool verify_after = true) {
  protocol::RunTask run;
  run.task_id = id;
  run.kind = kind;
  run.repair_scripts = repair_scripts;
  run.verify_after = verify_after;
  return run;
}

TEST(TaskManager, VerifyPassesWithAMissingOrEmptyVerifyDirectory) {
  TempDir tmp;
  Harness h(tmp.path());
  protocol::TaskReport report = h.RunToEnd(Task(1, "Verify"));
  EXPECT_EQ(report.task_id, 1u);
  EXPECT_EQ(report.kind, "Verify");
  EXPECT_TRUE(report.passed) << report.reason;
  EXPECT_EQ(report.reason, "");
  EXPECT_EQ(Names(report), kVerifyBuiltins);
  for (const auto& check : report.checks) EXPECT_TRUE(check.passed) << check.name << check.output;

  fs::create_directories(h.config.verify_dir);
  report = h.RunToEnd(Task(2, "verify"));  // the kind is case-insensitive
  EXPECT_TRUE(report.passed) << report.reason;
  EXPECT_EQ(report.kind, "Verify");
  EXPECT_EQ(Names(report), kVerifyBuiltins);
  EXPECT_FALSE(h.manager->Busy());
}

TEST(TaskManager, AFailingVerifyScriptFailsTheTaskWithItsOutputAndExitStatus) {
  TempDir tmp;
  Harness h(tmp.path());
  WriteScript(h.config.verify_dir + "/10-disk",
              "echo \"task=$LABMESH_TASK id=$LABMESH_TASK_ID host=$LABMESH_HOST "
              "work=$LABMESH_WORK_DIR pwd=$(pwd)\"\necho the disk is sad >&2\nexit 3");
  WriteScript(h.config.verify_dir + "/20-fine", "echo fine");
  protocol::TaskReport report = h.RunToEnd(Task(7, "Verify"));
  EXPECT_FALSE(report.passed);
  EXPECT_EQ(report.reason, "verify.d/10-disk failed: exit status 3");
  const protocol::TaskCheck* disk = Find(report, "verify.d/10-disk");
  ASSERT_NE(disk, nullptr);
  EXPECT_FALSE(disk->passed);
  const std::string work = fs::absolute(h.config.work_dir).lexically_normal().string();
  EXPECT_EQ(disk->output, "task=verify id=7 host=lab-t work=" + work + " pwd=" + work +
                              "/tasks/7\nthe disk is sad\nexit status 3");
  // The later script still ran, and passed.
  const protocol::TaskCheck* fine = Find(report, "verify.d/20-fine");
  ASSERT_NE(fine, nullptr);
  EXPECT_TRUE(fine->passed);
  EXPECT_EQ(fine->output, "fine\nexit status 0");
  EXPECT_EQ(ReadFile(work + "/tasks/7/verify.d.20-fine.log"), "fine\n");
}

TEST(TaskManager, ScriptsRunInNameOrderAndNonExecutablesAndDotfilesAreSkipped) {
  TempDir tmp;
  Harness h(tmp.path());
  const std::string order = tmp.path() + "/order";
  for (const char* name : {"20-b", "10-a", "30-c", ".hidden", "05-off"}) {
    WriteScript(h.config.verify_dir + "/" + name, std::string("echo ") + name + " >> " + order,
                std::string(name) != "05-off");
  }
  fs::create_directories(h.config.verify_dir + "/15-subdir");
  protocol::TaskReport report = h.RunToEnd(Task(1, "Verify"));
  EXPECT_TRUE(report.passed) << report.reason;
  std::vector<std::string> want = kVerifyBuiltins;
  for (const char* name : {"verify.d/10-a", "verify.d/20-b", "verify.d/30-c"}) {
    want.push_back(name);
  }
  EXPECT_EQ(Names(report), want);
  EXPECT_EQ(ReadFile(order), "10-a\n20-b\n30-c\n");
}

TEST(TaskManager, AHangingScriptIsKilledAtItsTimeoutAndFails) {
  TempDir tmp;
  Harness h(tmp.path());
  h.config.script_timeout_ms = 300;
  // Ignores TERM: only the KILL after kill_grace_ms ends it.
  WriteScript(h.config.verify_dir + "/10-hang", "trap '' TERM\necho hanging\nsleep 1000");
  WriteScript(h.config.verify_dir + "/20-next", "echo next");
  protocol::TaskReport report = h.RunToEnd(Task(1, "Verify"));
  EXPECT_FALSE(report.passed);
  EXPECT_EQ(report.reason, "verify.d/10-hang failed: killed after timeout 300ms");
  const protocol::TaskCheck* hang = Find(report, "verify.d/10-hang");
  ASSERT_NE(hang, nullptr);
  EXPECT_FALSE(hang->passed);
  EXPECT_EQ(hang->output, "hanging\nkilled after timeout 300ms");
  EXPECT_GE(hang->duration_ms, 300 + 200);
  const protocol::TaskCheck* next = Find(report, "verify.d/20-next");
  ASSERT_NE(next, nullptr);
  EXPECT_TRUE(next->passed);
}

TEST(TaskManager, FreeSpaceFailsWithAnAbsurdMinimum) {
  TempDir tmp;
  Harness h(tmp.path());
  h.config.min_free_space_bytes = uint64_t{1} << 60;  // 1 EiB
  protocol::TaskReport report = h.RunToEnd(Task(1, "Verify"));
  EXPECT_FALSE(report.passed);
  const protocol::TaskCheck* check = Find(report, "free-space");
  ASSERT_NE(check, nullptr);
  EXPECT_FALSE(check->passed);
  EXPECT_NE(check->output.find(" free, at least 1.0 EiB wanted"), std::string::npos)
      << check->output;
  EXPECT_EQ(report.reason, "free-space: " + check->output);
}

TEST(TaskManager, ClockSkewFailsWhenTheCoordinatorTimeIsFarInThePast) {
  TempDir tmp;
  Harness h(tmp.path());
  protocol::RunTask run = Task(1, "Verify");
  run.coordinator_ms = SystemClock::Default()->WallMs() - 3'600'000;
  protocol::TaskReport report = h.RunToEnd(run);
  EXPECT_FALSE(report.passed);
  const protocol::TaskCheck* check = Find(report, "clock-skew");
  ASSERT_NE(check, nullptr);
  EXPECT_FALSE(check->passed);
  EXPECT_EQ(report.reason.rfind("clock-skew: agent clock 1h0m ahead of", 0), 0u) << report.reason;
  // Every other check passed: the skew is the first failure.
  EXPECT_EQ(Find(report, "free-space")->passed, true);
}

TEST(TaskManager, ALeftoverProcessIsReportedByVerifyAndKilledByRepair) {
  TempDir tmp;
  Harness h(tmp.path());
  // What a control's child that outlived its job looks like: the control's results directory
  // in its environment, in a session of its own.
  Process leftover({"/usr/bin/setsid", "/usr/bin/sleep", "1000"}, tmp.path() + "/leftover.log",
                   {{"LABMESH_RESULTS_DIR", h.spool + "/99/results"}});
  // And one of an entry whose control still runs: not a leftover.
  Process running({"/usr/bin/setsid", "/usr/bin/sleep", "1000"}, tmp.path() + "/running.log",
                  {{"LABMESH_RESULTS_DIR", h.spool + "/98/results"}});
  h.alive.insert(98);
  // setsid execs sleep in place: wait until the environment is sleep's.
  ASSERT_TRUE(WaitFor([&] {
    return ReadFile("/proc/" + std::to_string(leftover.pid()) + "/comm") == "sleep\n" &&
           ReadFile("/proc/" + std::to_string(running.pid()) + "/comm") == "sleep\n";
  }));

  protocol::TaskReport verify = h.RunToEnd(Task(1, "Verify"));
  EXPECT_FALSE(verify.passed);
  const protocol::TaskCheck* check = Find(verify, "leftover-processes");
  ASSERT_NE(check, nullptr);
  EXPECT_FALSE(check->passed);
  const std::string pid = std::to_string(leftover.pid());
  EXPECT_EQ(check->output, "1 process left from an earlier job: " + pid + " (sleep)");
  EXPECT_EQ(verify.reason, "leftover-processes: " + check->output);

  protocol::TaskReport repair = h.RunToEnd(Task(2, "Repair", /*repair_scripts=*/false));
  EXPECT_TRUE(repair.passed) << repair.reason;
  const protocol::TaskCheck* kill = Find(repair, "kill-leftovers");
  ASSERT_NE(kill, nullptr);
  EXPECT_TRUE(kill->passed);
  EXPECT_EQ(kill->output, "killed " + pid + " (sleep)");
  EXPECT_TRUE(Find(repair, "leftover-processes")->passed);
  EXPECT_EQ(leftover.Wait(std::chrono::seconds(5)), 128 + SIGKILL);
  EXPECT_TRUE(running.Running());  // the live entry's process was left alone
}

TEST(TaskManager, RepairWithoutRepairScriptsDoesNotRunTheRepairDirectory) {
  TempDir tmp;
  Harness h(tmp.path());
  const std::string ran = tmp.path() + "/ran";
  WriteScript(h.config.repair_dir + "/fix", "echo fixed >> " + ran);
  protocol::TaskReport report = h.RunToEnd(Task(1, "Repair", false, true));
  EXPECT_TRUE(report.passed) << report.reason;
  EXPECT_EQ(report.kind, "Repair");
  std::vector<std::string> want = {"kill-leftovers", "remove-old-spool"};
  want.insert(want.end(), kVerifyBuiltins.begin(), kVerifyBuiltins.end());
  EXPECT_EQ(Names(report), want);
  EXPECT_FALSE(fs::exists(ran));

  report = h.RunToEnd(Task(2, "Repair", true, true));
  EXPECT_TRUE(report.passed) << report.reason;
  want.insert(want.begin() + 2, "repair.d/fix");
  EXPECT_EQ(Names(report), want);
  EXPECT_EQ(ReadFile(ran), "fixed\n");
}

TEST(TaskManager, RepairWithoutVerifyAfterHasNoVerifyChecks) {
  TempDir tmp;
  Harness h(tmp.path());
  WriteScript(h.config.repair_dir + "/fix", "exit 0");
  WriteScript(h.config.verify_dir + "/broken", "exit 1");
  protocol::TaskReport report = h.RunToEnd(Task(1, "Repair", true, false));
  EXPECT_TRUE(report.passed) << report.reason;
  EXPECT_EQ(Names(report),
            (std::vector<std::string>{"kill-leftovers", "remove-old-spool", "repair.d/fix"}));

  // With the verify, its failure fails the repair.
  report = h.RunToEnd(Task(2, "Repair", true, true));
  EXPECT_FALSE(report.passed);
  EXPECT_EQ(report.reason, "verify.d/broken failed: exit status 1");
}

TEST(TaskManager, RemoveOldSpoolKeepsHeldEntriesAndTheLastTask) {
  TempDir tmp;
  Harness h(tmp.path());
  for (const char* dir : {"free/0", "free/1", "5/results", "6/results"}) {
    fs::create_directories(h.spool + "/" + dir);
  }
  std::ofstream(h.spool + "/.task-check-1") << "x";
  h.held.insert(5);
  h.RunToEnd(Task(10, "Verify"));
  fs::create_directories(h.config.work_dir + "/tasks/3");
  protocol::TaskReport report = h.RunToEnd(Task(11, "Repair", false, false));
  EXPECT_TRUE(report.passed) << report.reason;
  const protocol::TaskCheck* check = Find(report, "remove-old-spool");
  ASSERT_NE(check, nullptr);
  EXPECT_EQ(check->output,
            "removed 2 free spool slot(s), 2 stale spool item(s), 1 old task dir(s)");
  EXPECT_TRUE(fs::exists(h.spool + "/5/results"));
  EXPECT_FALSE(fs::exists(h.spool + "/6"));
  EXPECT_FALSE(fs::exists(h.spool + "/free/0"));
  EXPECT_FALSE(fs::exists(h.spool + "/.task-check-1"));
  EXPECT_TRUE(fs::exists(h.config.work_dir + "/tasks/10"));
  EXPECT_TRUE(fs::exists(h.config.work_dir + "/tasks/11"));
  EXPECT_FALSE(fs::exists(h.config.work_dir + "/tasks/3"));
}

TEST(TaskManager, CleanupKillsLeftoversAndRunsTheCleanupDirectory) {
  TempDir tmp;
  Harness h(tmp.path());
  const std::string ran = tmp.path() + "/ran";
  WriteScript(h.config.cleanup_dir + "/10-tmp", "echo \"$LABMESH_TASK\" >> " + ran);
  WriteScript(h.config.repair_dir + "/fix", "echo repair >> " + ran);
  protocol::TaskReport report = h.RunToEnd(Task(1, "Cleanup"));
  EXPECT_TRUE(report.passed) << report.reason;
  EXPECT_EQ(report.kind, "Cleanup");
  EXPECT_EQ(Names(report), (std::vector<std::string>{"kill-leftovers", "cleanup.d/10-tmp"}));
  EXPECT_EQ(ReadFile(ran), "cleanup\n");
}

TEST(TaskManager, ARepeatedRunTaskIsIgnoredWhileRunningAndAnsweredWhenFinished) {
  TempDir tmp;
  Harness h(tmp.path());
  const std::string go = tmp.path() + "/go";
  const std::string count = tmp.path() + "/count";
  WriteScript(h.config.verify_dir + "/wait",
              "echo run >> " + count + "\nwhile [ ! -e " + go + " ]; do sleep 0.02; done");
  h.Run(Task(4, "Verify"));
  ASSERT_TRUE(WaitFor([&] {
    h.manager->Service();
    return ReadFile(count) == "run\n";
  }));
  h.Run(Task(4, "Verify"));  // the coordinator resent it (say, after a reconnect)
  for (int i = 0; i < 20; ++i) h.manager->Service();
  EXPECT_TRUE(h.manager->Busy());
  EXPECT_TRUE(h.reports.empty());

  std::ofstream(go) << "";
  ASSERT_TRUE(h.WaitReports(1));
  EXPECT_TRUE(h.reports[0].passed) << h.reports[0].reason;
  EXPECT_EQ(ReadFile(count), "run\n");  // ran once

  h.Run(Task(4, "Verify"));  // finished: the same report again, nothing run
  ASSERT_EQ(h.reports.size(), 2u);
  EXPECT_EQ(h.reports[1].task_id, 4u);
  EXPECT_EQ(h.reports[1].checks.size(), h.reports[0].checks.size());
  for (int i = 0; i < 20; ++i) h.manager->Service();
  EXPECT_EQ(ReadFile(count), "run\n");
  EXPECT_FALSE(h.manager->Busy());
}

TEST(TaskManager, AReportThatCouldNotBeSentGoesOutAtTheNextWelcome) {
  TempDir tmp;
  Harness h(tmp.path());
  h.Make();
  h.manager->OnDisconnected();
  h.Run(Task(1, "Verify"));
  ASSERT_TRUE(WaitFor([&] {
    h.manager->Service();
    return h.manager->last_report().has_value();
  }));
  EXPECT_TRUE(h.reports.empty());
  // Connected, but the socket refuses at first: retried.
  h.refuse = true;
  h.manager->OnWelcome();
  EXPECT_TRUE(h.reports.empty());
  h.refuse = false;
  ASSERT_TRUE(h.WaitReports(1));
  EXPECT_EQ(h.reports[0].task_id, 1u);
  EXPECT_TRUE(h.reports[0].passed);
  // Sent: a later welcome does not repeat it.
  h.manager->OnDisconnected();
  h.manager->OnWelcome();
  h.manager->Service();
  EXPECT_EQ(h.reports.size(), 1u);
}

TEST(TaskManager, AnUnknownKindFailsAtOnce) {
  TempDir tmp;
  Harness h(tmp.path());
  protocol::TaskReport report = h.RunToEnd(Task(1, "Update"));
  EXPECT_FALSE(report.passed);
  EXPECT_EQ(report.reason, "task: the agent does not run tasks of kind 'Update'");
}

TEST(TaskManager, OnlyTheNewestTaskScratchDirectoriesAreKept) {
  TempDir tmp;
  Harness h(tmp.path());
  for (uint64_t id = 1; id <= 8; ++id) {
    h.RunToEnd(Task(id, "Verify"));
    // Distinct modification times, whatever the file system's granularity.
    fs::last_write_time(h.config.work_dir + "/tasks/" + std::to_string(id),
                        fs::file_time_type::clock::now() - std::chrono::hours(10 - id));
  }
  std::set<std::string> dirs;
  for (const auto& d : fs::directory_iterator(h.config.work_dir + "/tasks")) {
    dirs.insert(d.path().filename().string());
  }
  EXPECT_EQ(dirs, (std::set<std::string>{"4", "5", "6", "7", "8"}));
}

TEST(BuiltinChecks, ByteSizesParseAndFormat) {
  EXPECT_EQ(*agent::ParseByteSize("1048576"), 1048576u);
  EXPECT_EQ(*agent::ParseByteSize("512K"), 512u * 1024);
  EXPECT_EQ(*agent::ParseByteSize("256MiB"), uint64_t{256} << 20);
  EXPECT_EQ(*agent::ParseByteSize("2G"), uint64_t{2} << 30);
  EXPECT_EQ(*agent::ParseByteSize("1.5 GiB"), uint64_t{3} << 29);
  EXPECT_EQ(*agent::ParseByteSize("10kb"), 10240u);
  for (const char* bad : {"", "M", "12X", "-5", "1e3", "99999999999999999999G"}) {
    EXPECT_FALSE(agent::ParseByteSize(bad).ok()) << bad;
  }
  EXPECT_EQ(labmesh::FormatBytes(100), "100 B");
  EXPECT_EQ(labmesh::FormatBytes(uint64_t{256} << 20), "256.0 MiB");
  EXPECT_EQ(labmesh::FormatBytes(static_cast<uint64_t>(12.3 * (1 << 30))), "12.3 GiB");
}

TEST(BuiltinChecks, OutputTailIsBoundedValidUtf8) {
  TempDir tmp;
  const std::string log = tmp.path() + "/log";
  {
    std::ofstream out(log, std::ios::binary);
    for (int i = 0; i < 3000; ++i) out << "\xc3\xa9";  // é, two bytes each
    out << "bad \xff byte\n";
  }
  std::string tail = agent::OutputTail(log, "exit status 1");
  EXPECT_LE(tail.size(), protocol::kMaxTaskOutputBytes);
  EXPECT_EQ(agent::SanitizeUtf8(tail), tail);
  EXPECT_NE(tail.find("bad ? byte\nexit status 1"), std::string::npos);
  EXPECT_EQ(tail.substr(tail.size() - 13), "exit status 1");
  EXPECT_EQ(agent::OutputTail(tmp.path() + "/missing", "exit status 0"), "exit status 0");
}

TEST(AgentFlags, BadTaskFlagValuesAreUsageErrors) {
  const std::string agent_bin =
      fs::path(LABMESH_TEST_BIN).parent_path().string() + "/labmesh-agent";
  const std::string key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"--min-free-space", "lots"},
                                             {"--max-clock-skew", "soon"},
                                             {"--script-timeout", "0s"}}) {
    std::vector<std::string> argv = {agent_bin, "--coordinator-key", key};
    argv.insert(argv.end(), args.begin(), args.end());
    CommandResult result = RunCommand(argv);
    EXPECT_EQ(result.exit_code, 2) << args[0] << ": " << result.err << result.out;
  }
  CommandResult help = RunCommand({agent_bin, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag : {"--min-free-space", "--max-clock-skew", "--script-timeout",
                           "--verify-dir", "--repair-dir", "--cleanup-dir"}) {
    EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
  }
  EXPECT_NE(help.out.find("default 256.0 MiB"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace labmesh::testing
