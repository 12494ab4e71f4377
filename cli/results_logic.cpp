#include "labmesh/cli/results_logic.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "labmesh/cli/cli_util.hpp"
#include "labmesh/cli/job_logic.hpp"
#include "labmesh/client/results_filters.hpp"
#include "labmesh/common/duration.hpp"
#include "labmesh/protocol/json.hpp"
#include "table.hpp"

namespace labmesh::cli {
namespace {

namespace protocol = labmesh::protocol;
using client::kMaxResultsListLimit;
using client::kMaxResultsSeriesLimit;

Result<client::TimeWindowUs> Window(const std::string& command, const std::string& since,
                                    const std::string& until, int64_t now_us) {
  auto window = client::WindowFromLookbacks(since, until, now_us, "--since", "--until");
  if (!window.ok()) return Status::InvalidArgument(command + ": " + window.status().message());
  return window;
}

Result<uint32_t> Limit(const std::string& command, const std::optional<uint32_t>& limit,
                       uint32_t max) {
  if (!limit) return uint32_t{0};  // the coordinator's default
  if (*limit == 0 || *limit > max) {
    return Status::InvalidArgument(command + ": --limit must be 1 to " + std::to_string(max));
  }
  return *limit;
}

std::string Duration(const protocol::TestResultInfo& r) {
  if (r.duration_us <= 0 && (r.start_us == 0 || r.end_us == 0)) return "-";
  return FormatDurationMs(r.duration_us / 1000);
}

uint64_t CountOf(const std::map<std::string, uint64_t>& counts, std::string_view status) {
  auto it = counts.find(std::string(status));
  return it == counts.end() ? 0 : it->second;
}

std::string Printed(const Table& table) {
  std::ostringstream out;
  table.Print(out);
  return out.str();
}

}  // namespace

Result<protocol::ResultsListRequest> BuildResultsListRequest(const ResultsListArgs& args,
                                                             int64_t now_us) {
  const std::string command = "results list";
  protocol::ResultsListRequest request;
  if (!args.status.empty()) {
    auto status = client::ParseResultStatus(args.status);
    if (!status.ok()) return Status::InvalidArgument(command + ": " + status.status().message());
    request.status = *status;
  }
  auto window = Window(command, args.since, args.until, now_us);
  if (!window.ok()) return window.status();
  auto limit = Limit(command, args.limit, kMaxResultsListLimit);
  if (!limit.ok()) return limit.status();
  request.job_id = args.job;
  request.host = args.host;
  request.label = args.label;
  request.test = args.test;
  request.since_us = window->since_us;
  request.until_us = window->until_us;
  request.limit = *limit;
  request.cursor = args.cursor;
  return request;
}

Result<protocol::ResultsSummaryRequest> BuildResultsSummaryRequest(const ResultsSummaryArgs& args,
                                                                   int64_t now_us) {
  const std::string command = "results summary";
  protocol::ResultsSummaryRequest request;
  if (args.by.empty()) {
    request.group_by = args.label.empty() ? "host" : "label";
  } else {
    auto by = client::ParseSummaryGroupBy(args.by);
    if (!by.ok()) return Status::InvalidArgument(command + ": --by: " + by.status().message());
    request.group_by = *by;
  }
  auto window = Window(command, args.since, args.until, now_us);
  if (!window.ok()) return window.status();
  request.test = args.test;
  request.test_prefix = args.test_prefix;
  request.host = args.host;
  request.label = args.label;
  request.since_us = window->since_us;
  request.until_us = window->until_us;
  return request;
}

Result<protocol::ResultsSeriesRequest> BuildResultsSeriesRequest(const ResultsSeriesArgs& args,
                                                                 int64_t now_us) {
  const std::string command = "results series";
  if (args.test.empty()) return Status::InvalidArgument(command + ": --test is required");
  if (args.key.empty()) return Status::InvalidArgument(command + ": --key is required");
  auto window = Window(command, args.since, args.until, now_us);
  if (!window.ok()) return window.status();
  auto limit = Limit(command, args.limit, kMaxResultsSeriesLimit);
  if (!limit.ok()) return limit.status();
  protocol::ResultsSeriesRequest request;
  request.test = args.test;
  request.key = args.key;
  request.host = args.host;
  request.label = args.label;
  request.since_us = window->since_us;
  request.until_us = window->until_us;
  request.limit = *limit;
  return request;
}

std::string FormatResultsList(const protocol::ResultsListReply& reply) {
  Table table({"ID", "JOB", "HOST", "TEST", "STATUS", "STARTED", "DURATION", "REASON"});
  for (const auto& r : reply.results) {
    // A flaky test (docs/quarantine.md) says so after its name.
    table.Add({std::to_string(r.id), std::to_string(r.job_id), r.host,
               r.flaky ? r.test + " (flaky)" : r.test, r.status,
               WallTimeOrDash(r.start_us / 1000), Duration(r),
               OneLine(r.reason, kReasonColumnChars)});
  }
  std::string out = Printed(table);
  if (!reply.next_cursor.empty()) out += "more: --cursor " + reply.next_cursor + "\n";
  return out;
}

std::string FormatResultsSummary(const protocol::ResultsSummaryReply& reply,
                                 const std::string& group_by) {
  Table table({"TEST", group_by == "label" ? "LABEL" : "HOST", "RUNS", "GOOD", "FAIL", "ERROR",
               "OTHER", "PASS RATE"});
  for (const auto& row : reply.rows) {
    uint64_t good = CountOf(row.counts, "GOOD");
    uint64_t fail = CountOf(row.counts, "FAIL");
    uint64_t error = CountOf(row.counts, "ERROR");
    uint64_t named = good + fail + error;
    uint64_t other = row.total > named ? row.total - named : 0;
    table.Add({row.flaky ? row.test + " (flaky)" : row.test, row.group, std::to_string(row.total),
               std::to_string(good),
               std::to_string(fail), std::to_string(error), std::to_string(other),
               FormatPassRate(row.pass_rate)});
  }
  return Printed(table);
}

std::string FormatResultsSeries(const protocol::ResultsSeriesReply& reply) {
  Table table({"TIME", "VALUE", "JOB", "HOST"});
  for (const auto& point : reply.points) {
    char value[40];
    std::snprintf(value, sizeof value, "%.10g", point.value);
    table.Add(
        {WallTimeOrDash(point.time_us / 1000), value, std::to_string(point.job_id), point.host});
  }
  return Printed(table);
}

std::string FormatUsage(const protocol::ResultsUsageReply& reply) {
  std::ostringstream out;
  Table owners({"OWNER", "JOBS", "BYTES"});
  for (const auto& row : reply.by_owner) {
    owners.Add({row.key, std::to_string(row.jobs), FormatBytes(row.bytes)});
  }
  owners.Print(out);
  out << "\n";
  Table months({"MONTH", "JOBS", "BYTES"});
  for (const auto& row : reply.by_month) {
    months.Add({row.key, std::to_string(row.jobs), FormatBytes(row.bytes)});
  }
  months.Print(out);
  out << "\ntotal: " << FormatBytes(reply.total_bytes) << " in " << reply.jobs
      << (reply.jobs == 1 ? " job" : " jobs") << "\n";
  return out.str();
}

std::string FormatReparse(const protocol::ResultsReparseReply& reply) {
  auto counted = [](uint64_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  return "job " + std::to_string(reply.job_id) + ": reparsed " +
         counted(reply.entries, "entry", "entries") + ", " +
         counted(reply.results, "result", "results") + ", " +
         counted(reply.warnings, "warning", "warnings");
}

std::string FormatPassRate(double pass_rate) {
  if (!(pass_rate >= 0)) return "-";  // also NaN
  char text[32];
  std::snprintf(text, sizeof text, "%.1f%%", pass_rate * 100);
  return text;
}

std::string FormatResultCounts(const std::map<std::string, uint64_t>& counts) {
  std::string out;
  auto add = [&out](const std::string& status, uint64_t n) {
    if (!out.empty()) out += ", ";
    out += std::to_string(n) + " " + status;
  };
  for (std::string_view status : client::kResultStatuses) {
    auto it = counts.find(std::string(status));
    if (it != counts.end()) add(it->first, it->second);
  }
  for (const auto& [status, n] : counts) {  // a status this client does not know yet
    if (std::find(client::kResultStatuses.begin(), client::kResultStatuses.end(), status) ==
        client::kResultStatuses.end()) {
      add(status, n);
    }
  }
  return out;
}

std::vector<std::string> ParseWarningLines(const protocol::JobInfo& job) {
  std::vector<std::string> lines;
  for (const auto& entry : job.entries) {
    std::string who = entry.host.empty() ? "entry " + std::to_string(entry.id) : entry.host;
    for (const auto& warning : entry.parse_warnings) {
      lines.push_back("warning: " + who + ": " + OneLine(warning, 1000));
    }
  }
  return lines;
}

std::string OneLine(std::string_view text, size_t max_chars) {
  // Byte offsets where each UTF-8 character starts (continuation bytes are 10xxxxxx).
  std::vector<size_t> starts;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  std::string_view kept = text;
  bool cut = starts.size() > max_chars;
  if (cut) {
    size_t keep = max_chars > 3 ? max_chars - 3 : 0;
    kept = text.substr(0, keep < starts.size() ? starts[keep] : text.size());
  }
  std::string out;
  for (char c : kept) {
    unsigned char u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
  }
  if (cut) out += std::string("...").substr(0, std::min<size_t>(3, max_chars));
  return out;
}

}  // namespace labmesh::cli
