// `labmesh results ...` without a coordinator: the request each set of arguments makes (and
// the usage errors), and the texts the commands print.

#include "labmesh/cli/results_logic.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace labmesh::cli {
namespace {

constexpr int64_t kNowUs = 1'764'365'560'250'000LL;  // 2025-11-28T21:32:40.250Z
constexpr int64_t kHourUs = 3'600'000'000LL;
constexpr int64_t kDayUs = 24 * kHourUs;

void ExpectUsageError(const Status& status, const std::string& mentions) {
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(mentions), std::string::npos) << status.message();
}

TEST(BuildResultsListRequest, CopiesEveryArgument) {
  ResultsListArgs args;
  args.job = 12;
  args.host = "lab-1";
  args.label = "gpu";
  args.test = "kernel/boot";
  args.status = "fail";
  args.since = "7d";
  args.until = "2h";
  args.limit = 50;
  args.cursor = "abc==";
  auto request = BuildResultsListRequest(args, kNowUs);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->job_id, 12u);
  EXPECT_EQ(request->host, "lab-1");
  EXPECT_EQ(request->label, "gpu");
  EXPECT_EQ(request->test, "kernel/boot");
  EXPECT_EQ(request->status, "FAIL");
  EXPECT_EQ(request->since_us, kNowUs - 7 * kDayUs);
  EXPECT_EQ(request->until_us, kNowUs - 2 * kHourUs);
  EXPECT_EQ(request->limit, 50u);
  EXPECT_EQ(request->cursor, "abc==");
}

TEST(BuildResultsListRequest, NothingGivenFiltersNothing) {
  auto request = BuildResultsListRequest(ResultsListArgs{}, kNowUs);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->job_id, 0u);
  EXPECT_EQ(request->status, "");
  EXPECT_EQ(request->since_us, 0);
  EXPECT_EQ(request->until_us, 0);
  EXPECT_EQ(request->limit, 0u);  // the coordinator's default page
  EXPECT_EQ(request->cursor, "");
}

TEST(BuildResultsListRequest, UsageErrors) {
  ResultsListArgs bad_status;
  bad_status.status = "PASSED";
  ExpectUsageError(BuildResultsListRequest(bad_status, kNowUs).status(), "PASSED");
  ResultsListArgs bad_since;
  bad_since.since = "last week";
  ExpectUsageError(BuildResultsListRequest(bad_since, kNowUs).status(), "--since");
  ResultsListArgs reversed;
  reversed.since = "1h";
  reversed.until = "1d";
  ExpectUsageError(BuildResultsListRequest(reversed, kNowUs).status(), "empty time window");
  for (uint32_t limit : {0u, 1001u}) {
    ResultsListArgs args;
    args.limit = limit;
    ExpectUsageError(BuildResultsListRequest(args, kNowUs).status(), "--limit must be 1 to 1000");
  }
  ResultsListArgs max;
  max.limit = 1000;
  EXPECT_TRUE(BuildResultsListRequest(max, kNowUs).ok());
}

TEST(BuildResultsSummaryRequest, DefaultsToSevenDaysByHost) {
  auto request = BuildResultsSummaryRequest(ResultsSummaryArgs{}, kNowUs);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->group_by, "host");
  EXPECT_EQ(request->since_us, kNowUs - 7 * kDayUs);
  EXPECT_EQ(request->until_us, 0);
}

TEST(BuildResultsSummaryRequest, ALabelGroupsByLabelUnlessByIsGiven) {
  ResultsSummaryArgs args;
  args.label = "gpu";
  args.host = "lab-1";
  args.test = "kernel/boot";
  args.test_prefix = "kernel/";
  args.since = "30d";
  args.until = "1d";
  auto request = BuildResultsSummaryRequest(args, kNowUs);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->group_by, "label");
  EXPECT_EQ(request->label, "gpu");
  EXPECT_EQ(request->host, "lab-1");
  EXPECT_EQ(request->test, "kernel/boot");
  EXPECT_EQ(request->test_prefix, "kernel/");
  EXPECT_EQ(request->since_us, kNowUs - 30 * kDayUs);
  EXPECT_EQ(request->until_us, kNowUs - kDayUs);
  args.by = "HOST";
  EXPECT_EQ(BuildResultsSummaryRequest(args, kNowUs)->group_by, "host");
  args.by = "test";
  ExpectUsageError(BuildResultsSummaryRequest(args, kNowUs).status(), "--by");
}

TEST(BuildResultsSeriesRequest, NeedsTestAndKey) {
  ResultsSeriesArgs args;
  args.test = "net/iperf";
  args.key = "throughput_mbps";
  args.host = "lab-1";
  args.label = "10g";
  args.since = "14d";
  args.limit = 100'000;
  auto request = BuildResultsSeriesRequest(args, kNowUs);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->test, "net/iperf");
  EXPECT_EQ(request->key, "throughput_mbps");
  EXPECT_EQ(request->host, "lab-1");
  EXPECT_EQ(request->label, "10g");
  EXPECT_EQ(request->since_us, kNowUs - 14 * kDayUs);
  EXPECT_EQ(request->until_us, 0);
  EXPECT_EQ(request->limit, 100'000u);

  ResultsSeriesArgs no_test = args;
  no_test.test.clear();
  ExpectUsageError(BuildResultsSeriesRequest(no_test, kNowUs).status(), "--test");
  ResultsSeriesArgs no_key = args;
  no_key.key.clear();
  ExpectUsageError(BuildResultsSeriesRequest(no_key, kNowUs).status(), "--key");
  ResultsSeriesArgs too_many = args;
  too_many.limit = 100'001;
  ExpectUsageError(BuildResultsSeriesRequest(too_many, kNowUs).status(), "--limit");
}

protocol::TestResultInfo Result(uint64_t id, const std::string& status, const std::string& reason) {
  protocol::TestResultInfo r;
  r.id = id;
  r.job_id = 12;
  r.host = "lab-1";
  r.test = "kernel/boot";
  r.status = status;
  r.reason = reason;
  r.start_us = 1'764'365'549'000'001LL;
  r.end_us = r.start_us + 2'500'000;
  r.duration_us = 2'500'000;
  return r;
}

TEST(FormatResultsList, PrintsATableAndTheNextCursor) {
  protocol::ResultsListReply reply;
  reply.results = {Result(901, "FAIL", "timed out\nwaiting for login: " + std::string(100, 'x')),
                   Result(900, "GOOD", "")};
  reply.results[1].start_us = reply.results[1].end_us = reply.results[1].duration_us = 0;
  reply.next_cursor = "djE6OTAw";
  std::string text = FormatResultsList(reply);
  std::vector<std::string> lines;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  ASSERT_EQ(lines.size(), 4u) << text;
  EXPECT_EQ(lines[0].rfind("ID   JOB  HOST   TEST         STATUS  STARTED", 0), 0u) << lines[0];
  for (const char* column : {"DURATION", "REASON"}) {
    EXPECT_NE(lines[0].find(column), std::string::npos) << column;
  }
  EXPECT_NE(lines[1].find("901  12   lab-1  kernel/boot  FAIL    2025-11-28T21:32:29.000Z  2.5s"),
            std::string::npos)
      << lines[1];
  // The reason: one line, cut to 60 characters.
  std::string reason = "timed out waiting for login: " + std::string(28, 'x') + "...";
  EXPECT_EQ(lines[1].substr(lines[1].size() - reason.size()), reason) << lines[1];
  EXPECT_NE(lines[2].find("GOOD    -                         -"), std::string::npos) << lines[2];
  EXPECT_EQ(lines[3], "more: --cursor djE6OTAw");
}

TEST(FormatResultsList, FlakyTestsSaySo) {
  protocol::ResultsListReply reply;
  reply.results = {Result(901, "FAIL", "")};
  reply.results[0].flaky = true;
  EXPECT_NE(FormatResultsList(reply).find("kernel/boot (flaky)"), std::string::npos);
  protocol::ResultsSummaryReply summary;
  summary.rows.push_back({"kernel/boot", "lab-1", 4, {{"GOOD", 3}, {"FAIL", 1}}, 0.75, 1, 2, true});
  EXPECT_NE(FormatResultsSummary(summary, "host").find("kernel/boot (flaky)  lab-1"),
            std::string::npos)
      << FormatResultsSummary(summary, "host");
}

TEST(FormatResultsList, LastPageHasNoMoreLine) {
  protocol::ResultsListReply reply;
  reply.results = {Result(1, "GOOD", "")};
  EXPECT_EQ(FormatResultsList(reply).find("more:"), std::string::npos);
  EXPECT_EQ(FormatResultsList(protocol::ResultsListReply{}).rfind("ID ", 0), 0u);
}

TEST(FormatResultsSummary, CountsOtherStatusesAndFormatsPassRates) {
  protocol::SummaryRowInfo row;
  row.test = "kernel/boot";
  row.group = "gpu";
  row.total = 20;
  row.counts = {{"GOOD", 15}, {"FAIL", 2}, {"ERROR", 1}, {"WARN", 1}, {"TEST_NA", 1}};
  row.pass_rate = 15.0 / 19.0;
  protocol::SummaryRowInfo na;
  na.test = "net/iperf";
  na.group = "gpu";
  na.total = 3;
  na.counts = {{"TEST_NA", 3}};
  na.pass_rate = -1;
  std::string text = FormatResultsSummary(protocol::ResultsSummaryReply{{row, na}}, "label");
  EXPECT_EQ(text,
            "TEST         LABEL  RUNS  GOOD  FAIL  ERROR  OTHER  PASS RATE\n"
            "kernel/boot  gpu    20    15    2     1      2      78.9%\n"
            "net/iperf    gpu    3     0     0     0      3      -\n");
  EXPECT_EQ(
      FormatResultsSummary(protocol::ResultsSummaryReply{}, "host").rfind("TEST  HOST  RUNS", 0),
      0u);
}

TEST(FormatResultsSeries, PrintsTimeValueJobHost) {
  protocol::ResultsSeriesReply reply;
  reply.points = {{1'764'000'000'000'000LL, 11.25, 12, "lab-1", "/results/x"},
                  {1'764'365'560'250'000LL, 940.5, 13, "lab-2", "/results/y"}};
  EXPECT_EQ(FormatResultsSeries(reply),
            "TIME                      VALUE  JOB  HOST\n"
            "2025-11-24T16:00:00.000Z  11.25  12   lab-1\n"
            "2025-11-28T21:32:40.250Z  940.5  13   lab-2\n");
}

TEST(FormatReparse, SaysWhatWasReparsed) {
  EXPECT_EQ(FormatReparse({12, 4, 130, 2}), "job 12: reparsed 4 entries, 130 results, 2 warnings");
  EXPECT_EQ(FormatReparse({7, 1, 1, 1}), "job 7: reparsed 1 entry, 1 result, 1 warning");
  EXPECT_EQ(FormatReparse({7, 0, 0, 0}), "job 7: reparsed 0 entries, 0 results, 0 warnings");
}

TEST(FormatPassRate, OneDecimalOrDash) {
  EXPECT_EQ(FormatPassRate(1.0), "100.0%");
  EXPECT_EQ(FormatPassRate(0.0), "0.0%");
  EXPECT_EQ(FormatPassRate(0.9234), "92.3%");
  EXPECT_EQ(FormatPassRate(-1), "-");
}

TEST(FormatResultCounts, KnownStatusesInTableOrderThenOthers) {
  EXPECT_EQ(FormatResultCounts({{"FAIL", 1}, {"GOOD", 12}}), "12 GOOD, 1 FAIL");
  EXPECT_EQ(FormatResultCounts({{"TEST_NA", 2}, {"ABORT", 1}, {"NEWSTATUS", 3}, {"ERROR", 4}}),
            "4 ERROR, 1 ABORT, 2 TEST_NA, 3 NEWSTATUS");
  EXPECT_EQ(FormatResultCounts({}), "");
}

TEST(ParseWarningLines, OneLinePerWarningNamingTheHost) {
  protocol::JobInfo job;
  job.entries.resize(3);
  job.entries[0].host = "lab-1";
  job.entries[0].parse_warnings = {"status.log: line 7: END without START"};
  job.entries[1].host = "lab-2";
  job.entries[2].id = 33;  // a label entry that never got a host
  job.entries[2].parse_warnings = {"a.tap: bad\nplan"};
  EXPECT_EQ(ParseWarningLines(job),
            (std::vector<std::string>{"warning: lab-1: status.log: line 7: END without START",
                                      "warning: entry 33: a.tap: bad plan"}));
}

TEST(OneLine, CutsAtCharactersNotBytes) {
  EXPECT_EQ(OneLine("short", 60), "short");
  EXPECT_EQ(OneLine("a\tb\r\nc", 60), "a b  c");
  EXPECT_EQ(OneLine("abcdefghij", 8), "abcde...");
  EXPECT_EQ(OneLine("abcdefgh", 8), "abcdefgh");
  // Two-byte characters are never split.
  EXPECT_EQ(OneLine("\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9", 5), "\u00e9\u00e9...");
  EXPECT_EQ(OneLine("abcdef", 2), "..");
}

TEST(FormatUsage, OwnersThenMonthsThenTheTotal) {
  protocol::ResultsUsageReply reply{3 * 1024 * 1024,
                                    3,
                                    {{"alice", 2 * 1024 * 1024, 2}, {"bob", 1024 * 1024, 1}},
                                    {{"2026-10", 1024 * 1024, 1}, {"2026-11", 2 * 1024 * 1024, 2}}};
  std::string text = FormatUsage(reply);
  EXPECT_LT(text.find("OWNER"), text.find("alice"));
  EXPECT_LT(text.find("alice"), text.find("bob"));
  EXPECT_LT(text.find("bob"), text.find("MONTH"));
  EXPECT_LT(text.find("2026-10"), text.find("2026-11"));
  EXPECT_NE(text.find("2.0 MiB"), std::string::npos) << text;
  EXPECT_NE(text.find("total: 3.0 MiB in 3 jobs\n"), std::string::npos) << text;
  EXPECT_NE(FormatUsage({}).find("total: 0 B in 0 jobs"), std::string::npos);
}

}  // namespace
}  // namespace labmesh::cli
