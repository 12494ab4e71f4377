// Pass-rate summaries from the day buckets (sum_test, sum_host); no record is read.
//
// Which buckets are read: an exact test -> that test's buckets in sum_test; else a host ->
// that host's in sum_host; else a test prefix -> those tests' in sum_test; else a label -> the
// sum_host buckets of every host that carried it; else every host's. Within each test or host
// the scan seeks straight to the first day of the window and jumps to the next name after the
// last day, so only buckets inside the window are decoded. Results without labels appear in
// no row of a per-label summary.

#include <algorithm>
#include <unordered_map>

#include "results_index_impl.hpp"

namespace labmesh::store::results {
namespace {

Status Corrupt(const std::string& what) { return Status::Corruption("results index: " + what); }

struct DayRange {
  uint32_t first = 0;
  uint32_t last = 0;
};

std::string DayStart(std::string_view name, uint32_t day) {
  std::string key = NamePrefix(name);
  PutU32(key, day);
  return key;
}

// Visits the buckets of `dbi` (sum_test when test_first, else sum_host) whose first name is
// `name` (exact) or starts with it (!exact), with a day in `days`.
template <typename Visit>
Status ScanBuckets(const Txn& txn, const Dbi& dbi, bool test_first, const std::string& name,
                   bool exact, DayRange days, Visit&& visit) {
  Result<Cursor> opened = txn.OpenCursor(dbi);
  if (!opened.ok()) return opened.status();
  Cursor& cursor = *opened;
  const std::string range = exact ? NamePrefix(name) : name;
  LABMESH_RETURN_IF_ERROR(cursor.Seek(exact ? DayStart(name, days.first) : name));
  BucketId bucket;
  BucketCounts counts;
  while (cursor.valid() && cursor.key().starts_with(range)) {
    bool parsed = test_first ? ParseSumTestKey(cursor.key(), &bucket)
                             : ParseSumHostKey(cursor.key(), &bucket);
    if (!parsed) return Corrupt(dbi.name + " key");
    const std::string& first_name = test_first ? bucket.test : bucket.host;
    if (bucket.day < days.first) {
      LABMESH_RETURN_IF_ERROR(cursor.Seek(DayStart(first_name, days.first)));
      continue;
    }
    if (bucket.day > days.last) {
      std::string next = PrefixEnd(NamePrefix(first_name));
      LABMESH_RETURN_IF_ERROR(cursor.Seek(next));
      continue;
    }
    if (!DecodeBucket(cursor.value(), bucket.day, &counts)) {
      return Corrupt(dbi.name + " value of " + bucket.test + " on " + bucket.host);
    }
    LABMESH_RETURN_IF_ERROR(visit(bucket, counts));
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

class Rows {
 public:
  void Add(const std::string& test, const std::string& group, const BucketCounts& bucket) {
    key_.assign(test);
    key_.push_back('\0');
    key_.append(group);
    auto [it, inserted] = rows_.try_emplace(key_);
    SummaryRow& row = it->second;
    if (inserted) {
      row.test = test;
      row.group = group;
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
    std::vector<SummaryRow> rows;
    rows.reserve(rows_.size());
    for (auto& [key, row] : rows_) {
      row.total = row.counts.total();
      row.pass_rate = row.counts.pass_rate();
      rows.push_back(std::move(row));
    }
    std::sort(rows.begin(), rows.end(), [](const SummaryRow& a, const SummaryRow& b) {
      return a.test != b.test ? a.test < b.test : a.group < b.group;
    });
    return rows;
  }

 private:
  std::string key_;
  std::unordered_map<std::string, SummaryRow> rows_;
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
  const DayRange days{f.since_us > 0 ? DayOf(f.since_us) : 0,
                      f.until_us > 0 ? DayOf(f.until_us - 1) : UINT32_MAX};

  return env_.Read<std::vector<SummaryRow>>([&](const Txn& txn) -> Result<std::vector<SummaryRow>> {
    std::optional<LabelCarriers> carriers;
    if (!f.label.empty()) {
      Result<LabelCarriers> read = ReadLabelCarriers(txn, tables_, f.label);
      if (!read.ok()) return read.status();
      carriers = std::move(read).value();
      if (carriers->empty()) return std::vector<SummaryRow>{};
      if (!f.host.empty() && !carriers->contains(f.host)) return std::vector<SummaryRow>{};
    }
    LabelSetReader label_sets(txn, tables_.label_sets);
    Rows rows;
    auto visit = [&](const BucketId& b, const BucketCounts& counts) -> Status {
      if ((!f.host.empty() && b.host != f.host) || (!f.test.empty() && b.test != f.test) ||
          (f.test.empty() && !b.test.starts_with(f.test_prefix)) ||
          (carriers && !Carries(*carriers, b.host, b.label_set))) {
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
      LABMESH_RETURN_IF_ERROR(ScanBuckets(txn, tables_.sum_test, true, f.test, true, days, visit));
    } else if (!f.host.empty()) {
      LABMESH_RETURN_IF_ERROR(ScanBuckets(txn, tables_.sum_host, false, f.host, true, days, visit));
    } else if (!f.test_prefix.empty()) {
      LABMESH_RETURN_IF_ERROR(
          ScanBuckets(txn, tables_.sum_test, true, f.test_prefix, false, days, visit));
    } else if (carriers) {
      for (const auto& [host, sets] : *carriers) {
        LABMESH_RETURN_IF_ERROR(ScanBuckets(txn, tables_.sum_host, false, host, true, days, visit));
      }
    } else {
      LABMESH_RETURN_IF_ERROR(ScanBuckets(txn, tables_.sum_host, false, "", false, days, visit));
    }
    return rows.Take();
  });
}

}  // namespace labmesh::store::results
