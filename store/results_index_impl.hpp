#pragma once
// The LMDB implementation of ResultsIndex, split by concern: results_index.cpp (open and the
// write path), results_query.cpp (Query, KeyvalSeries), results_summary.cpp (Summary).

#include <mutex>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "labmesh/store/results_index.hpp"
#include "lmdb_env.hpp"
#include "results_keys.hpp"
#include "table.hpp"

namespace labmesh::store::results {

struct IndexTables {
  Dbi meta;
  Table<ResultRecord> records;
  Table<EntryIndex> entries;
  Dbi by_time, by_job, by_test, by_host;
  Dbi sum_test, sum_host;
  Dbi label_sets, label_set_ids, label_hosts;
};

inline Status Corrupt(const std::string& what) {
  return Status::Corruption("results index: " + what);
}

// Hashes std::string and std::string_view alike, so maps keyed by std::string can be
// searched with a view without building a string.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// The hosts that carried a label, each with the label sets (ids) it carried it in.
using LabelCarriers =
    std::unordered_map<std::string, std::vector<uint32_t>, StringHash, std::equal_to<>>;
Result<LabelCarriers> ReadLabelCarriers(const Txn& txn, const IndexTables& tables,
                                        std::string_view label);
bool Carries(const LabelCarriers& carriers, std::string_view host, uint32_t label_set);

// Walks a table whose keys are a u32 partition followed by a name part (by_test, sum_test)
// backwards: partition by partition from `high` down to `low`, only the keys whose name part
// starts with `range` (e.g. "test\0", or a test prefix), in descending key order. Everything
// else is skipped with seeks: one or two per partition that holds any key.
class PartitionWalk {
 public:
  explicit PartitionWalk(Cursor cursor) : cursor_(std::move(cursor)) {}

  // Positions at the last in-range key of partition `high` below range + `below` (below ""
  // = the range's last key), or failing that of the partitions under it.
  Status Start(std::string range, uint32_t high, uint32_t low, std::string_view below = {});
  // The previous in-range key.
  Status Next();
  bool valid() const { return valid_; }
  std::string_view key() const { return cursor_.key(); }
  std::string_view value() const { return cursor_.value(); }

 private:
  Status Settle();

  Cursor cursor_;
  std::string range_;
  uint32_t low_ = 0;
  bool valid_ = false;
};

// Positions `cursor` at the last key below `key` (invalid when there is none).
Status SeekBefore(Cursor& cursor, std::string_view key);

// A decoded record whose status is one of the six; Corruption otherwise.
Result<ResultRecord> ReadRecord(const Txn& txn, const IndexTables& tables, uint64_t id);

// Per-bucket change collected during one write transaction.
struct BucketDelta {
  std::array<int64_t, kResultStatusCount> counts{};
  int64_t added_first = INT64_MAX, added_last = INT64_MIN;
  int64_t removed_first = INT64_MAX, removed_last = INT64_MIN;
};

struct PendingBucket {
  BucketId id;
  BucketDelta delta;
};

// What one write transaction has done so far; thrown away when it aborts, adopted by the
// index after it commits. Index keys are written as they come: a transaction dirties the same
// pages in any order, so sorting them first would only cost time.
struct WriteState {
  uint64_t next_id = 0;
  uint32_t next_label_set = 0;
  std::unordered_map<std::string, uint32_t> label_set_ids;  // JoinLabels -> id
  std::unordered_map<std::string, PendingBucket> buckets;   // touched by a removal, by SumTestKey
  std::set<std::pair<std::string, uint32_t>> carriers;      // (host, label set) seen
  msgpack::sbuffer buffer{1024};                            // reused for every record
  std::string key, value;                                   // reused for every index key
};

class LmdbResultsIndex final : public ResultsIndex {
 public:
  LmdbResultsIndex(std::unique_ptr<Env> env, const ResultsIndexOptions& options)
      : env_(std::move(env), options.max_map_bytes), options_(options) {}
  // Creates or opens the tables (refusing a newer schema) and reads the writer's counters.
  // Called once by Open, before the index is shared.
  Status Init();
  // Init for a read-only index: opens the existing tables in a read transaction.
  Status InitReadOnly();

  uint64_t map_size_bytes() const override { return env_.map_size(); }
  uint64_t used_bytes() const override { return env_.used_bytes(); }
  Status ReplaceEntry(uint64_t job_id, uint64_t entry_id,
                      std::vector<ResultRecord> records) override;
  Status ReplaceEntries(std::span<EntryResults> entries) override;
  Status DeleteJob(uint64_t job_id) override;
  Result<std::vector<uint64_t>> DeleteJobs(std::span<const uint64_t> job_ids) override;
  Result<std::optional<ResultRecord>> Get(uint64_t id) const override;
  Result<QueryPage> Query(const ResultFilter& filter) const override;
  Result<std::vector<SummaryRow>> Summary(const SummaryFilter& filter) const override;
  Result<std::vector<SeriesPoint>> KeyvalSeries(const SeriesFilter& filter) const override;
  Result<std::optional<StatusCounts>> CountsForEntry(uint64_t job_id,
                                                     uint64_t entry_id) const override;
  Result<StatusCounts> CountsForJob(uint64_t job_id) const override;
  Result<std::vector<IndexedEntry>> ListEntries() const override;

 private:
  // Runs `fill` (which calls ReplaceInTxn for each entry) and Finish in one write transaction
  // and adopts the WriteState once it committed.
  Status WriteWith(const std::function<Status(WriteTxn&, WriteState&)>& fill);
  // Removes the entry's records; then, unless `records` is null (forget the entry), inserts
  // them under the old ids first and new ids after.
  // Removes every indexed entry of `job_id` inside `txn`; adds the records removed to *records.
  Status DeleteJobInTxn(WriteTxn& txn, WriteState& state, uint64_t job_id, uint64_t* records);
  Status ReplaceInTxn(WriteTxn& txn, WriteState& state, uint64_t job_id, uint64_t entry_id,
                      std::vector<ResultRecord>* records) const;
  // Applies the bucket changes, records new label carriers and the next id.
  Status Finish(WriteTxn& txn, WriteState& state) const;
  // Counts one new result in its bucket (directly, or in the pending change when the bucket
  // lost results earlier in this transaction).
  Status AddToBucket(WriteTxn& txn, WriteState& state, const ResultRecord& record,
                     uint32_t label_set, ResultStatus status) const;
  // Settles a bucket that lost results in this transaction.
  Status ApplyBucket(WriteTxn& txn, const std::string& test_key,
                     const PendingBucket& pending) const;
  // The first and last start time of the bucket's results, from by_test.
  Status RecomputeBounds(const Txn& txn, const BucketId& id, BucketCounts* bucket) const;
  Result<uint32_t> InternLabelSet(WriteTxn& txn, WriteState& state,
                                  const std::vector<std::string>& labels) const;

  SharedEnv env_;
  IndexTables tables_;
  ResultsIndexOptions options_;
  // Writer state, guarded by write_mu_ (held for a whole write, commit included).
  std::mutex write_mu_;
  uint64_t next_id_ = 1;
  uint32_t next_label_set_ = 1;
  std::unordered_map<std::string, uint32_t> label_set_ids_;
  std::set<std::pair<std::string, uint32_t>> known_carriers_;
};

}  // namespace labmesh::store::results
