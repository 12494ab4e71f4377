// `labmesh host verify|repair|history|mod` as a script sees it: the request each command sends,
// what it prints (text and --json) and its exit code, against a canned-reply stand-in for the
// coordinator's API socket on inproc. The real coordinator is exercised in tests/e2e.

#include "labmesh/cli/host_lifecycle_commands.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_run.hpp"
#include "fake_coordinator.hpp"
#include "labmesh/protocol/json.hpp"

namespace labmesh::cli {
namespace {

using testing::CliRun;
using webui::testing::FakeCoordinator;
using webui::testing::SampleHost;
using webui::testing::SampleTask;

constexpr char kEndpoint[] = "inproc://cli-host-lifecycle-test";

protocol::TaskInfo QueuedTask(uint64_t id, const std::string& kind) {
  protocol::TaskInfo task;
  task.id = id;
  task.hostname = "lab-1";
  task.kind = kind;
  task.status = "Queued";
  task.reason = "requested by bob";
  task.requested_by = "bob";
  task.queued_ms = 1'700'000'000'000;
  return task;
}

class HostLifecycleCommandsTest : public ::testing::Test {
 protected:
  // Parses `args` as `labmesh ARGS` (with the global --user and --json) and runs the chosen
  // host command against the fake coordinator.
  CliRun Run(std::vector<std::string> args, const std::string& endpoint = kEndpoint,
             int64_t timeout_ms = 2000) {
    CLI::App app{"labmesh"};
    Globals g;
    Action action;
    app.add_option("--user", g.user);
    app.add_flag("--json", g.json);
    CLI::App* host = app.add_subcommand("host")->require_subcommand(1);
    HostLifecycleCommands commands(*host, g, action);
    return testing::ParseAndRun(app, action, std::move(args), context_, endpoint, timeout_ms);
  }

  zmq::context_t context_;
  FakeCoordinator coordinator_{context_, kEndpoint};
};

TEST_F(HostLifecycleCommandsTest, VerifySendsHostKindAndUserAndSaysWhatWasQueued) {
  coordinator_.Reply<protocol::HostTaskRequest>(protocol::HostTaskReply{QueuedTask(12, "Verify")});
  CliRun run = Run({"--user", "bob", "host", "verify", "lab-1"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "queued Verify task 12 on lab-1 (Queued)\n");
  auto request = coordinator_.LastRequest<protocol::HostTaskRequest>();
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->hostname, "lab-1");
  EXPECT_EQ(request->kind, "verify");
  EXPECT_EQ(request->user, "bob");
}

TEST_F(HostLifecycleCommandsTest, RepairSendsKindRepair) {
  coordinator_.Reply<protocol::HostTaskRequest>(protocol::HostTaskReply{QueuedTask(13, "Repair")});
  CliRun run = Run({"--user", "bob", "host", "repair", "lab-1"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "queued Repair task 13 on lab-1 (Queued)\n");
  auto request = coordinator_.LastRequest<protocol::HostTaskRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->kind, "repair");
}

TEST_F(HostLifecycleCommandsTest, VerifyWithJsonPrintsTheTaskObject) {
  coordinator_.Reply<protocol::HostTaskRequest>(protocol::HostTaskReply{QueuedTask(12, "Verify")});
  CliRun run = Run({"--json", "host", "verify", "lab-1"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out), protocol::ToJson(QueuedTask(12, "Verify")));
}

TEST_F(HostLifecycleCommandsTest, CoordinatorRefusalsAreExitOneWithTheirMessage) {
  coordinator_.Fail<protocol::HostTaskRequest>(Status::NotFound("no host named lab-9"));
  CliRun run = Run({"host", "verify", "lab-9"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "labmesh: no host named lab-9\n");
  EXPECT_EQ(run.out, "");
  coordinator_.Fail<protocol::HostTaskRequest>(
      Status::FailedPrecondition("lab-1 is Dead: a task needs a connected agent"));
  run = Run({"host", "repair", "lab-1"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "labmesh: lab-1 is Dead: a task needs a connected agent\n");
  coordinator_.Fail<protocol::HostHistoryRequest>(Status::NotFound("no host named lab-9"));
  run = Run({"host", "history", "lab-9"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "labmesh: no host named lab-9\n");
  coordinator_.Fail<protocol::HostModRequest>(Status::NotFound("no host named lab-9"));
  run = Run({"host", "mod", "lab-9", "--protection", "none"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "labmesh: no host named lab-9\n");
}

TEST_F(HostLifecycleCommandsTest, UnreachableCoordinatorIsExitThree) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"host", "verify", "lab-1"},
           {"host", "history", "lab-1"},
           {"host", "mod", "lab-1", "--protection", "none"}}) {
    CliRun run = Run(args, "inproc://nobody-binds-this", 200);
    EXPECT_EQ(run.exit_code, 3) << ::testing::PrintToString(args) << run.err;
    EXPECT_FALSE(run.err.empty());
  }
}

TEST_F(HostLifecycleCommandsTest, HistorySendsTheLimitAndPrintsTheTable) {
  protocol::HostHistoryReply reply;
  protocol::HistoryItem task;
  task.type = "task";
  task.id = 12;
  task.name = "Verify";
  task.status = "Failed";
  task.reason = "verify.d/disk failed: exit status 1";
  task.queued_ms = 1'700'000'000'000;
  task.checks = SampleTask(12, "lab-1").checks;
  protocol::HistoryItem entry;
  entry.type = "entry";
  entry.id = 41;
  entry.job_id = 7;
  entry.name = "boot";
  entry.status = "Completed";
  entry.queued_ms = 1'699'999'000'000;
  reply.items = {task, entry};
  coordinator_.Reply<protocol::HostHistoryRequest>(reply);
  CliRun run = Run({"host", "history", "lab-1", "--limit", "20"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "WHEN                      TYPE   ID  JOB  NAME    STATUS     REASON\n"
            "2023-11-14T22:13:20.000Z  task   12  -    Verify  Failed     "
            "verify.d/disk failed: exit status 1\n"
            "    failed checks: verify.d/disk, clock-skew\n"
            "2023-11-14T21:56:40.000Z  entry  41  7    boot    Completed  \n");
  auto request = coordinator_.LastRequest<protocol::HostHistoryRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->hostname, "lab-1");
  EXPECT_EQ(request->limit, 20u);
}

TEST_F(HostLifecycleCommandsTest, HistoryWithoutLimitLeavesItToTheCoordinator) {
  coordinator_.Reply<protocol::HostHistoryRequest>(protocol::HostHistoryReply{});
  CliRun run = Run({"host", "history", "lab-1"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "no history for lab-1\n");
  EXPECT_EQ(coordinator_.LastRequest<protocol::HostHistoryRequest>()->limit, 0u);
}

TEST_F(HostLifecycleCommandsTest, HistoryJsonIsAnArrayOfHistoryItems) {
  protocol::HostHistoryReply reply;
  reply.items.resize(2);
  reply.items[0].type = "task";
  reply.items[0].id = 3;
  reply.items[0].checks = SampleTask(3, "lab-1").checks;
  reply.items[1].type = "entry";
  reply.items[1].id = 9;
  coordinator_.Reply<protocol::HostHistoryRequest>(reply);
  CliRun run = Run({"--json", "host", "history", "lab-1"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto body = nlohmann::json::parse(run.out);
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 2u);
  EXPECT_EQ(body[0], protocol::ToJson(reply.items[0]));
  EXPECT_EQ(body[1], protocol::ToJson(reply.items[1]));
  coordinator_.Reply<protocol::HostHistoryRequest>(protocol::HostHistoryReply{});
  run = Run({"--json", "host", "history", "lab-1"});
  EXPECT_EQ(nlohmann::json::parse(run.out), nlohmann::json::array());
}

TEST_F(HostLifecycleCommandsTest, ModSendsTheCanonicalLevelAndPrintsTheHostLikeShow) {
  protocol::HostInfo host = SampleHost("lab-1");
  host.protection = "do-not-repair";
  host.last_task = SampleTask(12, "lab-1");
  coordinator_.Reply<protocol::HostModRequest>(protocol::HostShowReply{host});
  CliRun run = Run({"--user", "bob", "host", "mod", "lab-1", "--protection", "Do-Not-Repair"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.rfind("hostname        lab-1\n", 0), 0u) << run.out;
  EXPECT_NE(run.out.find("\nprotection      do-not-repair\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("\nlast task       Verify Failed (task 12, finished "), std::string::npos)
      << run.out;
  auto request = coordinator_.LastRequest<protocol::HostModRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->hostname, "lab-1");
  EXPECT_EQ(request->protection, "do-not-repair");
  EXPECT_EQ(request->user, "bob");
}

TEST_F(HostLifecycleCommandsTest, ModWithJsonPrintsTheHostObjectWithProtectionAndLastTask) {
  protocol::HostInfo host = SampleHost("lab-1");
  host.protection = "do-not-verify";
  host.last_task = SampleTask(12, "lab-1");
  coordinator_.Reply<protocol::HostModRequest>(protocol::HostShowReply{host});
  CliRun run = Run({"--json", "host", "mod", "lab-1", "--protection", "do-not-verify"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto body = nlohmann::json::parse(run.out);
  EXPECT_EQ(body, protocol::ToJson(host));
  EXPECT_EQ(body["protection"], "do-not-verify");
  EXPECT_EQ(body["last_task"]["status"], "Failed");
}

TEST_F(HostLifecycleCommandsTest, ModWithAnUnknownLevelIsAUsageErrorListingTheLevels) {
  CliRun run = Run({"host", "mod", "lab-1", "--protection", "sometimes"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err,
            "labmesh: host mod: unknown protection level 'sometimes' (none, "
            "repair-software-only, do-not-repair, do-not-verify)\n");
  EXPECT_EQ(run.out, "");
  EXPECT_TRUE(coordinator_.Requests().empty());
}

TEST_F(HostLifecycleCommandsTest, MissingArgumentsAreUsageErrors) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"host", "verify"},
           {"host", "repair"},
           {"host", "history"},
           {"host", "history", "lab-1", "--limit", "-1"},
           {"host", "history", "lab-1", "--limit", "many"},
           {"host", "mod", "lab-1"},
           {"host", "mod", "--protection", "none"}}) {
    CliRun run = Run(args);
    EXPECT_EQ(run.exit_code, 2) << ::testing::PrintToString(args);
    EXPECT_FALSE(run.err.empty()) << ::testing::PrintToString(args);
  }
  EXPECT_TRUE(coordinator_.Requests().empty());
}

}  // namespace
}  // namespace labmesh::cli
