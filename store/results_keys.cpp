#include "results_keys.hpp"

#include <charconv>

#include "labmesh/common/hash.hpp"

namespace labmesh::store::results {
namespace {

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view& in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

// Splits `in` at the first NUL: the name before it, `in` left after it. False when none.
bool TakeName(std::string_view& in, std::string_view* name) {
  size_t nul = in.find('\0');
  if (nul == std::string_view::npos || nul == 0) return false;
  *name = in.substr(0, nul);
  in.remove_prefix(nul + 1);
  return true;
}

bool TakeU32(std::string_view& in, uint32_t* v) {
  if (in.size() < 4) return false;
  *v = GetU32(in);
  in.remove_prefix(4);
  return true;
}

bool TakeU64(std::string_view& in, uint64_t* v) {
  if (in.size() < 8) return false;
  *v = GetU64(in);
  in.remove_prefix(8);
  return true;
}

bool TakeStatus(std::string_view& in, ResultStatus* status) {
  if (in.empty() || static_cast<uint8_t>(in.front()) >= kResultStatusCount) return false;
  *status = static_cast<ResultStatus>(in.front());
  in.remove_prefix(1);
  return true;
}

}  // namespace

void PutU32(std::string& out, uint32_t v) {
  char bytes[4];
  for (int i = 3; i >= 0; --i, v >>= 8) bytes[i] = static_cast<char>(v);
  out.append(bytes, sizeof bytes);
}

void PutU64(std::string& out, uint64_t v) {
  char bytes[8];
  for (int i = 7; i >= 0; --i, v >>= 8) bytes[i] = static_cast<char>(v);
  out.append(bytes, sizeof bytes);
}

uint32_t GetU32(std::string_view bytes) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[i]);
  return v;
}

uint64_t GetU64(std::string_view bytes) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[i]);
  return v;
}

void AppendTimeSuffix(std::string& out, int64_t start_us, uint64_t id) {
  PutU64(out, static_cast<uint64_t>(start_us));
  PutU64(out, id);
}

std::string TimeSuffix(int64_t start_us, uint64_t id) {
  std::string out;
  AppendTimeSuffix(out, start_us, id);
  return out;
}

TimePos ParseTimeSuffix(std::string_view suffix) {
  return {static_cast<int64_t>(GetU64(suffix)), GetU64(suffix.substr(8))};
}

std::string RecordKey(uint64_t id) {
  std::string out;
  PutU64(out, id);
  return out;
}

std::string EntryKey(uint64_t job_id, uint64_t entry_id) {
  std::string out;
  PutU64(out, job_id);
  PutU64(out, entry_id);
  return out;
}

std::string JobPrefix(uint64_t job_id) { return RecordKey(job_id); }

std::string NamePrefix(std::string_view name) {
  std::string out(name);
  out.push_back('\0');
  return out;
}

std::string TestPartition(uint32_t hour, std::string_view test) {
  std::string out;
  PutU32(out, hour);
  out.append(test);
  out.push_back('\0');
  return out;
}

void AppendByTestKey(std::string& out, std::string_view test, int64_t start_us, uint64_t id) {
  PutU32(out, HourOf(start_us));
  out.append(test);
  out.push_back('\0');
  AppendTimeSuffix(out, start_us, id);
}

std::string ByTestKey(std::string_view test, int64_t start_us, uint64_t id) {
  std::string out;
  AppendByTestKey(out, test, start_us, id);
  return out;
}

std::string EncodeIndexValue(IndexKind kind, const IndexFields& f) {
  std::string out;
  AppendIndexValue(out, kind, f);
  return out;
}

void AppendIndexValue(std::string& out, IndexKind kind, const IndexFields& f) {
  out.push_back(static_cast<char>(f.status));
  if (kind == IndexKind::kTime) return;
  PutU32(out, f.label_set);
  if (kind != IndexKind::kJob) PutU64(out, f.job_id);
  if (kind != IndexKind::kHost) {
    out.append(f.host);
    if (kind == IndexKind::kJob) out.push_back('\0');
  }
  if (kind != IndexKind::kTest) out.append(f.test);
}

bool DecodeIndexValue(IndexKind kind, std::string_view in, IndexFields* f) {
  if (!TakeStatus(in, &f->status)) return false;
  if (kind == IndexKind::kTime) return in.empty();
  if (!TakeU32(in, &f->label_set)) return false;
  if (kind != IndexKind::kJob && !TakeU64(in, &f->job_id)) return false;
  switch (kind) {
    case IndexKind::kJob:
      if (!TakeName(in, &f->host)) return false;
      f->test = in;
      break;
    case IndexKind::kTest:
      f->host = in;
      break;
    default:
      f->test = in;
      break;
  }
  return !in.empty();
}

std::string SumTestKey(const BucketId& b) {
  std::string out;
  PutU32(out, b.hour);
  out.append(b.test);
  out.push_back('\0');
  out.append(b.host);
  out.push_back('\0');
  PutU32(out, b.label_set);
  return out;
}

std::string SumHostKey(const BucketId& b) {
  std::string out = NamePrefix(b.host);
  PutU32(out, b.hour);
  PutU32(out, b.label_set);
  out.append(b.test);
  return out;
}

bool ParseSumTestKey(std::string_view in, BucketView* b) {
  return TakeU32(in, &b->hour) && TakeName(in, &b->test) && TakeName(in, &b->host) &&
         TakeU32(in, &b->label_set) && in.empty();
}

bool ParseSumHostKey(std::string_view in, BucketView* b) {
  if (!TakeName(in, &b->host) || !TakeU32(in, &b->hour) || !TakeU32(in, &b->label_set) ||
      in.empty()) {
    return false;
  }
  b->test = in;
  return true;
}

std::string EncodeBucket(const BucketCounts& bucket, uint32_t hour) {
  std::string out;
  for (uint64_t n : bucket.counts.by_status) PutVarint(out, n);
  int64_t base = HourStart(hour);
  PutVarint(out, static_cast<uint64_t>(bucket.first_us - base));
  PutVarint(out, static_cast<uint64_t>(bucket.last_us - base));
  return out;
}

bool DecodeBucket(std::string_view in, uint32_t hour, BucketCounts* bucket) {
  for (uint64_t& n : bucket->counts.by_status) {
    if (!GetVarint(in, &n)) return false;
  }
  uint64_t first = 0, last = 0;
  if (!GetVarint(in, &first) || !GetVarint(in, &last) || !in.empty()) return false;
  if (first > last || last >= static_cast<uint64_t>(kUsPerHour)) return false;
  int64_t base = HourStart(hour);
  bucket->first_us = base + static_cast<int64_t>(first);
  bucket->last_us = base + static_cast<int64_t>(last);
  return true;
}

std::string LabelSetKey(uint32_t id) {
  std::string out;
  PutU32(out, id);
  return out;
}

std::string LabelHostsKey(std::string_view label, std::string_view host, uint32_t label_set) {
  std::string out = NamePrefix(label);
  out.append(host);
  out.push_back('\0');
  PutU32(out, label_set);
  return out;
}

bool ParseLabelHostsRest(std::string_view rest, std::string_view* host, uint32_t* label_set) {
  return TakeName(rest, host) && TakeU32(rest, label_set) && rest.empty();
}

std::string JoinLabels(const std::vector<std::string>& labels) {
  std::string joined;
  for (const std::string& label : labels) {
    joined.append(label);
    joined.push_back('\0');
  }
  return joined;
}

std::string LabelSetHash(std::string_view joined) { return Blake2bHex(joined); }

std::string EncodeCursor(const TimePos& pos) {
  return std::to_string(pos.start_us) + "." + std::to_string(pos.id);
}

std::optional<TimePos> DecodeCursor(std::string_view cursor) {
  size_t dot = cursor.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  TimePos pos;
  const char* end = cursor.data() + dot;
  auto [p1, e1] = std::from_chars(cursor.data(), end, pos.start_us);
  if (e1 != std::errc() || p1 != end || pos.start_us < 0) return std::nullopt;
  end = cursor.data() + cursor.size();
  auto [p2, e2] = std::from_chars(cursor.data() + dot + 1, end, pos.id);
  if (e2 != std::errc() || p2 != end) return std::nullopt;
  return pos;
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<uint8_t>(end.back());
    if (last != 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

}  // namespace labmesh::store::results
