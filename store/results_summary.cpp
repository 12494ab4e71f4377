// Pass-rate summaries from the hour buckets (sum_test, sum_host); no record is read.
//
// Which buckets are read: an exact test -> that test's buckets in sum_test; else a host ->
// that host's in sum_host; else a test prefix -> those tests' in sum_test; else a label -> the
// sum_host buckets of every host that carried it; else every host's. sum_test is walked hour
// by hour, newest first (one or two seeks per hour holding any bucket); sum_host is read host by host from
// the first hour of the window, jumping to the next host after the last, so only buckets
// inside the window are decoded. Results without labels appear in no row of a per-label
// summary.

#include <algorithm>
#include <unordered_map>

#include "results_index_impl.hpp"

namespace labmesh::store::results {
namespace {

struct HourRange {
  uint32_t first = 0;
  uint32_t last = 0;
};

// Visits the sum_test buckets in `hours` of the test `name` (exact) or of every test starting
// with it (!exact): one partition walk over the hours.
template <typename Visit>
Status ScanTestBuckets(const Txn& txn, const Dbi& dbi, const std::string& name, bool exact,
                       HourRange hours, Visit&& visit) {
  Result<Cursor> cursor = txn.OpenCursor(dbi);
  if (!cursor.ok()) return cursor.status();
  PartitionWalk walk(std::move(cursor).value());
  BucketView bucket;
  BucketCounts counts;
  LABMESH_RETURN_IF_ERROR(walk.Start(exact ? NamePrefix(name) : name, hours.last, hours.first));
  while (walk.valid()) {
    if (!ParseSumTestKey(walk.key(), &bucket)) return Corrupt("sum_test key");
    if (!DecodeBucket(walk.value(), bucket.hour, &counts)) {
      return Corrupt("sum_test value of " + std::string(bucket.test) + " on " +
                     std::string(bucket.host));
    }
    LABMESH_RETURN_IF_ERROR(visit(bucket, counts));
    LABMESH_RETURN_IF_ERROR(walk.Next());
  }
  return Status::Ok();
}

std::string HourStartKey(std::string_view host, uint32_t hour) {
  std::string key = NamePrefix(host);
  PutU32(key, hour);
  return key;
}

// Visits the sum_host buckets in `hours` of `host`, or of every host when it is empty, whose
// label set is in `label_sets` (null: any). Each host's buckets are in hour order: seek to the
// first hour, jump to the next host after the last.
template <typename Visit>
Status ScanHostBuckets(const Txn& txn, const Dbi& dbi, const std::string& host, HourRange hours,
                       const std::vector<uint32_t>* label_sets, Visit&& visit) {
  Result<Cursor> opened = txn.OpenCursor(dbi);
  if (!opened.ok()) return opened.status();
  Cursor& cursor = *opened;
  const std::string range = host.empty() ? "" : NamePrefix(host);
  LABMESH_RETURN_IF_ERROR(cursor.Seek(host.empty() ? "" : HourStartKey(host, hours.first)));
  BucketView bucket;
  BucketCounts counts;
  while (cursor.valid() && cursor.key().starts_with(range)) {
    if (!ParseSumHostKey(cursor.key(), &bucket)) return Corrupt("sum_host key");
    if (bucket.hour < hours.first) {
      LABMESH_RETURN_IF_ERROR(cursor.Seek(HourStartKey(bucket.host, hours.first)));
      continue;
    }
    if (bucket.hour > hours.last) {
      LABMESH_RETURN_IF_ERROR(cursor.Seek(PrefixEnd(NamePrefix(bucket.host))));
      continue;
    }
    if (label_sets == nullptr || std::find(label_sets->begin(), label_sets->end(),
                                           bucket.label_set) != label_sets->end()) {
      if (!DecodeBucket(cursor.value(), bucket.hour, &counts)) {
        return Corrupt("sum_host value of " + std::string(bucket.test) + " on " +
                       std::string(bucket.host));
      }
      LABMESH_RETURN_IF_ERROR(visit(bucket, counts));
    }
    LABMESH_RETURN_IF_ERROR(cursor.Next());
  }
  return Status::Ok();
}

// Label sets by id, each read once per summary.
class LabelSetReader {
 public:
  LabelSetReader(const Txn& txn, const Dbi& dbi) : txn_(txn), dbi_(dbi) {}

  Result<const std::vector<std::string>*> Get(uint32_t id) {
    auto it = cache_.find(id);
    if (it != cache_.end()) return &it->second;
    Result<std::optional<std::string_view>> bytes = txn_.Get(dbi_, LabelSetKey(id));
    if (!bytes.ok()) return bytes.status();
    if (!bytes->has_value()) return Corrupt("label set " + std::to_string(id) + " is missing");
    Result<std::vector<std::string>> labels =
        DecodeValue<std::vector<std::string>>(**bytes, "label_sets");
    if (!labels.ok()) return labels.status();
    return &cache_.emplace(id, std::move(labels).value()).first->second;
  }

 private:
  const Txn& txn_;
  const Dbi& dbi_;
  std::unordered_map<uint32_t, std::vector<std::string>> cache_;
};

// Rows keyed by (test, group) views: the names point into LMDB's map (valid for the read
// transaction), the label set cache, or the filter, so adding a bucket allocates nothing.
class Rows {
 public:
  void Add(std::string_view test, std::string_view group, const BucketCounts& bucket) {
    auto [it, inserted] = rows_.try_emplace(Key{test, group});
    Aggregate& row = it->second;
    if (inserted) {
      row.first_us = bucket.first_us;
      row.last_us = bucket.last_us;
    }
    for (size_t i = 0; i < kResultStatusCount; ++i) {
      row.counts.by_status[i] += bucket.counts.by_status[i];
    }
    row.first_us = std::min(row.first_us, bucket.first_us);
    row.last_us = std::max(row.last_us, bucket.last_us);
  }

  std::vector<SummaryRow> Take() {
    std::vector<const std::pair<const Key, Aggregate>*> order;
    order.reserve(rows_.size());
    for (const auto& row : rows_) order.push_back(&row);
    std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
    std::vector<SummaryRow> rows;
    rows.reserve(order.size());
    for (const auto* entry : order) {
      const Aggregate& agg = entry->second;
      rows.push_back(SummaryRow{std::string(entry->first.first), std::string(entry->first.second),
                                agg.counts.total(), agg.counts, agg.counts.pass_rate(),
                                agg.first_us, agg.last_us});
    }
    return rows;
  }

 private:
  using Key = std::pair<std::string_view, std::string_view>;
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<std::string_view>{}(k.first) * 1000003u ^
             std::hash<std::string_view>{}(k.second);
    }
  };
  struct Aggregate {
    StatusCounts counts;
    int64_t first_us = 0;
    int64_t last_us = 0;
  };
  std::unordered_map<Key, Aggregate, KeyHash> rows_;
};

}  // namespace

Result<std::vector<SummaryRow>> LmdbResultsIndex::Summary(const SummaryFilter& f) const {
  if (f.since_us < 0 || f.until_us < 0) {
    return Status::InvalidArgument("since_us and until_us must not be negative");
  }
  for (const std::string* name : {&f.test, &f.test_prefix, &f.host, &f.label}) {
    if (name->find('\0') != std::string::npos) {
      return Status::InvalidArgument("summary filters must not hold NUL bytes");
    }
  }
  if (f.until_us > 0 && f.until_us <= f.since_us) return std::vector<SummaryRow>{};
  const HourRange hours{f.since_us > 0 ? HourOf(f.since_us) : 0,
                        f.until_us > 0 ? HourOf(f.until_us - 1) : UINT32_MAX};

  return env_.Read<std::vector<SummaryRow>>([&](const Txn& txn) -> Result<std::vector<SummaryRow>> {
    std::optional<LabelCarriers> carriers;
    if (!f.label.empty()) {
      Result<LabelCarriers> read = ReadLabelCarriers(txn, tables_, f.label);
      if (!read.ok()) return read.status();
      carriers = std::move(read).value();
      if (carriers->empty()) return std::vector<SummaryRow>{};
      if (!f.host.empty() && carriers->find(f.host) == carriers->end()) {
        return std::vector<SummaryRow>{};
      }
    }
    LabelSetReader label_sets(txn, tables_.label_sets);
    Rows rows;
    bool sets_checked = false;  // true while a host scan already filters the label sets
    auto visit = [&](const BucketView& b, const BucketCounts& counts) -> Status {
      if ((!f.host.empty() && b.host != f.host) || (!f.test.empty() && b.test != f.test) ||
          (f.test.empty() && !b.test.starts_with(f.test_prefix)) ||
          (carriers && !sets_checked && !Carries(*carriers, b.host, b.label_set))) {
        return Status::Ok();
      }
      if (f.group_by == SummaryGroup::kHost) {
        rows.Add(b.test, b.host, counts);
      } else if (!f.label.empty()) {
        rows.Add(b.test, f.label, counts);
      } else {
        Result<const std::vector<std::string>*> labels = label_sets.Get(b.label_set);
        if (!labels.ok()) return labels.status();
        for (const std::string& label : **labels) rows.Add(b.test, label, counts);
      }
      return Status::Ok();
    };
    if (!f.test.empty()) {
      LABMESH_RETURN_IF_ERROR(ScanTestBuckets(txn, tables_.sum_test, f.test, true, hours, visit));
    } else if (!f.host.empty()) {
      const std::vector<uint32_t>* sets = carriers ? &carriers->find(f.host)->second : nullptr;
      sets_checked = true;
      LABMESH_RETURN_IF_ERROR(ScanHostBuckets(txn, tables_.sum_host, f.host, hours, sets, visit));
    } else if (!f.test_prefix.empty()) {
      LABMESH_RETURN_IF_ERROR(
          ScanTestBuckets(txn, tables_.sum_test, f.test_prefix, false, hours, visit));
    } else if (carriers) {
      sets_checked = true;
      for (const auto& [host, sets] : *carriers) {
        LABMESH_RETURN_IF_ERROR(ScanHostBuckets(txn, tables_.sum_host, host, hours, &sets, visit));
      }
    } else {
      LABMESH_RETURN_IF_ERROR(ScanHostBuckets(txn, tables_.sum_host, "", hours, nullptr, visit));
    }
    return rows.Take();
  });
}

}  // namespace labmesh::store::results
