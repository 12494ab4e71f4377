#pragma once
// Field-by-field comparison of the special-task messages (task_messages.hpp) for the round-trip
// test, kept apart so that message_roundtrip_test.cpp stays readable.

#include <gtest/gtest.h>

#include <cstddef>

#include "labmesh/protocol/task_messages.hpp"

namespace labmesh::protocol::testing {

inline void ExpectSame(const TaskCheck& a, const TaskCheck& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.passed, b.passed);
  EXPECT_EQ(a.output, b.output);
  EXPECT_EQ(a.duration_ms, b.duration_ms);
}
inline void ExpectSameChecks(const std::vector<TaskCheck>& a, const std::vector<TaskCheck>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ExpectSame(a[i], b[i]);
}
inline void ExpectSame(const TaskInfo& a, const TaskInfo& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.hostname, b.hostname);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.requested_by, b.requested_by);
  EXPECT_EQ(a.job_id, b.job_id);
  EXPECT_EQ(a.entry_id, b.entry_id);
  EXPECT_EQ(a.queued_ms, b.queued_ms);
  EXPECT_EQ(a.started_ms, b.started_ms);
  EXPECT_EQ(a.finished_ms, b.finished_ms);
  ExpectSameChecks(a.checks, b.checks);
}
inline void ExpectSame(const RunTask& a, const RunTask& b) {
  EXPECT_EQ(a.task_id, b.task_id);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.repair_scripts, b.repair_scripts);
  EXPECT_EQ(a.verify_after, b.verify_after);
  EXPECT_EQ(a.coordinator_ms, b.coordinator_ms);
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.package_sha256, b.package_sha256);
  EXPECT_EQ(a.package_bytes, b.package_bytes);
}
inline void ExpectSame(const TaskReport& a, const TaskReport& b) {
  EXPECT_EQ(a.task_id, b.task_id);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.passed, b.passed);
  EXPECT_EQ(a.reason, b.reason);
  ExpectSameChecks(a.checks, b.checks);
}
inline void ExpectSame(const HostTaskRequest& a, const HostTaskRequest& b) {
  EXPECT_EQ(a.hostname, b.hostname);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.user, b.user);
}
inline void ExpectSame(const HostTaskReply& a, const HostTaskReply& b) { ExpectSame(a.task, b.task); }
inline void ExpectSame(const HostHistoryRequest& a, const HostHistoryRequest& b) {
  EXPECT_EQ(a.hostname, b.hostname);
  EXPECT_EQ(a.limit, b.limit);
}
inline void ExpectSame(const HistoryItem& a, const HistoryItem& b) {
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.job_id, b.job_id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.requested_by, b.requested_by);
  EXPECT_EQ(a.queued_ms, b.queued_ms);
  EXPECT_EQ(a.started_ms, b.started_ms);
  EXPECT_EQ(a.finished_ms, b.finished_ms);
  ExpectSameChecks(a.checks, b.checks);
  EXPECT_EQ(a.crash, b.crash);
  EXPECT_EQ(a.crash_line, b.crash_line);
}
inline void ExpectSame(const HostHistoryReply& a, const HostHistoryReply& b) {
  ASSERT_EQ(a.items.size(), b.items.size());
  for (size_t i = 0; i < a.items.size(); ++i) ExpectSame(a.items[i], b.items[i]);
}
inline void ExpectSame(const HostModRequest& a, const HostModRequest& b) {
  EXPECT_EQ(a.hostname, b.hostname);
  EXPECT_EQ(a.protection, b.protection);
  EXPECT_EQ(a.user, b.user);
}

}  // namespace labmesh::protocol::testing
