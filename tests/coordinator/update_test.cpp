// Agent self-update in the JobService (docs/update.md): Update tasks for idle hosts whose agent
// runs another version than the desired one, before any entry; how they end (the agent comes
// back on the new version, rolls back, reports a failure, is lost); no retry loop until the
// version is desired again; canary shares; last_known_good; a coordinator restart in the middle.
// The agents are played by the test (Update fixture).

#include <gtest/gtest.h>

#include "update_fixture.hpp"

namespace labmesh::coordinator::testing {
namespace {

using protocol::HostStatus;
using protocol::TaskStatus;

class Updates : public Update {
 protected:
  // h1 runs 0.1.0 and waits for work; 0.2.0 is uploaded and desired; h1's Update task is sent.
  protocol::RunTask StartUpdate() {
    RegisterAs("h1", "0.1.0");
    package_ = Upload("0.2.0");
    EXPECT_TRUE(Desire("0.2.0").ok());
    auto tasks = TakeTasks("h1");
    EXPECT_EQ(tasks.size(), 1u);
    return tasks.empty() ? protocol::RunTask{} : tasks[0];
  }

  protocol::PackageInfo package_;
};

TEST_F(Updates, IdleHostOnAnotherVersionGetsTheUpdateTask) {
  protocol::RunTask run = StartUpdate();
  EXPECT_EQ(run.kind, "Update");
  EXPECT_EQ(run.version, "0.2.0");
  EXPECT_EQ(run.package_sha256, package_.sha256);
  EXPECT_EQ(run.package_bytes, package_.bytes);
  EXPECT_EQ(RecordOf("h1").status, HostStatus::kUpdating);
  store::SpecialTask task = TaskById(run.task_id);
  EXPECT_EQ(task.status, TaskStatus::kRunning);
  EXPECT_EQ(task.reason, "version 0.1.0 -> 0.2.0");
  EXPECT_EQ(task.requested_by, "labmesh");
  // A host already on the version is left alone.
  RegisterAs("h2", "0.2.0");
  EXPECT_TRUE(TakeTasks("h2").empty());
}

TEST_F(Updates, UpdateComesBeforeAQueuedEntry) {
  RegisterAs("h1", "0.1.0", {}, /*ask_for_work=*/false);
  Upload("0.2.0");
  ASSERT_TRUE(Desire("0.2.0").ok());
  auto id = Create({.hosts = {"h1"}});
  ASSERT_TRUE(id.ok());
  AskForWork("h1");
  auto tasks = TakeTasks("h1");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].kind, "Update");
  EXPECT_TRUE(TakeStarts("h1").empty());
  EXPECT_EQ(Show(*id).entries[0].status, "Queued");

  RegisterAs("h1", "0.2.0");  // the new agent registers and asks for work
  EXPECT_EQ(TaskById(tasks[0].task_id).status, TaskStatus::kCompleted);
  EXPECT_EQ(TakeStarts("h1").size(), 1u);
}

TEST_F(Updates, HostRunningAnEntryUpdatesOnlyAfterIt) {
  RegisterAs("h1", "0.1.0");
  auto id = Create({.hosts = {"h1"}});
  ASSERT_TRUE(id.ok());
  auto starts = TakeStarts("h1");
  ASSERT_EQ(starts.size(), 1u);
  Upload("0.2.0");
  ASSERT_TRUE(Desire("0.2.0").ok());
  EXPECT_TRUE(TakeTasks("h1").empty());
  EXPECT_EQ(RecordOf("h1").status, HostStatus::kRunning);

  RunEntry("h1", starts[0].entry_id, 0);
  EXPECT_TRUE(TakeTasks("h1").empty());  // it has not asked for work yet
  EXPECT_EQ(Show(*id).status, "Completed");
  EXPECT_EQ(RecordOf("h1").last_known_good, "0.1.0");  // an entry completed on 0.1.0
  EXPECT_EQ(registry_->ToInfo(*registry_->Find("h1")).last_known_good, "0.1.0");

  AskForWork("h1");
  auto tasks = TakeTasks("h1");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].kind, "Update");
}

TEST_F(Updates, RegistrationOnTheTargetVersionCompletesIt) {
  protocol::RunTask run = StartUpdate();
  RegisterAs("h1", "0.2.0");
  store::SpecialTask task = TaskById(run.task_id);
  EXPECT_EQ(task.status, TaskStatus::kCompleted);
  EXPECT_EQ(task.reason, "now runs 0.2.0");
  EXPECT_EQ(RecordOf("h1").status, HostStatus::kReady);
  EXPECT_EQ(RecordOf("h1").agent_version, "0.2.0");
  EXPECT_EQ(RecordOf("h1").update_failed_version, "");
  EXPECT_TRUE(TakeTasks("h1").empty());
  EXPECT_EQ(jobs_->tasks().open_tasks(), 0u);
  auto list = PackageCall<protocol::PackageListReply>(protocol::PackageListRequest{});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->host_versions["0.2.0"], 1u);
}

TEST_F(Updates, RollbackReportFailsItAndTheVersionIsNotRetriedUntilDesiredAgain) {
  protocol::RunTask run = StartUpdate();
  protocol::TaskReport report{run.task_id, "Update", false,
                              "the new agent did not register within 2m", {}};
  RegisterAs("h1", "0.1.0", report);
  store::SpecialTask task = TaskById(run.task_id);
  EXPECT_EQ(task.status, TaskStatus::kFailed);
  EXPECT_EQ(task.reason, "the new agent did not register within 2m");
  EXPECT_EQ(RecordOf("h1").status, HostStatus::kReady);
  EXPECT_EQ(RecordOf("h1").update_failed_version, "0.2.0");
  EXPECT_EQ(registry_->ToInfo(*registry_->Find("h1")).update_failed_version, "0.2.0");
  AskForWork("h1");
  EXPECT_TRUE(TakeTasks("h1").empty());  // no retry loop
  // It still runs entries on the old version.
  auto id = Create({.hosts = {"h1"}});
  ASSERT_TRUE(id.ok());
  auto starts = TakeStarts("h1");
  ASSERT_EQ(starts.size(), 1u);
  RunEntry("h1", starts[0].entry_id, 0);

  // Desiring it again clears the record, and the (idle) host tries again.
  AskForWork("h1");
  ASSERT_TRUE(Desire("0.2.0").ok());
  EXPECT_EQ(RecordOf("h1").update_failed_version, "");
  auto retry = TakeTasks("h1");
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(retry[0].kind, "Update");
  EXPECT_NE(retry[0].task_id, run.task_id);
}

TEST_F(Updates, FailedTaskReportFailsIt) {
  protocol::RunTask run = StartUpdate();
  AgentSend("h1", protocol::TaskReport{run.task_id, "Update", false,
                                       "package sha256 mismatch",
                                       {protocol::TaskCheck{"download", false, "bad hash", 5}}});
  store::SpecialTask task = TaskById(run.task_id);
  EXPECT_EQ(task.status, TaskStatus::kFailed);
  EXPECT_EQ(task.reason, "package sha256 mismatch");
  ASSERT_EQ(task.checks.size(), 1u);
  EXPECT_EQ(RecordOf("h1").status, HostStatus::kReady);
  EXPECT_EQ(RecordOf("h1").update_failed_version, "0.2.0");
  AskForWork("h1");
  EXPECT_TRUE(TakeTasks("h1").empty());
}

TEST_F(Updates, AgentRestartedMidDownloadGetsTheTaskAgain) {
  protocol::RunTask run = StartUpdate();
  RegisterAs("h1", "0.1.0");  // no report: it was restarted, not rolled back
  auto again = TakeTasks("h1");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].task_id, run.task_id);
  EXPECT_EQ(again[0].package_sha256, run.package_sha256);
  EXPECT_EQ(TaskById(run.task_id).status, TaskStatus::kRunning);
  EXPECT_EQ(RecordOf("h1").status, HostStatus::kUpdating);
  // A report of some other task does not end it either.
  RegisterAs("h1", "0.1.0", protocol::TaskReport{run.task_id + 50, "Update", false, "old", {}});
  EXPECT_EQ(TakeTasks("h1").size(), 1u);
  EXPECT_EQ(TaskById(run.task_id).status, TaskStatus::kRunning);
}

TEST_F(Updates, CoordinatorRestartMidUpdateSendsTheTaskAgain) {
  protocol::RunTask run = StartUpdate();
  Restart();
  RegisterAs("h1", "0.1.0");
  auto again = TakeTasks("h1");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].task_id, run.task_id);
  EXPECT_EQ(again[0].version, "0.2.0");
  EXPECT_EQ(again[0].package_sha256, package_.sha256);
  EXPECT_EQ(again[0].package_bytes, package_.bytes);
  RegisterAs("h1", "0.2.0");
  EXPECT_EQ(TaskById(run.task_id).status, TaskStatus::kCompleted);
  EXPECT_EQ(RecordOf("h1").status, HostStatus::kReady);
}

TEST_F(Updates, LostHostAbortsTheUpdateAndRecordsIt) {
  config_.dead_after_ms = 1000;
  protocol::RunTask run = StartUpdate();
  clock_.AdvanceMs(5000);
  agents_->CheckDeadHosts();
  Flush();
  EXPECT_EQ(TaskById(run.task_id).status, TaskStatus::kAborted);
  EXPECT_EQ(RecordOf("h1").update_failed_version, "0.2.0");
  // It comes back on the version after all: that is no failure any more.
  RegisterAs("h1", "0.2.0");
  EXPECT_EQ(RecordOf("h1").update_failed_version, "");
}

TEST_F(Updates, CanaryShareUpdatesAStableSubset) {
  std::vector<std::string> hosts;
  for (int i = 0; i < 30; ++i) hosts.push_back("lab-" + std::to_string(i));
  for (const std::string& host : hosts) RegisterAs(host, "0.1.0");
  Upload("0.2.0");
  ASSERT_TRUE(Desire("0.2.0", 30).ok());
  size_t updated = 0;
  for (const std::string& host : hosts) {
    bool got = !TakeTasks(host).empty();
    EXPECT_EQ(got, InCanary(host, 30)) << host;
    updated += got;
  }
  EXPECT_GT(updated, 0u);
  EXPECT_LT(updated, hosts.size());
}

TEST_F(Updates, NothingDesiredNothingUpdated) {
  RegisterAs("h1", "0.1.0");
  Upload("0.2.0");
  AskForWork("h1");
  EXPECT_TRUE(TakeTasks("h1").empty());
  EXPECT_EQ(RecordOf("h1").status, HostStatus::kReady);
}

}  // namespace
}  // namespace labmesh::coordinator::testing
