#pragma once
// Field-by-field comparison of the results index messages (results_messages.hpp) for the
// round-trip test, kept apart so that message_roundtrip_test.cpp stays readable.

#include <gtest/gtest.h>

#include <cstddef>

#include "labmesh/protocol/results_messages.hpp"

namespace labmesh::protocol::testing {

inline void ExpectSame(const TestResultInfo& a, const TestResultInfo& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.job_id, b.job_id);
  EXPECT_EQ(a.entry_id, b.entry_id);
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.test, b.test);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.start_us, b.start_us);
  EXPECT_EQ(a.end_us, b.end_us);
  EXPECT_EQ(a.duration_us, b.duration_us);
  EXPECT_EQ(a.keyvals, b.keyvals);
  EXPECT_EQ(a.perf, b.perf);
  EXPECT_EQ(a.file, b.file);
  EXPECT_EQ(a.link, b.link);
}
inline void ExpectSame(const ResultsListRequest& a, const ResultsListRequest& b) {
  EXPECT_EQ(a.job_id, b.job_id);
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.label, b.label);
  EXPECT_EQ(a.test, b.test);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.since_us, b.since_us);
  EXPECT_EQ(a.until_us, b.until_us);
  EXPECT_EQ(a.limit, b.limit);
  EXPECT_EQ(a.cursor, b.cursor);
}
inline void ExpectSame(const ResultsListReply& a, const ResultsListReply& b) {
  ASSERT_EQ(a.results.size(), b.results.size());
  for (size_t i = 0; i < a.results.size(); ++i) ExpectSame(a.results[i], b.results[i]);
  EXPECT_EQ(a.next_cursor, b.next_cursor);
}
inline void ExpectSame(const SummaryRowInfo& a, const SummaryRowInfo& b) {
  EXPECT_EQ(a.test, b.test);
  EXPECT_EQ(a.group, b.group);
  EXPECT_EQ(a.total, b.total);
  EXPECT_EQ(a.counts, b.counts);
  EXPECT_EQ(a.pass_rate, b.pass_rate);
  EXPECT_EQ(a.first_us, b.first_us);
  EXPECT_EQ(a.last_us, b.last_us);
}
inline void ExpectSame(const ResultsSummaryRequest& a, const ResultsSummaryRequest& b) {
  EXPECT_EQ(a.group_by, b.group_by);
  EXPECT_EQ(a.test, b.test);
  EXPECT_EQ(a.test_prefix, b.test_prefix);
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.label, b.label);
  EXPECT_EQ(a.since_us, b.since_us);
  EXPECT_EQ(a.until_us, b.until_us);
}
inline void ExpectSame(const ResultsSummaryReply& a, const ResultsSummaryReply& b) {
  ASSERT_EQ(a.rows.size(), b.rows.size());
  for (size_t i = 0; i < a.rows.size(); ++i) ExpectSame(a.rows[i], b.rows[i]);
}
inline void ExpectSame(const SeriesPointInfo& a, const SeriesPointInfo& b) {
  EXPECT_EQ(a.time_us, b.time_us);
  EXPECT_EQ(a.value, b.value);
  EXPECT_EQ(a.job_id, b.job_id);
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.link, b.link);
}
inline void ExpectSame(const ResultsSeriesRequest& a, const ResultsSeriesRequest& b) {
  EXPECT_EQ(a.test, b.test);
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.label, b.label);
  EXPECT_EQ(a.since_us, b.since_us);
  EXPECT_EQ(a.until_us, b.until_us);
  EXPECT_EQ(a.limit, b.limit);
}
inline void ExpectSame(const ResultsSeriesReply& a, const ResultsSeriesReply& b) {
  ASSERT_EQ(a.points.size(), b.points.size());
  for (size_t i = 0; i < a.points.size(); ++i) ExpectSame(a.points[i], b.points[i]);
}
inline void ExpectSame(const ResultsReparseRequest& a, const ResultsReparseRequest& b) {
  EXPECT_EQ(a.job_id, b.job_id);
  EXPECT_EQ(a.user, b.user);
}
inline void ExpectSame(const ResultsReparseReply& a, const ResultsReparseReply& b) {
  EXPECT_EQ(a.job_id, b.job_id);
  EXPECT_EQ(a.entries, b.entries);
  EXPECT_EQ(a.results, b.results);
  EXPECT_EQ(a.warnings, b.warnings);
}

inline void ExpectSame(const ResultsUsageRequest& a, const ResultsUsageRequest& b) {
  EXPECT_EQ(a.owner, b.owner);
}
inline void ExpectSame(const ResultsUsageReply& a, const ResultsUsageReply& b) {
  EXPECT_EQ(a.total_bytes, b.total_bytes);
  EXPECT_EQ(a.jobs, b.jobs);
  auto same = [](const std::vector<UsageRow>& x, const std::vector<UsageRow>& y) {
    ASSERT_EQ(x.size(), y.size());
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(x[i].key, y[i].key);
      EXPECT_EQ(x[i].bytes, y[i].bytes);
      EXPECT_EQ(x[i].jobs, y[i].jobs);
    }
  };
  same(a.by_owner, b.by_owner);
  same(a.by_month, b.by_month);
}
// Two file lists (EntryReport, ResultsImportRequest): the same paths, sizes and hashes.
inline void ExpectSameDigests(const std::vector<FileDigest>& a, const std::vector<FileDigest>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].path, b[i].path);
    EXPECT_EQ(a[i].size, b[i].size);
    EXPECT_EQ(a[i].hash, b[i].hash);
  }
}
inline void ExpectSame(const ResultsImportRequest& a, const ResultsImportRequest& b) {
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.job_name, b.job_name);
  ExpectSameDigests(a.files, b.files);
}
inline void ExpectSame(const ResultsImportReply& a, const ResultsImportReply& b) {
  EXPECT_EQ(a.job_id, b.job_id);
  EXPECT_EQ(a.entry_id, b.entry_id);
  EXPECT_EQ(a.results_path, b.results_path);
}
inline void ExpectSame(const ResultsImportChunkRequest& a, const ResultsImportChunkRequest& b) {
  EXPECT_EQ(a.entry_id, b.entry_id);
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.offset, b.offset);
  EXPECT_EQ(a.data, b.data);
  EXPECT_EQ(a.hash, b.hash);
}
inline void ExpectSame(const ResultsImportChunkReply& a, const ResultsImportChunkReply& b) {
  EXPECT_EQ(a.entry_id, b.entry_id);
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.next_offset, b.next_offset);
  EXPECT_EQ(a.error, b.error);
}
inline void ExpectSame(const ResultsImportDoneRequest& a, const ResultsImportDoneRequest& b) {
  EXPECT_EQ(a.entry_id, b.entry_id);
}
inline void ExpectSame(const JobDeleteRequest& a, const JobDeleteRequest& b) {
  EXPECT_EQ(a.id, b.id);
}
inline void ExpectSame(const JobDeleteReply& a, const JobDeleteReply& b) {
  EXPECT_EQ(a.job_id, b.job_id);
  EXPECT_EQ(a.already_removed, b.already_removed);
  EXPECT_EQ(a.dirs, b.dirs);
  EXPECT_EQ(a.files, b.files);
  EXPECT_EQ(a.bytes, b.bytes);
  EXPECT_EQ(a.index_rows, b.index_rows);
  EXPECT_EQ(a.reason, b.reason);
}

}  // namespace labmesh::protocol::testing
