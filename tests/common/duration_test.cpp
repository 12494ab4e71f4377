// Durations parse as CLI.md spells them (500ms, 5s, 10m, 2h, bare seconds) and anything else is
// an InvalidArgument naming the text.

#include "labmesh/common/duration.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace labmesh {
namespace {

int64_t Ms(std::string_view text) {
  auto parsed = ParseDurationMs(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.status().ToString();
  return parsed.ok() ? *parsed : -1;
}

TEST(ParseDurationMs, AcceptsEveryUnitCliMdLists) {
  EXPECT_EQ(Ms("500ms"), 500);
  EXPECT_EQ(Ms("5s"), 5'000);
  EXPECT_EQ(Ms("10m"), 600'000);
  EXPECT_EQ(Ms("2h"), 7'200'000);
}

TEST(ParseDurationMs, BareNumberIsSeconds) {
  EXPECT_EQ(Ms("30"), 30'000);
  EXPECT_EQ(Ms("0"), 0);
  EXPECT_EQ(Ms("0ms"), 0);
}

TEST(ParseDurationMs, RejectsMalformedText) {
  for (const char* bad : {"", "s", "ms", "-5s", "+5s", "5 s", " 5s", "5s ", "1.5s", "5sec", "5S",
                          "5d", "5ms5", "5h30m", "abc", "0x10s"}) {
    auto parsed = ParseDurationMs(bad);
    ASSERT_FALSE(parsed.ok()) << "'" << bad << "' parsed as " << *parsed;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(parsed.status().message().find(std::string("'") + bad + "'"), std::string::npos)
        << parsed.status().message();
  }
}

TEST(ParseDurationMs, RejectsValuesThatOverflow) {
  EXPECT_FALSE(ParseDurationMs("9999999999999999999").ok());   // not an int64
  EXPECT_FALSE(ParseDurationMs("9223372036854775807s").ok());  // * 1000 overflows
  EXPECT_FALSE(ParseDurationMs("2562047788016h").ok());        // * 3,600,000 overflows
  EXPECT_EQ(Ms("9223372036854775807ms"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(Ms("2562047788015h"), 2'562'047'788'015LL * 3'600'000);
}

TEST(FormatDurationMs, IsShortAndReadable) {
  EXPECT_EQ(FormatDurationMs(250), "250ms");
  EXPECT_EQ(FormatDurationMs(1'500), "1.5s");
  EXPECT_EQ(FormatDurationMs(200'000), "3m20s");
  EXPECT_EQ(FormatDurationMs(7'200'000), "2h0m");
  EXPECT_EQ(FormatDurationMs(-1), "0ms");
}


TEST(ParseLongDurationMs, ReadsDaysAndWeeksAndEverythingParseDurationMsReads) {
  EXPECT_EQ(*ParseLongDurationMs("90d"), 90 * 86'400'000LL);
  EXPECT_EQ(*ParseLongDurationMs("2w"), 14 * 86'400'000LL);
  EXPECT_EQ(*ParseLongDurationMs("12h"), 12 * 3'600'000LL);
  EXPECT_EQ(*ParseLongDurationMs("500ms"), 500);
  EXPECT_EQ(*ParseLongDurationMs("45"), 45'000);
  EXPECT_EQ(*ParseLongDurationMs("0d"), 0);
  for (const char* bad : {"", "d", "-3d", "1.5d", "1y", "ninety", "3dd", "99999999999999999d"}) {
    auto parsed = ParseLongDurationMs(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.status().message().find("90d"), std::string::npos) << bad;
    }
  }
}

}  // namespace
}  // namespace labmesh
