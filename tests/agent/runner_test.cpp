// Runner: real processes in their own session, output into the log, exit status, and the
// whole process group killed (on request and when the leader exits). Waits have deadlines.

#include "work/runner.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <sstream>
#include <thread>

#include "labmesh/common/clock.hpp"
#include "process.hpp"

namespace labmesh::testing {
namespace {

using agent::Runner;
using agent::SpawnSpec;

SpawnSpec Shell(const TempDir& tmp, const std::string& script) {
  SpawnSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  spec.env = {"PATH=/usr/bin:/bin", "GREETING=hello"};
  spec.cwd = tmp.path();
  spec.log_path = tmp.path() + "/debug/control.log";
  return spec;
}

// Drives the runner as the event loop would until it finished.
bool RunToEnd(Runner& runner, std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  return WaitFor(
      [&] {
        runner.Service(SystemClock::Default()->SteadyMs());
        return runner.finished();
      },
      timeout);
}

bool GroupGone(pid_t pgid) { return kill(-pgid, 0) != 0 && errno == ESRCH; }

TEST(Runner, RecordsExitStatusAndOutput) {
  TempDir tmp;
  auto runner = Runner::Start(Shell(tmp, "echo out; echo err >&2; echo $GREETING; pwd; exit 3"));
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  ASSERT_TRUE(RunToEnd(**runner));
  EXPECT_EQ((*runner)->exit_code(), 3);
  EXPECT_EQ((*runner)->term_signal(), 0);
  std::string log = ReadFile(tmp.path() + "/debug/control.log");
  EXPECT_EQ(log, "out\nerr\nhello\n" + tmp.path() + "\n");
  EXPECT_EQ((*runner)->log_size(), log.size());
}

TEST(Runner, RunsInItsOwnSession) {
  TempDir tmp;
  auto runner = Runner::Start(Shell(tmp, "ps -o sid= -p $$; ps -o pgid= -p $$"));
  ASSERT_TRUE(runner.ok());
  ASSERT_TRUE(RunToEnd(**runner));
  std::string pid = std::to_string((*runner)->pgid());
  std::istringstream words(ReadFile(tmp.path() + "/debug/control.log"));
  std::string sid, pgid;
  words >> sid >> pgid;
  // Both the session id and the process group id are the leader's own pid.
  EXPECT_EQ(sid, pid);
  EXPECT_EQ(pgid, pid);
}

TEST(Runner, ReportsTheSignalThatKilledIt) {
  TempDir tmp;
  auto runner = Runner::Start(Shell(tmp, "kill -9 $$"));
  ASSERT_TRUE(runner.ok());
  ASSERT_TRUE(RunToEnd(**runner));
  EXPECT_EQ((*runner)->exit_code(), -1);
  EXPECT_EQ((*runner)->term_signal(), SIGKILL);
}

TEST(Runner, TermToTheGroupKillsTheControlAndItsChildren) {
  TempDir tmp;
  auto runner = Runner::Start(Shell(tmp, "sleep 300 & echo started; sleep 300"));
  ASSERT_TRUE(runner.ok());
  pid_t pgid = (*runner)->pgid();
  ASSERT_TRUE(WaitFor([&] {
    (*runner)->Service(SystemClock::Default()->SteadyMs());
    return ReadFile(tmp.path() + "/debug/control.log") == "started\n";
  }));
  EXPECT_FALSE(GroupGone(pgid));
  (*runner)->Signal(SIGTERM);
  ASSERT_TRUE(RunToEnd(**runner));
  EXPECT_EQ((*runner)->term_signal(), SIGTERM);
  // The background sleep was in the group: nothing of it survives (reaped by init, so wait).
  EXPECT_TRUE(WaitFor([&] { return GroupGone(pgid); }));
}

TEST(Runner, WhatTheLeaderLeftBehindIsKilledWhenItExits) {
  TempDir tmp;
  // The orphan keeps the output pipe open: the Runner must not wait for it.
  auto runner = Runner::Start(Shell(tmp, "sleep 300 & exit 0"));
  ASSERT_TRUE(runner.ok());
  pid_t pgid = (*runner)->pgid();
  ASSERT_TRUE(RunToEnd(**runner));
  EXPECT_EQ((*runner)->exit_code(), 0);
  EXPECT_TRUE(WaitFor([&] { return GroupGone(pgid); }));
}

TEST(Runner, TheControlDoesNotInheritBlockedTermOrIgnoredPipe) {
  TempDir tmp;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // as the agent's StopSignals do
  signal(SIGPIPE, SIG_IGN);
  auto runner = Runner::Start(Shell(tmp, "grep -E '^Sig(Blk|Ign)' /proc/self/status"));
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_DFL);
  ASSERT_TRUE(runner.ok());
  ASSERT_TRUE(RunToEnd(**runner));
  std::string log = ReadFile(tmp.path() + "/debug/control.log");
  auto mask = [&](const std::string& name) {
    size_t at = log.find(name + ":\t");
    return at == std::string::npos ? ~0ull : std::stoull(log.substr(at + name.size() + 2, 16), nullptr, 16);
  };
  EXPECT_EQ(mask("SigBlk") & (1ull << (SIGTERM - 1)), 0u) << log;
  EXPECT_EQ(mask("SigIgn") & (1ull << (SIGPIPE - 1)), 0u) << log;
}

TEST(Runner, AProgramThatCannotRunIsAnErrorAndLeavesNoProcess) {
  TempDir tmp;
  SpawnSpec spec = Shell(tmp, "");
  spec.argv = {tmp.path() + "/does-not-exist"};
  auto runner = Runner::Start(spec);
  EXPECT_FALSE(runner.ok());
}

TEST(Runner, ADieWithParentProcessIsKilledWhenTheThreadThatStartedItEnds) {
  // The coordinator's console readers: a coordinator killed without cleaning up (SIGKILL) must
  // not leave them reading the serial console beside the next coordinator's.
  TempDir tmp;
  SpawnSpec spec = Shell(tmp, "echo started; sleep 60");
  spec.die_with_parent = true;
  std::unique_ptr<Runner> runner;
  std::thread starter([&] {
    auto started = Runner::Start(spec);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    runner = std::move(*started);
    // Wait until the shell runs: the death signal is set before it, in the same process.
    ASSERT_TRUE(WaitFor([&] {
      runner->Service(SystemClock::Default()->SteadyMs());  // the pipe into the log
      return ReadFile(tmp.path() + "/debug/control.log").find("started") != std::string::npos;
    }));
  });
  starter.join();
  ASSERT_NE(runner, nullptr);
  ASSERT_TRUE(RunToEnd(*runner));
  EXPECT_EQ(runner->term_signal(), SIGKILL);
}

}  // namespace
}  // namespace labmesh::testing
