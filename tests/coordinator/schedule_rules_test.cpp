// Schedule rules (schedule_rules.hpp): cron expressions read as crontab(5) does, the next time
// of a schedule in UTC and in a zone with summer time (the skipped and the repeated hour), names
// and zones refused with a clear error.

#include "schedule_rules.hpp"

#include <gtest/gtest.h>

#include <string>

namespace labmesh::coordinator {
namespace {

// Instants used below, µs since the epoch (UTC).
constexpr int64_t k2026_12_06T13_32_10 = 1796563930000000;
constexpr int64_t k2026_12_06T13_33 = 1796563980000000;
constexpr int64_t k2026_12_07T01_00 = 1796605200000000;
constexpr int64_t k2026_12_07T02_00 = 1796608800000000;
constexpr int64_t k2026_07_01T12_00 = 1782907200000000;
constexpr int64_t k2026_07_02T00_00 = 1782950400000000;
constexpr int64_t k2026_12_11T00_00 = 1796947200000000;
constexpr int64_t k2026_12_13T00_00 = 1797120000000000;
constexpr int64_t k2027_03_27T12_00 = 1806148800000000;
constexpr int64_t k2027_03_28T01_00 = 1806195600000000;  // Berlin's clocks jump 02:00 -> 03:00
constexpr int64_t k2027_03_29T00_30 = 1806280200000000;
constexpr int64_t k2027_10_30T12_00 = 1824897600000000;
constexpr int64_t k2027_10_31T00_30 = 1824942600000000;  // 02:30 CEST, the first 02:30
constexpr int64_t k2027_10_31T00_45 = 1824943500000000;
constexpr int64_t k2027_10_31T02_00 = 1824948000000000;  // 03:00 CET
constexpr int64_t k2027_11_01T01_30 = 1825032600000000;
constexpr int64_t k2028_02_29T00_00 = 1835395200000000;

CronSpec Cron(const std::string& text) {
  auto spec = ParseCron(text);
  EXPECT_TRUE(spec.ok()) << text << ": " << spec.status().ToString();
  return spec.ok() ? *spec : CronSpec{};
}

int64_t Next(const std::string& cron, const std::string& zone, int64_t after_us) {
  auto next = NextCronTimeUs(Cron(cron), zone, after_us);
  EXPECT_TRUE(next.ok()) << cron << ": " << next.status().ToString();
  return next.ok() ? *next : 0;
}

TEST(ScheduleRules, CronFieldsReadListsRangesStepsAndNames) {
  CronSpec every = Cron("* * * * *");
  EXPECT_EQ(every.minutes.count(), 60u);
  EXPECT_EQ(every.hours.count(), 24u);
  EXPECT_EQ(every.days.count(), 31u);
  EXPECT_EQ(every.months.count(), 12u);
  EXPECT_EQ(every.weekdays.count(), 7u);

  CronSpec spec = Cron("*/15 0-6/2 1,15 JAN-mar mon-fri");
  for (unsigned m : {0u, 15u, 30u, 45u}) EXPECT_TRUE(spec.minutes.test(m)) << m;
  EXPECT_EQ(spec.minutes.count(), 4u);
  for (unsigned h : {0u, 2u, 4u, 6u}) EXPECT_TRUE(spec.hours.test(h)) << h;
  EXPECT_EQ(spec.hours.count(), 4u);
  EXPECT_TRUE(spec.days.test(1) && spec.days.test(15));
  EXPECT_EQ(spec.days.count(), 2u);
  EXPECT_EQ(spec.months.count(), 3u);
  EXPECT_TRUE(spec.months.test(1) && spec.months.test(3));
  EXPECT_EQ(spec.weekdays.count(), 5u);
  EXPECT_FALSE(spec.weekdays.test(0));
  EXPECT_FALSE(spec.days_star);
  EXPECT_FALSE(spec.weekdays_star);

  CronSpec from_five = Cron("5/20 * * * 7");  // 5, 25, 45; day of week 7 is Sunday
  EXPECT_EQ(from_five.minutes.count(), 3u);
  EXPECT_TRUE(from_five.minutes.test(45));
  EXPECT_TRUE(from_five.weekdays.test(0));
  EXPECT_EQ(from_five.weekdays.count(), 1u);
}

TEST(ScheduleRules, MacrosStandForTheirFields) {
  EXPECT_EQ(Next("@daily", "UTC", k2026_12_06T13_32_10), Next("0 0 * * *", "UTC", k2026_12_06T13_32_10));
  EXPECT_EQ(Next("@hourly", "UTC", k2026_12_06T13_32_10),
            Next("0 * * * *", "UTC", k2026_12_06T13_32_10));
  EXPECT_EQ(Next(" @Weekly ", "UTC", k2026_12_06T13_32_10),
            Next("0 0 * * 0", "UTC", k2026_12_06T13_32_10));
  EXPECT_TRUE(ParseCron("@yearly").ok());
  EXPECT_TRUE(ParseCron("@annually").ok());
  EXPECT_TRUE(ParseCron("@monthly").ok());
  EXPECT_TRUE(ParseCron("@midnight").ok());
}

TEST(ScheduleRules, BadExpressionsAreRefusedSayingWhichField) {
  struct Case {
    const char* cron;
    const char* says;
  };
  for (const Case& c : {Case{"* * * *", "has 4 fields"}, Case{"* * * * * *", "has 6 fields"},
                        Case{"", "has 0 fields"}, Case{"60 * * * *", "minute field"},
                        Case{"* 24 * * *", "hour field"}, Case{"* * 0 * *", "day of month"},
                        Case{"* * * 13 *", "month field"}, Case{"* * * * 8", "day of week"},
                        Case{"*/0 * * * *", "step"}, Case{"5-1 * * * *", "runs backwards"},
                        Case{"x * * * *", "not a number"}, Case{"1,,2 * * * *", "missing"},
                        Case{"* * * foo *", "unknown name"}, Case{"@often", "unknown cron macro"},
                        Case{"-1 * * * *", "missing"}, Case{"1-2-3 * * * *", "not a number"}}) {
    auto spec = ParseCron(c.cron);
    ASSERT_FALSE(spec.ok()) << c.cron;
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument) << c.cron;
    EXPECT_NE(spec.status().message().find(c.says), std::string::npos)
        << c.cron << ": " << spec.status().message();
  }
  EXPECT_FALSE(ParseCron(std::string(300, '*')).ok());
}

TEST(ScheduleRules, NextTimeInUtcIsStrictlyLaterAndOnAWholeMinute) {
  EXPECT_EQ(Next("0 2 * * *", "UTC", k2026_12_06T13_32_10), k2026_12_07T02_00);
  EXPECT_EQ(Next("* * * * *", "UTC", k2026_12_06T13_32_10), k2026_12_06T13_33);
  // At exactly its time it is the next day's.
  EXPECT_EQ(Next("0 2 * * *", "UTC", k2026_12_07T02_00), k2026_12_07T02_00 + 86'400'000'000LL);
  EXPECT_EQ(Next("* * * * *", "UTC", k2026_12_06T13_33), k2026_12_06T13_33 + 60'000'000);
}

TEST(ScheduleRules, BothDayFieldsRestrictedMatchEitherAsCrontabSays) {
  // 2026-12-06 is a Sunday: the next Friday is the 11th, then the 13th (a Sunday) by its date.
  EXPECT_EQ(Next("0 0 13 * fri", "UTC", k2026_12_06T13_32_10), k2026_12_11T00_00);
  EXPECT_EQ(Next("0 0 13 * fri", "UTC", k2026_12_11T00_00), k2026_12_13T00_00);
  // One field a star: both must match (the 13th that is a Friday, or every Friday).
  EXPECT_EQ(Next("0 0 * * fri", "UTC", k2026_12_06T13_32_10), k2026_12_11T00_00);
  EXPECT_TRUE(CronMatchesDay(Cron("0 0 13 * fri"), 12, 13, 0));
  EXPECT_FALSE(CronMatchesDay(Cron("0 0 13 * fri"), 12, 12, 6));
  EXPECT_TRUE(CronMatchesDay(Cron("0 0 13 * fri"), 11, 13, 5));
}

TEST(ScheduleRules, LocalTimesFollowTheZonesOffsetWinterAndSummer) {
  EXPECT_EQ(Next("0 2 * * *", "Europe/Berlin", k2026_12_06T13_32_10), k2026_12_07T01_00);  // CET
  EXPECT_EQ(Next("0 2 * * *", "Europe/Berlin", k2026_07_01T12_00),
            k2026_07_02T00_00);  // CEST
}

TEST(ScheduleRules, ASkippedLocalTimeRunsWhenTheClocksJump) {
  EXPECT_EQ(Next("30 2 * * *", "Europe/Berlin", k2027_03_27T12_00), k2027_03_28T01_00);
  EXPECT_EQ(Next("30 2 * * *", "Europe/Berlin", k2027_03_28T01_00), k2027_03_29T00_30);
  // Every quarter hour of the skipped hour collapses into one run at the jump.
  EXPECT_EQ(Next("*/15 * * * *", "Europe/Berlin", k2027_03_28T01_00 - 60'000'000),
            k2027_03_28T01_00);
  EXPECT_EQ(Next("*/15 * * * *", "Europe/Berlin", k2027_03_28T01_00),
            k2027_03_28T01_00 + 15 * 60'000'000LL);
}

TEST(ScheduleRules, ARepeatedLocalTimeRunsOnceAtItsFirstOccurrence) {
  EXPECT_EQ(Next("30 2 * * *", "Europe/Berlin", k2027_10_30T12_00), k2027_10_31T00_30);
  EXPECT_EQ(Next("30 2 * * *", "Europe/Berlin", k2027_10_31T00_30), k2027_11_01T01_30);
  // The quarter hours of the repeated hour run in its first pass only.
  EXPECT_EQ(Next("*/15 * * * *", "Europe/Berlin", k2027_10_31T00_30), k2027_10_31T00_45);
  EXPECT_EQ(Next("*/15 * * * *", "Europe/Berlin", k2027_10_31T00_45), k2027_10_31T02_00);
}

TEST(ScheduleRules, RareDatesAreFoundAndImpossibleOnesAreNotFound) {
  EXPECT_EQ(Next("0 0 29 2 *", "UTC", k2026_12_06T13_32_10), k2028_02_29T00_00);
  auto never = NextCronTimeUs(Cron("0 0 30 2 *"), "UTC", k2026_12_06T13_32_10);
  ASSERT_FALSE(never.ok());
  EXPECT_EQ(never.status().code(), StatusCode::kNotFound);
  auto upcoming = UpcomingCronTimesUs(Cron("0 2 * * *"), "UTC", k2026_12_06T13_32_10, 3);
  ASSERT_EQ(upcoming.size(), 3u);
  EXPECT_EQ(upcoming[0], k2026_12_07T02_00);
  EXPECT_EQ(upcoming[2], k2026_12_07T02_00 + 2 * 86'400'000'000LL);
  EXPECT_TRUE(UpcomingCronTimesUs(Cron("0 0 30 2 *"), "UTC", 0, 3).empty());
}

TEST(ScheduleRules, TimeZonesAreIanaNamesOrUtc) {
  EXPECT_EQ(*CanonicalTimeZone(""), "UTC");
  EXPECT_EQ(*CanonicalTimeZone("UTC"), "UTC");
  EXPECT_EQ(*CanonicalTimeZone("Europe/Berlin"), "Europe/Berlin");
  for (const char* bad : {"Mars/Olympus", "../../etc/passwd", "Europe/", "berlin"}) {
    auto zone = CanonicalTimeZone(bad);
    ASSERT_FALSE(zone.ok()) << bad;
    EXPECT_NE(zone.status().message().find("unknown time zone"), std::string::npos) << bad;
  }
  EXPECT_FALSE(CanonicalTimeZone(std::string(100, 'A')).ok());
}

TEST(ScheduleRules, NamesAreShortAndPlain) {
  EXPECT_TRUE(ValidateWorkflowName("template", "nightly-boot_2.x").ok());
  for (const char* bad : {"", ".hidden", "-x", "a b", "a/b", "ä"}) {
    auto status = ValidateWorkflowName("schedule", bad);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(status.message().find("schedule name"), std::string::npos) << bad;
  }
  EXPECT_FALSE(ValidateWorkflowName("template", std::string(65, 'a')).ok());
  EXPECT_TRUE(ValidateWorkflowName("template", std::string(64, 'a')).ok());
}

}  // namespace
}  // namespace labmesh::coordinator
