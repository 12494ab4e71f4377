#pragma once
// Field-by-field comparison of the package messages (package_messages.hpp) for the round-trip
// test.

#include <gtest/gtest.h>

#include "labmesh/protocol/package_messages.hpp"

namespace labmesh::protocol::testing {

inline void ExpectSame(const PackageInfo& a, const PackageInfo& b) {
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(a.bytes, b.bytes);
  EXPECT_EQ(a.uploaded_by, b.uploaded_by);
  EXPECT_EQ(a.uploaded_ms, b.uploaded_ms);
}
inline void ExpectSame(const PackageUploadRequest& a, const PackageUploadRequest& b) {
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(a.total_bytes, b.total_bytes);
  EXPECT_EQ(a.offset, b.offset);
  EXPECT_EQ(a.data, b.data);
}
inline void ExpectSame(const PackageUploadReply& a, const PackageUploadReply& b) {
  EXPECT_EQ(a.received_bytes, b.received_bytes);
  EXPECT_EQ(a.done, b.done);
  ExpectSame(a.package, b.package);
}
inline void ExpectSame(const PackageListRequest& a, const PackageListRequest& b) {
  EXPECT_EQ(a.version, b.version);
}
inline void ExpectSame(const PackageListReply& a, const PackageListReply& b) {
  ASSERT_EQ(a.packages.size(), b.packages.size());
  for (size_t i = 0; i < a.packages.size(); ++i) ExpectSame(a.packages[i], b.packages[i]);
  EXPECT_EQ(a.desired.version, b.desired.version);
  EXPECT_EQ(a.desired.canary_percent, b.desired.canary_percent);
  EXPECT_EQ(a.desired.set_by, b.desired.set_by);
  EXPECT_EQ(a.desired.set_ms, b.desired.set_ms);
  EXPECT_EQ(a.host_versions, b.host_versions);
}
inline void ExpectSame(const PackageDesireRequest& a, const PackageDesireRequest& b) {
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.canary_percent, b.canary_percent);
}
inline void ExpectSame(const PackageChunkRequest& a, const PackageChunkRequest& b) {
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(a.offset, b.offset);
  EXPECT_EQ(a.max_bytes, b.max_bytes);
  EXPECT_EQ(a.mesh, b.mesh);
}
inline void ExpectSame(const PackageChunk& a, const PackageChunk& b) {
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(a.offset, b.offset);
  EXPECT_EQ(a.total_bytes, b.total_bytes);
  EXPECT_EQ(a.data, b.data);
  EXPECT_EQ(a.peer.hostname, b.peer.hostname);
  EXPECT_EQ(a.peer.endpoint, b.peer.endpoint);
  EXPECT_EQ(a.peer.public_key, b.peer.public_key);
  EXPECT_EQ(a.peer.ticket, b.peer.ticket);
  EXPECT_EQ(a.retry_after_ms, b.retry_after_ms);
}

}  // namespace labmesh::protocol::testing
