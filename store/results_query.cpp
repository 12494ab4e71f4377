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

Status Corrupt(const std::string& what) { return Status::Corruption("results index: " + what); }

struct Stream {
  Cursor cursor;
  std::string prefix;
  IndexKind kind;
};

// The position a walk starts from: the newest key allowed by until_us and the cursor.
struct Start {
  std::string suffix;  // seek here ("" = the start of the range)
  std::string skip;    // a suffix to step over (the cursor's own result)
};

Start StartOf(int64_t until_us, const std::optional<TimePos>& cursor) {
  Start start;
  if (until_us > 0) start.suffix = TimeSuffix(until_us - 1, ~0ull);
  if (cursor) {
    std::string after = TimeSuffix(cursor->start_us, cursor->id);
    if (after >= start.suffix) {
      start.suffix = after;
      start.skip = std::move(after);
    }
  }
  return start;
}

// Positions a stream at its first key from `start`; false when its range is empty.
Result<bool> Position(Stream& s, const Start& start) {
  LABMESH_RETURN_IF_ERROR(s.cursor.Seek(s.prefix + start.suffix));
  auto in_range = [&] {
    return s.cursor.valid() && s.cursor.key().size() == s.prefix.size() + kTimeSuffixBytes &&
           s.cursor.key().starts_with(s.prefix);
  };
  if (in_range() && !start.skip.empty() && s.cursor.key().substr(s.prefix.size()) == start.skip) {
    LABMESH_RETURN_IF_ERROR(s.cursor.Next());
  }
  return in_range();
}

Result<bool> Advance(Stream& s) {
  LABMESH_RETURN_IF_ERROR(s.cursor.Next());
  return s.cursor.valid() && s.cursor.key().size() == s.prefix.size() + kTimeSuffixBytes &&
         s.cursor.key().starts_with(s.prefix);
}

std::string_view SuffixOf(const Stream& s) { return s.cursor.key().substr(s.prefix.size()); }

// Walks streams newest first (a k-way merge on the time suffix). `visit` gets each index entry
// in the window and returns false to stop. Returns the number of entries visited.
template <typename Visit>
Result<uint64_t> Walk(std::vector<Stream>& streams, const Start& start, int64_t since_us,
                      Visit&& visit) {
  auto newer = [&](size_t a, size_t b) { return SuffixOf(streams[a]) > SuffixOf(streams[b]); };
  std::priority_queue<size_t, std::vector<size_t>, decltype(newer)> heap(newer);
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
    TimePos pos = ParseTimeSuffix(SuffixOf(s));
    if (pos.start_us < since_us) continue;  // this stream has left the window
    IndexFields fields;
    if (s.kind == IndexKind::kJob) fields.job_id = GetU64(s.prefix);
    if (s.kind == IndexKind::kTest) fields.test = std::string_view(s.prefix).substr(0, s.prefix.size() - 1);
    if (s.kind == IndexKind::kHost) fields.host = std::string_view(s.prefix).substr(0, s.prefix.size() - 1);
    if (!DecodeIndexValue(s.kind, s.cursor.value(), &fields)) {
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
  std::vector<std::pair<const Dbi*, std::pair<std::string, IndexKind>>> ranges;
  if (job_id) {
    ranges.push_back({&t.by_job, {JobPrefix(*job_id), IndexKind::kJob}});
  } else if (!test.empty()) {
    ranges.push_back({&t.by_test, {NamePrefix(test), IndexKind::kTest}});
  } else if (!host.empty()) {
    ranges.push_back({&t.by_host, {NamePrefix(host), IndexKind::kHost}});
  } else if (carriers != nullptr) {
    for (const auto& [carrier, sets] : *carriers) {
      ranges.push_back({&t.by_host, {NamePrefix(carrier), IndexKind::kHost}});
    }
  } else {
    ranges.push_back({&t.by_time, {"", IndexKind::kTime}});
  }
  std::vector<Stream> streams;
  streams.reserve(ranges.size());
  for (auto& [dbi, range] : ranges) {
    Result<Cursor> cursor = txn.OpenCursor(*dbi);
    if (!cursor.ok()) return cursor.status();
    streams.push_back(Stream{std::move(cursor).value(), std::move(range.first), range.second});
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
  auto it = carriers.find(std::string(host));
  return it != carriers.end() &&
         std::find(it->second.begin(), it->second.end(), label_set) != it->second.end();
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
    Result<std::vector<Stream>> streams = OpenStreams(
        txn, tables_, filter.job_id, filter.test, filter.host, carriers ? &*carriers : nullptr);
    if (!streams.ok()) return streams.status();

    if (carriers && !filter.host.empty() && !carriers->contains(filter.host)) return page;
    std::vector<uint64_t> ids;
    TimePos last;
    bool stopped = false;
    uint64_t seen = 0;
    Result<uint64_t> scanned = Walk(
        *streams, StartOf(filter.until_us, cursor), filter.since_us,
        [&](const TimePos& pos, const IndexFields& f) -> Result<bool> {
          last = pos;
          bool match = (!status || f.status == *status) &&
                       (!filter.job_id || f.job_id == *filter.job_id) &&
                       (filter.test.empty() || f.test == filter.test) &&
                       (filter.host.empty() || f.host == filter.host) &&
                       (!carriers || Carries(*carriers, f.host, f.label_set));
          if (match) ids.push_back(pos.id);
          stopped = ids.size() >= limit || ++seen >= options_.query_scan_budget;
          return !stopped;
        });
    if (!scanned.ok()) return scanned.status();
    page.scanned = *scanned;
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
        *streams, StartOf(filter.until_us, std::nullopt), filter.since_us,
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
