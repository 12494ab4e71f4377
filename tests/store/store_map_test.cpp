// LMDB map size: growth when full, the max_map_bytes cap, and readers during growth.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "labmesh/common/disk_space.hpp"
#include "labmesh/store/store.hpp"
#include "store_test_util.hpp"

namespace labmesh::store {
namespace {

using testing::MakeHost;
using testing::OpenOrDie;
using testing::TempDir;

constexpr uint64_t kMiB = 1ull << 20;

std::string Name(int i) {
  char name[32];
  std::snprintf(name, sizeof(name), "lab-%05d", i);
  return name;
}

TEST(StoreMap, GrowsWhenFullAndEverythingReadsBack) {
  LABMESH_LMDB_ONLY();  // the LMDB map
  TempDir tmp;
  StoreOptions options;
  options.initial_map_bytes = kMiB;
  options.max_map_bytes = 256 * kMiB;
  auto store = OpenOrDie(tmp.db(), options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->map_size_bytes(), kMiB);

  constexpr int kHosts = 2000;
  constexpr size_t kPadding = 4000;  // ~8 MB of hosts in all
  for (int start = 0; start < kHosts; start += 250) {
    WriteBatch batch;
    for (int i = start; i < start + 250; ++i) batch.PutHost(MakeHost(Name(i), kPadding));
    Status status = store->Apply(batch);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  EXPECT_GE(store->map_size_bytes(), 8 * kMiB);
  EXPECT_LE(store->map_size_bytes(), options.max_map_bytes);

  Result<std::vector<Host>> hosts = store->ListHosts();
  ASSERT_TRUE(hosts.ok()) << hosts.status().ToString();
  ASSERT_EQ(hosts->size(), static_cast<size_t>(kHosts));
  for (int i = 0; i < kHosts; ++i) {
    ASSERT_EQ((*hosts)[i].hostname, Name(i));
    ASSERT_EQ((*hosts)[i].attributes.at("padding").size(), kPadding);
  }

  // The grown map is kept across a reopen that asks for less.
  uint64_t grown = store->map_size_bytes();
  store.reset();
  store = OpenOrDie(tmp.db(), options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->map_size_bytes(), grown);
  Result<std::optional<Host>> last = store->GetHost(Name(kHosts - 1));
  ASSERT_TRUE(last.ok() && last->has_value());
}

TEST(StoreMap, OneBatchLargerThanTheMapGrowsSeveralTimes) {
  LABMESH_LMDB_ONLY();  // the LMDB map
  TempDir tmp;
  StoreOptions options;
  options.initial_map_bytes = kMiB;
  options.max_map_bytes = 64 * kMiB;
  auto store = OpenOrDie(tmp.db(), options);
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  for (int i = 0; i < 1000; ++i) batch.PutHost(MakeHost(Name(i), 6000));
  Status status = store->Apply(batch);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_GE(store->map_size_bytes(), 8 * kMiB);
  Result<std::vector<Host>> hosts = store->ListHosts();
  ASSERT_TRUE(hosts.ok());
  EXPECT_EQ(hosts->size(), 1000u);
}

// A map at its cap is a full disk for the coordinator: Unavailable "disk full", nothing written.
TEST(StoreMap, MaxMapBytesGivesDiskFullAndChangesNothing) {
  LABMESH_LMDB_ONLY();  // the LMDB map
  TempDir tmp;
  StoreOptions options;
  options.initial_map_bytes = kMiB;
  options.max_map_bytes = 2 * kMiB;
  auto store = OpenOrDie(tmp.db(), options);
  ASSERT_NE(store, nullptr);
  WriteBatch small;
  small.PutHost(MakeHost("keep"));
  ASSERT_TRUE(store->Apply(small).ok());

  WriteBatch huge;
  huge.DeleteHost("keep");
  for (int i = 0; i < 1000; ++i) huge.PutHost(MakeHost(Name(i), 4000));  // ~4 MB
  Status status = store->Apply(huge);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_TRUE(IsDiskFull(status)) << status.ToString();
  EXPECT_EQ(store->map_size_bytes(), 2 * kMiB);

  Result<std::vector<Host>> hosts = store->ListHosts();
  ASSERT_TRUE(hosts.ok());
  ASSERT_EQ(hosts->size(), 1u);
  EXPECT_EQ((*hosts)[0].hostname, "keep");

  // The store still works for batches that fit.
  WriteBatch after;
  after.PutHost(MakeHost("after"));
  EXPECT_TRUE(store->Apply(after).ok());
}

TEST(StoreMap, ReadersOnOtherThreadsDuringGrowth) {
  LABMESH_LMDB_ONLY();  // the LMDB map
  TempDir tmp;
  StoreOptions options;
  options.initial_map_bytes = kMiB;
  auto store = OpenOrDie(tmp.db(), options);
  ASSERT_NE(store, nullptr);
  WriteBatch first;
  first.PutHost(MakeHost("anchor"));
  ASSERT_TRUE(store->Apply(first).ok());

  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        Result<std::optional<Host>> host = store->GetHost("anchor");
        if (!host.ok() || !host->has_value()) ++failures;
        Result<std::vector<Label>> labels = store->ListLabels();
        if (!labels.ok()) ++failures;
        ++reads;
      }
    });
  }
  for (int start = 0; start < 1500; start += 100) {
    WriteBatch batch;
    for (int i = start; i < start + 100; ++i) batch.PutHost(MakeHost(Name(i), 4000));
    Status status = store->Apply(batch);
    EXPECT_TRUE(status.ok()) << status.ToString();
  }
  done = true;
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_GT(store->map_size_bytes(), kMiB);
}

// Not a benchmark (timing is printed, not asserted): one Apply of 1000 host updates commits
// and every update is visible afterwards.
TEST(StoreMap, ThousandHostUpdatesInOneBatch) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  std::vector<Host> hosts;
  for (int i = 0; i < 1000; ++i) hosts.push_back(MakeHost(Name(i)));
  WriteBatch create;
  for (const Host& host : hosts) create.PutHost(host);
  ASSERT_TRUE(store->Apply(create).ok());

  WriteBatch update;
  for (Host& host : hosts) {
    host.last_heartbeat_ms = 123456;
    host.health.load1 = 1.5;
    update.PutHost(host);
  }
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(store->Apply(update).ok());
  auto elapsed = std::chrono::steady_clock::now() - start;
  std::printf("Apply(1000 host updates): %.2f ms\n",
              std::chrono::duration<double, std::milli>(elapsed).count());

  Result<std::vector<Host>> listed = store->ListHosts();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1000u);
  for (const Host& host : *listed) ASSERT_EQ(host.last_heartbeat_ms, 123456);
}

}  // namespace
}  // namespace labmesh::store
