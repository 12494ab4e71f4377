#include "labmesh/client/results_filters.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

#include "labmesh/common/duration.hpp"

namespace labmesh::client {
namespace {

constexpr int64_t kDayMs = 86'400'000;

std::string Canonical(std::string_view text) {
  std::string out;
  for (char c : text) {
    out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

std::string Quoted(std::string_view text) { return "'" + std::string(text.substr(0, 80)) + "'"; }

}  // namespace

Result<std::string> ParseResultStatus(std::string_view text) {
  std::string canonical = Canonical(text);
  for (std::string_view status : kResultStatuses) {
    if (canonical == status) return canonical;
  }
  return Status::InvalidArgument("unknown result status " + Quoted(text) +
                                 " (GOOD, FAIL, ERROR, ABORT, WARN, TEST_NA)");
}

Result<int64_t> ParseLookbackMs(std::string_view text) {
  if (text.size() >= 2 && text.back() == 'd') {
    std::string_view digits = text.substr(0, text.size() - 1);
    int64_t days = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), days);
    if (ec == std::errc() && end == digits.data() + digits.size() && days >= 0 &&
        days <= std::numeric_limits<int64_t>::max() / kDayMs) {
      return days * kDayMs;
    }
  } else if (auto ms = ParseDurationMs(text); ms.ok()) {
    return ms;
  }
  return Status::InvalidArgument("bad duration " + Quoted(text) +
                                 " (how long ago, e.g. 30m, 2h, 7d)");
}

Status CheckWindow(const TimeWindowUs& window, std::string_view since_name,
                   std::string_view until_name) {
  if (window.since_us < 0 || window.until_us < 0) {
    return Status::InvalidArgument("times must not be before 1970");
  }
  if (window.since_us > 0 && window.until_us > 0 && window.since_us >= window.until_us) {
    return Status::InvalidArgument("empty time window: " + std::string(since_name) +
                                   " must be before " + std::string(until_name));
  }
  return Status::Ok();
}

Result<TimeWindowUs> WindowFromLookbacks(std::string_view since, std::string_view until,
                                         int64_t now_us, std::string_view since_name,
                                         std::string_view until_name) {
  TimeWindowUs window;
  // Lookbacks are at most int64 ms; as µs they may not fit, and then reach before 1970 anyway.
  auto back_us = [now_us](int64_t ms) -> int64_t {
    if (ms > now_us / 1000) return -1;
    return now_us - ms * 1000;
  };
  if (!since.empty()) {
    auto ms = ParseLookbackMs(since);
    if (!ms.ok())
      return Status::InvalidArgument(std::string(since_name) + ": " + ms.status().message());
    // Further back than 1970: everything there is; 0 is "no lower bound" on the wire.
    window.since_us = std::max<int64_t>(0, back_us(*ms));
  }
  if (!until.empty()) {
    auto ms = ParseLookbackMs(until);
    if (!ms.ok())
      return Status::InvalidArgument(std::string(until_name) + ": " + ms.status().message());
    int64_t until_us = back_us(*ms);
    if (until_us <= 0) {
      return Status::InvalidArgument(std::string(until_name) + " " + Quoted(until) +
                                     " reaches back before 1970");
    }
    window.until_us = until_us;
  }
  LABMESH_RETURN_IF_ERROR(CheckWindow(window, since_name, until_name));
  return window;
}

Result<std::string> ParseSummaryGroupBy(std::string_view text) {
  std::string lower;
  for (char c : text)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower == "host" || lower == "label") return lower;
  return Status::InvalidArgument("unknown grouping " + Quoted(text) + " (host or label)");
}

}  // namespace labmesh::client
