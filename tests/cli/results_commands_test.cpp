// `labmesh results ...` as a script sees it: the request each command sends, what it prints and
// its exit code, against the canned-reply stand-in for the coordinator's API socket (inproc).

#include "labmesh/cli/results_commands.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli_run.hpp"
#include "fake_coordinator.hpp"
#include "labmesh/common/duration.hpp"
#include "labmesh/protocol/json.hpp"

namespace labmesh::cli {
namespace {

using testing::CliRun;
using webui::testing::FakeCoordinator;

constexpr char kEndpoint[] = "inproc://cli-results-test";
constexpr int64_t kDayUs = 86'400'000'000LL;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

protocol::TestResultInfo SampleResult(uint64_t id, const std::string& status) {
  protocol::TestResultInfo r;
  r.id = id;
  r.job_id = 12;
  r.entry_id = 120;
  r.host = "lab-1";
  r.labels = {"gpu"};
  r.test = "kernel/boot";
  r.status = status;
  r.reason = status == "GOOD" ? "" : "exit status 3";
  r.start_us = 1'764'365'549'000'000LL;
  r.end_us = r.start_us + 1'500'000;
  r.duration_us = 1'500'000;
  r.perf = {{"boot_time_s", 1.5}};
  r.file = "status.log";
  r.link = "/results/12-alice/lab-1/status.log";
  return r;
}

class ResultsCommandsTest : public ::testing::Test {
 protected:
  // Parses `args` as `labmesh ARGS` (with the global --user, --json and --timeout) and runs the
  // chosen results command against the fake coordinator.
  CliRun Run(std::vector<std::string> args, int64_t client_timeout_ms = 2000) {
    CLI::App app{"labmesh"};
    Globals g;
    g.timeout_ms = client_timeout_ms;
    Action action;
    app.add_option("--user", g.user);
    app.add_flag("--json", g.json);
    app.add_option_function<std::string>("--timeout", [&g](const std::string& text) {
      g.timeout_ms = *ParseDurationMs(text);
      g.timeout_given = true;
    });
    ResultsCommands results(app, g, action);
    return testing::ParseAndRun(app, action, std::move(args), context_, kEndpoint,
                                client_timeout_ms);
  }

  zmq::context_t context_;
  FakeCoordinator coordinator_{context_, kEndpoint};
};

TEST_F(ResultsCommandsTest, ListSendsEveryFilterAndPrintsATableWithTheNextCursor) {
  protocol::ResultsListReply reply{{SampleResult(901, "FAIL"), SampleResult(900, "GOOD")},
                                   "djE6OTAw"};
  coordinator_.Reply<protocol::ResultsListRequest>(reply);
  int64_t before = NowUs();
  CliRun run =
      Run({"results", "list",   "--job",       "12",       "--host",   "lab-1",   "--label",
           "gpu",     "--test", "kernel/boot", "--status", "fail",     "--since", "7d",
           "--until", "1d",     "--limit",     "2",        "--cursor", "djE6OTAz"});
  int64_t after = NowUs();
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto request = coordinator_.LastRequest<protocol::ResultsListRequest>();
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->job_id, 12u);
  EXPECT_EQ(request->host, "lab-1");
  EXPECT_EQ(request->label, "gpu");
  EXPECT_EQ(request->test, "kernel/boot");
  EXPECT_EQ(request->status, "FAIL");  // canonical on the wire
  EXPECT_GE(request->since_us, before - 7 * kDayUs);
  EXPECT_LE(request->since_us, after - 7 * kDayUs);
  EXPECT_GE(request->until_us, before - kDayUs);
  EXPECT_LE(request->until_us, after - kDayUs);
  EXPECT_EQ(request->limit, 2u);
  EXPECT_EQ(request->cursor, "djE6OTAz");
  EXPECT_EQ(run.out, FormatResultsList(reply));
  EXPECT_NE(run.out.find("exit status 3"), std::string::npos);
  EXPECT_NE(run.out.find("\nmore: --cursor djE6OTAw\n"), std::string::npos) << run.out;
}

TEST_F(ResultsCommandsTest, ListJsonIsTheReplyObject) {
  protocol::ResultsListReply reply{{SampleResult(901, "FAIL")}, ""};
  coordinator_.Reply<protocol::ResultsListRequest>(reply);
  CliRun run = Run({"--json", "results", "list"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  nlohmann::json body = nlohmann::json::parse(run.out);
  EXPECT_EQ(body, protocol::ToJson(reply));
  EXPECT_TRUE(body["next_cursor"].is_null());
  EXPECT_EQ(body["results"][0]["link"], "/results/12-alice/lab-1/status.log");
  auto request = coordinator_.LastRequest<protocol::ResultsListRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->limit, 0u);
  EXPECT_EQ(request->since_us, 0);
}

TEST_F(ResultsCommandsTest, UsageErrorsExitTwoAndSendNothing) {
  const std::vector<std::vector<std::string>> cases = {
      {"results", "list", "--status", "PASSED"},
      {"results", "list", "--since", "yesterday"},
      {"results", "list", "--since", "1h", "--until", "1d"},
      {"results", "list", "--limit", "0"},
      {"results", "list", "--limit", "1001"},
      {"results", "list", "--job", "twelve"},
      {"results", "list", "--job", "-1"},
      {"results", "list", "--job", "0"},
      {"results", "list", "--limit", "-1"},
      {"results", "summary", "--by", "test"},
      {"results", "summary", "--since", "1w"},
      {"results", "series", "--test", "kernel/boot"},
      {"results", "series", "--key", "boot_time_s"},
      {"results", "series", "--test", "t", "--key", "k", "--limit", "100001"},
      {"results", "reparse"},
      {"results", "reparse", "0"},
      {"results", "reparse", "-3"},
      {"results"},
  };
  for (const auto& args : cases) {
    CliRun run = Run(args);
    EXPECT_EQ(run.exit_code, 2) << ::testing::PrintToString(args) << "\n" << run.err;
  }
  EXPECT_TRUE(coordinator_.Requests().empty());
}

TEST_F(ResultsCommandsTest, SummaryDefaultsToSevenDaysPerHost) {
  protocol::SummaryRowInfo row;
  row.test = "kernel/boot";
  row.group = "lab-1";
  row.total = 4;
  row.counts = {{"GOOD", 3}, {"FAIL", 1}};
  row.pass_rate = 0.75;
  coordinator_.Reply<protocol::ResultsSummaryRequest>(protocol::ResultsSummaryReply{{row}});
  int64_t before = NowUs();
  CliRun run = Run({"results", "summary", "--test-prefix", "kernel/"});
  int64_t after = NowUs();
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto request = coordinator_.LastRequest<protocol::ResultsSummaryRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->group_by, "host");
  EXPECT_EQ(request->test_prefix, "kernel/");
  EXPECT_GE(request->since_us, before - 7 * kDayUs);
  EXPECT_LE(request->since_us, after - 7 * kDayUs);
  EXPECT_EQ(request->until_us, 0);
  EXPECT_EQ(run.out,
            "TEST         HOST   RUNS  GOOD  FAIL  ERROR  OTHER  PASS RATE\n"
            "kernel/boot  lab-1  4     3     1     0      0      75.0%\n");
}

TEST_F(ResultsCommandsTest, SummaryWithALabelGroupsByLabelAndJsonIsTheReply) {
  protocol::SummaryRowInfo row;
  row.test = "kernel/boot";
  row.group = "gpu";
  row.total = 1;
  row.counts = {{"TEST_NA", 1}};
  row.pass_rate = -1;
  protocol::ResultsSummaryReply reply{{row}};
  coordinator_.Reply<protocol::ResultsSummaryRequest>(reply);
  CliRun run = Run(
      {"results", "summary", "--label", "gpu", "--host", "lab-1", "--test", "t", "--since", "30d"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("LABEL"), std::string::npos) << run.out;
  auto request = coordinator_.LastRequest<protocol::ResultsSummaryRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->group_by, "label");
  EXPECT_EQ(request->label, "gpu");
  EXPECT_EQ(request->host, "lab-1");
  EXPECT_EQ(request->test, "t");

  run = Run({"--json", "results", "summary", "--label", "gpu", "--by", "host"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  nlohmann::json body = nlohmann::json::parse(run.out);
  EXPECT_EQ(body, protocol::ToJson(reply));
  EXPECT_TRUE(body["rows"][0]["pass_rate"].is_null());
  EXPECT_EQ(coordinator_.LastRequest<protocol::ResultsSummaryRequest>()->group_by, "host");
}

TEST_F(ResultsCommandsTest, SeriesSendsTestAndKeyAndPrintsPoints) {
  protocol::ResultsSeriesReply reply;
  reply.points = {{1'764'000'000'000'000LL, 11.25, 12, "lab-1", "/results/12-alice/lab-1/keyval"}};
  coordinator_.Reply<protocol::ResultsSeriesRequest>(reply);
  CliRun run = Run({"results", "series", "--test", "kernel/boot", "--key", "boot_time_s", "--host",
                    "lab-1", "--label", "gpu", "--limit", "10"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto request = coordinator_.LastRequest<protocol::ResultsSeriesRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->test, "kernel/boot");
  EXPECT_EQ(request->key, "boot_time_s");
  EXPECT_EQ(request->host, "lab-1");
  EXPECT_EQ(request->label, "gpu");
  EXPECT_EQ(request->limit, 10u);
  EXPECT_EQ(run.out, FormatResultsSeries(reply));
  run = Run({"--json", "results", "series", "--test", "kernel/boot", "--key", "boot_time_s"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out), protocol::ToJson(reply));
}

TEST_F(ResultsCommandsTest, ReparseSendsTheUserAndPrintsWhatWasReparsed) {
  coordinator_.Reply<protocol::ResultsReparseRequest>(protocol::ResultsReparseReply{12, 2, 40, 1});
  CliRun run = Run({"--user", "carol", "results", "reparse", "12"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "job 12: reparsed 2 entries, 40 results, 1 warning\n");
  auto request = coordinator_.LastRequest<protocol::ResultsReparseRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->job_id, 12u);
  EXPECT_EQ(request->user, "carol");
  run = Run({"--json", "results", "reparse", "12"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out),
            nlohmann::json({{"job_id", 12}, {"entries", 2}, {"results", 40}, {"warnings", 1}}));
}

TEST_F(ResultsCommandsTest, ReparseWaitsLongerThanTheClientsUsualTimeout) {
  coordinator_.On(protocol::ResultsReparseRequest::kType, [](const protocol::Envelope& envelope) {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));  // a reparse takes a while
    return protocol::Encode(protocol::ResultsReparseReply{12, 1, 5, 0}, envelope.request_id);
  });
  CliRun run = Run({"results", "reparse", "12"}, /*client_timeout_ms=*/200);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "job 12: reparsed 1 entry, 5 results, 0 warnings\n");
}

TEST_F(ResultsCommandsTest, ReparseHonoursAnExplicitTimeout) {
  coordinator_.On(protocol::ResultsReparseRequest::kType,
                  [](const protocol::Envelope&) { return std::string(); });  // never answers
  auto start = std::chrono::steady_clock::now();
  CliRun run = Run({"--timeout", "300ms", "results", "reparse", "12"});
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(ResultsCommandsTest, CoordinatorErrorIsExitOneWithItsMessage) {
  coordinator_.Fail<protocol::ResultsReparseRequest>(Status::NotFound("no job 99"));
  CliRun run = Run({"results", "reparse", "99"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "labmesh: no job 99\n");
  coordinator_.Fail<protocol::ResultsListRequest>(Status::InvalidArgument("bad cursor"));
  run = Run({"results", "list", "--cursor", "zzz"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "labmesh: bad cursor\n");
}

}  // namespace
}  // namespace labmesh::cli
