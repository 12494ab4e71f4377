#include "schedule_rules.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <exception>

#include "text_util.hpp"

namespace labmesh::coordinator {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

constexpr int kSearchDays = 8 * 366;  // "0 0 29 2 1" (a leap day that is a Monday) fits

struct Field {
  std::string_view name;
  unsigned min;
  unsigned max;
  const std::array<std::string_view, 12>* names;  // names[i] is min + i; nullptr = none
};

constexpr std::array<std::string_view, 12> kMonthNames = {
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 12> kWeekdayNames = {"sun", "mon", "tue", "wed",
                                                            "thu", "fri", "sat"};

constexpr std::array<Field, 5> kFields = {{
    {"minute", 0, 59, nullptr},
    {"hour", 0, 23, nullptr},
    {"day of month", 1, 31, nullptr},
    {"month", 1, 12, &kMonthNames},
    {"day of week", 0, 7, &kWeekdayNames},
}};

Status FieldError(const Field& field, std::string_view text, const std::string& why) {
  return Status::InvalidArgument("cron " + std::string(field.name) + " field '" +
                                 std::string(text) + "': " + why);
}

// One value of a field: a number in range or (months, weekdays) a three-letter name.
Result<unsigned> ParseValue(const Field& field, std::string_view whole, std::string_view text) {
  if (text.empty()) return FieldError(field, whole, "a value is missing");
  if (field.names != nullptr && std::isalpha(static_cast<unsigned char>(text[0]))) {
    std::string lower = Lower(text);
    for (size_t i = 0; i < field.names->size(); ++i) {
      if (!(*field.names)[i].empty() && (*field.names)[i] == lower) {
        return field.min + static_cast<unsigned>(i);
      }
    }
    return FieldError(field, whole, "unknown name '" + std::string(text) + "'");
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return FieldError(field, whole, "'" + std::string(text) + "' is not a number");
  }
  if (value < field.min || value > field.max) {
    return FieldError(field, whole,
                      std::to_string(value) + " is outside " + std::to_string(field.min) + "-" +
                          std::to_string(field.max));
  }
  return value;
}

// A whole field into `out` (bit i = value i).
template <size_t N>
Status ParseField(const Field& field, std::string_view text, std::bitset<N>* out) {
  if (text.empty()) return FieldError(field, text, "empty");
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view item =
        text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    std::string_view range = item;
    unsigned step = 1;
    if (size_t slash = item.find('/'); slash != std::string_view::npos) {
      range = item.substr(0, slash);
      std::string_view step_text = item.substr(slash + 1);
      auto [end, ec] =
          std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
      if (step_text.empty() || ec != std::errc() || end != step_text.data() + step_text.size() ||
          step == 0 || step > field.max) {
        return FieldError(field, text,
                          "step '" + std::string(step_text) + "' must be a number from 1 to " +
                              std::to_string(field.max));
      }
    }
    unsigned low = field.min, high = field.max;
    if (range != "*") {
      size_t dash = range.find('-');
      auto first = ParseValue(field, text, range.substr(0, dash));
      if (!first.ok()) return first.status();
      low = *first;
      high = item.find('/') != std::string_view::npos ? field.max : low;  // "5/10": 5 to the end
      if (dash != std::string_view::npos) {
        auto last = ParseValue(field, text, range.substr(dash + 1));
        if (!last.ok()) return last.status();
        high = *last;
        if (high < low) {
          return FieldError(field, text,
                            "range " + std::string(range) + " runs backwards");
        }
      }
    }
    for (unsigned v = low; v <= high; v += step) {
      // Day of week 7 is Sunday (0); every other value is its own bit.
      out->set(N == 7 && v == 7 ? 0 : v);
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return Status::Ok();
}

std::string_view Macro(std::string_view text) {
  std::string lower = Lower(text);
  if (lower == "@yearly" || lower == "@annually") return "0 0 1 1 *";
  if (lower == "@monthly") return "0 0 1 * *";
  if (lower == "@weekly") return "0 0 * * 0";
  if (lower == "@daily" || lower == "@midnight") return "0 0 * * *";
  if (lower == "@hourly") return "0 * * * *";
  return "";
}

// The instant a local time of `zone` is: its first occurrence when the clocks pass it twice,
// the jump itself when they skip it.
date::sys_seconds ToSys(const date::time_zone* zone, date::local_seconds local) {
  date::local_info info = zone->get_info(local);
  if (info.result == date::local_info::nonexistent) return info.first.end;
  return date::sys_seconds{local.time_since_epoch() - info.first.offset};
}

}  // namespace

Status ValidateWorkflowName(std::string_view what, std::string_view name) {
  std::string prefix = std::string(what) + " name";
  if (name.empty()) return Status::InvalidArgument(prefix + " is empty");
  if (name.size() > kMaxWorkflowNameBytes) {
    return Status::InvalidArgument(prefix + " is longer than " +
                                   std::to_string(kMaxWorkflowNameBytes) + " characters");
  }
  bool ok = std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
  if (!ok || name.front() == '.' || name.front() == '-') {
    return Status::InvalidArgument(prefix + " '" + std::string(name) +
                                   "' may hold only letters, digits, '.', '_' and '-', and may "
                                   "not start with '.' or '-'");
  }
  return Status::Ok();
}

Result<CronSpec> ParseCron(std::string_view text) {
  if (text.size() > kMaxCronBytes) {
    return Status::InvalidArgument("cron expression is longer than " +
                                   std::to_string(kMaxCronBytes) + " characters");
  }
  std::string_view expanded = text;
  size_t first = text.find_first_not_of(" \t");
  if (first != std::string_view::npos && text[first] == '@') {
    size_t last = text.find_last_not_of(" \t");
    expanded = Macro(text.substr(first, last - first + 1));
    if (expanded.empty()) {
      return Status::InvalidArgument("unknown cron macro '" + std::string(text) +
                                     "' (@yearly, @monthly, @weekly, @daily, @hourly)");
    }
  }
  std::vector<std::string_view> fields;
  size_t pos = 0;
  while (pos < expanded.size()) {
    size_t begin = expanded.find_first_not_of(" \t", pos);
    if (begin == std::string_view::npos) break;
    size_t end = expanded.find_first_of(" \t", begin);
    if (end == std::string_view::npos) end = expanded.size();
    fields.push_back(expanded.substr(begin, end - begin));
    pos = end;
  }
  if (fields.size() != 5) {
    return Status::InvalidArgument(
        "cron expression '" + std::string(text) + "' has " + std::to_string(fields.size()) +
        " fields; it needs 5 (minute hour day-of-month month day-of-week) or a macro such as "
        "@daily");
  }
  CronSpec spec;
  LABMESH_RETURN_IF_ERROR(ParseField(kFields[0], fields[0], &spec.minutes));
  LABMESH_RETURN_IF_ERROR(ParseField(kFields[1], fields[1], &spec.hours));
  LABMESH_RETURN_IF_ERROR(ParseField(kFields[2], fields[2], &spec.days));
  LABMESH_RETURN_IF_ERROR(ParseField(kFields[3], fields[3], &spec.months));
  LABMESH_RETURN_IF_ERROR(ParseField(kFields[4], fields[4], &spec.weekdays));
  spec.days_star = fields[2].front() == '*';
  spec.weekdays_star = fields[4].front() == '*';
  return spec;
}

bool CronMatchesDay(const CronSpec& spec, unsigned month, unsigned day, unsigned weekday) {
  if (!spec.months.test(month)) return false;
  bool by_day = spec.days.test(day);
  bool by_weekday = spec.weekdays.test(weekday);
  if (spec.days_star || spec.weekdays_star) return by_day && by_weekday;
  return by_day || by_weekday;
}

Result<std::string> CanonicalTimeZone(std::string_view name) {
  if (name.empty() || name == "UTC") return std::string("UTC");
  if (name.size() > 64) return Status::InvalidArgument("time zone name is too long");
  try {
    return std::string(date::locate_zone(name)->name());
  } catch (const std::exception&) {
    return Status::InvalidArgument("unknown time zone '" + std::string(name) +
                                   "' (an IANA name such as Europe/Berlin, or UTC)");
  }
}

Result<int64_t> NextCronTimeUs(const CronSpec& spec, const std::string& timezone,
                               int64_t after_us) {
  const date::time_zone* zone = nullptr;
  if (timezone != "UTC") {
    try {
      zone = date::locate_zone(timezone);
    } catch (const std::exception&) {
      return Status::InvalidArgument("unknown time zone '" + timezone + "'");
    }
  }
  const date::sys_seconds after{std::chrono::duration_cast<seconds>(
      std::chrono::microseconds(after_us))};
  const date::local_seconds after_local =
      zone == nullptr ? date::local_seconds{after.time_since_epoch()} : zone->to_local(after);
  // Candidates are local minutes after the local minute `after` falls in; each becomes an
  // instant, which must be after `after` too (a fall-back makes local time repeat).
  const auto start_minute = date::floor<minutes>(after_local) + minutes(1);
  date::local_days day = date::floor<date::days>(start_minute);
  for (int i = 0; i < kSearchDays; ++i, day += date::days(1)) {
    date::year_month_day ymd{day};
    unsigned weekday = date::weekday{day}.c_encoding();
    if (!CronMatchesDay(spec, static_cast<unsigned>(ymd.month()),
                        static_cast<unsigned>(ymd.day()), weekday)) {
      continue;
    }
    for (unsigned h = 0; h < 24; ++h) {
      if (!spec.hours.test(h)) continue;
      for (unsigned m = 0; m < 60; ++m) {
        if (!spec.minutes.test(m)) continue;
        date::local_seconds local = day + std::chrono::hours(h) + minutes(m);
        if (local < start_minute) continue;
        date::sys_seconds at =
            zone == nullptr ? date::sys_seconds{local.time_since_epoch()} : ToSys(zone, local);
        if (at <= after) continue;
        return static_cast<int64_t>(at.time_since_epoch().count()) * 1'000'000;
      }
    }
  }
  return Status::NotFound("the cron expression matches no time in the next 8 years");
}

std::vector<int64_t> UpcomingCronTimesUs(const CronSpec& spec, const std::string& timezone,
                                         int64_t after_us, size_t count) {
  std::vector<int64_t> out;
  int64_t at = after_us;
  while (out.size() < count) {
    auto next = NextCronTimeUs(spec, timezone, at);
    if (!next.ok()) break;
    out.push_back(*next);
    at = *next;
  }
  return out;
}

}  // namespace labmesh::coordinator
