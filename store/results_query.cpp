// Listing results (Query) and keyval series (KeyvalSeries) from the time-ordered indexes.
//
// A query walks one or more "streams": ranges of one index that share a prefix (a job, a test,
// a host, or nothing for by_time) and end in the same 16-byte time suffix. A label becomes one
// by_host stream per host that carried it, merged newest first. Only index values are read
// while filtering; records are decoded for the page alone.

#include <algorithm>
#include <charconv>
#include <queue>

#include "results_index_impl.hpp"

namespace labmesh::store::results {
namespace {

// How many index entries a test-and-host query reads from the host before it walks the test.
constexpr uint64_t kHostFirstBudget = 4000;

// One time-ordered range, walked newest first (backwards): by_job, by_host or by_time keys
// are prefix + suffix; by_test keys are hour + prefix + suffix, walked hour by hour.
struct Stream {
  IndexKind kind;
  std::string prefix;
  std::optional<Cursor> plain;
  std::optional<PartitionWalk> walk;

  std::string_view key() const { return walk ? walk->key() : plain->key(); }
  std::string_view value() const { return walk ? walk->value() : plain->value(); }
  std::string_view suffix() const { return key().substr(key().size() - kTimeSuffixBytes); }
  bool InRange() const {
    if (walk) return walk->valid() && key().size() == 4 + prefix.size() + kTimeSuffixBytes;
    return plain->valid() && key().size() == prefix.size() + kTimeSuffixBytes &&
           key().starts_with(prefix);
  }
};

// Where a walk starts: below `upper` (an exclusive time suffix from until_us and the cursor;
// "" = the newest), down to since_us.
struct Start {
  std::string upper;
  int64_t since_us = 0;
};

Start StartOf(int64_t since_us, int64_t until_us, const std::optional<TimePos>& cursor) {
  Start start;
  start.since_us = since_us;
  if (until_us > 0) start.upper = TimeSuffix(until_us, 0);  // ids start at 1
  if (cursor) {
    std::string below = TimeSuffix(cursor->start_us, cursor->id);
    if (start.upper.empty() || below < start.upper) start.upper = std::move(below);
  }
  return start;
}

// Positions a stream at its newest key below `start`; false when its range is empty.
Result<bool> Position(Stream& s, const Start& start) {
  if (s.walk) {
    uint32_t high = UINT32_MAX;
    if (!start.upper.empty()) high = HourOf(ParseTimeSuffix(start.upper).start_us);
    LABMESH_RETURN_IF_ERROR(s.walk->Start(s.prefix, high, HourOf(start.since_us), start.upper));
  } else if (s.prefix.empty() && start.upper.empty()) {
    LABMESH_RETURN_IF_ERROR(s.plain->Last());
  } else {
    std::string target = start.upper.empty() ? PrefixEnd(s.prefix) : s.prefix + start.upper;
    LABMESH_RETURN_IF_ERROR(SeekBefore(*s.plain, target));
  }
  return s.InRange();
}

Result<bool> Advance(Stream& s) {
  LABMESH_RETURN_IF_ERROR(s.walk ? s.walk->Next() : s.plain->Prev());
  return s.InRange();
}

// Walks streams newest first (a k-way merge on the time suffix). `visit` gets each index entry
// in the window and returns false to stop. Returns the number of entries visited.
template <typename Visit>
Result<uint64_t> Walk(std::vector<Stream>& streams, const Start& start, Visit&& visit) {
  auto older = [&](size_t a, size_t b) { return streams[a].suffix() < streams[b].suffix(); };
  std::priority_queue<size_t, std::vector<size_t>, decltype(older)> heap(older);
  for (size_t i = 0; i < streams.size(); ++i) {
    Result<bool> positioned = Position(streams[i], start);
    if (!positioned.ok()) return positioned.status();
    if (*positioned) heap.push(i);
  }
  uint64_t visited = 0;
  while (!heap.empty()) {
    size_t i = heap.top();
    heap.pop();
    Stream& s = streams[i];
    TimePos pos = ParseTimeSuffix(s.suffix());
    if (pos.start_us < start.since_us) continue;  // this stream has left the window
    IndexFields fields;
    std::string_view name = std::string_view(s.prefix).substr(0, s.prefix.size() - 1);
    if (s.kind == IndexKind::kJob) fields.job_id = GetU64(s.prefix);
    if (s.kind == IndexKind::kTest) fields.test = name;
    if (s.kind == IndexKind::kHost) fields.host = name;
    if (!DecodeIndexValue(s.kind, s.value(), &fields)) {
      return Corrupt("index value of result " + std::to_string(pos.id));
    }
    ++visited;
    Result<bool> more = visit(pos, fields);
    if (!more.ok()) return more.status();
    if (!*more) break;
    Result<bool> advanced = Advance(s);
    if (!advanced.ok()) return advanced.status();
    if (*advanced) heap.push(i);
  }
  return visited;
}

// Opens the streams a filter walks (see ResultsIndex::Query for the order of preference).
Result<std::vector<Stream>> OpenStreams(const Txn& txn, const IndexTables& t,
                                        std::optional<uint64_t> job_id, const std::string& test,
                                        const std::string& host, const LabelCarriers* carriers) {
  std::vector<Stream> streams;
  auto add = [&](const Dbi& dbi, std::string prefix, IndexKind kind) -> Status {
    Result<Cursor> cursor = txn.OpenCursor(dbi);
    if (!cursor.ok()) return cursor.status();
    Stream stream{kind, std::move(prefix), std::nullopt, std::nullopt};
    if (kind == IndexKind::kTest) {
      stream.walk.emplace(std::move(cursor).value());
    } else {
      stream.plain.emplace(std::move(cursor).value());
    }
    streams.push_back(std::move(stream));
    return Status::Ok();
  };
  if (job_id) {
    LABMESH_RETURN_IF_ERROR(add(t.by_job, JobPrefix(*job_id), IndexKind::kJob));
  } else if (!test.empty()) {
    LABMESH_RETURN_IF_ERROR(add(t.by_test, NamePrefix(test), IndexKind::kTest));
  } else if (!host.empty()) {
    LABMESH_RETURN_IF_ERROR(add(t.by_host, NamePrefix(host), IndexKind::kHost));
  } else if (carriers != nullptr) {
    streams.reserve(carriers->size());
    for (const auto& [carrier, sets] : *carriers) {
      LABMESH_RETURN_IF_ERROR(add(t.by_host, NamePrefix(carrier), IndexKind::kHost));
    }
  } else {
    LABMESH_RETURN_IF_ERROR(add(t.by_time, "", IndexKind::kTime));
  }
  return streams;
}

std::optional<double> NumberOf(const std::string& text) {
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

Result<LabelCarriers> ReadLabelCarriers(const Txn& txn, const IndexTables& tables,
                                        std::string_view label) {
  LabelCarriers carriers;
  const std::string prefix = NamePrefix(label);
  Result<Cursor> cursor = txn.OpenCursor(tables.label_hosts);
  if (!cursor.ok()) return cursor.status();
  LABMESH_RETURN_IF_ERROR(cursor->Seek(prefix));
  while (cursor->valid() && cursor->key().starts_with(prefix)) {
    std::string_view host;
    uint32_t label_set = 0;
    if (!ParseLabelHostsRest(cursor->key().substr(prefix.size()), &host, &label_set)) {
      return Corrupt("label_hosts key of label " + std::string(label));
    }
    carriers[std::string(host)].push_back(label_set);
    LABMESH_RETURN_IF_ERROR(cursor->Next());
  }
  return carriers;
}

bool Carries(const LabelCarriers& carriers, std::string_view host, uint32_t label_set) {
  auto it = carriers.find(host);
  return it != carriers.end() &&
         std::find(it->second.begin(), it->second.end(), label_set) != it->second.end();
}

Status SeekBefore(Cursor& cursor, std::string_view key) {
  LABMESH_RETURN_IF_ERROR(cursor.Seek(key));
  return cursor.valid() ? cursor.Prev() : cursor.Last();
}

Status PartitionWalk::Start(std::string range, uint32_t high, uint32_t low,
                            std::string_view below) {
  range_ = std::move(range);
  low_ = low;
  valid_ = false;
  if (high < low) return Status::Ok();
  std::string target;
  PutU32(target, high);
  if (below.empty()) {
    target.append(PrefixEnd(range_));
  } else {
    target.append(range_);
    target.append(below);
  }
  LABMESH_RETURN_IF_ERROR(SeekBefore(cursor_, target));
  return Settle();
}

Status PartitionWalk::Next() {
  LABMESH_RETURN_IF_ERROR(cursor_.Prev());
  return Settle();
}

Status PartitionWalk::Settle() {
  for (;;) {
    if (!cursor_.valid()) break;
    std::string_view key = cursor_.key();
    if (key.size() < 4) return Corrupt("a partitioned key is shorter than its partition");
    const uint32_t partition = GetU32(key);
    if (partition < low_) break;
    std::string_view rest = key.substr(4);
    if (rest.starts_with(range_)) {
      valid_ = true;
      return Status::Ok();
    }
    // Above the range in this partition: to the range's last key; below it: to the previous
    // partition's.
    std::string target;
    if (rest > range_) {
      PutU32(target, partition);
    } else {
      if (partition == low_) break;
      PutU32(target, partition - 1);
    }
    target.append(PrefixEnd(range_));
    LABMESH_RETURN_IF_ERROR(SeekBefore(cursor_, target));
  }
  valid_ = false;
  return Status::Ok();
}

Result<QueryPage> LmdbResultsIndex::Query(const ResultFilter& filter) const {
  const uint32_t limit = filter.limit == 0 ? kDefaultQueryLimit : filter.limit;
  if (limit > kMaxQueryLimit) {
    return Status::InvalidArgument("limit must be at most " + std::to_string(kMaxQueryLimit));
  }
  std::optional<ResultStatus> status;
  if (!filter.status.empty()) {
    status = ParseResultStatus(filter.status);
    if (!status) return Status::InvalidArgument("unknown status \"" + filter.status + "\"");
  }
  std::optional<TimePos> cursor;
  if (!filter.cursor.empty()) {
    cursor = DecodeCursor(filter.cursor);
    if (!cursor) return Status::InvalidArgument("malformed cursor \"" + filter.cursor + "\"");
  }
  if (filter.since_us < 0 || filter.until_us < 0) {
    return Status::InvalidArgument("since_us and until_us must not be negative");
  }
  if (filter.until_us > 0 && filter.until_us <= filter.since_us) return QueryPage{};

  return env_.Read<QueryPage>([&](const Txn& txn) -> Result<QueryPage> {
    QueryPage page;
    std::optional<LabelCarriers> carriers;
    if (!filter.label.empty()) {
      Result<LabelCarriers> read = ReadLabelCarriers(txn, tables_, filter.label);
      if (!read.ok()) return read.status();
      if (read->empty()) return page;
      carriers = std::move(read).value();
    }
    if (carriers && !filter.host.empty() && carriers->find(filter.host) == carriers->end()) {
      return page;
    }
    std::vector<uint64_t> ids;
    TimePos last;
    bool stopped = false, out_of_budget = false;
    // Walks the streams for (job, test, host) and fills ids; false: the budget ran out first.
    auto walk = [&](const std::string& test, const std::string& host,
                    uint64_t budget) -> Result<bool> {
      Result<std::vector<Stream>> streams =
          OpenStreams(txn, tables_, filter.job_id, test, host, carriers ? &*carriers : nullptr);
      if (!streams.ok()) return streams.status();
      ids.clear();
      stopped = out_of_budget = false;
      uint64_t seen = 0;
      Result<uint64_t> scanned = Walk(
          *streams, StartOf(filter.since_us, filter.until_us, cursor),
          [&](const TimePos& pos, const IndexFields& f) -> Result<bool> {
            last = pos;
            bool match = (!status || f.status == *status) &&
                         (!filter.job_id || f.job_id == *filter.job_id) &&
                         (filter.test.empty() || f.test == filter.test) &&
                         (filter.host.empty() || f.host == filter.host) &&
                         (!carriers || Carries(*carriers, f.host, f.label_set));
            if (match) ids.push_back(pos.id);
            out_of_budget = ++seen >= budget;
            stopped = ids.size() >= limit || out_of_budget;
            return !stopped;
          });
      if (!scanned.ok()) return scanned.status();
      page.scanned += *scanned;
      return !out_of_budget || ids.size() >= limit;
    };
    // Test and host: a host's range is contiguous, a test's is one range per hour, so try the
    // host first with a small budget and walk the test only when the host has a long history.
    bool done = false;
    if (!filter.job_id && !filter.test.empty() && !filter.host.empty()) {
      Result<bool> quick = walk("", filter.host, std::min<uint64_t>(kHostFirstBudget,
                                                                    options_.query_scan_budget));
      if (!quick.ok()) return quick.status();
      done = *quick;
    }
    if (!done) {
      Result<bool> walked = walk(filter.test, filter.host, options_.query_scan_budget);
      if (!walked.ok()) return walked.status();
    }
    if (stopped) page.next_cursor = EncodeCursor(last);
    page.records.reserve(ids.size());
    for (uint64_t id : ids) {
      Result<ResultRecord> record = ReadRecord(txn, tables_, id);
      if (!record.ok()) return record.status();
      page.records.push_back(std::move(record).value());
    }
    return page;
  });
}

Result<std::vector<SeriesPoint>> LmdbResultsIndex::KeyvalSeries(const SeriesFilter& filter) const {
  if (filter.test.empty()) return Status::InvalidArgument("a series needs a test");
  if (filter.key.empty()) return Status::InvalidArgument("a series needs a keyval or perf key");
  if (filter.limit == 0 || filter.limit > 100'000) {
    return Status::InvalidArgument("series limit must be 1 to 100000");
  }
  if (filter.since_us < 0 || filter.until_us < 0) {
    return Status::InvalidArgument("since_us and until_us must not be negative");
  }
  if (filter.until_us > 0 && filter.until_us <= filter.since_us) return std::vector<SeriesPoint>{};

  return env_.Read<std::vector<SeriesPoint>>([&](const Txn& txn) -> Result<std::vector<SeriesPoint>> {
    std::vector<SeriesPoint> points;
    std::optional<LabelCarriers> carriers;
    if (!filter.label.empty()) {
      Result<LabelCarriers> read = ReadLabelCarriers(txn, tables_, filter.label);
      if (!read.ok()) return read.status();
      if (read->empty()) return points;
      carriers = std::move(read).value();
    }
    Result<std::vector<Stream>> streams =
        OpenStreams(txn, tables_, std::nullopt, filter.test, "", nullptr);
    if (!streams.ok()) return streams.status();
    uint64_t budget = options_.series_scan_budget;
    Result<uint64_t> scanned = Walk(
        *streams, StartOf(filter.since_us, filter.until_us, std::nullopt),
        [&](const TimePos& pos, const IndexFields& f) -> Result<bool> {
          if ((filter.host.empty() || f.host == filter.host) &&
              (!carriers || Carries(*carriers, f.host, f.label_set))) {
            Result<ResultRecord> record = ReadRecord(txn, tables_, pos.id);
            if (!record.ok()) return record.status();
            std::optional<double> value;
            if (auto perf = record->perf.find(filter.key); perf != record->perf.end()) {
              value = perf->second;
            } else if (auto kv = record->keyvals.find(filter.key); kv != record->keyvals.end()) {
              value = NumberOf(kv->second);
            }
            if (value) {
              points.push_back(SeriesPoint{record->start_us, *value, record->job_id,
                                           std::move(record->hostname), std::move(record->link)});
            }
          }
          return points.size() < filter.limit && --budget > 0;
        });
    if (!scanned.ok()) return scanned.status();
    std::reverse(points.begin(), points.end());
    return points;
  });
}

}  // namespace labmesh::store::results
