#pragma once
// Keys and small values of the results index (layouts in labmesh/store/results_index.hpp).
// Pure encoding: no LMDB, no I/O. Decoders return false (or nullopt) on bytes that do not fit,
// which callers report as Corruption naming the table.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "labmesh/store/results_index.hpp"

namespace labmesh::store::results {

// Big-endian fixed-width integers: byte order is numeric order.
void PutU32(std::string& out, uint32_t v);
void PutU64(std::string& out, uint64_t v);
uint32_t GetU32(std::string_view bytes);  // precondition: at least 4 bytes
uint64_t GetU64(std::string_view bytes);  // precondition: at least 8 bytes

// UTC hour of a start time (start_us >= 0): the partition of by_test and of every bucket.
inline uint32_t HourOf(int64_t start_us) { return static_cast<uint32_t>(start_us / kUsPerHour); }
inline int64_t HourStart(uint32_t hour) { return static_cast<int64_t>(hour) * kUsPerHour; }

// The 16 bytes that end every time-ordered index key: u64 start_us, u64 id. Ascending, so a
// new result lands at the end of its range (LMDB then splits pages leaving the left one full);
// newest-first queries walk backwards.
std::string TimeSuffix(int64_t start_us, uint64_t id);
void AppendTimeSuffix(std::string& out, int64_t start_us, uint64_t id);
inline constexpr size_t kTimeSuffixBytes = 16;
struct TimePos {
  int64_t start_us = 0;
  uint64_t id = 0;
};
TimePos ParseTimeSuffix(std::string_view suffix);  // precondition: 16 bytes

std::string RecordKey(uint64_t id);
std::string EntryKey(uint64_t job_id, uint64_t entry_id);
std::string JobPrefix(uint64_t job_id);           // of by_job and of entries
std::string NamePrefix(std::string_view name);    // name \0: of by_host, sum_host, label_hosts
// by_test is partitioned by hour: u32 hour, then test \0, then the time suffix.
std::string TestPartition(uint32_t hour, std::string_view test);  // hour test \0
std::string ByTestKey(std::string_view test, int64_t start_us, uint64_t id);
void AppendByTestKey(std::string& out, std::string_view test, int64_t start_us, uint64_t id);

// The time-ordered indexes. Each value holds the fields the other filters check; the field
// the key already names is left out.
enum class IndexKind { kTime, kJob, kTest, kHost };
struct IndexFields {
  ResultStatus status = ResultStatus::kGood;
  uint32_t label_set = 0;
  uint64_t job_id = 0;
  std::string_view host;  // views into the decoded bytes (or the key's prefix)
  std::string_view test;
};
std::string EncodeIndexValue(IndexKind kind, const IndexFields& fields);
void AppendIndexValue(std::string& out, IndexKind kind, const IndexFields& fields);
bool DecodeIndexValue(IndexKind kind, std::string_view value, IndexFields* fields);

// Summary buckets: one (test, host, label set, hour), in two orders.
struct BucketId {
  uint32_t hour = 0;
  std::string test;
  std::string host;
  uint32_t label_set = 0;
};
std::string SumTestKey(const BucketId& b);  // hour test \0 host \0 label_set
std::string SumHostKey(const BucketId& b);  // host \0 hour label_set test
// A parsed bucket key; the names are views into the key.
struct BucketView {
  uint32_t hour = 0;
  std::string_view test;
  std::string_view host;
  uint32_t label_set = 0;
};
bool ParseSumTestKey(std::string_view key, BucketView* b);
bool ParseSumHostKey(std::string_view key, BucketView* b);

struct BucketCounts {
  StatusCounts counts;
  int64_t first_us = 0;
  int64_t last_us = 0;
};
// Varints: six counts, then first and last as offsets from the start of `hour`.
std::string EncodeBucket(const BucketCounts& bucket, uint32_t hour);
bool DecodeBucket(std::string_view bytes, uint32_t hour, BucketCounts* bucket);

std::string LabelSetKey(uint32_t id);  // label_sets: u32
std::string LabelHostsKey(std::string_view label, std::string_view host, uint32_t label_set);
// host and label set of a label_hosts key whose label prefix the caller already matched.
bool ParseLabelHostsRest(std::string_view rest, std::string_view* host, uint32_t* label_set);

// "a\0b\0c\0": a label set as one string (the in-memory key of a set), and its BLAKE2b, the
// label_set_ids key.
std::string JoinLabels(const std::vector<std::string>& labels);
std::string LabelSetHash(std::string_view joined);

// entries[job, entry]: the entry's record ids (the order ReplaceEntry reuses them in) and its
// counts per status. Stored as a map {ids, counts} (record_codec.hpp).
struct EntryIndex {
  std::vector<uint64_t> ids;
  std::vector<uint64_t> counts;  // kResultStatusCount values
};

// Query cursors: "<start_us>.<id>", the position of the last result returned or examined.
std::string EncodeCursor(const TimePos& pos);
std::optional<TimePos> DecodeCursor(std::string_view cursor);

// A key one past every key starting with `prefix` (prefix with its last byte incremented,
// trailing 0xff bytes dropped); empty when there is none.
std::string PrefixEnd(std::string_view prefix);

}  // namespace labmesh::store::results
