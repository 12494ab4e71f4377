// Jobs that wait for jobs end to end (issue 22, docs/jobs.md "Jobs that wait for jobs"): the
// real coordinator, an agent and the CLI. A job created --after others stays Waiting (and says
// why) until they are final, across a coordinator kill -9; it then runs, or is aborted with the
// reason when one did not complete (unless --after-any); unknown ids are refused.

#include <signal.h>

#include "jobs_fixture.hpp"

namespace labmesh::testing {
namespace {

class AfterE2e : public JobsE2e {};

TEST_F(AfterE2e, WaitsUntilTheJobsAreFinalThenRunsOrIsAborted) {
  StartCluster({"af-1"});
  const std::string go = cluster_.root() + "/go";
  uint64_t first = Create({"--name", "first", "--hosts", "af-1", "--command",
                           "while [ ! -e " + go + " ]; do sleep 0.05; done"});
  uint64_t failing = Create({"--name", "failing", "--hosts", "af-1", "--command",
                             "while [ ! -e " + go + " ]; do sleep 0.05; done; exit 3"});
  ASSERT_NE(first, 0u);
  ASSERT_NE(failing, 0u);
  uint64_t next = Create({"--name", "next", "--hosts", "af-1", "--command", "true", "--after",
                          std::to_string(first)});
  uint64_t blocked = Create({"--name", "blocked", "--hosts", "af-1", "--command", "true",
                             "--after", std::to_string(first) + "," + std::to_string(failing)});
  uint64_t anyway = Create({"--name", "anyway", "--hosts", "af-1", "--command", "true", "--after",
                            std::to_string(failing), "--after-any"});
  ASSERT_NE(next, 0u);
  ASSERT_NE(blocked, 0u);
  ASSERT_NE(anyway, 0u);
  auto shown = Show(next);
  EXPECT_EQ(shown["status"], "Waiting");
  EXPECT_EQ(shown["after"], nlohmann::json::array({first}));
  std::string why = shown["entries"][0].value("waiting_for", "");
  EXPECT_NE(why.find("waiting for job " + std::to_string(first) + " ("), std::string::npos) << why;
  auto listed = cluster_.Cli({"--json", "job", "list", "--status", "waiting"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(nlohmann::json::parse(listed.out).size(), 3u) << listed.out;

  // The waits survive a kill -9 of the coordinator.
  cluster_.StopCoordinator(SIGKILL);
  cluster_.StartCoordinator();
  EXPECT_EQ(Show(next)["status"], "Waiting");
  WriteFile("go", "");

  ASSERT_TRUE(WaitForJobStatus(first, "Completed"));
  ASSERT_TRUE(WaitForJobStatus(failing, "Failed"));
  ASSERT_TRUE(WaitForJobStatus(next, "Completed"));
  ASSERT_TRUE(WaitForJobStatus(anyway, "Completed"));
  ASSERT_TRUE(WaitForJobStatus(blocked, "Aborted"));
  auto aborted = Show(blocked);
  EXPECT_EQ(aborted["abort_reason"], "job " + std::to_string(failing) + " ended Failed (--after)");
  EXPECT_EQ(aborted["entries"][0]["status"], "Aborted");
  EXPECT_EQ(aborted["entries"][0]["started_us"], 0) << "an aborted waiter never ran";
}

TEST_F(AfterE2e, AJobAlreadyFinishedIsNotWaitedForAndUnknownIdsAreRefused) {
  StartCluster({"af-1"});
  uint64_t done = Create({"--name", "done", "--hosts", "af-1", "--command", "exit 1"});
  ASSERT_TRUE(WaitForJobStatus(done, "Failed"));
  // A job that already failed: the new one is aborted at once.
  uint64_t late = Create({"--name", "late", "--hosts", "af-1", "--command", "true", "--after",
                          std::to_string(done)});
  ASSERT_TRUE(WaitForJobStatus(late, "Aborted"));
  EXPECT_NE(Show(late)["abort_reason"].get<std::string>().find("ended Failed"), std::string::npos);
  // Unknown ids (never made, this job's own future id, 0) are refused and make no job.
  for (const std::string& bad : {std::string("999"), std::to_string(late + 1)}) {
    auto refused = cluster_.Cli({"--user", "alice", "job", "create", "--name", "x", "--hosts",
                                 "af-1", "--command", "true", "--after", bad});
    EXPECT_EQ(refused.exit_code, 1) << bad << refused.err;
    EXPECT_NE(refused.err.find("does not exist"), std::string::npos) << refused.err;
  }
  auto zero = cluster_.Cli({"--user", "alice", "job", "create", "--name", "x", "--hosts", "af-1",
                            "--command", "true", "--after", "0"});
  EXPECT_EQ(zero.exit_code, 2) << zero.err;
  auto list = cluster_.Cli({"--json", "job", "list"});
  EXPECT_EQ(nlohmann::json::parse(list.out).size(), 2u) << list.out;
}

}  // namespace
}  // namespace labmesh::testing
