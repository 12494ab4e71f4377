// ResultsIndex on LMDB: opening, the write path (replace an entry's records, delete a job)
// and the per-entry counts. Queries are in results_query.cpp and results_summary.cpp.
//
// A write puts each result's record and index keys as it goes and counts it in its bucket at
// once; only buckets that lost results in the same transaction (a reparse, a delete) wait in
// WriteState until every change is in, so their first/last times can be settled. Keys are
// built in reused buffers; a transaction dirties the same pages in any order, so nothing is
// sorted first. Many entries per transaction (ReplaceEntries) is what makes ingest cheap: one
// fsync, and each hot page written once.

#include <algorithm>
#include <filesystem>
#include <map>

#include "results_index_impl.hpp"
#include "schema.hpp"
#include "table.hpp"

namespace labmesh::store {
namespace results {
namespace {

constexpr unsigned kIndexTables = 16;
constexpr char kNextIdKey[] = "next_id";

void AddCounts(StatusCounts& into, const std::vector<uint64_t>& counts) {
  for (size_t i = 0; i < kResultStatusCount && i < counts.size(); ++i) {
    into.by_status[i] += counts[i];
  }
}

// SumTestKey of the bucket `record` falls in, built into `key`.
void BucketKey(std::string& key, const ResultRecord& record, uint32_t label_set) {
  key.clear();
  PutU32(key, HourOf(record.start_us));
  key.append(record.test);
  key.push_back('\0');
  key.append(record.hostname);
  key.push_back('\0');
  PutU32(key, label_set);
}

// The pending change of the bucket `record` falls in.
BucketDelta& DeltaOf(WriteState& state, const ResultRecord& record, uint32_t label_set) {
  const uint32_t hour = HourOf(record.start_us);
  std::string& key = state.key;
  BucketKey(key, record, label_set);
  auto it = state.buckets.find(key);
  if (it == state.buckets.end()) {
    it = state.buckets.emplace(key, PendingBucket{}).first;
    it->second.id = BucketId{hour, record.test, record.hostname, label_set};
  }
  return it->second.delta;
}

// The index's tables but meta, opened by `open(name, &dbi)`: a create-if-missing one for the
// writer, a must-exist one for a read-only check.
template <typename Open>
Status OpenIndexTables(IndexTables& tables, const Open& open) {
  Dbi records, entries;
  LABMESH_RETURN_IF_ERROR(open("records", &records));
  LABMESH_RETURN_IF_ERROR(open("entries", &entries));
  tables.records = Table<ResultRecord>(records);
  tables.entries = Table<EntryIndex>(entries);
  const std::initializer_list<std::pair<const char*, Dbi*>> others = {
      {"by_time", &tables.by_time},       {"by_job", &tables.by_job},
      {"by_test", &tables.by_test},       {"by_host", &tables.by_host},
      {"sum_test", &tables.sum_test},     {"sum_host", &tables.sum_host},
      {"label_sets", &tables.label_sets}, {"label_set_ids", &tables.label_set_ids},
      {"label_hosts", &tables.label_hosts}};
  for (auto [name, dbi] : others) LABMESH_RETURN_IF_ERROR(open(name, dbi));
  return Status::Ok();
}

Status SchemaNotNewer(uint32_t version) {
  if (version <= kResultsIndexSchemaVersion) return Status::Ok();
  return Status::FailedPrecondition("results index has schema version " +
                                    std::to_string(version) + ", newer than this labmesh (" +
                                    std::to_string(kResultsIndexSchemaVersion) + ")");
}

}  // namespace

Status LmdbResultsIndex::Init() {
  return env_.Write([&](WriteTxn& txn) -> Status {
    auto open = [&](const char* name, Dbi* dbi) -> Status {
      Result<Dbi> opened = txn.OpenDbi(name, /*create=*/true);
      if (!opened.ok()) return opened.status();
      *dbi = std::move(opened).value();
      return Status::Ok();
    };
    LABMESH_RETURN_IF_ERROR(open("meta", &tables_.meta));
    Result<uint32_t> version = ReadSchemaVersion(txn, tables_.meta);
    if (!version.ok()) return version.status();
    LABMESH_RETURN_IF_ERROR(SchemaNotNewer(*version));
    if (*version == 0) {
      LABMESH_RETURN_IF_ERROR(WriteSchemaVersion(txn, tables_.meta, kResultsIndexSchemaVersion));
    }
    LABMESH_RETURN_IF_ERROR(OpenIndexTables(tables_, open));

    next_id_ = 1;
    Result<std::optional<std::string_view>> next = txn.Get(tables_.meta, kNextIdKey);
    if (!next.ok()) return next.status();
    if (next->has_value()) {
      Result<uint64_t> decoded = DecodeValue<uint64_t>(**next, "meta[next_id]");
      if (!decoded.ok()) return decoded.status();
      next_id_ = std::max<uint64_t>(*decoded, 1);
    }
    next_label_set_ = 1;
    Result<std::optional<std::string>> last_set = txn.LastKey(tables_.label_sets);
    if (!last_set.ok()) return last_set.status();
    if (last_set->has_value()) {
      if ((*last_set)->size() != 4) return Corrupt("label_sets key is not a u32");
      next_label_set_ = GetU32(**last_set) + 1;
    }
    return Status::Ok();
  });
}

Status LmdbResultsIndex::InitReadOnly() {
  ReadTxn txn(env_.env());
  LABMESH_RETURN_IF_ERROR(txn.Begin());
  auto open = [&](const char* name, Dbi* dbi) -> Status {
    Result<Dbi> opened = txn.OpenDbi(name, /*create=*/false);
    if (!opened.ok()) return opened.status();
    *dbi = std::move(opened).value();
    return Status::Ok();
  };
  LABMESH_RETURN_IF_ERROR(open("meta", &tables_.meta));
  Result<uint32_t> version = ReadSchemaVersion(txn, tables_.meta);
  if (!version.ok()) return version.status();
  LABMESH_RETURN_IF_ERROR(SchemaNotNewer(*version));
  LABMESH_RETURN_IF_ERROR(OpenIndexTables(tables_, open));
  // Committing a read transaction keeps its table handles for later transactions.
  return txn.Commit();
}

Result<ResultRecord> ReadRecord(const Txn& txn, const IndexTables& tables, uint64_t id) {
  Result<std::optional<ResultRecord>> record = tables.records.Get(txn, RecordKey(id));
  if (!record.ok()) return record.status();
  if (!record->has_value()) return Corrupt("record " + std::to_string(id) + " is missing");
  if (!ParseResultStatus((*record)->status) || (*record)->id != id) {
    return Corrupt("record " + std::to_string(id) + " has an unknown status or wrong id");
  }
  return std::move(**record);
}

Result<uint32_t> LmdbResultsIndex::InternLabelSet(WriteTxn& txn, WriteState& state,
                                                  const std::vector<std::string>& labels) const {
  std::string joined = JoinLabels(labels);
  if (auto it = state.label_set_ids.find(joined); it != state.label_set_ids.end()) {
    return it->second;
  }
  if (auto it = label_set_ids_.find(joined); it != label_set_ids_.end()) return it->second;
  const std::string hash = LabelSetHash(joined);
  Result<std::optional<std::string_view>> found = txn.Get(tables_.label_set_ids, hash);
  if (!found.ok()) return found.status();
  uint32_t id = 0;
  if (found->has_value()) {
    if ((*found)->size() != 4) return Corrupt("label_set_ids[" + hash + "] is not a u32");
    id = GetU32(**found);
  } else {
    id = state.next_label_set++;
    Result<std::string> encoded = EncodeValue(labels);
    if (!encoded.ok()) return encoded.status();
    LABMESH_RETURN_IF_ERROR(txn.Put(tables_.label_sets, LabelSetKey(id), *encoded));
    std::string id_bytes;
    PutU32(id_bytes, id);
    LABMESH_RETURN_IF_ERROR(txn.Put(tables_.label_set_ids, hash, id_bytes));
  }
  state.label_set_ids.emplace(std::move(joined), id);
  return id;
}

Status LmdbResultsIndex::ReplaceInTxn(WriteTxn& txn, WriteState& state, uint64_t job_id,
                                      uint64_t entry_id,
                                      std::vector<ResultRecord>* records) const {
  const std::string entry_key = EntryKey(job_id, entry_id);
  Result<std::optional<EntryIndex>> old = tables_.entries.Get(txn, entry_key);
  if (!old.ok()) return old.status();
  std::vector<uint64_t> old_ids = old->has_value() ? (*old)->ids : std::vector<uint64_t>{};
  std::sort(old_ids.begin(), old_ids.end());
  const size_t reused = records == nullptr ? 0 : std::min(records->size(), old_ids.size());

  for (size_t i = 0; i < old_ids.size(); ++i) {
    Result<ResultRecord> record = ReadRecord(txn, tables_, old_ids[i]);
    if (!record.ok()) return record.status();
    Result<uint32_t> label_set = InternLabelSet(txn, state, record->labels);
    if (!label_set.ok()) return label_set.status();
    const std::string suffix = TimeSuffix(record->start_us, record->id);
    if (i >= reused) LABMESH_RETURN_IF_ERROR(tables_.records.Delete(txn, RecordKey(record->id)));
    LABMESH_RETURN_IF_ERROR(txn.Delete(tables_.by_time, suffix));
    LABMESH_RETURN_IF_ERROR(txn.Delete(tables_.by_job, JobPrefix(job_id) + suffix));
    LABMESH_RETURN_IF_ERROR(
        txn.Delete(tables_.by_test, ByTestKey(record->test, record->start_us, record->id)));
    LABMESH_RETURN_IF_ERROR(txn.Delete(tables_.by_host, NamePrefix(record->hostname) + suffix));
    BucketDelta& delta = DeltaOf(state, *record, *label_set);
    delta.counts[static_cast<size_t>(*ParseResultStatus(record->status))] -= 1;
    delta.removed_first = std::min(delta.removed_first, record->start_us);
    delta.removed_last = std::max(delta.removed_last, record->start_us);
  }
  if (records == nullptr) return tables_.entries.Delete(txn, entry_key);

  EntryIndex entry;
  entry.counts.assign(kResultStatusCount, 0);
  entry.ids.reserve(records->size());
  const std::string job_prefix = JobPrefix(job_id);
  const ResultRecord* previous = nullptr;
  uint32_t label_set = 0;
  for (size_t i = 0; i < records->size(); ++i) {
    ResultRecord& record = (*records)[i];
    const bool fresh = i >= reused;
    record.id = fresh ? state.next_id++ : old_ids[i];
    record.job_id = job_id;
    record.entry_id = entry_id;
    entry.ids.push_back(record.id);
    // An entry's results nearly always share one host and label set.
    if (previous == nullptr || previous->labels != record.labels ||
        previous->hostname != record.hostname) {
      Result<uint32_t> interned = InternLabelSet(txn, state, record.labels);
      if (!interned.ok()) return interned.status();
      label_set = *interned;
      if (!record.labels.empty()) state.carriers.emplace(record.hostname, label_set);
    }
    previous = &record;
    Result<std::string_view> bytes = EncodeInto(state.buffer, record);
    if (!bytes.ok()) return bytes.status();
    // Fresh ids are above every stored one and come in order, so they append.
    LABMESH_RETURN_IF_ERROR(
        txn.Put(tables_.records.dbi(), RecordKey(record.id), *bytes, fresh ? MDB_APPEND : 0));

    const ResultStatus status = *ParseResultStatus(record.status);
    IndexFields fields{status, label_set, job_id, record.hostname, record.test};
    // Keys and values are built in two reused buffers: no allocation per put.
    std::string& key = state.key;
    std::string& value = state.value;
    auto put = [&](const Dbi& dbi, IndexKind kind) {
      value.clear();
      AppendIndexValue(value, kind, fields);
      return txn.Put(dbi, key, value);
    };
    key.clear();
    AppendTimeSuffix(key, record.start_us, record.id);
    LABMESH_RETURN_IF_ERROR(put(tables_.by_time, IndexKind::kTime));
    key.assign(job_prefix);
    AppendTimeSuffix(key, record.start_us, record.id);
    LABMESH_RETURN_IF_ERROR(put(tables_.by_job, IndexKind::kJob));
    key.clear();
    AppendByTestKey(key, record.test, record.start_us, record.id);
    LABMESH_RETURN_IF_ERROR(put(tables_.by_test, IndexKind::kTest));
    key.assign(record.hostname);
    key.push_back('\0');
    AppendTimeSuffix(key, record.start_us, record.id);
    LABMESH_RETURN_IF_ERROR(put(tables_.by_host, IndexKind::kHost));
    LABMESH_RETURN_IF_ERROR(AddToBucket(txn, state, record, label_set, status));
    entry.counts[static_cast<size_t>(status)] += 1;
  }
  return tables_.entries.Put(txn, entry_key, entry);
}

Status LmdbResultsIndex::RecomputeBounds(const Txn& txn, const BucketId& id,
                                         BucketCounts* bucket) const {
  // The bucket's hour is one by_test partition: every key under its prefix is in the hour.
  const std::string prefix = TestPartition(id.hour, id.test);
  Result<Cursor> cursor = txn.OpenCursor(tables_.by_test);
  if (!cursor.ok()) return cursor.status();
  LABMESH_RETURN_IF_ERROR(cursor->Seek(prefix));
  bool found = false;
  while (cursor->valid()) {
    std::string_view key = cursor->key();
    if (key.size() != prefix.size() + kTimeSuffixBytes || !key.starts_with(prefix)) break;
    TimePos pos = ParseTimeSuffix(key.substr(prefix.size()));
    IndexFields fields;
    if (!DecodeIndexValue(IndexKind::kTest, cursor->value(), &fields)) {
      return Corrupt("by_test value of result " + std::to_string(pos.id));
    }
    if (fields.host == id.host && fields.label_set == id.label_set) {
      if (!found) bucket->first_us = pos.start_us;  // oldest first
      bucket->last_us = pos.start_us;
      found = true;
    }
    LABMESH_RETURN_IF_ERROR(cursor->Next());
  }
  if (!found) return Corrupt("summary bucket of " + id.test + " on " + id.host + " has no results");
  return Status::Ok();
}

Status LmdbResultsIndex::AddToBucket(WriteTxn& txn, WriteState& state,
                                     const ResultRecord& record, uint32_t label_set,
                                     ResultStatus status) const {
  std::string& key = state.key;
  BucketKey(key, record, label_set);
  // A bucket that lost results in this transaction is settled in Finish, after every change.
  if (auto pending = state.buckets.find(key); pending != state.buckets.end()) {
    BucketDelta& delta = pending->second.delta;
    delta.counts[static_cast<size_t>(status)] += 1;
    delta.added_first = std::min(delta.added_first, record.start_us);
    delta.added_last = std::max(delta.added_last, record.start_us);
    return Status::Ok();
  }
  // Otherwise add at once: a new bucket costs one descent, an existing one a read and a write.
  const BucketId id{HourOf(record.start_us), record.test, record.hostname, label_set};
  BucketCounts bucket;
  bucket.counts[status] = 1;
  bucket.first_us = bucket.last_us = record.start_us;
  std::string value = EncodeBucket(bucket, id.hour);
  Result<std::optional<std::string_view>> existing = txn.PutIfAbsent(tables_.sum_test, key, value);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    BucketCounts stored;
    if (!DecodeBucket(**existing, id.hour, &stored)) {
      return Corrupt("sum_test value of " + id.test + " on " + id.host);
    }
    stored.counts[status] += 1;
    stored.first_us = std::min(stored.first_us, record.start_us);
    stored.last_us = std::max(stored.last_us, record.start_us);
    value = EncodeBucket(stored, id.hour);
    LABMESH_RETURN_IF_ERROR(txn.Put(tables_.sum_test, key, value));
  }
  return txn.Put(tables_.sum_host, SumHostKey(id), value);
}

Status LmdbResultsIndex::ApplyBucket(WriteTxn& txn, const std::string& test_key,
                                     const PendingBucket& pending) const {
  const BucketId& id = pending.id;
  const BucketDelta& delta = pending.delta;
  BucketCounts bucket;
  Result<std::optional<std::string_view>> stored = txn.Get(tables_.sum_test, test_key);
  if (!stored.ok()) return stored.status();
  if (stored->has_value() && !DecodeBucket(**stored, id.hour, &bucket)) {
    return Corrupt("sum_test value of " + id.test + " on " + id.host);
  }
  for (size_t i = 0; i < kResultStatusCount; ++i) {
    int64_t n = static_cast<int64_t>(bucket.counts.by_status[i]) + delta.counts[i];
    if (n < 0) return Corrupt("summary counts of " + id.test + " on " + id.host + " below zero");
    bucket.counts.by_status[i] = static_cast<uint64_t>(n);
  }
  if (bucket.counts.total() == 0) {
    LABMESH_RETURN_IF_ERROR(txn.Delete(tables_.sum_test, test_key));
    return txn.Delete(tables_.sum_host, SumHostKey(id));
  }
  if (!stored->has_value()) {
    bucket.first_us = delta.added_first;
    bucket.last_us = delta.added_last;
  } else if (delta.removed_first <= bucket.first_us || delta.removed_last >= bucket.last_us) {
    // A bound may have gone with a removed result: read it back from by_test (which already
    // holds this transaction's changes).
    LABMESH_RETURN_IF_ERROR(RecomputeBounds(txn, id, &bucket));
  } else {
    bucket.first_us = std::min(bucket.first_us, delta.added_first);
    bucket.last_us = std::max(bucket.last_us, delta.added_last);
  }
  std::string value = EncodeBucket(bucket, id.hour);
  LABMESH_RETURN_IF_ERROR(txn.Put(tables_.sum_test, test_key, value));
  return txn.Put(tables_.sum_host, SumHostKey(id), value);
}

Status LmdbResultsIndex::Finish(WriteTxn& txn, WriteState& state) const {
  for (const auto& [key, pending] : state.buckets) {
    LABMESH_RETURN_IF_ERROR(ApplyBucket(txn, key, pending));
  }
  // label_hosts only grows: a carrier whose results were all deleted costs an empty scan.
  for (const auto& [host, label_set] : state.carriers) {
    if (known_carriers_.contains({host, label_set})) continue;
    Result<std::optional<std::string_view>> labels_bytes =
        txn.Get(tables_.label_sets, LabelSetKey(label_set));
    if (!labels_bytes.ok()) return labels_bytes.status();
    if (!labels_bytes->has_value()) return Corrupt("label set " + std::to_string(label_set));
    Result<std::vector<std::string>> labels =
        DecodeValue<std::vector<std::string>>(**labels_bytes, "label_sets");
    if (!labels.ok()) return labels.status();
    for (const std::string& label : *labels) {
      LABMESH_RETURN_IF_ERROR(
          txn.Put(tables_.label_hosts, LabelHostsKey(label, host, label_set), ""));
    }
  }
  Result<std::string> next = EncodeValue(state.next_id);
  if (!next.ok()) return next.status();
  return txn.Put(tables_.meta, kNextIdKey, *next);
}

Status LmdbResultsIndex::WriteWith(const std::function<Status(WriteTxn&, WriteState&)>& fill) {
  std::lock_guard lock(write_mu_);
  std::optional<WriteState> state;  // fresh for every attempt (the map may grow in between)
  LABMESH_RETURN_IF_ERROR(env_.Write(
      [&](WriteTxn& txn) {
        state.emplace();
        state->next_id = next_id_;
        state->next_label_set = next_label_set_;
        LABMESH_RETURN_IF_ERROR(fill(txn, *state));
        return Finish(txn, *state);
      },
      options_.sync_commits));
  next_id_ = state->next_id;
  next_label_set_ = state->next_label_set;
  label_set_ids_.merge(state->label_set_ids);
  known_carriers_.merge(state->carriers);
  return Status::Ok();
}

Status LmdbResultsIndex::ReplaceEntry(uint64_t job_id, uint64_t entry_id,
                                      std::vector<ResultRecord> records) {
  std::vector<EntryResults> one(1);
  one[0] = EntryResults{job_id, entry_id, std::move(records)};
  return ReplaceEntries(one);
}

Status LmdbResultsIndex::ReplaceEntries(std::span<EntryResults> entries) {
  for (const EntryResults& entry : entries) {
    for (size_t i = 0; i < entry.records.size(); ++i) {
      Status valid = ValidateResultRecord(entry.records[i]);
      if (!valid.ok()) {
        return Status::InvalidArgument("job " + std::to_string(entry.job_id) + " entry " +
                                       std::to_string(entry.entry_id) + " result " +
                                       std::to_string(i) + ": " + valid.message());
      }
    }
  }
  if (entries.empty()) return Status::Ok();
  // A later listing of the same entry wins: replace only the last one.
  std::map<std::pair<uint64_t, uint64_t>, size_t> last;
  for (size_t i = 0; i < entries.size(); ++i) last[{entries[i].job_id, entries[i].entry_id}] = i;
  return WriteWith([&](WriteTxn& txn, WriteState& state) {
    for (size_t i = 0; i < entries.size(); ++i) {
      EntryResults& entry = entries[i];
      if (last[{entry.job_id, entry.entry_id}] != i) continue;
      LABMESH_RETURN_IF_ERROR(
          ReplaceInTxn(txn, state, entry.job_id, entry.entry_id, &entry.records));
    }
    return Status::Ok();
  });
}

Status LmdbResultsIndex::DeleteJobInTxn(WriteTxn& txn, WriteState& state, uint64_t job_id,
                                        uint64_t* records) {
  const std::string prefix = JobPrefix(job_id);
  std::vector<uint64_t> entry_ids;
  {
    Result<Cursor> cursor = txn.OpenCursor(tables_.entries.dbi());
    if (!cursor.ok()) return cursor.status();
    LABMESH_RETURN_IF_ERROR(cursor->Seek(prefix));
    while (cursor->valid() && cursor->key().starts_with(prefix)) {
      if (cursor->key().size() != 16) {
        return Corrupt("entries key of job " + std::to_string(job_id));
      }
      entry_ids.push_back(GetU64(cursor->key().substr(8)));
      Result<EntryIndex> entry = DecodeValue<EntryIndex>(cursor->value(), "entries");
      if (!entry.ok()) return entry.status();
      *records += entry->ids.size();
      LABMESH_RETURN_IF_ERROR(cursor->Next());
    }
  }
  for (uint64_t entry_id : entry_ids) {
    LABMESH_RETURN_IF_ERROR(ReplaceInTxn(txn, state, job_id, entry_id, nullptr));
  }
  return Status::Ok();
}

Status LmdbResultsIndex::DeleteJob(uint64_t job_id) {
  uint64_t records = 0;
  return WriteWith([&](WriteTxn& txn, WriteState& state) {
    return DeleteJobInTxn(txn, state, job_id, &records);
  });
}

Result<std::vector<uint64_t>> LmdbResultsIndex::DeleteJobs(std::span<const uint64_t> job_ids) {
  std::vector<uint64_t> records;
  Status written = WriteWith([&](WriteTxn& txn, WriteState& state) {
    records.assign(job_ids.size(), 0);  // a retried transaction counts again
    for (size_t i = 0; i < job_ids.size(); ++i) {
      LABMESH_RETURN_IF_ERROR(DeleteJobInTxn(txn, state, job_ids[i], &records[i]));
    }
    return Status::Ok();
  });
  if (!written.ok()) return written;
  return records;
}

Result<std::optional<ResultRecord>> LmdbResultsIndex::Get(uint64_t id) const {
  return env_.Read<std::optional<ResultRecord>>(
      [&](const Txn& txn) -> Result<std::optional<ResultRecord>> {
        Result<std::optional<ResultRecord>> record = tables_.records.Get(txn, RecordKey(id));
        if (record.ok() && record->has_value() && !ParseResultStatus((*record)->status)) {
          return Corrupt("record " + std::to_string(id) + " has an unknown status");
        }
        return record;
      });
}

Result<std::optional<StatusCounts>> LmdbResultsIndex::CountsForEntry(uint64_t job_id,
                                                                     uint64_t entry_id) const {
  return env_.Read<std::optional<StatusCounts>>(
      [&](const Txn& txn) -> Result<std::optional<StatusCounts>> {
        Result<std::optional<EntryIndex>> entry =
            tables_.entries.Get(txn, EntryKey(job_id, entry_id));
        if (!entry.ok()) return entry.status();
        if (!entry->has_value()) return std::optional<StatusCounts>();
        StatusCounts counts;
        AddCounts(counts, (*entry)->counts);
        return std::optional<StatusCounts>(counts);
      });
}

Result<StatusCounts> LmdbResultsIndex::CountsForJob(uint64_t job_id) const {
  return env_.Read<StatusCounts>([&](const Txn& txn) -> Result<StatusCounts> {
    const std::string prefix = JobPrefix(job_id);
    StatusCounts counts;
    Result<Cursor> cursor = txn.OpenCursor(tables_.entries.dbi());
    if (!cursor.ok()) return cursor.status();
    LABMESH_RETURN_IF_ERROR(cursor->Seek(prefix));
    while (cursor->valid() && cursor->key().starts_with(prefix)) {
      Result<EntryIndex> entry = DecodeValue<EntryIndex>(cursor->value(), "entries");
      if (!entry.ok()) return entry.status();
      AddCounts(counts, entry->counts);
      LABMESH_RETURN_IF_ERROR(cursor->Next());
    }
    return counts;
  });
}

Result<std::vector<IndexedEntry>> LmdbResultsIndex::ListEntries() const {
  return env_.Read<std::vector<IndexedEntry>>(
      [&](const Txn& txn) -> Result<std::vector<IndexedEntry>> {
        std::vector<IndexedEntry> out;
        Result<Cursor> cursor = txn.OpenCursor(tables_.entries.dbi());
        if (!cursor.ok()) return cursor.status();
        LABMESH_RETURN_IF_ERROR(cursor->First());
        while (cursor->valid()) {
          if (cursor->key().size() != 16) return Corrupt("entries key is not job, entry");
          Result<EntryIndex> entry = DecodeValue<EntryIndex>(cursor->value(), "entries");
          if (!entry.ok()) return entry.status();
          IndexedEntry& indexed = out.emplace_back();
          indexed.job_id = GetU64(cursor->key().substr(0, 8));
          indexed.entry_id = GetU64(cursor->key().substr(8));
          indexed.record_ids = std::move(entry->ids);
          AddCounts(indexed.counts, entry->counts);
          LABMESH_RETURN_IF_ERROR(cursor->Next());
        }
        return out;
      });
}

}  // namespace results

Result<std::unique_ptr<ResultsIndex>> ResultsIndex::Open(const std::string& dir,
                                                         const ResultsIndexOptions& options) {
  if (options.initial_map_bytes == 0 || options.max_map_bytes < options.initial_map_bytes) {
    return Status::InvalidArgument("need 0 < initial_map_bytes <= max_map_bytes");
  }
  if (options.read_only) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      return Status::NotFound("no results index in " + dir);
    }
  } else {
    LABMESH_RETURN_IF_ERROR(MakeDirs(dir));
  }
  Env::Options env_options;
  env_options.dir = dir;
  env_options.read_only = options.read_only;
  env_options.max_dbs = results::kIndexTables;
  env_options.min_map_bytes = options.initial_map_bytes;
  Result<std::unique_ptr<Env>> env = Env::Open(env_options);
  if (!env.ok()) return env.status();

  auto index = std::make_unique<results::LmdbResultsIndex>(std::move(env).value(), options);
  Status opened = options.read_only ? index->InitReadOnly() : index->Init();
  if (!opened.ok()) {
    return Status(opened.code(), "open results index in " + dir + ": " + opened.message());
  }
  return std::unique_ptr<ResultsIndex>(std::move(index));
}

}  // namespace labmesh::store
