// Create/read/update/delete through Store, batch atomicity, read-only stores, reopen.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "labmesh/store/store.hpp"
#include "store_test_util.hpp"

namespace labmesh::store {
namespace {

using testing::MakeHost;
using testing::OpenOrDie;
using testing::TempDir;

TEST(StoreCrud, TestPutGetReplaceListDelete) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  Result<std::optional<TestDef>> missing = store->GetTest("kernel.boot");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  // Text with quotes, a tab, a non-ASCII character and no final newline comes back byte for byte.
  const std::string control = "#!/bin/sh\necho \"h\u00e9llo\" 'x'\n\texit 0";
  WriteBatch batch;
  batch.PutTest(TestDef{"net:iperf", "throughput", "iperf3 -c $PEER\n", "bob", 10, "bob", 10});
  batch.PutTest(TestDef{"kernel.boot", "boots", control, "alice", 20, "alice", 20});
  ASSERT_TRUE(store->Apply(batch).ok());

  Result<std::optional<TestDef>> got = store->GetTest("kernel.boot");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->name, "kernel.boot");
  EXPECT_EQ((*got)->description, "boots");
  EXPECT_EQ((*got)->control, control);
  EXPECT_EQ((*got)->created_by, "alice");
  EXPECT_EQ((*got)->created_ms, 20);

  TestDef replaced = **got;
  replaced.control = "#!/bin/sh\nexit 1\n";
  replaced.updated_by = "carol";
  replaced.updated_ms = 30;
  WriteBatch replace;
  replace.PutTest(replaced);
  ASSERT_TRUE(store->Apply(replace).ok());
  got = store->GetTest("kernel.boot");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->control, "#!/bin/sh\nexit 1\n");
  EXPECT_EQ((*got)->created_ms, 20);
  EXPECT_EQ((*got)->updated_by, "carol");
  EXPECT_EQ((*got)->updated_ms, 30);

  Result<std::vector<TestDef>> tests = store->ListTests();
  ASSERT_TRUE(tests.ok());
  ASSERT_EQ(tests->size(), 2u);
  EXPECT_EQ((*tests)[0].name, "kernel.boot");  // sorted by name
  EXPECT_EQ((*tests)[1].name, "net:iperf");

  WriteBatch remove;
  remove.DeleteTest("kernel.boot");
  remove.DeleteTest("never-there");  // deleting an absent test is fine
  ASSERT_TRUE(store->Apply(remove).ok());
  EXPECT_FALSE(store->GetTest("kernel.boot")->has_value());
  ASSERT_EQ(store->ListTests()->size(), 1u);

  // Reopened, the catalog is still there.
  store.reset();
  store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  Result<std::optional<TestDef>> reopened = store->GetTest("net:iperf");
  ASSERT_TRUE(reopened.ok() && reopened->has_value());
  EXPECT_EQ((*reopened)->control, "iperf3 -c $PEER\n");
}

TEST(StoreCrud, HostPutGetUpdateDelete) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);

  Result<std::optional<Host>> missing = store->GetHost("lab-1");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  WriteBatch batch;
  batch.PutHost(MakeHost("lab-2"));
  batch.PutHost(MakeHost("lab-1"));
  ASSERT_TRUE(store->Apply(batch).ok());

  Result<std::optional<Host>> got = store->GetHost("lab-1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  const Host& host = **got;
  EXPECT_EQ(host.hostname, "lab-1");
  EXPECT_EQ(host.public_key, "key-lab-1");
  EXPECT_EQ(host.status, protocol::HostStatus::kRunning);
  EXPECT_EQ(host.agent_labels, (std::vector<std::string>{"arch:x86_64", "os:debian"}));
  EXPECT_EQ(host.facts.cpus, 8u);
  EXPECT_DOUBLE_EQ(host.health.load1, 0.5);
  EXPECT_EQ(host.incarnation, 7u);
  EXPECT_EQ(host.attributes.at("note"), "hello");

  Host updated = host;
  updated.status = protocol::HostStatus::kRepairFailed;
  updated.enrollment = Enrollment::kPending;
  updated.locked = true;
  updated.locked_by = "alice";
  WriteBatch update;
  update.PutHost(updated);
  ASSERT_TRUE(store->Apply(update).ok());
  got = store->GetHost("lab-1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->status, protocol::HostStatus::kRepairFailed);
  EXPECT_EQ((*got)->enrollment, Enrollment::kPending);
  EXPECT_TRUE((*got)->locked);
  EXPECT_EQ((*got)->locked_by, "alice");

  Result<std::vector<Host>> hosts = store->ListHosts();
  ASSERT_TRUE(hosts.ok());
  ASSERT_EQ(hosts->size(), 2u);
  EXPECT_EQ((*hosts)[0].hostname, "lab-1");  // sorted by hostname
  EXPECT_EQ((*hosts)[1].hostname, "lab-2");

  WriteBatch del;
  del.DeleteHost("lab-1");
  del.DeleteHost("never-existed");  // deleting an absent key is fine
  ASSERT_TRUE(store->Apply(del).ok());
  got = store->GetHost("lab-1");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  hosts = store->ListHosts();
  ASSERT_TRUE(hosts.ok());
  EXPECT_EQ(hosts->size(), 1u);
}

TEST(StoreCrud, LabelsPutListDelete) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  batch.PutLabel({"pool:slow", "bob", 2});
  batch.PutLabel({"pool:fast", "alice", 1});
  ASSERT_TRUE(store->Apply(batch).ok());

  Result<std::optional<Label>> label = store->GetLabel("pool:fast");
  ASSERT_TRUE(label.ok() && label->has_value());
  EXPECT_EQ((*label)->created_by, "alice");
  EXPECT_EQ((*label)->created_ms, 1);
  Result<std::vector<Label>> labels = store->ListLabels();
  ASSERT_TRUE(labels.ok());
  ASSERT_EQ(labels->size(), 2u);
  EXPECT_EQ((*labels)[0].name, "pool:fast");
  EXPECT_EQ((*labels)[1].name, "pool:slow");

  WriteBatch del;
  del.DeleteLabel("pool:fast");
  ASSERT_TRUE(store->Apply(del).ok());
  label = store->GetLabel("pool:fast");
  ASSERT_TRUE(label.ok());
  EXPECT_FALSE(label->has_value());
  labels = store->ListLabels();
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(labels->size(), 1u);
}

TEST(StoreCrud, RevokedKeysPutGetList) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  batch.RevokeKey({"Zkey2", "lab-2", "deleted", 20});
  batch.RevokeKey({"Zkey1", "lab-1", "rejected", 10});
  ASSERT_TRUE(store->Apply(batch).ok());

  Result<std::optional<RevokedKey>> key = store->GetRevokedKey("Zkey1");
  ASSERT_TRUE(key.ok() && key->has_value());
  EXPECT_EQ((*key)->hostname, "lab-1");
  EXPECT_EQ((*key)->reason, "rejected");
  EXPECT_EQ((*key)->revoked_ms, 10);
  key = store->GetRevokedKey("Zunknown");
  ASSERT_TRUE(key.ok());
  EXPECT_FALSE(key->has_value());
  Result<std::vector<RevokedKey>> keys = store->ListRevokedKeys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].public_key, "Zkey1");
}

TEST(StoreCrud, LaterChangeInBatchWins) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  Host first = MakeHost("lab-1");
  first.status_reason = "first";
  Host second = MakeHost("lab-1");
  second.status_reason = "second";
  batch.PutHost(first);
  batch.PutHost(second);
  batch.PutHost(MakeHost("lab-2"));
  batch.DeleteHost("lab-2");
  ASSERT_TRUE(store->Apply(batch).ok());
  Result<std::optional<Host>> got = store->GetHost("lab-1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->status_reason, "second");
  got = store->GetHost("lab-2");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

TEST(StoreCrud, FailingBatchLeavesNothing) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  WriteBatch good;
  good.PutHost(MakeHost("keep"));
  ASSERT_TRUE(store->Apply(good).ok());

  WriteBatch bad;
  bad.PutHost(MakeHost("new-1"));
  bad.DeleteHost("keep");
  bad.PutLabel({"new-label", "x", 1});
  bad.PutHost(MakeHost(std::string(600, 'h')));  // longer than LMDB's 511-byte key limit
  bad.PutHost(MakeHost("new-2"));
  Status status = store->Apply(bad);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_NE(status.message().find("batch op 3"), std::string::npos) << status.message();

  Result<std::vector<Host>> hosts = store->ListHosts();
  ASSERT_TRUE(hosts.ok());
  ASSERT_EQ(hosts->size(), 1u);
  EXPECT_EQ((*hosts)[0].hostname, "keep");
  Result<std::vector<Label>> labels = store->ListLabels();
  ASSERT_TRUE(labels.ok());
  EXPECT_TRUE(labels->empty());

  WriteBatch empty_key;
  empty_key.PutHost(MakeHost("ok"));
  empty_key.PutHost(MakeHost(""));
  EXPECT_EQ(store->Apply(empty_key).code(), StatusCode::kInvalidArgument);
  Result<std::optional<Host>> ok = store->GetHost("ok");
  ASSERT_TRUE(ok.ok());
  EXPECT_FALSE(ok->has_value());
}

TEST(StoreCrud, EmptyBatchIsOk) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->Apply(WriteBatch()).ok());
}

TEST(StoreCrud, ReopenKeepsData) {
  TempDir tmp;
  {
    auto store = OpenOrDie(tmp.db());
    ASSERT_NE(store, nullptr);
    WriteBatch batch;
    batch.PutHost(MakeHost("lab-1"));
    batch.PutLabel({"pool:fast", "alice", 1});
    batch.RevokeKey({"Zkey", "lab-9", "deleted", 3});
    ASSERT_TRUE(store->Apply(batch).ok());
  }
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  Result<std::optional<Host>> host = store->GetHost("lab-1");
  ASSERT_TRUE(host.ok() && host->has_value());
  EXPECT_EQ((*host)->public_key, "key-lab-1");
  Result<std::optional<Label>> label = store->GetLabel("pool:fast");
  ASSERT_TRUE(label.ok() && label->has_value());
  Result<std::optional<RevokedKey>> key = store->GetRevokedKey("Zkey");
  ASSERT_TRUE(key.ok() && key->has_value());
  EXPECT_EQ((*key)->hostname, "lab-9");
}

TEST(StoreCrud, CreatesMissingDirectoriesPrivate) {
  TempDir tmp;
  std::string dir = tmp.path() + "/var/labmesh/db";
  auto store = OpenOrDie(dir);
  ASSERT_NE(store, nullptr);
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(StoreCrud, ReadOnlyStoreReadsButRefusesApply) {
  TempDir tmp;
  {
    auto store = OpenOrDie(tmp.db());
    ASSERT_NE(store, nullptr);
    WriteBatch batch;
    batch.PutHost(MakeHost("lab-1"));
    ASSERT_TRUE(store->Apply(batch).ok());
  }
  StoreOptions options;
  options.read_only = true;
  auto store = OpenOrDie(tmp.db(), options);
  ASSERT_NE(store, nullptr);
  Result<std::optional<Host>> host = store->GetHost("lab-1");
  ASSERT_TRUE(host.ok() && host->has_value());

  WriteBatch batch;
  batch.PutHost(MakeHost("lab-2"));
  EXPECT_EQ(store->Apply(batch).code(), StatusCode::kFailedPrecondition);
  Result<std::vector<Host>> hosts = store->ListHosts();
  ASSERT_TRUE(hosts.ok());
  EXPECT_EQ(hosts->size(), 1u);
}

TEST(StoreCrud, ReadOnlyOpenOfMissingStoreFails) {
  TempDir tmp;
  StoreOptions options;
  options.read_only = true;
  Result<std::unique_ptr<Store>> store = Store::Open(tmp.path() + "/nothing", options);
  EXPECT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kNotFound) << store.status().ToString();
  struct stat st {};
  EXPECT_NE(::stat((tmp.path() + "/nothing").c_str(), &st), 0);  // read-only never creates
}

TEST(StoreCrud, RejectsBadMapOptions) {
  TempDir tmp;
  StoreOptions options;
  options.initial_map_bytes = 4 << 20;
  options.max_map_bytes = 1 << 20;
  EXPECT_EQ(Store::Open(tmp.db(), options).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace labmesh::store
