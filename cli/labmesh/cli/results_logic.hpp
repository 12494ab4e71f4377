#pragma once
// The pure parts of `labmesh results list|summary|series|reparse` and of the results shown by
// `job show`: arguments -> request (every usage rule; a refusal is a usage error, exit 2, and
// nothing is sent) and reply -> text. No flags, no sockets, no clock: "now" is passed in.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/messages.hpp"

namespace labmesh::cli {

// The REASON column of `results list` is cut to this many characters.
inline constexpr size_t kReasonColumnChars = 60;

// `results list` as typed; empty strings / 0 / nullopt mean "not given".
struct ResultsListArgs {
  uint64_t job = 0;
  std::string host;
  std::string label;
  std::string test;
  std::string status;  // any case
  std::string since;   // how long ago: "7d", "2h"
  std::string until;
  std::optional<uint32_t> limit;
  std::string cursor;
};

// Rules: a known status (sent canonical: GOOD FAIL ERROR ABORT WARN TEST_NA); --since/--until
// as ParseLookbackMs reads them, since longer ago than until; --limit 1..1000.
Result<protocol::ResultsListRequest> BuildResultsListRequest(const ResultsListArgs& args,
                                                             int64_t now_us);

// `results summary` as typed.
struct ResultsSummaryArgs {
  std::string label;
  std::string host;
  std::string test;
  std::string test_prefix;
  std::string since = "7d";
  std::string until;
  std::string by;  // "host" or "label"; "" = label when --label is given, else host
};

Result<protocol::ResultsSummaryRequest> BuildResultsSummaryRequest(const ResultsSummaryArgs& args,
                                                                   int64_t now_us);

// `results series` as typed.
struct ResultsSeriesArgs {
  std::string test;  // required
  std::string key;   // required
  std::string host;
  std::string label;
  std::string since;
  std::string until;
  std::optional<uint32_t> limit;
};

// Rules: --test and --key not empty; the window as for list; --limit 1..100,000.
Result<protocol::ResultsSeriesRequest> BuildResultsSeriesRequest(const ResultsSeriesArgs& args,
                                                                 int64_t now_us);

// The table of `results list` (ID, JOB, HOST, TEST, STATUS, STARTED, DURATION, REASON), then,
// when there are more pages, the line "more: --cursor NEXT".
std::string FormatResultsList(const protocol::ResultsListReply& reply);
// The table of `results summary`: TEST, HOST or LABEL (as `group_by`), RUNS, GOOD, FAIL, ERROR,
// OTHER (ABORT, WARN, TEST_NA), PASS RATE.
std::string FormatResultsSummary(const protocol::ResultsSummaryReply& reply,
                                 const std::string& group_by);
// The table of `results series`: TIME, VALUE, JOB, HOST.
std::string FormatResultsSeries(const protocol::ResultsSeriesReply& reply);
// "job 12: reparsed 4 entries, 130 results, 1 warning".
std::string FormatReparse(const protocol::ResultsReparseReply& reply);

// `results usage`: a table OWNER JOBS BYTES (largest first), a table MONTH JOBS BYTES (oldest
// first) and a last line "total: 3.4 GiB in 14 jobs".
std::string FormatUsage(const protocol::ResultsUsageReply& reply);

// "92.3%" (one decimal), or "-" when there is none (a negative rate: every result TEST_NA).
std::string FormatPassRate(double pass_rate);
// "12 GOOD, 1 FAIL": the known statuses in table order, then any other in name order; "" when
// there are none.
std::string FormatResultCounts(const std::map<std::string, uint64_t>& counts);
// "warning: lab-1: status.log: line 7: END without START", one per parse warning of every
// entry, in entry order.
std::vector<std::string> ParseWarningLines(const protocol::JobInfo& job);
// `text` on one line (control characters as spaces), cut to at most `max_chars` characters
// (UTF-8 aware) ending in "..." when it was longer.
std::string OneLine(std::string_view text, size_t max_chars);

}  // namespace labmesh::cli
