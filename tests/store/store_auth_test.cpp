// Users with API tokens (the tokens index kept by Apply), ACL group deletion and the audit log;
// a version-4 store migrating to 5.

#include <gtest/gtest.h>

#include <filesystem>

#include "labmesh/store/store.hpp"
#include "schema.hpp"
#include "store_test_util.hpp"

namespace labmesh::store {
namespace {

using testing::OpenOrDie;
using testing::TempDir;

User MakeUser(const std::string& name, std::vector<std::string> hashes) {
  User user{name, {kEveryoneGroup}, false, 1, "", {}};
  uint32_t id = 0;
  for (auto& hash : hashes) user.tokens.push_back(ApiToken{++id, std::move(hash), 2});
  return user;
}

std::string UserOfHash(const Store& store, const std::string& hash) {
  auto user = store.FindUserByTokenHash(hash);
  EXPECT_TRUE(user.ok()) << user.status().ToString();
  return user.ok() && user->has_value() ? (*user)->name : "";
}

TEST(StoreAuth, TokensIndexFollowsEveryPutAndDelete) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  batch.PutUser(MakeUser("alice", {"h-a1", "h-a2"}));
  batch.PutUser(MakeUser("bob", {"h-b1"}));
  ASSERT_TRUE(store->Apply(batch).ok());
  EXPECT_EQ(UserOfHash(*store, "h-a1"), "alice");
  EXPECT_EQ(UserOfHash(*store, "h-a2"), "alice");
  EXPECT_EQ(UserOfHash(*store, "h-b1"), "bob");
  EXPECT_EQ(UserOfHash(*store, "nope"), "");
  EXPECT_EQ(UserOfHash(*store, ""), "");

  // Replacing alice's tokens: the dropped one stops naming her, the new one starts.
  WriteBatch rotate;
  rotate.PutUser(MakeUser("alice", {"h-a2", "h-a3"}));
  ASSERT_TRUE(store->Apply(rotate).ok());
  EXPECT_EQ(UserOfHash(*store, "h-a1"), "");
  EXPECT_EQ(UserOfHash(*store, "h-a2"), "alice");
  EXPECT_EQ(UserOfHash(*store, "h-a3"), "alice");

  WriteBatch del;
  del.DeleteUser("alice");
  del.DeleteUser("nobody");  // absent: fine
  ASSERT_TRUE(store->Apply(del).ok());
  EXPECT_EQ(UserOfHash(*store, "h-a2"), "");
  EXPECT_EQ(UserOfHash(*store, "h-a3"), "");
  EXPECT_EQ(UserOfHash(*store, "h-b1"), "bob");
  auto alice = store->GetUser("alice");
  ASSERT_TRUE(alice.ok());
  EXPECT_FALSE(alice->has_value());

  // Everything survives a reopen, password hash included.
  User carol = MakeUser("carol", {"h-c1"});
  carol.password_hash = "$argon2id$v=19$fake";
  carol.admin = true;
  WriteBatch put;
  put.PutUser(carol);
  ASSERT_TRUE(store->Apply(put).ok());
  store.reset();
  store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  auto got = store->FindUserByTokenHash("h-c1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_TRUE((*got)->admin);
  EXPECT_EQ((*got)->password_hash, "$argon2id$v=19$fake");
  ASSERT_EQ((*got)->tokens.size(), 1u);
  EXPECT_EQ((*got)->tokens[0].id, 1u);
}

TEST(StoreAuth, AclGroupsCanBeDeleted) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  batch.PutAclGroup(AclGroup{"team-net", "network team", 5});
  ASSERT_TRUE(store->Apply(batch).ok());
  auto groups = store->ListAclGroups();
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 2u);  // Everyone, team-net
  WriteBatch del;
  del.DeleteAclGroup("team-net");
  ASSERT_TRUE(store->Apply(del).ok());
  groups = store->ListAclGroups();
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ((*groups)[0].name, kEveryoneGroup);
}

AuditRecord MakeRecord(uint64_t id, int64_t time_ms, const std::string& user, bool ok) {
  AuditRecord r;
  r.id = id;
  r.time_ms = time_ms;
  r.user = user;
  r.action = "JobAbortRequest";
  r.target = "{\"job_id\":" + std::to_string(id) + "}";
  r.from = "tcp://127.0.0.1:4000";
  r.ok = ok;
  r.error = ok ? "" : "PermissionDenied: not yours";
  return r;
}

TEST(StoreAuth, AuditListsNewestFirstWithFilters) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  auto empty = store->ListAudit("", 0, 10);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(*store->MaxAuditId(), 0u);
  WriteBatch batch;
  for (uint64_t id = 1; id <= 10; ++id) {
    batch.PutAudit(MakeRecord(id, 1000 * static_cast<int64_t>(id), id % 2 ? "alice" : "bob",
                              id != 4));
  }
  ASSERT_TRUE(store->Apply(batch).ok());
  EXPECT_EQ(*store->MaxAuditId(), 10u);

  auto all = store->ListAudit("", 0, 100);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 10u);
  EXPECT_EQ(all->front().id, 10u);
  EXPECT_EQ(all->back().id, 1u);

  auto bob = store->ListAudit("bob", 0, 100);
  ASSERT_TRUE(bob.ok());
  ASSERT_EQ(bob->size(), 5u);
  for (const auto& r : *bob) EXPECT_EQ(r.user, "bob");
  EXPECT_FALSE((*bob)[3].ok);  // id 4
  EXPECT_EQ((*bob)[3].error, "PermissionDenied: not yours");

  auto recent = store->ListAudit("", 8000, 100);
  ASSERT_TRUE(recent.ok());
  ASSERT_EQ(recent->size(), 3u);  // 10, 9, 8
  EXPECT_EQ(recent->back().id, 8u);

  auto limited = store->ListAudit("alice", 0, 2);
  ASSERT_TRUE(limited.ok());
  ASSERT_EQ(limited->size(), 2u);
  EXPECT_EQ((*limited)[0].id, 9u);
  EXPECT_EQ((*limited)[1].id, 7u);
}

TEST(StoreAuth, VersionFourStoreGetsTokensAndAuditAndKeepsUsers) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.db());
  // Every table a version-4 store has, with a user in it.
  using testing::PutRaw;
  PutRaw(tmp.db(), kUsersTable, "alice", *EncodeValue(User{"alice", {kEveryoneGroup}, true, 1, "", {}}));
  PutRaw(tmp.db(), kAclGroupsTable, kEveryoneGroup, *EncodeValue(AclGroup{kEveryoneGroup, "", 1}));
  for (const char* table : {kHostsTable, kLabelsTable, kRevokedKeysTable, kTestsTable, kJobsTable,
                            kEntriesTable, kTasksTable, kHostTasksTable, kHostEntriesTable}) {
    PutRaw(tmp.db(), table, "placeholder", "");
  }
  PutRaw(tmp.db(), kMetaTable, kSchemaVersionKey, *EncodeValue(uint32_t{4}));
  EXPECT_EQ(testing::GetRaw(tmp.db(), kTokensTable, "x").rfind("<NotFound", 0), 0u);

  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), kSchemaVersion);
  auto alice = store->GetUser("alice");
  ASSERT_TRUE(alice.ok() && alice->has_value());
  EXPECT_TRUE((*alice)->admin);
  EXPECT_TRUE((*alice)->tokens.empty());
  auto audit = store->ListAudit("", 0, 10);
  ASSERT_TRUE(audit.ok());
  EXPECT_TRUE(audit->empty());
}

}  // namespace
}  // namespace labmesh::store
