#pragma once
// Durations as people type them on the command line and in config files: "500ms", "5s", "10m",
// "2h" (a bare number means seconds). Used by every daemon flag and by the CLI.

#include <cstdint>
#include <string>
#include <string_view>

#include "labmesh/common/status.hpp"

namespace labmesh {

// Returns the duration in milliseconds, or InvalidArgument naming the bad text.
Result<int64_t> ParseDurationMs(std::string_view text);

// Long durations, for retention: what ParseDurationMs reads plus whole days ("90d") and weeks
// ("2w"). InvalidArgument naming the text otherwise.
Result<int64_t> ParseLongDurationMs(std::string_view text);

// "1.5s", "250ms", "3m20s", "2h" - short, for tables and logs.
std::string FormatDurationMs(int64_t ms);

}  // namespace labmesh
