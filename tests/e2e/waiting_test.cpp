// End to end: "Why is my job waiting?" (docs/jobs.md) through the real `labmesh` client and the
// web API against a real coordinator and agents: `job show` says why a queued entry waits and
// where it stands in the queue, `host avail` answers before a submission.

#include <gtest/gtest.h>

#include <string>

#include "http_test_client.hpp"
#include "jobs_fixture.hpp"

namespace labmesh::testing {
namespace {

class WaitingE2e : public JobsE2e {};

TEST_F(WaitingE2e, JobShowAndHostAvailSayWhatHoldsTheLabelsHosts) {
  StartCluster({"g1", "g2"}, {{"g1", {"--labels", "gpu"}}, {"g2", {"--labels", "gpu"}}});
  auto lock = cluster_.Cli({"--user", "alice", "host", "lock", "g2", "--reason", "bisecting"});
  ASSERT_EQ(lock.exit_code, 0) << lock.err;
  uint64_t busy =
      Create({"--name", "busy", "--command", "sleep 600", "--label", "gpu", "--count", "1"});
  ASSERT_NE(busy, 0u);
  ASSERT_TRUE(WaitForEntryStatus(busy, "Running"));
  uint64_t queued =
      Create({"--name", "queued", "--command", "true", "--label", "gpu", "--count", "1"});
  ASSERT_NE(queued, 0u);

  const std::string why =
      "2 hosts carry gpu: 1 busy (job " + std::to_string(busy) + "), 1 locked (alice: bisecting)";
  nlohmann::json entry = Show(queued)["entries"][0];
  EXPECT_EQ(entry["status"], "Queued");
  EXPECT_EQ(entry["waiting_for"], why);
  EXPECT_EQ(entry["queue_position"], 1);
  EXPECT_EQ(entry["queue_length"], 1);
  auto text = cluster_.Cli({"job", "show", std::to_string(queued)});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("(any gpu): 1 of 1 in the queue; " + why), std::string::npos) << text.out;

  auto avail = cluster_.Cli({"--json", "--user", "alice", "host", "avail", "--label", "gpu"});
  ASSERT_EQ(avail.exit_code, 0) << avail.err;
  auto reply = nlohmann::json::parse(avail.out);
  EXPECT_EQ(reply["hosts"], 2);
  EXPECT_EQ(reply["free"], 0);
  EXPECT_EQ(reply["busy"], 1);
  EXPECT_EQ(reply["locked"], 1);
  EXPECT_EQ(reply["queued_ahead"], 1);
  EXPECT_EQ(reply["busy_jobs"], nlohmann::json::array({busy}));
  EXPECT_EQ(reply["can_start"], false);
  auto avail_text = cluster_.Cli({"host", "avail", "--label", "gpu", "--count", "1"});
  ASSERT_EQ(avail_text.exit_code, 0) << avail_text.err;
  EXPECT_NE(avail_text.out.find("a job of 1: would wait"), std::string::npos) << avail_text.out;
  EXPECT_NE(avail_text.out.find("queued ahead: 1"), std::string::npos) << avail_text.out;

  // The web API gives the same answer, and refuses a request without a label.
  std::string http = cluster_.http_endpoint();
  int port = std::stoi(http.substr(http.rfind(':') + 1));
  const std::string bearer = "Authorization: Bearer " + cluster_.AdminToken() + "\r\n";
  auto web = webui::testing::Request(port, "GET", "/api/v1/avail?label=gpu&count=1", bearer);
  ASSERT_TRUE(web.ok()) << web.status().ToString();
  EXPECT_EQ(web->status, 200);
  EXPECT_EQ(nlohmann::json::parse(web->body)["locked"], 1);
  EXPECT_EQ(webui::testing::Request(port, "GET", "/api/v1/avail", bearer)->status, 400);
  EXPECT_EQ(webui::testing::Request(port, "GET", "/api/v1/avail?label=gpu&count=0", bearer)->status,
            400);

  // Bad flags are usage errors and nothing is asked.
  EXPECT_EQ(cluster_.Cli({"host", "avail"}).exit_code, 2);
  EXPECT_EQ(cluster_.Cli({"host", "avail", "--label", "gpu", "--count", "0"}).exit_code, 2);

  // The lock goes: the queued job starts on g2 and has nothing left to explain.
  ASSERT_EQ(cluster_.Cli({"host", "unlock", "g2"}).exit_code, 0);
  EXPECT_EQ(Wait(queued).exit_code, 0);
  EXPECT_EQ(Show(queued)["entries"][0]["waiting_for"], "");
  ASSERT_EQ(cluster_.Cli({"job", "abort", std::to_string(busy)}).exit_code, 0);
}

}  // namespace
}  // namespace labmesh::testing
