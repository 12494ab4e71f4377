#pragma once
// The results index: one record per test result, with secondary indexes and summary counts so
// that no query reads every record. It lives in its own LMDB environment (its own directory,
// e.g. DATA_DIR/results-index/), apart from the scheduling store: LMDB has one writer per
// environment, and the parser's large write transactions must never delay the scheduler's
// group commits. The files of the results repository are the truth; the index can always be
// rebuilt from them (ReplaceEntry per entry), so losing it costs a reparse, not results.
//
// Tables (LMDB named databases). Integers are big-endian so byte order is numeric order;
// `t` is start_us, `hour` is start_us / 3,600,000,000 (UTC hours since the epoch); `\0`
// separates names (none may hold NUL). Times ascend, so a new result lands at the end of its
// range (where LMDB's page split leaves full pages); newest-first queries walk backwards.
//   meta           "schema_version" -> u32, "next_id" -> u64 (MessagePack)
//   records        u64 id -> ResultRecord (MessagePack map)
//   entries        u64 job, u64 entry -> {ids, counts} (MessagePack): what ReplaceEntry replaces
//                  and what CountsForEntry / CountsForJob add up
//   by_time        u64 t, u64 id -> status
//   by_job         u64 job, u64 t, u64 id -> status, label set, host \0 test
//   by_test        u32 hour, test \0, u64 t, u64 id -> status, label set, job, host
//   by_host        host \0, u64 t, u64 id -> status, label set, job, test
//   sum_test       u32 hour, test \0, host \0, u32 label set -> counts
//   sum_host       host \0, u32 hour, u32 label set, test -> counts
//   label_sets     u32 label set id -> sorted labels (MessagePack)
//   label_set_ids  BLAKE2b of the labels -> u32 label set id
//   label_hosts    label \0, host \0, u32 label set -> ""  (who carried a label; never shrinks)
// by_test and sum_test lead with the hour so that an ingest, whose results are recent, writes
// into the current hour's few pages instead of one page per test; a per-test read pays one or
// two seeks per hour that holds any result. A record's labels are interned as a label set id,
// so a label filter costs no index of its own: it becomes the (host, label set) pairs of
// label_hosts. Index values carry the fields the other filters need, so filtering never
// decodes a record. "counts" are the results per status, and the first and last start time,
// of one (test, host, label set, hour) bucket, kept in the same write transaction as the
// records (a replace subtracts before it adds, so nothing is counted twice).
//
// Threading: one ResultsIndex is shared by every thread of a process. Reads take their own
// read transaction and run beside a write; writes are serialized (meant for the results
// parser's worker thread). Nothing throws.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "labmesh/common/status.hpp"

namespace labmesh::store {

inline constexpr uint32_t kResultsIndexSchemaVersion = 1;

// Limits that keep every key under LMDB's 511 bytes. A parser meeting a longer test name
// should shorten it (e.g. keep a prefix and append a hash) rather than drop the result.
inline constexpr size_t kMaxTestNameBytes = 200;
inline constexpr size_t kMaxResultHostnameBytes = 253;
inline constexpr size_t kMaxResultLabelBytes = 128;

inline constexpr uint32_t kDefaultQueryLimit = 100;
inline constexpr uint32_t kMaxQueryLimit = 1000;
inline constexpr int64_t kUsPerHour = 3'600'000'000;
inline constexpr int64_t kUsPerDay = 24 * kUsPerHour;

enum class ResultStatus : uint8_t { kGood, kFail, kError, kAbort, kWarn, kTestNa };
inline constexpr size_t kResultStatusCount = 6;

// "GOOD", "FAIL", "ERROR", "ABORT", "WARN", "TEST_NA".
std::string_view ResultStatusName(ResultStatus status);
// The status named exactly (upper case) by `name`, or nullopt.
std::optional<ResultStatus> ParseResultStatus(std::string_view name);

struct StatusCounts {
  std::array<uint64_t, kResultStatusCount> by_status{};

  uint64_t& operator[](ResultStatus s) { return by_status[static_cast<size_t>(s)]; }
  uint64_t operator[](ResultStatus s) const { return by_status[static_cast<size_t>(s)]; }
  uint64_t total() const;
  // GOOD / (total - TEST_NA); nullopt when there is nothing but TEST_NA.
  std::optional<double> pass_rate() const;
  bool operator==(const StatusCounts&) const = default;
};

struct ResultRecord {
  uint64_t id = 0;  // assigned by the index, increasing; kept by a reparse (see ReplaceEntry)
  uint64_t job_id = 0;
  uint64_t entry_id = 0;
  std::string hostname;
  std::vector<std::string> labels;  // the host's labels when the result was indexed (sorted)
  std::string test;
  std::string status;  // GOOD FAIL ERROR ABORT WARN TEST_NA
  std::string reason;
  int64_t start_us = 0, end_us = 0, duration_us = 0;  // start_us is the result's time
  std::map<std::string, std::string> keyvals;
  std::map<std::string, double> perf;
  std::string file;  // source file relative to the entry's results dir
  std::string link;  // "/results/<job>-<owner>/<host>/<file>" set by the caller
  bool operator==(const ResultRecord&) const = default;
};

// What ReplaceEntry checks before writing anything: test 1..kMaxTestNameBytes, hostname
// 1..kMaxResultHostnameBytes, labels 1..kMaxResultLabelBytes each and sorted without
// duplicates, none of these holding a NUL byte; a known status; start_us >= 0.
// InvalidArgument naming the field otherwise.
Status ValidateResultRecord(const ResultRecord& record);

// The results of one host queue entry, as one parse of its files produced them.
struct EntryResults {
  uint64_t job_id = 0;
  uint64_t entry_id = 0;
  std::vector<ResultRecord> records;  // id, job_id and entry_id are set by the index
};

struct ResultFilter {
  std::optional<uint64_t> job_id{};
  std::string host{};    // "" = any; exact names otherwise
  std::string label{};   // results whose host carried this label when indexed
  std::string test{};
  std::string status{};  // "" or one of the six statuses
  int64_t since_us = 0;  // start_us in [since_us, until_us); until_us 0 = no upper bound
  int64_t until_us = 0;
  uint32_t limit = kDefaultQueryLimit;  // 1..kMaxQueryLimit; 0 means the default
  std::string cursor{};                   // QueryPage::next_cursor of the previous page
};

struct QueryPage {
  std::vector<ResultRecord> records;  // newest start first (ties: higher id first)
  // Non-empty when there may be more: pass it back as ResultFilter::cursor. A page may hold
  // fewer than `limit` records (even none) with a cursor when the scan budget ran out.
  std::string next_cursor;
  uint64_t scanned = 0;  // index entries examined, for tests and the bench
};

enum class SummaryGroup { kHost, kLabel };

// Summary windows are whole UTC hours: [since_us, until_us) is widened to the hours it touches.
struct SummaryFilter {
  SummaryGroup group_by = SummaryGroup::kHost;
  std::string test{};         // exact test name, or
  std::string test_prefix{};  // every test starting with this (ignored when test is set)
  std::string host{};
  std::string label{};
  int64_t since_us = 0;
  int64_t until_us = 0;  // 0 = no upper bound
};

struct SummaryRow {
  std::string test;
  std::string group;  // the hostname or the label
  uint64_t total = 0;
  StatusCounts counts;
  std::optional<double> pass_rate;  // counts.pass_rate()
  int64_t first_us = 0;             // the earliest and latest start_us counted
  int64_t last_us = 0;
  bool operator==(const SummaryRow&) const = default;
};

struct SeriesFilter {
  std::string test{};  // required
  std::string key{};   // a perf key, or a keyval whose value is a number
  std::string host{};
  std::string label{};
  int64_t since_us = 0;
  int64_t until_us = 0;  // 0 = no upper bound
  uint32_t limit = 1000;  // the newest `limit` points of the window (1..100,000)
};

struct SeriesPoint {
  int64_t time_us = 0;  // start_us
  double value = 0;
  uint64_t job_id = 0;
  std::string hostname;
  std::string link;
  bool operator==(const SeriesPoint&) const = default;
};

struct ResultsIndexOptions {
  // The map starts at initial_map_bytes and doubles when full, up to max_map_bytes.
  uint64_t initial_map_bytes = 256ull << 20;
  uint64_t max_map_bytes = 64ull << 30;
  // The most index entries one Query examines before returning a (partial) page with a cursor.
  uint64_t query_scan_budget = 20'000;
  // The most index entries one KeyvalSeries examines (records without the key are skipped).
  uint64_t series_scan_budget = 200'000;
  // false commits without fsync (MDB_NOSYNC): a machine crash may then lose the last batches,
  // which a reparse restores. Only for rebuilding from the files; see docs/decisions.md.
  bool sync_commits = true;
  // For inspection (`labmesh-coordinator --check`), also beside a live coordinator: opens an
  // existing index with MDB_RDONLY and never writes (every write fails with
  // FailedPrecondition). A missing index is NotFound.
  bool read_only = false;
};

// What the index holds for one entry: its record ids and its counts (CountsForEntry).
struct IndexedEntry {
  uint64_t job_id = 0;
  uint64_t entry_id = 0;
  std::vector<uint64_t> record_ids;
  StatusCounts counts;
};

class ResultsIndex {
 public:
  // Opens (creating it and `dir` when missing) the index environment in `dir`. An index with a
  // newer schema version is refused with FailedPrecondition.
  static Result<std::unique_ptr<ResultsIndex>> Open(const std::string& dir,
                                                    const ResultsIndexOptions& options = {});
  virtual ~ResultsIndex() = default;

  virtual uint64_t map_size_bytes() const = 0;
  // The part of the map in use (monitoring: docs/monitoring.md). Any thread.
  virtual uint64_t used_bytes() const = 0;

  // In one write transaction, removes every record of the entry (their index keys and counts)
  // and inserts `records`. Ids are stable: the new records take the entry's old ids in order
  // (smallest first), and only extra records get new ones, so reparsing unchanged files gives
  // records identical to the first parse, ids included. Any invalid record fails the call with
  // InvalidArgument and nothing is written. An entry replaced with no records stays known
  // (CountsForEntry gives zeros, not nullopt).
  virtual Status ReplaceEntry(uint64_t job_id, uint64_t entry_id,
                              std::vector<ResultRecord> records) = 0;
  // ReplaceEntry for several entries in one write transaction (one fsync): the ingest path.
  // Sets id, job_id and entry_id of every record (the caller keeps the records). An entry
  // listed twice is replaced by its last listing; the earlier one is ignored.
  virtual Status ReplaceEntries(std::span<EntryResults> entries) = 0;
  // Removes every record and count of the job. Deleting an unknown job is OK.
  virtual Status DeleteJob(uint64_t job_id) = 0;
  // DeleteJob for several jobs in one write transaction (one fsync: the retention sweeper's
  // path). Returns how many records went, per job in the order given.
  virtual Result<std::vector<uint64_t>> DeleteJobs(std::span<const uint64_t> job_ids) = 0;

  // One record by id; nullopt when absent.
  virtual Result<std::optional<ResultRecord>> Get(uint64_t id) const = 0;

  // Results matching every given filter, newest first, `limit` at a time. One index is
  // walked, chosen in this order: job (by_job), test (by_test), host (by_host), label (by_host
  // of every host that carried it, merged), otherwise by_time; the other filters are checked
  // on the index values. Test and host together first try the host's range (contiguous) for a
  // few thousand entries. At most query_scan_budget entries are examined per call.
  virtual Result<QueryPage> Query(const ResultFilter& filter) const = 0;

  // Counts and pass rates per (test, host) or (test, label), sorted by test then group. Reads
  // only the hour buckets of the window, from: sum_test for an exact test; else sum_host for
  // a host; else sum_test for a test prefix; else sum_host for the label's hosts, or for every
  // host (unfiltered: cost grows with the buckets in the window). Results without labels are
  // in no row of a per-label summary.
  virtual Result<std::vector<SummaryRow>> Summary(const SummaryFilter& filter) const = 0;

  // One perf (or numeric keyval) value of one test over time, oldest first.
  virtual Result<std::vector<SeriesPoint>> KeyvalSeries(const SeriesFilter& filter) const = 0;

  // The counts of one entry; nullopt when it was never indexed.
  virtual Result<std::optional<StatusCounts>> CountsForEntry(uint64_t job_id,
                                                             uint64_t entry_id) const = 0;
  // The counts of every indexed entry of the job (zeros when none).
  virtual Result<StatusCounts> CountsForJob(uint64_t job_id) const = 0;
  // Every indexed entry, by job then entry id, from one read transaction (for the store
  // check: the cost grows with the entries ever indexed).
  virtual Result<std::vector<IndexedEntry>> ListEntries() const = 0;
};

}  // namespace labmesh::store
