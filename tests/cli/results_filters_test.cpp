// The results filters the CLI and the web API share: status spellings, lookback durations with
// days, and the time window they make.

#include "labmesh/client/results_filters.hpp"

#include <gtest/gtest.h>

#include <string>

namespace labmesh::client {
namespace {

constexpr int64_t kNowUs = 1'764'365'560'250'000LL;  // 2025-11-28T21:32:40.250Z
constexpr int64_t kDayUs = 86'400'000'000LL;

TEST(ParseResultStatus, AcceptsTheSixInAnyCaseAndSendsThemCanonical) {
  EXPECT_EQ(*ParseResultStatus("GOOD"), "GOOD");
  EXPECT_EQ(*ParseResultStatus("fail"), "FAIL");
  EXPECT_EQ(*ParseResultStatus("Error"), "ERROR");
  EXPECT_EQ(*ParseResultStatus("abort"), "ABORT");
  EXPECT_EQ(*ParseResultStatus("wArN"), "WARN");
  EXPECT_EQ(*ParseResultStatus("test_na"), "TEST_NA");
  EXPECT_EQ(*ParseResultStatus("test-na"), "TEST_NA");
}

TEST(ParseResultStatus, RefusesAnythingElseListingTheStatuses) {
  for (const char* bad :
       {"", "INFO", "START", "PASS", "passed", "GOOD ", " FAIL", "TESTNA", "Completed"}) {
    auto status = ParseResultStatus(bad);
    ASSERT_FALSE(status.ok()) << bad;
    EXPECT_EQ(status.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(status.status().message().find("TEST_NA"), std::string::npos);
  }
}

TEST(ParseLookbackMs, ReadsDurationsAndDays) {
  EXPECT_EQ(*ParseLookbackMs("500ms"), 500);
  EXPECT_EQ(*ParseLookbackMs("90s"), 90'000);
  EXPECT_EQ(*ParseLookbackMs("90"), 90'000);
  EXPECT_EQ(*ParseLookbackMs("30m"), 1'800'000);
  EXPECT_EQ(*ParseLookbackMs("2h"), 7'200'000);
  EXPECT_EQ(*ParseLookbackMs("7d"), 7 * 86'400'000LL);
  EXPECT_EQ(*ParseLookbackMs("0d"), 0);
}

TEST(ParseLookbackMs, RefusesMalformedText) {
  for (const char* bad : {"", "d", "-1d", "1.5d", "7 d", "7D", "1w", "7dd", "d7", "abc", "2h30m",
                          "999999999999999999d"}) {
    auto ms = ParseLookbackMs(bad);
    ASSERT_FALSE(ms.ok()) << bad;
    EXPECT_EQ(ms.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(WindowFromLookbacks, CountsBackFromNow) {
  auto window = WindowFromLookbacks("7d", "1d", kNowUs);
  ASSERT_TRUE(window.ok()) << window.status().ToString();
  EXPECT_EQ(window->since_us, kNowUs - 7 * kDayUs);
  EXPECT_EQ(window->until_us, kNowUs - kDayUs);
}

TEST(WindowFromLookbacks, EmptyTextLeavesThatSideOpen) {
  auto open = WindowFromLookbacks("", "", kNowUs);
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->since_us, 0);
  EXPECT_EQ(open->until_us, 0);
  auto since = WindowFromLookbacks("2h", "", kNowUs);
  ASSERT_TRUE(since.ok());
  EXPECT_EQ(since->since_us, kNowUs - 7'200'000'000LL);
  EXPECT_EQ(since->until_us, 0);
}

TEST(WindowFromLookbacks, SinceBefore1970IsEverythingButUntilBefore1970IsRefused) {
  auto all = WindowFromLookbacks("100000d", "", kNowUs);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->since_us, 0);
  auto until = WindowFromLookbacks("", "100000d", kNowUs, "--since", "--until");
  ASSERT_FALSE(until.ok());
  EXPECT_NE(until.status().message().find("--until"), std::string::npos);
}

TEST(WindowFromLookbacks, EmptyWindowAndBadTextNameTheFlag) {
  auto reversed = WindowFromLookbacks("1d", "7d", kNowUs, "--since", "--until");
  ASSERT_FALSE(reversed.ok());
  EXPECT_EQ(reversed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(reversed.status().message().find("--since"), std::string::npos);
  EXPECT_FALSE(WindowFromLookbacks("2h", "2h", kNowUs).ok());
  auto bad = WindowFromLookbacks("yesterday", "", kNowUs, "since", "until");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("since: ", 0), 0u) << bad.status().message();
}

TEST(CheckWindow, RefusesNegativeAndEmptyWindows) {
  EXPECT_TRUE(CheckWindow({0, 0}).ok());
  EXPECT_TRUE(CheckWindow({5, 0}).ok());
  EXPECT_TRUE(CheckWindow({0, 5}).ok());
  EXPECT_TRUE(CheckWindow({4, 5}).ok());
  EXPECT_FALSE(CheckWindow({5, 5}).ok());
  EXPECT_FALSE(CheckWindow({6, 5}).ok());
  EXPECT_FALSE(CheckWindow({-1, 0}).ok());
  EXPECT_FALSE(CheckWindow({0, -1}).ok());
}

TEST(ParseSummaryGroupBy, HostOrLabel) {
  EXPECT_EQ(*ParseSummaryGroupBy("host"), "host");
  EXPECT_EQ(*ParseSummaryGroupBy("LABEL"), "label");
  EXPECT_FALSE(ParseSummaryGroupBy("").ok());
  EXPECT_FALSE(ParseSummaryGroupBy("test").ok());
  EXPECT_FALSE(ParseSummaryGroupBy("hosts").ok());
}

}  // namespace
}  // namespace labmesh::client
