// `job clone ID [overrides]` and `job log --json` end to end (issue 22): the real coordinator,
// an agent and the CLI.

#include "jobs_fixture.hpp"

namespace labmesh::testing {
namespace {

class CloneE2e : public JobsE2e {};

TEST_F(CloneE2e, CloneCopiesTheJobAndAppliesOverrides) {
  StartCluster({"cl-1", "cl-2"});
  uint64_t id = Create({"--name", "orig", "--hosts", "cl-1", "--command", "echo hello; echo world",
                        "--priority", "high", "--timeout", "10m", "--retry", "2", "--notify",
                        "email:alice@example.org", "--notify-on", "failure"});
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(WaitForJobStatus(id, "Completed"));

  auto same = cluster_.Cli({"--json", "--user", "alice", "job", "clone", std::to_string(id)});
  ASSERT_EQ(same.exit_code, 0) << same.err;
  auto copy = Show(nlohmann::json::parse(same.out)["id"].get<uint64_t>());
  auto orig = Show(id);
  for (const char* key : {"name", "priority", "control", "control_kind", "hosts", "timeout_ms",
                          "retry", "notify", "notify_on", "cleanup", "owner"}) {
    EXPECT_EQ(copy[key], orig[key]) << key;
  }

  auto changed = cluster_.Cli({"--json", "--user", "alice", "job", "clone", std::to_string(id),
                               "--name", "moved", "--hosts", "cl-2", "--priority", "low",
                               "--command", "echo moved"});
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  uint64_t moved = nlohmann::json::parse(changed.out)["id"];
  auto job = Show(moved);
  EXPECT_EQ(job["name"], "moved");
  EXPECT_EQ(job["hosts"], nlohmann::json::array({"cl-2"}));
  EXPECT_EQ(job["priority"], "low");
  EXPECT_EQ(job["control"], "echo moved");
  EXPECT_EQ(job["timeout_ms"], 600000);  // not overridden: kept
  ASSERT_TRUE(WaitForJobStatus(moved, "Completed"));

  // Bad clones change nothing.
  EXPECT_EQ(cluster_.Cli({"job", "clone", "999"}).exit_code, 1);
  EXPECT_EQ(cluster_.Cli({"job", "clone", std::to_string(id), "--priority", "soon"}).exit_code, 2);
  auto list = cluster_.Cli({"--json", "job", "list"});
  EXPECT_EQ(nlohmann::json::parse(list.out).size(), 3u) << list.out;
}

TEST_F(CloneE2e, JobLogJsonIsOneDocument) {
  StartCluster({"cl-1"});
  uint64_t id = Create({"--name", "talk", "--hosts", "cl-1", "--command", "echo hello; echo world"});
  ASSERT_TRUE(WaitForJobStatus(id, "Completed"));
  auto log = cluster_.Cli({"--json", "job", "log", std::to_string(id), "--host", "cl-1"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  auto doc = nlohmann::json::parse(log.out);
  EXPECT_EQ(doc["id"], id);
  EXPECT_EQ(doc["host"], "cl-1");
  EXPECT_EQ(doc["log"], "hello\nworld\n");
  EXPECT_EQ(doc["complete"], true);
  EXPECT_EQ(doc["next_offset"], 12);
  // --follow --json: JSON lines, the last one complete.
  auto follow = cluster_.Cli({"--json", "job", "log", std::to_string(id), "--host", "cl-1",
                              "--follow"});
  ASSERT_EQ(follow.exit_code, 0) << follow.err;
  std::string last = follow.out.substr(follow.out.rfind('\n', follow.out.size() - 2) + 1);
  EXPECT_EQ(nlohmann::json::parse(follow.out.substr(0, follow.out.find('\n')))["log"],
            "hello\nworld\n");
  EXPECT_EQ(nlohmann::json::parse(last)["complete"], true);
}

}  // namespace
}  // namespace labmesh::testing
