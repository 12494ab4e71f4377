// DirLock (one process per directory) and the disk-full helpers: the lock excludes a second
// holder, names the holder's pid, waits when asked, and is free again when its holder is gone.

#include "labmesh/common/dir_lock.hpp"
#include "labmesh/common/disk_space.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace labmesh {
namespace {

using labmesh::testing::TempDir;

TEST(DirLock, SecondHolderIsRefusedWithTheHoldersPid) {
  TempDir tmp;
  auto first = DirLock::Acquire(tmp.path(), "agent");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // Another open of the file is another holder, even in this process (flock's rule).
  auto second = DirLock::Acquire(tmp.path(), "agent");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  const std::string& message = second.status().message();
  EXPECT_NE(message.find("is in use by another agent"), std::string::npos) << message;
  EXPECT_NE(message.find("(pid " + std::to_string(getpid()) + ")"), std::string::npos) << message;
  EXPECT_NE(message.find(tmp.path() + "/labmesh.lock"), std::string::npos) << message;
}

TEST(DirLock, FreeAgainWhenReleased) {
  TempDir tmp;
  {
    auto first = DirLock::Acquire(tmp.path(), "coordinator");
    ASSERT_TRUE(first.ok()) << first.status().ToString();
  }
  auto again = DirLock::Acquire(tmp.path(), "coordinator");
  EXPECT_TRUE(again.ok()) << again.status().ToString();
}

TEST(DirLock, WaitGivesUpAfterItsTime) {
  TempDir tmp;
  auto first = DirLock::Acquire(tmp.path(), "agent");
  ASSERT_TRUE(first.ok());
  auto waited = DirLock::Acquire(tmp.path(), "agent", /*wait_ms=*/100);
  EXPECT_FALSE(waited.ok());
}

TEST(DirLock, MissingDirectoryIsAClearError) {
  TempDir tmp;
  auto lock = DirLock::Acquire(tmp.path() + "/nope", "agent");
  ASSERT_FALSE(lock.ok());
  EXPECT_NE(lock.status().message().find("cannot open the lock file"), std::string::npos);
}

TEST(DiskSpace, DiskFullIsRecognisedByItsSpelling) {
  Status full = DiskFull("the map is at its limit");
  EXPECT_EQ(full.ToString(), "Unavailable: disk full: the map is at its limit");
  EXPECT_TRUE(IsDiskFull(full));
  EXPECT_FALSE(IsDiskFull(Status::Unavailable("peer gone")));
  EXPECT_FALSE(IsDiskFull(Status::Internal("disk full: not this code")));
  EXPECT_TRUE(IsNoSpaceErrno(ENOSPC));
  EXPECT_FALSE(IsNoSpaceErrno(EIO));
  TempDir tmp;
  auto available = AvailableBytes(tmp.path());
  ASSERT_TRUE(available.ok()) << available.status().ToString();
  EXPECT_GT(*available, 0u);
}

}  // namespace
}  // namespace labmesh
