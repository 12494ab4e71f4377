#pragma once
// The LMDB implementation of ResultsIndex, split by concern: results_index.cpp (open and the
// write path), results_query.cpp (Query, KeyvalSeries), results_summary.cpp (Summary).

#include <map>
#include <mutex>
#include <set>
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

// The hosts that carried a label, each with the label sets (ids) it carried it in.
using LabelCarriers = std::unordered_map<std::string, std::vector<uint32_t>>;
Result<LabelCarriers> ReadLabelCarriers(const Txn& txn, const IndexTables& tables,
                                        std::string_view label);
bool Carries(const LabelCarriers& carriers, std::string_view host, uint32_t label_set);

// A decoded record whose status is one of the six; Corruption otherwise.
Result<ResultRecord> ReadRecord(const Txn& txn, const IndexTables& tables, uint64_t id);

// Per-bucket change collected during one write transaction.
struct BucketDelta {
  std::array<int64_t, kResultStatusCount> counts{};
  int64_t added_first = INT64_MAX, added_last = INT64_MIN;
  int64_t removed_first = INT64_MAX, removed_last = INT64_MIN;
};

// What one write transaction has done so far; thrown away when it aborts, adopted by the
// index after it commits.
struct WriteState {
  uint64_t next_id = 0;
  uint32_t next_label_set = 0;
  std::unordered_map<std::string, uint32_t> label_set_ids;  // hash -> id, found or created
  std::vector<std::pair<std::string, std::string>> by_job, by_time, by_test, by_host;
  std::map<BucketId, BucketDelta> buckets;
  std::set<std::pair<std::string, uint32_t>> carriers;  // (host, label set) seen
};

class LmdbResultsIndex final : public ResultsIndex {
 public:
  LmdbResultsIndex(std::unique_ptr<Env> env, const ResultsIndexOptions& options)
      : env_(std::move(env), options.max_map_bytes), options_(options) {}
  // Creates or opens the tables (refusing a newer schema) and reads the writer's counters.
  // Called once by Open, before the index is shared.
  Status Init();

  uint64_t map_size_bytes() const override { return env_.map_size(); }
  Status ReplaceEntry(uint64_t job_id, uint64_t entry_id,
                      std::vector<ResultRecord> records) override;
  Status ReplaceEntries(std::vector<EntryResults> entries) override;
  Status DeleteJob(uint64_t job_id) override;
  Result<std::optional<ResultRecord>> Get(uint64_t id) const override;
  Result<QueryPage> Query(const ResultFilter& filter) const override;
  Result<std::vector<SummaryRow>> Summary(const SummaryFilter& filter) const override;
  Result<std::vector<SeriesPoint>> KeyvalSeries(const SeriesFilter& filter) const override;
  Result<std::optional<StatusCounts>> CountsForEntry(uint64_t job_id,
                                                     uint64_t entry_id) const override;
  Result<StatusCounts> CountsForJob(uint64_t job_id) const override;

 private:
  // Runs `fill` (which calls ReplaceInTxn for each entry) and Finish in one write transaction
  // and adopts the WriteState once it committed.
  Status WriteWith(const std::function<Status(WriteTxn&, WriteState&)>& fill);
  // Removes the entry's records; then, unless `records` is null (forget the entry), inserts
  // them under the old ids first and new ids after.
  Status ReplaceInTxn(WriteTxn& txn, WriteState& state, uint64_t job_id, uint64_t entry_id,
                      std::vector<ResultRecord>* records) const;
  // Writes the collected index keys, applies the bucket deltas, records new label carriers
  // and the next id.
  Status Finish(WriteTxn& txn, WriteState& state) const;
  Status ApplyBucket(WriteTxn& txn, const BucketId& id, const BucketDelta& delta,
                     std::vector<std::pair<std::string, std::string>>* host_puts,
                     std::vector<std::string>* host_deletes) const;
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
