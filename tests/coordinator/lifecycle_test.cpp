// Host lifecycle in the JobService (docs/lifecycle.md): special tasks before, after and instead
// of entries, protection levels, lost hosts and --retry, the repair limit, periodic verifies,
// and the API's host verify/repair/history. The agents are played by the test (Jobs fixture),
// answering RunTask by hand.

#include <gtest/gtest.h>

#include "jobs_fixture.hpp"

namespace labmesh::coordinator::testing {
namespace {

using protocol::HostStatus;

class Lifecycle : public Jobs {
 protected:
  void SetUp() override {
    answer_tasks_ = false;
    Jobs::SetUp();
  }

  std::vector<protocol::RunTask> TakeTasks(const std::string& host) {
    return TakeSentOf<protocol::RunTask>(host);
  }

  // The one RunTask sent to `host` since the last look, of `kind`.
  protocol::RunTask OneTask(const std::string& host, const std::string& kind) {
    auto tasks = TakeTasks(host);
    EXPECT_EQ(tasks.size(), 1u) << host;
    if (tasks.empty()) return {};
    EXPECT_EQ(tasks[0].kind, kind);
    return tasks[0];
  }

  void Report(const std::string& host, const protocol::RunTask& task, bool passed,
              const std::string& reason = "") {
    protocol::TaskReport report;
    report.task_id = task.task_id;
    report.kind = task.kind;
    report.passed = passed;
    report.reason = reason;
    report.checks = {protocol::TaskCheck{"verify.d/ok", passed, passed ? "" : reason, 3}};
    AgentSend(host, report);
  }

  HostStatus StatusOf(const std::string& host) { return registry_->Find(host)->record.status; }
  const std::string& ReasonOf(const std::string& host) {
    return registry_->Find(host)->record.status_reason;
  }

  void SetProtection(const std::string& host, protocol::Protection protection) {
    store::Host record = registry_->Find(host)->record;
    record.protection = protection;
    ASSERT_TRUE(PutNow(*registry_, record).ok());
  }

  Result<protocol::TaskInfo> Ask(const std::string& host, const std::string& kind) {
    auto reply = Call<protocol::HostTaskReply>(protocol::HostTaskRequest{host, kind, "bob"});
    if (!reply.ok()) return reply.status();
    return reply->task;
  }

  // An entry that runs on `host` and ends with `exit_code` (the start taken from the outbox).
  void RunOne(const std::string& host, int exit_code) {
    auto starts = TakeStarts(host);
    ASSERT_EQ(starts.size(), 1u) << host;
    RunEntry(host, starts[0].entry_id, exit_code);
  }
};

TEST_F(Lifecycle, RunVerifyEntryWaitsForItsVerifyThenStarts) {
  Register("h1");
  auto id = Create({.hosts = {"h1"}, .run_verify = true});
  ASSERT_TRUE(id.ok());
  protocol::RunTask verify = OneTask("h1", "Verify");
  EXPECT_TRUE(TakeStarts("h1").empty());
  EXPECT_EQ(StatusOf("h1"), HostStatus::kVerifying);
  EXPECT_EQ(Show(*id).entries[0].status, "Verifying");
  EXPECT_GT(verify.coordinator_ms, 0);

  Report("h1", verify, true);
  EXPECT_EQ(TakeStarts("h1").size(), 1u);
  EXPECT_EQ(StatusOf("h1"), HostStatus::kRunning);
  EXPECT_EQ(Show(*id).entries[0].status, "Starting");
}

// A failed verify: the host is repaired, the label entry moves to a healthy host; the repair
// fails, so the host is Repair Failed and later label jobs go elsewhere.
TEST_F(Lifecycle, FailedVerifyRepairsTheHostAndTheLabelEntryMovesOn) {
  Register("h1", {"pool"});
  Register("h2", {"pool"});
  auto id = Create({.meta_label = "pool", .meta_count = 1, .run_verify = true});
  ASSERT_TRUE(id.ok());
  protocol::RunTask verify = OneTask("h1", "Verify");
  Report("h1", verify, false, "verify.d/disk failed: exit status 1");

  protocol::RunTask repair = OneTask("h1", "Repair");
  EXPECT_TRUE(repair.repair_scripts);
  EXPECT_TRUE(repair.verify_after);
  EXPECT_EQ(StatusOf("h1"), HostStatus::kRepairing);
  // The entry went back to the queue and on to h2, which is verified in turn.
  protocol::RunTask verify2 = OneTask("h2", "Verify");
  Report("h2", verify2, true);
  RunOne("h2", 0);
  EXPECT_EQ(Show(*id).status, "Completed");

  Report("h1", repair, false, "repair.d/fix failed: exit status 2");
  EXPECT_EQ(StatusOf("h1"), HostStatus::kRepairFailed);
  EXPECT_NE(ReasonOf("h1").find("repair.d/fix failed"), std::string::npos);

  auto next = Create({.meta_label = "pool", .meta_count = 1});
  ASSERT_TRUE(next.ok());
  AgentSend("h1", protocol::WorkRequest{incarnations_["h1"]});
  AgentSend("h2", protocol::WorkRequest{incarnations_["h2"]});
  EXPECT_TRUE(TakeStarts("h1").empty());
  EXPECT_EQ(TakeStarts("h2").size(), 1u);

  // Someone repairs it by hand and it passes: Ready again.
  auto asked = Ask("h1", "repair");
  ASSERT_TRUE(asked.ok()) << asked.status().ToString();
  Report("h1", OneTask("h1", "Repair"), true);
  EXPECT_EQ(StatusOf("h1"), HostStatus::kReady);
}

TEST_F(Lifecycle, NamedHostEntryFailsWhenItsHostCannotBeRepaired) {
  Register("h1");
  auto id = Create({.hosts = {"h1"}, .run_verify = true});
  ASSERT_TRUE(id.ok());
  Report("h1", OneTask("h1", "Verify"), false, "no");
  EXPECT_EQ(Show(*id).entries[0].status, "Queued");  // waits for its host
  Report("h1", OneTask("h1", "Repair"), false, "still no");
  protocol::JobInfo job = Show(*id);
  EXPECT_EQ(job.entries[0].status, "Failed");
  EXPECT_EQ(job.entries[0].fault, "infrastructure");
  EXPECT_NE(job.entries[0].reason.find("Repair Failed"), std::string::npos);
}

TEST_F(Lifecycle, ProtectionLevelsChangeWhatRuns) {
  Register("soft");
  Register("never-repair");
  Register("never-verify");
  SetProtection("soft", protocol::Protection::kRepairSoftwareOnly);
  SetProtection("never-repair", protocol::Protection::kDoNotRepair);
  SetProtection("never-verify", protocol::Protection::kDoNotVerify);

  // repair-software-only: the repair runs without its scripts.
  ASSERT_TRUE(Ask("soft", "verify").ok());
  Report("soft", OneTask("soft", "Verify"), false, "bad");
  protocol::RunTask repair = OneTask("soft", "Repair");
  EXPECT_FALSE(repair.repair_scripts);
  EXPECT_TRUE(repair.verify_after);

  // do-not-repair: a failed verify leaves the host Repair Failed; no repair, none by hand.
  ASSERT_TRUE(Ask("never-repair", "verify").ok());
  Report("never-repair", OneTask("never-repair", "Verify"), false, "bad");
  EXPECT_TRUE(TakeTasks("never-repair").empty());
  EXPECT_EQ(StatusOf("never-repair"), HostStatus::kRepairFailed);
  EXPECT_NE(ReasonOf("never-repair").find("do-not-repair"), std::string::npos);
  auto refused = Ask("never-repair", "repair");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);

  // do-not-verify: a run-verify entry starts at once; verify by hand is refused; a repair
  // skips its verify.
  auto id = Create({.hosts = {"never-verify"}, .run_verify = true});
  ASSERT_TRUE(id.ok());
  EXPECT_TRUE(TakeTasks("never-verify").empty());
  RunOne("never-verify", 0);
  EXPECT_FALSE(Ask("never-verify", "verify").ok());
  ASSERT_TRUE(Ask("never-verify", "repair").ok());
  EXPECT_FALSE(OneTask("never-verify", "Repair").verify_after);
}

// Agent lost during an entry: with --retry 1 the entry is queued again and completes on
// another host; the host that comes back is repaired before it is Ready.
TEST_F(Lifecycle, LostHostRequeuesWithRetryAndIsRepairedWhenItReturns) {
  config_.dead_after_ms = 1000;
  Register("h1", {"pool"});
  auto id = Create({.meta_label = "pool", .meta_count = 1, .retry = 1});
  ASSERT_TRUE(id.ok());
  auto starts = TakeStarts("h1");
  ASSERT_EQ(starts.size(), 1u);
  protocol::EntryReport running;
  running.entry_id = starts[0].entry_id;
  running.phase = "running";
  running.sequence = 1;
  running.started_us = clock_.WallUs();
  AgentSend("h1", running);
  Register("h2", {"pool"});
  clock_.AdvanceMs(5000);
  Heartbeat("h2");
  agents_->CheckDeadHosts();
  Flush();
  EXPECT_EQ(StatusOf("h1"), HostStatus::kDead);

  RunOne("h2", 0);
  protocol::JobInfo job = Show(*id);
  EXPECT_EQ(job.status, "Completed");
  EXPECT_EQ(job.entries[0].retries, 1u);
  EXPECT_EQ(job.entries[0].host, "h2");

  Register("h1", {"pool"});
  EXPECT_EQ(StatusOf("h1"), HostStatus::kRepairing);  // not Ready before its repair
  protocol::RunTask repair = OneTask("h1", "Repair");
  Report("h1", repair, true);
  EXPECT_EQ(StatusOf("h1"), HostStatus::kReady);
}

TEST_F(Lifecycle, LostHostWithoutRetryFailsTheEntryHostLost) {
  config_.dead_after_ms = 1000;
  Register("h1");
  Register("h2");
  auto id = Create({.hosts = {"h1"}});
  ASSERT_TRUE(id.ok());
  ASSERT_EQ(TakeStarts("h1").size(), 1u);
  clock_.AdvanceMs(5000);
  Heartbeat("h2");
  agents_->CheckDeadHosts();
  Flush();
  protocol::JobInfo job = Show(*id);
  EXPECT_EQ(job.entries[0].status, "Failed");
  EXPECT_EQ(job.entries[0].reason.rfind("host lost", 0), 0u) << job.entries[0].reason;
  EXPECT_FALSE(Create({.hosts = {"h1", "h2"}, .synch_count = 2, .retry = 1}).ok());
}

TEST_F(Lifecycle, RepairsAreNotRetriedInALoop) {
  config_.repair_limit = 2;
  Register("h1");
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(Ask("h1", "verify").ok());
    Report("h1", OneTask("h1", "Verify"), false, "flaky disk");
    Report("h1", OneTask("h1", "Repair"), true);
    EXPECT_EQ(StatusOf("h1"), HostStatus::kReady);
  }
  ASSERT_TRUE(Ask("h1", "verify").ok());
  Report("h1", OneTask("h1", "Verify"), false, "flaky disk");
  EXPECT_TRUE(TakeTasks("h1").empty());
  EXPECT_EQ(StatusOf("h1"), HostStatus::kRepairFailed);
  EXPECT_NE(ReasonOf("h1").find("repaired 2 times"), std::string::npos) << ReasonOf("h1");
  // The window passes: automatic repairs are allowed again.
  clock_.AdvanceMs(config_.repair_window_ms + 1000);
  ASSERT_TRUE(Ask("h1", "verify").ok());
  Report("h1", OneTask("h1", "Verify"), false, "flaky disk");
  EXPECT_EQ(TakeTasks("h1").size(), 1u);
}

TEST_F(Lifecycle, CleanupFollowsTheJobsPolicy) {
  Register("h1");
  // on-failure (the default): after a failure, not after a pass.
  ASSERT_TRUE(Create({.hosts = {"h1"}}).ok());
  RunOne("h1", 0);
  EXPECT_TRUE(TakeTasks("h1").empty());
  EXPECT_EQ(StatusOf("h1"), HostStatus::kReady);
  AgentSend("h1", protocol::WorkRequest{incarnations_["h1"]});
  ASSERT_TRUE(Create({.hosts = {"h1"}}).ok());
  RunOne("h1", 1);
  protocol::RunTask cleanup = OneTask("h1", "Cleanup");
  EXPECT_EQ(StatusOf("h1"), HostStatus::kCleaning);
  // The agent asks for work at once, but the host takes none until it is clean.
  AgentSend("h1", protocol::WorkRequest{incarnations_["h1"]});
  ASSERT_TRUE(Create({.hosts = {"h1"}, .cleanup = "always"}).ok());
  EXPECT_TRUE(TakeStarts("h1").empty());
  Report("h1", cleanup, true);
  EXPECT_EQ(StatusOf("h1"), HostStatus::kRunning);  // the waiting job started
  RunOne("h1", 0);
  cleanup = OneTask("h1", "Cleanup");  // always: after a pass too
  // A failed cleanup gets a repair.
  Report("h1", cleanup, false, "cleanup.d/wipe failed: exit status 1");
  OneTask("h1", "Repair");
  EXPECT_EQ(StatusOf("h1"), HostStatus::kRepairing);
}

TEST_F(Lifecycle, NeverCleanupAndBadPoliciesAreRefused) {
  Register("h1");
  ASSERT_TRUE(Create({.hosts = {"h1"}, .cleanup = "never"}).ok());
  RunOne("h1", 1);
  EXPECT_TRUE(TakeTasks("h1").empty());
  EXPECT_EQ(StatusOf("h1"), HostStatus::kReady);
  auto bad = Create({.hosts = {"h1"}, .cleanup = "sometimes"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(Create({.hosts = {"h1"}, .retry = 1000}).ok());
}

TEST_F(Lifecycle, ManualTasksAndTheHostHistory) {
  Register("h1");
  ASSERT_TRUE(Create({.name = "boot", .hosts = {"h1"}}).ok());
  RunOne("h1", 0);
  clock_.AdvanceMs(1000);
  auto task = Ask("h1", "verify");
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->kind, "Verify");
  EXPECT_EQ(task->requested_by, "bob");
  auto again = Ask("h1", "VERIFY");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, task->id);  // asking twice gets the same task
  auto other = Ask("h1", "repair");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Ask("nope", "verify").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Ask("h1", "reboot").status().code(), StatusCode::kInvalidArgument);
  Report("h1", OneTask("h1", "Verify"), false, "verify.d/ok failed: exit status 1");
  Report("h1", OneTask("h1", "Repair"), true);

  auto history = Call<protocol::HostHistoryReply>(protocol::HostHistoryRequest{"h1", 0});
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_EQ(history->items.size(), 3u);
  EXPECT_EQ(history->items[0].type, "task");  // newest first
  EXPECT_EQ(history->items[0].name, "Repair");
  EXPECT_EQ(history->items[0].status, "Completed");
  EXPECT_EQ(history->items[0].requested_by, "labmesh");
  EXPECT_EQ(history->items[1].name, "Verify");
  EXPECT_EQ(history->items[1].status, "Failed");
  ASSERT_EQ(history->items[1].checks.size(), 1u);
  EXPECT_FALSE(history->items[1].checks[0].passed);
  EXPECT_EQ(history->items[2].type, "entry");
  EXPECT_EQ(history->items[2].name, "boot");
  EXPECT_EQ(history->items[2].status, "Completed");
  auto limited = Call<protocol::HostHistoryReply>(protocol::HostHistoryRequest{"h1", 1});
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->items.size(), 1u);
  EXPECT_EQ(Call<protocol::HostHistoryReply>(protocol::HostHistoryRequest{"nope", 0})
                .status()
                .code(),
            StatusCode::kNotFound);
  // The host's last task, as host lists show it.
  protocol::HostInfo info = registry_->ToInfo(*registry_->Find("h1"));
  EXPECT_EQ(info.last_task.kind, "Repair");
  EXPECT_EQ(info.last_task.status, "Completed");
  EXPECT_TRUE(info.last_task.checks.empty());
}

TEST_F(Lifecycle, IdleHostsAreVerifiedPeriodically) {
  config_.verify_interval_ms = 60'000;
  Register("h1");
  jobs_->CheckTimeouts();
  EXPECT_TRUE(TakeTasks("h1").empty());
  clock_.AdvanceMs(61'000);
  Heartbeat("h1");
  jobs_->CheckTimeouts();
  Flush();
  protocol::RunTask verify = OneTask("h1", "Verify");
  Report("h1", verify, true);
  clock_.AdvanceMs(30'000);
  Heartbeat("h1");
  jobs_->CheckTimeouts();
  Flush();
  EXPECT_TRUE(TakeTasks("h1").empty());  // verified 30 s ago
}

// A running task is sent again when the agent registers after a coordinator restart; a late
// report of another task is ignored.
TEST_F(Lifecycle, RunningTaskIsSentAgainAfterARestart) {
  Register("h1");
  ASSERT_TRUE(Ask("h1", "verify").ok());
  protocol::RunTask verify = OneTask("h1", "Verify");
  StartJobs();  // a coordinator restart: same store, new services
  Register("h1");
  protocol::RunTask again = OneTask("h1", "Verify");
  EXPECT_EQ(again.task_id, verify.task_id);
  protocol::RunTask stale = verify;
  stale.task_id += 100;
  Report("h1", stale, true);
  EXPECT_EQ(StatusOf("h1"), HostStatus::kVerifying);
  Report("h1", again, true);
  EXPECT_EQ(StatusOf("h1"), HostStatus::kReady);
}

// Issue 20: RunTask is idempotent, not acknowledged; an agent that never answers it does not
// leave its host Cleaning forever: the task fails at --task-deadline, and a failed task's rule
// follows (a Repair, which fails the same way: Repair Failed).
TEST_F(Lifecycle, TaskWithoutAReportFailsAtItsDeadline) {
  config_.task_deadline_ms = 60'000;
  Register("h1");
  ASSERT_TRUE(Create({.hosts = {"h1"}}).ok());
  RunOne("h1", 1);
  protocol::RunTask cleanup = OneTask("h1", "Cleanup");
  auto tick = [&](int64_t ms) {
    clock_.AdvanceMs(ms);
    Heartbeat("h1");
    jobs_->CheckTimeouts();
    Flush();
  };
  tick(59'000);
  EXPECT_EQ(StatusOf("h1"), HostStatus::kCleaning);
  tick(2'000);
  OneTask("h1", "Repair");
  EXPECT_EQ(StatusOf("h1"), HostStatus::kRepairing);
  Report("h1", cleanup, true);  // too late: ignored
  EXPECT_EQ(StatusOf("h1"), HostStatus::kRepairing);
  tick(61'000);
  EXPECT_EQ(StatusOf("h1"), HostStatus::kRepairFailed);
  EXPECT_NE(ReasonOf("h1").find("no report from the agent within"), std::string::npos)
      << ReasonOf("h1");
  auto history = Call<protocol::HostHistoryReply>(protocol::HostHistoryRequest{"h1", 10});
  ASSERT_TRUE(history.ok());
  bool found = false;
  for (const protocol::HistoryItem& item : history->items) {
    if (item.type == "task" && item.id == cleanup.task_id) {
      found = true;
      EXPECT_EQ(item.status, "Failed");
      EXPECT_NE(item.reason.find("--task-deadline"), std::string::npos) << item.reason;
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace labmesh::coordinator::testing
