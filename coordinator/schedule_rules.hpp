#pragma once
// Schedule rules as pure functions (tested alone, docs/schedules.md): the names templates and
// schedules may have, cron expressions (read and matched), time zones, and the next time a
// schedule creates a job.
//
// Cron as Vixie cron reads it: five fields - minute (0-59), hour (0-23), day of month (1-31),
// month (1-12 or jan-dec), day of week (0-7 or sun-sat; 0 and 7 are Sunday) - each a list of
// `*`, `N`, `N-M`, with an optional `/STEP` (`*/15`, `1-30/2`, `5/10` = from 5 to the end).
// When both day fields are restricted (neither starts with `*`) a day matches either one, as in
// crontab(5). `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`) and
// `@hourly` stand for their five fields.
//
// Times are local times of an IANA time zone (Howard Hinnant's date library reading the
// system's tzdata). A local time that does not exist (the hour a spring-forward skips) runs at
// the moment the clocks jump; one that exists twice (the hour a fall-back repeats) runs once,
// at its first occurrence.

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "labmesh/common/status.hpp"

namespace labmesh::coordinator {

inline constexpr size_t kMaxWorkflowNameBytes = 64;
inline constexpr size_t kMaxCronBytes = 256;
inline constexpr size_t kMaxDescriptionBytes = 1024;

// A template's or a schedule's name: 1..64 of [A-Za-z0-9._-], not starting with '.' or '-'.
// InvalidArgument naming `what` ("template", "schedule") otherwise.
Status ValidateWorkflowName(std::string_view what, std::string_view name);

struct CronSpec {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days;      // 1..31
  std::bitset<13> months;    // 1..12
  std::bitset<7> weekdays;   // 0 (Sunday) ..6
  bool days_star = true;     // the day-of-month field starts with '*'
  bool weekdays_star = true;
};

// Reads a cron expression; InvalidArgument saying which field is wrong and why.
Result<CronSpec> ParseCron(std::string_view text);

// Whether the civil date (year, month 1..12, day 1..31, weekday 0..6 from Sunday) is one of the
// expression's days.
bool CronMatchesDay(const CronSpec& spec, unsigned month, unsigned day, unsigned weekday);

// "" -> "UTC"; a known IANA zone name as given; InvalidArgument naming it otherwise.
Result<std::string> CanonicalTimeZone(std::string_view name);

// The first time (µs since the epoch, a whole minute) strictly after `after_us` at which the
// expression matches in `timezone` (a CanonicalTimeZone name). NotFound when it matches no
// time in the next 8 years (e.g. "0 0 30 2 *").
Result<int64_t> NextCronTimeUs(const CronSpec& spec, const std::string& timezone,
                               int64_t after_us);

// The next `count` times after `after_us` (fewer when it stops matching).
std::vector<int64_t> UpcomingCronTimesUs(const CronSpec& spec, const std::string& timezone,
                                         int64_t after_us, size_t count);

}  // namespace labmesh::coordinator
