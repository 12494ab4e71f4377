// Jobs and host queue entries in the store (schema version 3): one batch writes a job with its
// entries, ids order the tables, the largest id survives for new ids to continue after it, and
// an entry with a status this labmesh does not know reads as Corruption.

#include <gtest/gtest.h>

#include <msgpack.hpp>

#include "labmesh/store/store.hpp"
#include "schema.hpp"
#include "store_test_util.hpp"
#include "table.hpp"

namespace labmesh::store {
namespace {

using protocol::EntryStatus;
using protocol::Priority;
using testing::OpenOrDie;
using testing::PutRaw;
using testing::TempDir;

Job MakeJob(uint64_t id, std::vector<uint64_t> entry_ids) {
  Job job;
  job.id = id;
  job.name = "job-" + std::to_string(id);
  job.owner = "alice";
  job.priority = Priority::kHigh;
  job.synch_count = 2;
  job.control_kind = "control";
  job.control = "#!/bin/sh\necho \"h\u00e9llo\"\nexit 3";
  job.test_name = "kernel.boot";
  job.hosts = {"lab-1", "lab-2"};
  job.meta_label = "gpu";
  job.meta_count = 1;
  job.depends = {"usb-hub"};
  job.run_verify = true;
  job.timeout_ms = 3'600'000;
  job.max_runtime_ms = 60'000;
  job.created_us = 1'764'365'548'000'000LL + static_cast<int64_t>(id);
  job.abort_reason = "";
  job.entry_ids = std::move(entry_ids);
  return job;
}

Entry MakeEntry(uint64_t id, uint64_t job_id, const std::string& host) {
  Entry entry;
  entry.id = id;
  entry.job_id = job_id;
  entry.hostname = host;
  entry.meta_label = host.empty() ? "gpu" : "";
  entry.status = EntryStatus::kQueued;
  entry.queued_us = 1'764'365'548'000'000LL;
  entry.history = {StatusChange{EntryStatus::kQueued, entry.queued_us, "created"}};
  return entry;
}

TEST(StoreJobs, IdKeyIsTwentyDigitsAndSortsLikeTheId) {
  EXPECT_EQ(IdKey(0), "00000000000000000000");
  EXPECT_EQ(IdKey(42), "00000000000000000042");
  EXPECT_EQ(IdKey(UINT64_MAX), "18446744073709551615");
  EXPECT_EQ(IdKey(UINT64_MAX).size(), 20u);
  // Byte order of keys (LMDB's order) is numeric order, also across digit counts.
  const uint64_t ids[] = {0,         1, 9, 10, 99, 100, 12345, 1'000'000'000'000ULL, UINT64_MAX - 1,
                          UINT64_MAX};
  for (size_t i = 0; i + 1 < std::size(ids); ++i) {
    EXPECT_LT(IdKey(ids[i]), IdKey(ids[i + 1])) << ids[i] << " vs " << ids[i + 1];
  }
}

TEST(StoreJobs, JobAndEntriesInOneBatchReadBack) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  Result<std::optional<Job>> missing = store->GetJob(1);
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_FALSE(missing->has_value());

  WriteBatch batch;
  batch.PutJob(MakeJob(1, {1, 2, 3}));
  batch.PutEntry(MakeEntry(1, 1, "lab-1"));
  batch.PutEntry(MakeEntry(2, 1, "lab-2"));
  batch.PutEntry(MakeEntry(3, 1, ""));
  ASSERT_TRUE(store->Apply(batch).ok());

  Result<std::optional<Job>> job = store->GetJob(1);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  ASSERT_TRUE(job->has_value());
  const Job& j = **job;
  Job expected = MakeJob(1, {1, 2, 3});
  EXPECT_EQ(j.name, expected.name);
  EXPECT_EQ(j.owner, "alice");
  EXPECT_EQ(j.priority, Priority::kHigh);
  EXPECT_EQ(j.synch_count, 2u);
  EXPECT_EQ(j.control_kind, "control");
  EXPECT_EQ(j.control, expected.control);  // byte for byte
  EXPECT_EQ(j.test_name, "kernel.boot");
  EXPECT_EQ(j.hosts, expected.hosts);
  EXPECT_EQ(j.meta_label, "gpu");
  EXPECT_EQ(j.meta_count, 1u);
  EXPECT_EQ(j.depends, expected.depends);
  EXPECT_TRUE(j.run_verify);
  EXPECT_EQ(j.timeout_ms, 3'600'000);
  EXPECT_EQ(j.max_runtime_ms, 60'000);
  EXPECT_EQ(j.created_us, expected.created_us);
  EXPECT_EQ(j.entry_ids, (std::vector<uint64_t>{1, 2, 3}));

  Result<std::vector<Entry>> entries = store->GetEntries(j.entry_ids);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].hostname, "lab-1");
  EXPECT_EQ((*entries)[1].hostname, "lab-2");
  EXPECT_EQ((*entries)[2].hostname, "");
  EXPECT_EQ((*entries)[2].meta_label, "gpu");
  for (const Entry& e : *entries) {
    EXPECT_EQ(e.job_id, 1u);
    EXPECT_EQ(e.status, EntryStatus::kQueued);
    ASSERT_EQ(e.history.size(), 1u);
    EXPECT_EQ(e.history[0].reason, "created");
    EXPECT_EQ(e.exit_code, -1);
  }

  // GetEntries keeps the order asked for.
  entries = store->GetEntries({3, 1});
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].id, 3u);
  EXPECT_EQ((*entries)[1].id, 1u);

  // An entry that moved on is replaced in place, history and all.
  Entry running = (*entries)[1];
  running.status = EntryStatus::kRunning;
  running.started_us = running.queued_us + 5;
  running.history.push_back({EntryStatus::kRunning, running.started_us, "control spawned"});
  WriteBatch update;
  update.PutEntry(running);
  ASSERT_TRUE(store->Apply(update).ok());
  Result<std::optional<Entry>> one = store->GetEntry(1);
  ASSERT_TRUE(one.ok() && one->has_value());
  EXPECT_EQ((*one)->status, EntryStatus::kRunning);
  ASSERT_EQ((*one)->history.size(), 2u);
  EXPECT_EQ((*one)->history[1].status, EntryStatus::kRunning);

  // Reopened, all of it is still there.
  store.reset();
  store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  entries = store->GetEntries({1, 2, 3});
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  EXPECT_EQ((*entries)[0].status, EntryStatus::kRunning);
}

TEST(StoreJobs, GetEntriesOfAMissingIdIsCorruption) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  batch.PutEntry(MakeEntry(1, 1, "lab-1"));
  ASSERT_TRUE(store->Apply(batch).ok());
  Result<std::vector<Entry>> entries = store->GetEntries({1, 2});
  ASSERT_FALSE(entries.ok());
  EXPECT_EQ(entries.status().code(), StatusCode::kCorruption) << entries.status().ToString();
  Result<std::vector<Entry>> none = store->GetEntries({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(StoreJobs, ListJobsAndEntriesAreInIdOrderAcrossDigitCounts) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  // Written out of order, and with ids whose decimal strings would sort wrongly (9 < 10 < 100).
  WriteBatch batch;
  for (uint64_t id : {100u, 9u, 10u, 1u}) {
    batch.PutJob(MakeJob(id, {id}));
    batch.PutEntry(MakeEntry(id, id, "lab-1"));
  }
  ASSERT_TRUE(store->Apply(batch).ok());
  Result<std::vector<Job>> jobs = store->ListJobs();
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  std::vector<uint64_t> job_ids;
  for (const Job& j : *jobs) job_ids.push_back(j.id);
  EXPECT_EQ(job_ids, (std::vector<uint64_t>{1, 9, 10, 100}));
  Result<std::vector<Entry>> entries = store->ListEntries();
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  std::vector<uint64_t> entry_ids;
  for (const Entry& e : *entries) entry_ids.push_back(e.id);
  EXPECT_EQ(entry_ids, (std::vector<uint64_t>{1, 9, 10, 100}));
}

TEST(StoreJobs, MaxIdsAreZeroWhenEmptyThenTheLargestStored) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  Result<uint64_t> max_job = store->MaxJobId();
  Result<uint64_t> max_entry = store->MaxEntryId();
  ASSERT_TRUE(max_job.ok()) << max_job.status().ToString();
  ASSERT_TRUE(max_entry.ok()) << max_entry.status().ToString();
  EXPECT_EQ(*max_job, 0u);
  EXPECT_EQ(*max_entry, 0u);

  WriteBatch batch;
  batch.PutJob(MakeJob(10, {100, 99}));
  batch.PutJob(MakeJob(9, {7}));
  batch.PutEntry(MakeEntry(100, 10, "lab-1"));
  batch.PutEntry(MakeEntry(99, 10, "lab-2"));
  batch.PutEntry(MakeEntry(7, 9, "lab-1"));
  ASSERT_TRUE(store->Apply(batch).ok());
  EXPECT_EQ(*store->MaxJobId(), 10u);
  EXPECT_EQ(*store->MaxEntryId(), 100u);

  // Survives a reopen: new ids continue after it.
  store.reset();
  store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->MaxJobId(), 10u);
  EXPECT_EQ(*store->MaxEntryId(), 100u);
}

// An entry map with a status number beyond kMaxEntryStatus (written by a newer labmesh, or
// damaged bytes).
std::string EntryWithStatus(int status) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  packer.pack_map(3);
  packer.pack(std::string("id"));
  packer.pack(uint64_t{5});
  packer.pack(std::string("job_id"));
  packer.pack(uint64_t{1});
  packer.pack(std::string("status"));
  packer.pack(status);
  return std::string(buffer.data(), buffer.size());
}

TEST(StoreJobs, EntryWithUnknownStatusIsCorruption) {
  TempDir tmp;
  {
    auto store = OpenOrDie(tmp.db());
    ASSERT_NE(store, nullptr);
    WriteBatch batch;
    batch.PutEntry(MakeEntry(4, 1, "lab-1"));
    ASSERT_TRUE(store->Apply(batch).ok());
  }
  PutRaw(tmp.db(), kEntriesTable, IdKey(5), EntryWithStatus(protocol::kMaxEntryStatus + 1));
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);

  Result<std::optional<Entry>> bad = store->GetEntry(5);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption) << bad.status().ToString();
  Result<std::vector<Entry>> some = store->GetEntries({4, 5});
  ASSERT_FALSE(some.ok());
  EXPECT_EQ(some.status().code(), StatusCode::kCorruption);
  Result<std::vector<Entry>> all = store->ListEntries();
  ASSERT_FALSE(all.ok());
  EXPECT_EQ(all.status().code(), StatusCode::kCorruption);

  // The healthy entry still reads, and the bad one can be overwritten.
  Result<std::optional<Entry>> good = store->GetEntry(4);
  ASSERT_TRUE(good.ok() && good->has_value());
  WriteBatch fix;
  fix.PutEntry(MakeEntry(5, 1, "lab-2"));
  ASSERT_TRUE(store->Apply(fix).ok());
  EXPECT_TRUE(store->ListEntries().ok());
}

// A job map with a priority number beyond kUrgent.
std::string JobWithPriority(int priority) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  packer.pack_map(2);
  packer.pack(std::string("id"));
  packer.pack(uint64_t{8});
  packer.pack(std::string("priority"));
  packer.pack(priority);
  return std::string(buffer.data(), buffer.size());
}

TEST(StoreJobs, JobWithUnknownPriorityIsCorruption) {
  TempDir tmp;
  {
    auto store = OpenOrDie(tmp.db());
    ASSERT_NE(store, nullptr);
  }
  PutRaw(tmp.db(), kJobsTable, IdKey(8), JobWithPriority(200));
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->GetJob(8).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(store->ListJobs().status().code(), StatusCode::kCorruption);
}

TEST(StoreJobs, UndecodableEntryBytesAreCorruption) {
  TempDir tmp;
  {
    auto store = OpenOrDie(tmp.db());
    ASSERT_NE(store, nullptr);
  }
  PutRaw(tmp.db(), kEntriesTable, IdKey(6), std::string("\xc1", 1));
  PutRaw(tmp.db(), kJobsTable, IdKey(6), std::string("\x92\x01\x02", 3));
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->GetEntry(6).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(store->GetJob(6).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(store->ListJobs().status().code(), StatusCode::kCorruption);
}

TEST(StoreJobs, UsersAndGroupsPutAndList) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  batch.PutUser(User{"bob", {"Everyone", "kernel-team"}, false, 5, "", {}});
  batch.PutUser(User{"alice", {"Everyone"}, true, 4, "", {}});
  batch.PutAclGroup(AclGroup{"kernel-team", "kernel people", 3});
  ASSERT_TRUE(store->Apply(batch).ok());
  Result<std::optional<User>> bob = store->GetUser("bob");
  ASSERT_TRUE(bob.ok() && bob->has_value());
  EXPECT_EQ((*bob)->acl_groups, (std::vector<std::string>{"Everyone", "kernel-team"}));
  EXPECT_FALSE((*bob)->admin);
  Result<std::vector<User>> users = store->ListUsers();
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ((*users)[0].name, "alice");
  EXPECT_TRUE((*users)[0].admin);
  Result<std::vector<AclGroup>> groups = store->ListAclGroups();
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 2u);
  EXPECT_EQ((*groups)[0].name, kEveryoneGroup);
  EXPECT_EQ((*groups)[1].name, "kernel-team");
}

// Tasks and entries are indexed per host: newest first, limited, other hosts (even one whose
// name is a prefix) kept apart; deleting the host drops its index rows but not the records.
TEST(StoreTasks, HostHistoryIndexesTasksAndEntriesPerHost) {
  testing::TempDir tmp;
  auto store = testing::OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  for (uint64_t id = 1; id <= 5; ++id) {
    SpecialTask task;
    task.id = id;
    task.hostname = id % 2 == 1 ? "lab-1" : "lab-10";
    task.kind = protocol::TaskKind::kRepair;
    task.status = protocol::TaskStatus::kFailed;
    task.checks = {protocol::TaskCheck{"verify.d/disk", false, "full", 12}};
    batch.PutTask(task);
    Entry entry;
    entry.id = id;
    entry.job_id = 7;
    entry.hostname = task.hostname;
    batch.PutEntry(entry);
  }
  Entry moved;  // an entry requeued from lab-1 to lab-10 stays in lab-1's history
  moved.id = 1;
  moved.job_id = 7;
  moved.hostname = "lab-10";
  batch.PutEntry(moved);
  ASSERT_TRUE(store->Apply(batch).ok());

  Result<std::vector<SpecialTask>> tasks = store->ListHostTasks("lab-1", 2);
  ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
  ASSERT_EQ(tasks->size(), 2u);
  EXPECT_EQ((*tasks)[0].id, 5u);
  EXPECT_EQ((*tasks)[1].id, 3u);
  EXPECT_EQ((*tasks)[0].checks.at(0).output, "full");
  EXPECT_EQ((*tasks)[0].kind, protocol::TaskKind::kRepair);
  Result<std::vector<Entry>> lab1 = store->ListHostEntries("lab-1", 10);
  ASSERT_TRUE(lab1.ok());
  ASSERT_EQ(lab1->size(), 3u);
  EXPECT_EQ((*lab1)[2].id, 1u);
  Result<std::vector<Entry>> lab10 = store->ListHostEntries("lab-10", 10);
  ASSERT_TRUE(lab10.ok());
  EXPECT_EQ(lab10->size(), 3u);  // 4, 2 and the moved 1
  EXPECT_TRUE(store->ListHostTasks("lab-2", 10)->empty());
  EXPECT_EQ(*store->MaxTaskId(), 5u);
  ASSERT_TRUE(store->GetTask(4)->has_value());

  WriteBatch del;
  del.DeleteHost("lab-1");
  ASSERT_TRUE(store->Apply(del).ok());
  EXPECT_TRUE(store->ListHostTasks("lab-1", 10)->empty());
  EXPECT_TRUE(store->ListHostEntries("lab-1", 10)->empty());
  EXPECT_EQ(store->ListHostTasks("lab-10", 10)->size(), 2u);
  EXPECT_TRUE(store->GetTask(5)->has_value());  // the records stay
}


// Retention (issue 23): a job goes with its entries and their host history rows, audit records
// by id range, and the sweeper pages through jobs and reads the oldest audit records first.
TEST(StoreRetention, DeleteJobRemovesItsEntriesAndTheirHostHistoryRows) {
  testing::TempDir tmp;
  auto store = testing::OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  batch.PutJob(MakeJob(1, {10, 11}));
  batch.PutJob(MakeJob(2, {12}));
  Entry first = MakeEntry(10, 1, "lab-1");
  batch.PutEntry(first);
  first.hostname = "lab-2";  // requeued: in both hosts' history
  batch.PutEntry(first);
  batch.PutEntry(MakeEntry(11, 1, "lab-1"));
  batch.PutEntry(MakeEntry(12, 2, "lab-1"));
  ASSERT_TRUE(store->Apply(batch).ok());

  WriteBatch del;
  del.DeleteJob(1, {"lab-1"});
  del.DeleteJob(99);  // unknown: no error
  ASSERT_TRUE(store->Apply(del).ok());
  EXPECT_FALSE(store->GetJob(1)->has_value());
  EXPECT_FALSE(store->GetEntry(10)->has_value());
  EXPECT_FALSE(store->GetEntry(11)->has_value());
  EXPECT_TRUE(store->GetJob(2)->has_value());
  auto lab1 = store->ListHostEntries("lab-1", 10);
  ASSERT_TRUE(lab1.ok());
  ASSERT_EQ(lab1->size(), 1u);
  EXPECT_EQ((*lab1)[0].id, 12u);
  EXPECT_TRUE(store->ListHostEntries("lab-2", 10)->empty());
  EXPECT_EQ(*store->MaxJobId(), 2u);
}

TEST(StoreRetention, JobsPageByIdAndAuditRecordsGoByRangeOldestFirst) {
  testing::TempDir tmp;
  auto store = testing::OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  for (uint64_t id = 1; id <= 12; ++id) {
    batch.PutJob(MakeJob(id, {}));
    batch.PutAudit(AuditRecord{id, static_cast<int64_t>(id) * 1000, "alice", "JobCreateRequest",
                               "{}", "local", true, ""});
  }
  ASSERT_TRUE(store->Apply(batch).ok());
  auto page = store->ListJobsAfter(0, 5);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 5u);
  EXPECT_EQ(page->front().id, 1u);
  page = store->ListJobsAfter(9, 5);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ(page->front().id, 10u);
  EXPECT_TRUE(store->ListJobsAfter(12, 5)->empty());

  WriteBatch del;
  del.DeleteAudit(1, 4);
  ASSERT_TRUE(store->Apply(del).ok());
  auto oldest = store->OldestAudit(3);
  ASSERT_TRUE(oldest.ok());
  ASSERT_EQ(oldest->size(), 3u);
  EXPECT_EQ((*oldest)[0].id, 5u);
  EXPECT_EQ((*oldest)[2].id, 7u);
  EXPECT_EQ(*store->MaxAuditId(), 12u);
}

}  // namespace
}  // namespace labmesh::store
