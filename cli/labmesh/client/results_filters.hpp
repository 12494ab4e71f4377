#pragma once
// The filters of the results queries (`labmesh results ...` and GET /api/v1/results...), as
// both the CLI and the web API read them from text, so that a status or a time window means the
// same thing in both. Pure functions: no socket, no clock (the caller passes "now").

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "labmesh/common/status.hpp"

namespace labmesh::client {

// Page and series sizes the coordinator accepts (results_messages.hpp); larger is refused
// before anything is sent.
inline constexpr uint32_t kMaxResultsListLimit = 1000;
inline constexpr uint32_t kMaxResultsSeriesLimit = 100'000;

// The statuses of a test result, in the order tables show them.
inline constexpr std::array<std::string_view, 6> kResultStatuses = {"GOOD",  "FAIL", "ERROR",
                                                                    "ABORT", "WARN", "TEST_NA"};

// A result status in its canonical spelling: any case, '-' for '_' ("test-na" is TEST_NA);
// InvalidArgument listing the six otherwise.
Result<std::string> ParseResultStatus(std::string_view text);

// How long ago, in ms: the durations ParseDurationMs reads ("500ms", "90s", "30m", "2h", bare
// seconds) plus whole days ("7d"). InvalidArgument naming the text otherwise.
Result<int64_t> ParseLookbackMs(std::string_view text);

// A window of result times, µs since the epoch; 0 = open on that side (as on the wire).
struct TimeWindowUs {
  int64_t since_us = 0;
  int64_t until_us = 0;
};

// The window [now - since, now - until) from two lookbacks ("" = open on that side). A since
// reaching back before 1970 means "from the beginning"; an until that does, and a window that
// is empty (since not longer ago than until), are InvalidArgument. Messages name the flag or
// parameter as `since_name` / `until_name` call them.
Result<TimeWindowUs> WindowFromLookbacks(std::string_view since, std::string_view until,
                                         int64_t now_us, std::string_view since_name = "since",
                                         std::string_view until_name = "until");

// InvalidArgument when both ends are set and since_us is not before until_us, or one is
// negative.
Status CheckWindow(const TimeWindowUs& window, std::string_view since_name = "since",
                   std::string_view until_name = "until");

// "host" or "label" (any case), InvalidArgument otherwise.
Result<std::string> ParseSummaryGroupBy(std::string_view text);

}  // namespace labmesh::client
