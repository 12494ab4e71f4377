#pragma once
// Logging set-up shared by the daemons (docs/monitoring.md "Logs"): spdlog with the component's
// name as the logger, the level from --log-level, lines as text or one JSON object each
// (--log-format json, for journald and log shippers), to stderr or to a file that rotates by size
// (--log-file, --log-max-size, --log-max-files).

#include <cstdint>
#include <memory>
#include <string>

#include <spdlog/formatter.h>

#include "labmesh/common/status.hpp"

namespace labmesh {

struct LogOptions {
  std::string level = "info";   // trace, debug, info, warn, error, critical, off
  std::string format = "text";  // "text": `2026-01-02T03:04:05.678 info [agent] ...`; "json"
  // "" = stderr. Otherwise this file (its directory is created), which rotates when the next
  // line would take it past max_file_bytes: `agent.log` becomes `agent.1.log`, `agent.1.log`
  // becomes `agent.2.log`, ..., and the one past max_files is deleted (spdlog's rotating sink).
  std::string file;
  uint64_t max_file_bytes = 64ull << 20;
  uint32_t max_files = 5;
};

// Checks `options` and makes `component`'s logger the default one. InvalidArgument for an
// unknown level or format, a zero size or count; Unavailable when the file cannot be opened.
Status SetupLogging(const std::string& component, const LogOptions& options);

// The JSON line formatter: {"time": "2026-01-02T03:04:05.678Z" (UTC), "level": "info",
// "daemon": component, "logger": the logger's name, "pid": N, "message": "..."} and a newline.
// Built with nlohmann-json, so any message (quotes, control characters, invalid UTF-8: replaced
// by U+FFFD) is a valid JSON string.
std::unique_ptr<spdlog::formatter> MakeJsonLogFormatter(const std::string& component);

}  // namespace labmesh
