// GET /api/v1/results, /api/v1/results/summary and /api/v1/results/series: query parameters
// map to the coordinator's requests, its replies to the JSON `labmesh --json results ...`
// prints, bad parameters to 400 without asking the coordinator; and job entries carry their
// result counts and parse warnings. Against the canned-reply coordinator on inproc.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fake_coordinator.hpp"
#include "labmesh/protocol/json.hpp"
#include "labmesh/webui/web_api.hpp"

namespace labmesh::webui {
namespace {

using protocol::ResultsListReply;
using protocol::ResultsListRequest;
using protocol::ResultsSeriesReply;
using protocol::ResultsSeriesRequest;
using protocol::ResultsSummaryReply;
using protocol::ResultsSummaryRequest;
using testing::FakeCoordinator;
using testing::SampleJob;

constexpr char kEndpoint[] = "inproc://webui-results-test-api";
constexpr int64_t kHourUs = 3'600'000'000LL;
constexpr int64_t kDayUs = 24 * kHourUs;

HttpRequest Get(std::string path, std::string query = "") {
  return HttpRequest{"GET", std::move(path), std::move(query), ""};
}

void ExpectJsonError(const HttpResponse& response, int status) {
  EXPECT_EQ(response.status, status) << response.body;
  EXPECT_EQ(response.content_type, "application/json");
  auto body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(body.is_object()) << response.body;
  ASSERT_TRUE(body.contains("error")) << response.body;
  EXPECT_FALSE(body["error"].get<std::string>().empty());
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
  r.reason = "<b>exit</b> 3";  // markup stays text: the page escapes it
  r.start_us = 1'699'999'000'000'000LL;
  r.end_us = r.start_us + 1'500'000;
  r.duration_us = 1'500'000;
  r.keyvals = {{"kernel", "6.1"}};
  r.perf = {{"boot_time_s", 1.5}};
  r.file = "status.log";
  r.link = "/results/12-alice/lab-1/status.log";
  return r;
}

protocol::SummaryRowInfo Row(const std::string& group, double pass_rate) {
  protocol::SummaryRowInfo row;
  row.test = "kernel/boot";
  row.group = group;
  row.total = 4;
  row.counts = {{"GOOD", 3}, {"FAIL", 1}};
  row.pass_rate = pass_rate;
  row.first_us = 1'699'990'000'000'000LL;
  row.last_us = 1'699'999'000'000'000LL;
  return row;
}

class WebApiResultsTest : public ::testing::Test {
 protected:
  WebApiOptions Options() {
    WebApiOptions options;
    options.api_timeout_ms = 2000;
    return options;
  }
  int64_t NowUs() const { return clock_.WallUs(); }

  FakeClock clock_;
  zmq::context_t context_;
  FakeCoordinator coordinator_{context_, kEndpoint};
  WebApi api_{context_, kEndpoint, Options(), &clock_};
};

TEST_F(WebApiResultsTest, ListMapsEveryParameterToTheRequest) {
  coordinator_.Reply<ResultsListRequest>(ResultsListReply{});
  HttpResponse response =
      api_.Handle(Get("/api/v1/results",
                      "job=12&host=lab-1&label=gpu&test=kernel%2Fboot&status=fail&since=7d"
                      "&until=1h&limit=50&cursor=djE6OTAz"));
  ASSERT_EQ(response.status, 200) << response.body;
  auto request = coordinator_.LastRequest<ResultsListRequest>();
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->job_id, 12u);
  EXPECT_EQ(request->host, "lab-1");
  EXPECT_EQ(request->label, "gpu");
  EXPECT_EQ(request->test, "kernel/boot");
  EXPECT_EQ(request->status, "FAIL");
  EXPECT_EQ(request->since_us, NowUs() - 7 * kDayUs);  // from the injected clock
  EXPECT_EQ(request->until_us, NowUs() - kHourUs);
  EXPECT_EQ(request->limit, 50u);
  EXPECT_EQ(request->cursor, "djE6OTAz");
}

TEST_F(WebApiResultsTest, ListTakesAbsoluteTimesAndDefaultsToNoFilter) {
  coordinator_.Reply<ResultsListRequest>(ResultsListReply{});
  ASSERT_EQ(
      api_.Handle(Get("/api/v1/results", "since_us=1699990000000000&until_us=1700000000000000"))
          .status,
      200);
  auto request = coordinator_.LastRequest<ResultsListRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->since_us, 1'699'990'000'000'000LL);
  EXPECT_EQ(request->until_us, 1'700'000'000'000'000LL);

  ASSERT_EQ(api_.Handle(Get("/api/v1/results", "since=&status=&x=1")).status, 200);
  request = coordinator_.LastRequest<ResultsListRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->job_id, 0u);
  EXPECT_EQ(request->status, "");
  EXPECT_EQ(request->since_us, 0);
  EXPECT_EQ(request->until_us, 0);
  EXPECT_EQ(request->limit, 0u);
}

TEST_F(WebApiResultsTest, ListReplyIsTheCliJsonWithTheCursorOrNull) {
  ResultsListReply reply{{SampleResult(901, "FAIL"), SampleResult(900, "GOOD")}, "djE6OTAw"};
  coordinator_.Reply<ResultsListRequest>(reply);
  HttpResponse response = api_.Handle(Get("/api/v1/results"));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.content_type, "application/json");
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body, protocol::ToJson(reply));
  EXPECT_EQ(body["next_cursor"], "djE6OTAw");
  EXPECT_EQ(body["results"][0]["link"], "/results/12-alice/lab-1/status.log");
  EXPECT_EQ(body["results"][0]["reason"], "<b>exit</b> 3");
  EXPECT_EQ(body["results"][1]["perf"]["boot_time_s"], 1.5);

  coordinator_.Reply<ResultsListRequest>(ResultsListReply{});
  body = nlohmann::json::parse(api_.Handle(Get("/api/v1/results")).body);
  EXPECT_TRUE(body["results"].is_array());
  EXPECT_TRUE(body["next_cursor"].is_null());
}

TEST_F(WebApiResultsTest, BadParametersAre400AndNeverReachTheCoordinator) {
  coordinator_.Reply<ResultsListRequest>(ResultsListReply{});
  coordinator_.Reply<ResultsSummaryRequest>(ResultsSummaryReply{});
  coordinator_.Reply<ResultsSeriesRequest>(ResultsSeriesReply{});
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/api/v1/results", "status=PASSED"},
      {"/api/v1/results", "status=INFO"},
      {"/api/v1/results", "job=abc"},
      {"/api/v1/results", "job=0"},
      {"/api/v1/results", "job=-1"},
      {"/api/v1/results", "job=18446744073709551616"},
      {"/api/v1/results", "limit=0"},
      {"/api/v1/results", "limit=1001"},
      {"/api/v1/results", "limit=1e3"},
      {"/api/v1/results", "limit=%2010"},
      {"/api/v1/results", "since=yesterday"},
      {"/api/v1/results", "since=1w"},
      {"/api/v1/results", "since=7d&since_us=1"},
      {"/api/v1/results", "until=1h&until_us=1"},
      {"/api/v1/results", "since_us=-1"},
      {"/api/v1/results", "since_us=1.5e15"},
      {"/api/v1/results", "until_us=0"},
      {"/api/v1/results", "since_us=9223372036854775808"},
      {"/api/v1/results", "since=1h&until=1d"},
      {"/api/v1/results", "since_us=5&until_us=5"},
      {"/api/v1/results", "until=100000d"},
      {"/api/v1/results", "status=%zz"},
      {"/api/v1/results/summary", "by=test"},
      {"/api/v1/results/summary", "since=abc"},
      {"/api/v1/results/summary", "since_us=1700000000000000&until=7d"},
      {"/api/v1/results/series", "key=boot_time_s"},
      {"/api/v1/results/series", "test=kernel%2Fboot"},
      {"/api/v1/results/series", "test=t&key=k&limit=100001"},
      {"/api/v1/results/series", "test=t&key=k&until=soon"},
  };
  for (const auto& [path, query] : cases) {
    SCOPED_TRACE(path + "?" + query);
    HttpResponse response = api_.Handle(Get(path, query));
    ExpectJsonError(response, 400);
    EXPECT_EQ(nlohmann::json::parse(response.body)["code"], "InvalidArgument");
  }
  EXPECT_TRUE(coordinator_.Requests().empty());
}

TEST_F(WebApiResultsTest, SummaryDefaultsToSevenDaysPerHost) {
  ResultsSummaryReply reply{{Row("lab-1", 0.75), Row("lab-2", -1)}};
  coordinator_.Reply<ResultsSummaryRequest>(reply);
  HttpResponse response = api_.Handle(Get("/api/v1/results/summary"));
  ASSERT_EQ(response.status, 200) << response.body;
  auto request = coordinator_.LastRequest<ResultsSummaryRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->group_by, "host");
  EXPECT_EQ(request->since_us, NowUs() - 7 * kDayUs);
  EXPECT_EQ(request->until_us, 0);
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body, protocol::ToJson(reply));
  EXPECT_EQ(body["rows"][0]["pass_rate"], 0.75);
  EXPECT_TRUE(body["rows"][1]["pass_rate"].is_null());
  EXPECT_EQ(body["rows"][0]["counts"], nlohmann::json({{"FAIL", 1}, {"GOOD", 3}}));
}

TEST_F(WebApiResultsTest, SummaryMapsEveryParameterAndALabelGroupsByLabel) {
  coordinator_.Reply<ResultsSummaryRequest>(ResultsSummaryReply{});
  ASSERT_EQ(api_.Handle(Get("/api/v1/results/summary",
                            "label=gpu&host=lab-1&test=kernel%2Fboot&test_prefix=kernel%2F&"
                            "since=30d&until=1d"))
                .status,
            200);
  auto request = coordinator_.LastRequest<ResultsSummaryRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->group_by, "label");
  EXPECT_EQ(request->label, "gpu");
  EXPECT_EQ(request->host, "lab-1");
  EXPECT_EQ(request->test, "kernel/boot");
  EXPECT_EQ(request->test_prefix, "kernel/");
  EXPECT_EQ(request->since_us, NowUs() - 30 * kDayUs);
  EXPECT_EQ(request->until_us, NowUs() - kDayUs);

  ASSERT_EQ(api_.Handle(Get("/api/v1/results/summary", "label=gpu&by=HOST&since_us=1234")).status,
            200);
  request = coordinator_.LastRequest<ResultsSummaryRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->group_by, "host");
  EXPECT_EQ(request->since_us, 1234);  // an explicit start replaces the 7-day default
}

TEST_F(WebApiResultsTest, SeriesMapsParametersAndRepliesWithPoints) {
  ResultsSeriesReply reply;
  reply.points = {{1'699'990'000'000'000LL, 11.25, 12, "lab-1", "/results/12-alice/lab-1/keyval"},
                  {1'699'999'000'000'000LL, 3.0, 13, "lab-2", "/results/13-bob/lab-2/keyval"}};
  coordinator_.Reply<ResultsSeriesRequest>(reply);
  HttpResponse response = api_.Handle(Get(
      "/api/v1/results/series",
      "test=kernel%2Fboot&key=boot_time_s&host=lab-1&label=gpu&since=2h&until_us=1700000000000000"
      "&limit=100000"));
  ASSERT_EQ(response.status, 200) << response.body;
  auto request = coordinator_.LastRequest<ResultsSeriesRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->test, "kernel/boot");
  EXPECT_EQ(request->key, "boot_time_s");
  EXPECT_EQ(request->host, "lab-1");
  EXPECT_EQ(request->label, "gpu");
  EXPECT_EQ(request->since_us, NowUs() - 2 * kHourUs);
  EXPECT_EQ(request->until_us, 1'700'000'000'000'000LL);
  EXPECT_EQ(request->limit, 100'000u);
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body, protocol::ToJson(reply));
  EXPECT_EQ(body["points"][0]["time"], "2023-11-14T19:26:40.000Z");
  EXPECT_EQ(body["points"][1]["value"], 3.0);
}

TEST_F(WebApiResultsTest, CoordinatorErrorsMapToHttpStatus) {
  coordinator_.Fail<ResultsListRequest>(Status::InvalidArgument("bad cursor"));
  HttpResponse response = api_.Handle(Get("/api/v1/results", "cursor=zzz"));
  ExpectJsonError(response, 400);
  EXPECT_EQ(nlohmann::json::parse(response.body)["error"], "bad cursor");
  coordinator_.Fail<ResultsSeriesRequest>(Status::Unavailable("results index is reopening"));
  ExpectJsonError(api_.Handle(Get("/api/v1/results/series", "test=t&key=k")), 503);
  // A reply of the wrong type is the coordinator's bug: 500.
  coordinator_.Reply<ResultsSummaryRequest>(ResultsListReply{});
  ExpectJsonError(api_.Handle(Get("/api/v1/results/summary")), 500);
}

TEST_F(WebApiResultsTest, ResultsRoutesAreReadOnlyAndExact) {
  for (const char* path :
       {"/api/v1/results", "/api/v1/results/summary", "/api/v1/results/series"}) {
    ExpectJsonError(api_.Handle(HttpRequest{"POST", path, "", "{}"}), 405);
  }
  for (const char* path :
       {"/api/v1/results/other", "/api/v1/results/summary/x", "/api/v1/results/12"}) {
    ExpectJsonError(api_.Handle(Get(path)), 404);
  }
  EXPECT_TRUE(coordinator_.Requests().empty());
}

TEST_F(WebApiResultsTest, JobEntriesCarryResultCountsAndParseWarnings) {
  protocol::JobInfo job = SampleJob(12);
  job.entries[0].result_counts = {{"GOOD", 12}, {"FAIL", 1}};
  job.entries[1].parse_warnings = {"status.log: line 7: END without START"};
  coordinator_.ServeJobs({job});
  HttpResponse response = api_.Handle(Get("/api/v1/jobs/12"));
  ASSERT_EQ(response.status, 200) << response.body;
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body, protocol::ToJson(job));
  EXPECT_EQ(body["entries"][0]["result_counts"], nlohmann::json({{"FAIL", 1}, {"GOOD", 12}}));
  EXPECT_EQ(body["entries"][0]["parse_warnings"], nlohmann::json::array());
  EXPECT_EQ(body["entries"][1]["result_counts"], nlohmann::json::object());
  EXPECT_EQ(body["entries"][1]["parse_warnings"],
            nlohmann::json({"status.log: line 7: END without START"}));
  body = nlohmann::json::parse(api_.Handle(Get("/api/v1/jobs")).body);
  EXPECT_EQ(body[0]["entries"][0]["result_counts"]["GOOD"], 12);
}

}  // namespace
}  // namespace labmesh::webui
