// CopyStore (`labmesh-coordinator migrate`) and ClaimWriter, on the run's backend: an LMDB store
// copied into tmp.db() (a PostgreSQL database in the store_pg run) reads back the same; a
// target that holds anything is refused untouched; and on PostgreSQL one coordinator at a time
// may claim a database.

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "store_test_util.hpp"

namespace labmesh::store {
namespace {

using testing::MakeHost;
using testing::OpenOrDie;
using testing::TempDir;

// A store with one of each kind of record, and more jobs than one copy batch holds.
void Fill(Store& store) {
  WriteBatch batch;
  batch.PutHost(MakeHost("lab-1"));
  batch.PutLabel(Label{"pool:fast", "alice", 5});
  User alice;
  alice.name = "alice";
  alice.acl_groups = {kEveryoneGroup};
  alice.tokens = {ApiToken{1, "hash-1", 7}};
  batch.PutUser(alice);
  for (uint64_t id = 1; id <= 1500; ++id) {
    Job job;
    job.id = id;
    job.name = "job-" + std::to_string(id);
    job.entry_ids = {id};
    batch.PutJob(job);
    Entry entry;
    entry.id = id;
    entry.job_id = id;
    entry.hostname = "lab-1";
    batch.PutEntry(entry);
  }
  SpecialTask task;
  task.id = 3;
  task.hostname = "lab-1";
  batch.PutTask(task);
  DesiredVersion desired;
  desired.version = "1.2.3";
  batch.SetDesiredVersion(desired);
  ASSERT_TRUE(store.Apply(batch).ok());
}

TEST(StoreCopy, EveryRecordAndIndexArrivesInTheNewStore) {
  TempDir tmp;
  const std::string source = "lmdb:" + tmp.path() + "/source";
  {
    auto store = OpenOrDie(source);
    Fill(*store);
    ASSERT_TRUE(store->SetActiveRelay("tcp://old-active:7713").ok());
  }
  std::map<std::string, uint64_t> rows;
  Status copied = CopyStore(source, tmp.db(), [&](std::string_view table, uint64_t n) {
    rows[std::string(table)] = n;
  });
  ASSERT_TRUE(copied.ok()) << copied.ToString();
  EXPECT_EQ(rows["jobs"], 1500u);
  EXPECT_EQ(rows["entries"], 1500u);
  EXPECT_EQ(rows["host_entries"], 1500u);
  EXPECT_EQ(rows["tokens"], 1u);

  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->ListHosts()->size(), 1u);
  EXPECT_EQ(store->ListLabels()->size(), 1u);
  EXPECT_EQ(*store->MaxJobId(), 1500u);
  EXPECT_EQ(store->ListJobs()->size(), 1500u);
  EXPECT_EQ(store->ListHostEntries("lab-1", 5)->front().id, 1500u);
  EXPECT_EQ(store->ListHostTasks("lab-1", 5)->size(), 1u);
  auto user = store->FindUserByTokenHash("hash-1");
  ASSERT_TRUE(user.ok() && user->has_value());
  EXPECT_EQ((*user)->name, "alice");
  EXPECT_EQ(store->GetDesiredVersion()->version, "1.2.3");
  EXPECT_EQ(store->ListAclGroups()->size(), 1u);  // Everyone, once
  EXPECT_EQ(*store->ActiveRelay(), "");  // the source's coordinator does not serve the copy
}

TEST(StoreCopy, ATargetThatHoldsAnythingIsRefusedAndKeepsWhatItHad) {
  TempDir tmp;
  const std::string source = "lmdb:" + tmp.path() + "/source";
  {
    auto store = OpenOrDie(source);
    Fill(*store);
  }
  {
    auto target = OpenOrDie(tmp.db());
    WriteBatch batch;
    batch.PutHost(MakeHost("other"));
    ASSERT_TRUE(target->Apply(batch).ok());
  }
  Status copied = CopyStore(source, tmp.db(), nullptr);
  EXPECT_EQ(copied.code(), StatusCode::kFailedPrecondition) << copied.ToString();
  EXPECT_NE(copied.message().find("hosts[other]"), std::string::npos) << copied.ToString();
  auto target = OpenOrDie(tmp.db());
  EXPECT_EQ(target->ListHosts()->size(), 1u);
  EXPECT_EQ(*target->MaxJobId(), 0u);
}

TEST(StoreCopy, AMissingSourceIsAnErrorNamingIt) {
  TempDir tmp;
  Status copied = CopyStore("lmdb:" + tmp.path() + "/nothing", tmp.db(), nullptr);
  EXPECT_FALSE(copied.ok());
  EXPECT_NE(copied.message().find("/nothing"), std::string::npos) << copied.ToString();
}

// Claims `store` once the server has ended the session of the process that held it: a closed
// connection's backend exits, and frees its lock, a moment after the client is gone.
bool ClaimOnceFreed(Store& store) {
  return ::labmesh::testing::WaitFor([&] { return store.ClaimWriter().ok(); });
}

TEST(StoreClaim, OneProcessAtATimeClaimsAPostgresqlStore) {
  if (!::labmesh::testing::PgMode()) GTEST_SKIP() << "PostgreSQL only (LMDB: the directory lock)";
  TempDir tmp;
  auto first = OpenOrDie(tmp.db());
  auto second = OpenOrDie(tmp.db());
  ASSERT_TRUE(first->ClaimWriter().ok());
  EXPECT_TRUE(first->ClaimWriter().ok());  // again: still its own
  Status refused = second->ClaimWriter();
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << refused.ToString();
  EXPECT_NE(refused.message().find("another coordinator"), std::string::npos);
  first.reset();  // its session ends, and the lock with it
  EXPECT_TRUE(ClaimOnceFreed(*second));
}

// Standbys find the coordinator to relay to in the store (docs/scale-out.md): the holder of the
// claim writes its relay endpoint, any other process reads it; a new holder replaces it.
TEST(StoreClaim, TheActiveRelayIsWrittenByTheHolderAndReadByTheOthers) {
  TempDir tmp;
  auto first = OpenOrDie(tmp.db());
  EXPECT_EQ(*first->ActiveRelay(), "");  // nobody wrote one yet
  ASSERT_TRUE(first->ClaimWriter().ok());
  ASSERT_TRUE(first->SetActiveRelay("tcp://a.lab:7713").ok());
  EXPECT_EQ(*first->ActiveRelay(), "tcp://a.lab:7713");
  if (!::labmesh::testing::PgMode()) return;  // one process per LMDB store: no standbys
  auto standby = OpenOrDie(tmp.db());
  EXPECT_EQ(*standby->ActiveRelay(), "tcp://a.lab:7713");
  first.reset();
  ASSERT_TRUE(ClaimOnceFreed(*standby));
  ASSERT_TRUE(standby->SetActiveRelay("").ok());  // the new active has no relay socket
  auto other = OpenOrDie(tmp.db());
  EXPECT_EQ(*other->ActiveRelay(), "");
}

}  // namespace
}  // namespace labmesh::store
