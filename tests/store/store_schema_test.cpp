// Schema version and migrations, and what the store does with bytes it did not write.

#include <gtest/gtest.h>

#include <msgpack.hpp>

#include "labmesh/store/store.hpp"
#include "schema.hpp"
#include "store_test_util.hpp"
#include "table.hpp"

namespace labmesh::store {
namespace {

using testing::GetRaw;
using testing::MakeHost;
using testing::OpenOrDie;
using testing::PutRaw;
using testing::TempDir;

std::string Pack(uint32_t value) {
  Result<std::string> bytes = EncodeValue(value);
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? *bytes : std::string();
}

TEST(StoreSchema, NewStoreRecordsCurrentVersion) {
  TempDir tmp;
  {
    auto store = OpenOrDie(tmp.db());
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->schema_version(), kSchemaVersion);
  }
  EXPECT_EQ(GetRaw(tmp.db(), kMetaTable, kSchemaVersionKey), Pack(kSchemaVersion));
}

TEST(StoreSchema, MigrationsAreOrderedAndEndAtCurrentVersion) {
  std::span<const Migration> migrations = Migrations();
  ASSERT_FALSE(migrations.empty());
  for (size_t i = 0; i < migrations.size(); ++i) {
    EXPECT_EQ(migrations[i].to_version, i + 1);
    EXPECT_FALSE(migrations[i].description.empty());
  }
  EXPECT_EQ(migrations.back().to_version, kSchemaVersion);
}

TEST(StoreSchema, VersionZeroStoreIsMigrated) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.db());
  PutRaw(tmp.db(), kMetaTable, "unrelated", "x");  // an environment with no version yet
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), kSchemaVersion);
  WriteBatch batch;
  batch.PutHost(MakeHost("lab-1"));
  EXPECT_TRUE(store->Apply(batch).ok());
}

// A store as labmesh with schema version 1 left it: meta, hosts, labels, revoked_keys and no
// tests table. Opening it read-write migrates it to the current version and keeps every record.
TEST(StoreSchema, VersionOneStoreGetsTheTestsTableAndKeepsItsRecords) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.db());
  Result<std::string> host = EncodeValue(MakeHost("lab-1"));
  ASSERT_TRUE(host.ok());
  PutRaw(tmp.db(), kHostsTable, "lab-1", *host);
  Result<std::string> label = EncodeValue(Label{"pool:fast", "alice", 5});
  ASSERT_TRUE(label.ok());
  PutRaw(tmp.db(), kLabelsTable, "pool:fast", *label);
  PutRaw(tmp.db(), kRevokedKeysTable, "key-old", *EncodeValue(RevokedKey{"key-old", "x", "y", 1}));
  PutRaw(tmp.db(), kMetaTable, kSchemaVersionKey, Pack(1));
  EXPECT_EQ(GetRaw(tmp.db(), kTestsTable, "anything").rfind("<NotFound", 0), 0u);

  {
    // Read-only cannot migrate: refused, nothing written.
    StoreOptions read_only;
    read_only.read_only = true;
    Result<std::unique_ptr<Store>> refused = Store::Open(tmp.db(), read_only);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(GetRaw(tmp.db(), kMetaTable, kSchemaVersionKey), Pack(1));

  {
    auto store = OpenOrDie(tmp.db());
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->schema_version(), kSchemaVersion);
    Result<std::optional<Host>> kept = store->GetHost("lab-1");
    ASSERT_TRUE(kept.ok() && kept->has_value());
    EXPECT_EQ((*kept)->public_key, "key-lab-1");
    EXPECT_EQ((*kept)->acl_groups, std::vector<std::string>{kEveryoneGroup});
    Result<std::optional<Label>> kept_label = store->GetLabel("pool:fast");
    ASSERT_TRUE(kept_label.ok() && kept_label->has_value());
    EXPECT_EQ((*kept_label)->created_by, "alice");
    ASSERT_TRUE(store->GetRevokedKey("key-old").ok());
    EXPECT_TRUE(store->GetRevokedKey("key-old")->has_value());
    Result<std::vector<TestDef>> tests = store->ListTests();
    ASSERT_TRUE(tests.ok()) << tests.status().ToString();
    EXPECT_TRUE(tests->empty());
    WriteBatch batch;
    batch.PutTest(TestDef{"kernel.boot", "", "#!/bin/sh\n", "alice", 1, "alice", 1});
    ASSERT_TRUE(store->Apply(batch).ok());
  }
  EXPECT_EQ(GetRaw(tmp.db(), kMetaTable, kSchemaVersionKey), Pack(kSchemaVersion));
  EXPECT_NE(GetRaw(tmp.db(), kTestsTable, "kernel.boot"), "<absent>");
  // Read-only opens now that it is current, and sees the test.
  StoreOptions read_only;
  read_only.read_only = true;
  auto reader = OpenOrDie(tmp.db(), read_only);
  ASSERT_NE(reader, nullptr);
  Result<std::optional<TestDef>> test = reader->GetTest("kernel.boot");
  ASSERT_TRUE(test.ok() && test->has_value());
  EXPECT_EQ((*test)->control, "#!/bin/sh\n");
}

// A store as labmesh with schema version 2 left it (the test catalog, no jobs): opening it
// read-write adds the jobs, entries, users and acl_groups tables, creates the Everyone group and
// puts every existing host in it; a host that already names groups keeps them.
TEST(StoreSchema, VersionTwoStoreGetsJobTablesAndEveryHostJoinsEveryone) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.db());
  Host pending = MakeHost("lab-2");
  pending.enrollment = Enrollment::kPending;
  Host grouped = MakeHost("lab-3");
  grouped.acl_groups = {"kernel-team"};
  for (const Host& host : {MakeHost("lab-1"), pending, grouped}) {
    Result<std::string> bytes = EncodeValue(host);
    ASSERT_TRUE(bytes.ok());
    PutRaw(tmp.db(), kHostsTable, host.hostname, *bytes);
  }
  PutRaw(tmp.db(), kLabelsTable, "pool:fast", *EncodeValue(Label{"pool:fast", "alice", 5}));
  PutRaw(tmp.db(), kRevokedKeysTable, "key-old", *EncodeValue(RevokedKey{"key-old", "x", "y", 1}));
  PutRaw(tmp.db(), kTestsTable, "kernel.boot",
         *EncodeValue(TestDef{"kernel.boot", "boots", "#!/bin/sh\n", "alice", 1, "alice", 1}));
  PutRaw(tmp.db(), kMetaTable, kSchemaVersionKey, Pack(2));
  for (const char* table : {kJobsTable, kEntriesTable, kUsersTable, kAclGroupsTable}) {
    EXPECT_EQ(GetRaw(tmp.db(), table, "anything").rfind("<NotFound", 0), 0u) << table;
  }

  {
    auto store = OpenOrDie(tmp.db());
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->schema_version(), kSchemaVersion);

    Result<std::vector<Host>> hosts = store->ListHosts();
    ASSERT_TRUE(hosts.ok()) << hosts.status().ToString();
    ASSERT_EQ(hosts->size(), 3u);
    EXPECT_EQ((*hosts)[0].acl_groups, std::vector<std::string>{kEveryoneGroup});
    EXPECT_EQ((*hosts)[1].acl_groups, std::vector<std::string>{kEveryoneGroup});
    EXPECT_EQ((*hosts)[1].enrollment, Enrollment::kPending);
    EXPECT_EQ((*hosts)[2].acl_groups, std::vector<std::string>{"kernel-team"});
    // Everything else the host had is kept.
    EXPECT_EQ((*hosts)[0].public_key, "key-lab-1");
    EXPECT_EQ((*hosts)[0].attributes.at("note"), "hello");

    Result<std::vector<AclGroup>> groups = store->ListAclGroups();
    ASSERT_TRUE(groups.ok()) << groups.status().ToString();
    ASSERT_EQ(groups->size(), 1u);
    EXPECT_EQ((*groups)[0].name, kEveryoneGroup);

    Result<std::vector<Job>> jobs = store->ListJobs();
    ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
    EXPECT_TRUE(jobs->empty());
    Result<std::vector<Entry>> entries = store->ListEntries();
    ASSERT_TRUE(entries.ok()) << entries.status().ToString();
    EXPECT_TRUE(entries->empty());
    Result<std::vector<User>> users = store->ListUsers();
    ASSERT_TRUE(users.ok()) << users.status().ToString();
    EXPECT_TRUE(users->empty());
    Result<uint64_t> max_job = store->MaxJobId();
    ASSERT_TRUE(max_job.ok()) << max_job.status().ToString();
    EXPECT_EQ(*max_job, 0u);

    Result<std::optional<TestDef>> test = store->GetTest("kernel.boot");
    ASSERT_TRUE(test.ok() && test->has_value());
    EXPECT_EQ((*test)->control, "#!/bin/sh\n");
    ASSERT_TRUE(store->GetLabel("pool:fast").ok());
    EXPECT_TRUE(store->GetLabel("pool:fast")->has_value());
    EXPECT_TRUE(store->GetRevokedKey("key-old")->has_value());
  }
  EXPECT_EQ(GetRaw(tmp.db(), kMetaTable, kSchemaVersionKey), Pack(kSchemaVersion));

  // A second open migrates nothing again and sees the same.
  auto again = OpenOrDie(tmp.db());
  ASSERT_NE(again, nullptr);
  Result<std::vector<AclGroup>> groups = again->ListAclGroups();
  ASSERT_TRUE(groups.ok());
  EXPECT_EQ(groups->size(), 1u);
}

TEST(StoreSchema, NewStoreHasTheEveryoneGroup) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  Result<std::vector<AclGroup>> groups = store->ListAclGroups();
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ((*groups)[0].name, kEveryoneGroup);
}

TEST(StoreSchema, NewerSchemaIsRefused) {
  TempDir tmp;
  {
    auto store = OpenOrDie(tmp.db());
    ASSERT_NE(store, nullptr);
  }
  PutRaw(tmp.db(), kMetaTable, kSchemaVersionKey, Pack(kSchemaVersion + 1));

  Result<std::unique_ptr<Store>> store = Store::Open(tmp.db());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition) << store.status().ToString();
  EXPECT_NE(store.status().message().find("newer"), std::string::npos);

  StoreOptions read_only;
  read_only.read_only = true;
  store = Store::Open(tmp.db(), read_only);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);

  // Refusing changed nothing: the newer version is still recorded.
  EXPECT_EQ(GetRaw(tmp.db(), kMetaTable, kSchemaVersionKey), Pack(kSchemaVersion + 1));
}

TEST(StoreSchema, ReadOnlyRefusesStoreNeedingMigration) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.db());
  PutRaw(tmp.db(), kMetaTable, "unrelated", "x");
  StoreOptions read_only;
  read_only.read_only = true;
  Result<std::unique_ptr<Store>> store = Store::Open(tmp.db(), read_only);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition) << store.status().ToString();
  EXPECT_EQ(GetRaw(tmp.db(), kMetaTable, kSchemaVersionKey), "<absent>");
}

TEST(StoreSchema, CorruptVersionIsCorruption) {
  TempDir tmp;
  {
    auto store = OpenOrDie(tmp.db());
    ASSERT_NE(store, nullptr);
  }
  PutRaw(tmp.db(), kMetaTable, kSchemaVersionKey, "\xc1garbage");
  Result<std::unique_ptr<Store>> store = Store::Open(tmp.db());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kCorruption) << store.status().ToString();
}

class StoreCorruptValue : public ::testing::TestWithParam<std::string> {};

TEST_P(StoreCorruptValue, HostReadsAsCorruption) {
  TempDir tmp;
  {
    auto store = OpenOrDie(tmp.db());
    ASSERT_NE(store, nullptr);
    WriteBatch batch;
    batch.PutHost(MakeHost("good"));
    batch.PutLabel({"pool", "a", 1});
    ASSERT_TRUE(store->Apply(batch).ok());
  }
  PutRaw(tmp.db(), kHostsTable, "bad", GetParam());
  PutRaw(tmp.db(), kLabelsTable, "bad", std::string("\xc1", 1));
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);

  Result<std::optional<Host>> bad = store->GetHost("bad");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("hosts[bad]"), std::string::npos);
  Result<std::vector<Host>> hosts = store->ListHosts();
  EXPECT_EQ(hosts.status().code(), StatusCode::kCorruption);
  Result<std::optional<Label>> label = store->GetLabel("bad");
  EXPECT_EQ(label.status().code(), StatusCode::kCorruption);

  // Healthy rows still read, and the bad row can be overwritten or deleted.
  Result<std::optional<Host>> good = store->GetHost("good");
  ASSERT_TRUE(good.ok() && good->has_value());
  WriteBatch fix;
  fix.PutHost(MakeHost("bad"));
  fix.DeleteLabel("bad");
  ASSERT_TRUE(store->Apply(fix).ok());
  EXPECT_TRUE(store->GetHost("bad").ok());
  EXPECT_TRUE(store->ListLabels().ok());
}

std::string HostWithStatus(int status) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  packer.pack_map(2);
  packer.pack(std::string("hostname"));
  packer.pack(std::string("bad"));
  packer.pack(std::string("status"));
  packer.pack(status);
  return std::string(buffer.data(), buffer.size());
}

std::string Truncated() {
  Result<std::string> bytes = EncodeValue(MakeHost("bad"));
  return bytes->substr(0, bytes->size() / 2);
}

INSTANTIATE_TEST_SUITE_P(
    Bytes, StoreCorruptValue,
    ::testing::Values(std::string("\xc1", 1),                   // never-used msgpack byte
                      std::string("not msgpack at all"),        // a fixstr + trailing bytes
                      std::string("\x92\x01\x02", 3),           // an array, not a map
                      std::string("\x81\xa8hostname\x07", 11),  // hostname is an integer
                      std::string("\xdd\xff\xff\xff\xff", 5),   // array claiming 4G elements
                      std::string("\xdf\x00\xff\xff\xff", 5),   // map claiming 16M pairs
                      Truncated(), HostWithStatus(200)));

TEST(StoreSchema, UnknownFieldsAreIgnoredAndMissingOnesDefault) {
  TempDir tmp;
  {
    auto store = OpenOrDie(tmp.db());
    ASSERT_NE(store, nullptr);
  }
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  packer.pack_map(2);
  packer.pack(std::string("hostname"));
  packer.pack(std::string("lab-7"));
  packer.pack(std::string("field_from_the_future"));
  packer.pack(42);
  PutRaw(tmp.db(), kHostsTable, "lab-7", std::string(buffer.data(), buffer.size()));
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  Result<std::optional<Host>> host = store->GetHost("lab-7");
  ASSERT_TRUE(host.ok()) << host.status().ToString();
  ASSERT_TRUE(host->has_value());
  EXPECT_EQ((*host)->hostname, "lab-7");
  EXPECT_EQ((*host)->status, protocol::HostStatus::kReady);
  EXPECT_EQ((*host)->incarnation, 0u);
}

// A store as labmesh with schema version 3 left it (jobs, no special tasks): opening it
// read-write adds the tasks tables and indexes every entry that has a host under that host, so
// `host history` sees entries that ran before the upgrade.
TEST(StoreSchema, VersionThreeStoreGetsTaskTablesAndIndexesEntriesByHost) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.db());
  PutRaw(tmp.db(), kHostsTable, "lab-1", *EncodeValue(MakeHost("lab-1")));
  for (uint64_t id : {1, 2, 3}) {
    Entry entry;
    entry.id = id;
    entry.job_id = 1;
    entry.hostname = id == 2 ? "" : "lab-1";  // entry 2: a label entry never given a host
    PutRaw(tmp.db(), kEntriesTable, IdKey(id), *EncodeValue(entry));
  }
  // The other tables a version-3 store has.
  PutRaw(tmp.db(), kLabelsTable, "pool:fast", *EncodeValue(Label{"pool:fast", "alice", 5}));
  PutRaw(tmp.db(), kRevokedKeysTable, "key-old", *EncodeValue(RevokedKey{"key-old", "x", "y", 1}));
  PutRaw(tmp.db(), kTestsTable, "t", *EncodeValue(TestDef{"t", "", "#!/bin/sh\n", "a", 1, "a", 1}));
  Job job;
  job.id = 1;
  PutRaw(tmp.db(), kJobsTable, IdKey(1), *EncodeValue(job));
  PutRaw(tmp.db(), kUsersTable, "alice", *EncodeValue(User{"alice", {}, false, 1, "", {}}));
  PutRaw(tmp.db(), kAclGroupsTable, kEveryoneGroup, *EncodeValue(AclGroup{kEveryoneGroup, "", 1}));
  PutRaw(tmp.db(), kMetaTable, kSchemaVersionKey, Pack(3));
  EXPECT_EQ(GetRaw(tmp.db(), kTasksTable, "anything").rfind("<NotFound", 0), 0u);

  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), kSchemaVersion);
  Result<std::vector<Entry>> entries = store->ListHostEntries("lab-1", 10);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].id, 3u);  // newest first
  EXPECT_EQ((*entries)[1].id, 1u);
  Result<std::vector<SpecialTask>> tasks = store->ListHostTasks("lab-1", 10);
  ASSERT_TRUE(tasks.ok());
  EXPECT_TRUE(tasks->empty());
  Result<std::optional<Host>> host = store->GetHost("lab-1");
  ASSERT_TRUE(host.ok() && host->has_value());
  EXPECT_EQ((*host)->protection, protocol::Protection::kNone);  // field absent before: default
}

}  // namespace
}  // namespace labmesh::store
