#pragma once
// The results index over the API socket: test results parsed from the files entries uploaded
// (status.log, keyval, JUnit XML, TAP), queried by the CLI (`labmesh results ...`) and the web
// page. docs/results.md tells the flow; PROTOCOL.md the wire format. Times are wall-clock
// microseconds since the epoch; a filter left at its default does not filter.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "labmesh/protocol/job_messages.hpp"  // FileDigest
#include "labmesh/protocol/types.hpp"

namespace labmesh::protocol {

// One test result.
struct TestResultInfo {
  uint64_t id = 0;
  uint64_t job_id = 0;
  uint64_t entry_id = 0;
  std::string host;
  std::vector<std::string> labels;  // the host's labels when the result was indexed
  std::string test;                 // "outer/inner" (status.log), "Suite.Case" (JUnit), ...
  std::string status;               // GOOD FAIL ERROR ABORT WARN TEST_NA
  std::string reason;
  int64_t start_us = 0;  // 0 = unknown
  int64_t end_us = 0;
  int64_t duration_us = 0;
  std::map<std::string, std::string> keyvals;
  std::map<std::string, double> perf;  // key{perf}=value
  std::string file;  // the file it was parsed from, relative to the entry's results directory
  std::string link;  // "/results/<job>-<owner>/<host>/<file>" on the coordinator's web server
  // The test both passed and failed on one host with one build in the health window
  // (docs/quarantine.md "Flaky tests"), as of the latest health computation.
  bool flaky = false;
};

struct ResultsListRequest {
  static constexpr MessageType kType = MessageType::kResultsListRequest;
  uint64_t job_id = 0;  // 0 = any
  std::string host;
  std::string label;
  std::string test;
  std::string status;    // one of the six statuses
  int64_t since_us = 0;  // start time in [since_us, until_us); until_us 0 = no upper bound
  int64_t until_us = 0;
  uint32_t limit = 0;    // 0 = 100; at most 1000
  std::string cursor;    // next_cursor of the previous page
};

struct ResultsListReply {
  static constexpr MessageType kType = MessageType::kResultsListReply;
  std::vector<TestResultInfo> results;  // newest first
  std::string next_cursor;              // "" = no more
};

struct SummaryRowInfo {
  std::string test;
  std::string group;  // the host or the label
  uint64_t total = 0;
  std::map<std::string, uint64_t> counts;  // status -> results (statuses with none left out)
  double pass_rate = -1;  // GOOD / (total - TEST_NA); -1 when every result was TEST_NA
  int64_t first_us = 0;
  int64_t last_us = 0;
  bool flaky = false;  // the row's test is flaky (as TestResultInfo::flaky)
};

// Pass rates per test x host (group_by "host") or test x label ("label") over a window
// (widened to whole UTC hours).
struct ResultsSummaryRequest {
  static constexpr MessageType kType = MessageType::kResultsSummaryRequest;
  std::string group_by = "host";
  std::string test;
  std::string test_prefix;
  std::string host;
  std::string label;
  int64_t since_us = 0;
  int64_t until_us = 0;
};

struct ResultsSummaryReply {
  static constexpr MessageType kType = MessageType::kResultsSummaryReply;
  std::vector<SummaryRowInfo> rows;  // by test, then group
};

struct SeriesPointInfo {
  int64_t time_us = 0;
  double value = 0;
  uint64_t job_id = 0;
  std::string host;
  std::string link;
};

// One perf value (or numeric keyval) of one test over time, for plots.
struct ResultsSeriesRequest {
  static constexpr MessageType kType = MessageType::kResultsSeriesRequest;
  std::string test;  // required
  std::string key;   // required
  std::string host;
  std::string label;
  int64_t since_us = 0;
  int64_t until_us = 0;
  uint32_t limit = 0;  // 0 = 1000; at most 100,000
};

struct ResultsSeriesReply {
  static constexpr MessageType kType = MessageType::kResultsSeriesReply;
  std::vector<SeriesPointInfo> points;  // oldest first
};

// Bytes of results held (jobs whose results are present), from the sizes the agents reported.
struct ResultsUsageRequest {
  static constexpr MessageType kType = MessageType::kResultsUsageRequest;
  std::string owner;  // only this owner's jobs; "" = everyone's
};

struct UsageRow {
  std::string key;  // an owner, or a month "2026-11" (UTC, of the job's finish, else creation)
  uint64_t bytes = 0;
  uint64_t jobs = 0;
};

struct ResultsUsageReply {
  static constexpr MessageType kType = MessageType::kResultsUsageReply;
  uint64_t total_bytes = 0;
  uint64_t jobs = 0;               // jobs whose results are present
  std::vector<UsageRow> by_owner;  // by bytes, largest first
  std::vector<UsageRow> by_month;  // oldest month first
};

// Rebuilds the index of a job from its files in the results repository.
struct ResultsReparseRequest {
  static constexpr MessageType kType = MessageType::kResultsReparseRequest;
  uint64_t job_id = 0;
  std::string user;
};

struct ResultsReparseReply {
  static constexpr MessageType kType = MessageType::kResultsReparseReply;
  uint64_t job_id = 0;
  uint32_t entries = 0;   // entries whose files were parsed
  uint64_t results = 0;   // results indexed
  uint32_t warnings = 0;  // parse warnings
};

// ---- importing a hand run (`labmesh results import`, docs/kernel-lab.md) ----
// A results directory made without a coordinator (`labmesh-test local`) becomes a finished job
// of the asking user with one entry on `host`: the request creates it (Gathering), chunks fill
// its directory as an agent's upload would, done checks every file against the request's list
// and parses them; the entry then ends Completed, or Failed when a test did not pass.

struct ResultsImportRequest {
  static constexpr MessageType kType = MessageType::kResultsImportRequest;
  std::string host;      // the machine it ran on (need not be registered)
  std::string job_name;  // "" = "import"
  std::vector<FileDigest> files;  // every file, relative paths
};

// Reply to ResultsImportRequest and ResultsImportDoneRequest.
struct ResultsImportReply {
  static constexpr MessageType kType = MessageType::kResultsImportReply;
  uint64_t job_id = 0;
  uint64_t entry_id = 0;
  std::string results_path;  // "<job_id>-<owner>/<host>"
};

// Bytes of one file, as ResultChunk (at most kMaxResultChunkBytes, hash of `data`).
struct ResultsImportChunkRequest {
  static constexpr MessageType kType = MessageType::kResultsImportChunkRequest;
  uint64_t entry_id = 0;
  std::string path;
  uint64_t offset = 0;
  std::vector<char> data;
  std::string hash;
};

// The coordinator holds [0, next_offset) of the file; `error` why a chunk was refused.
struct ResultsImportChunkReply {
  static constexpr MessageType kType = MessageType::kResultsImportChunkReply;
  uint64_t entry_id = 0;
  std::string path;
  uint64_t next_offset = 0;
  std::string error;
};

struct ResultsImportDoneRequest {
  static constexpr MessageType kType = MessageType::kResultsImportDoneRequest;
  uint64_t entry_id = 0;
};

}  // namespace labmesh::protocol
