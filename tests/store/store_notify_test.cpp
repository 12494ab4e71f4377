// The notifications outbox in the store (schema version 7): rows written with their job read
// back per job in index order and survive a reopen, the pending ones are found for the sender's
// start, a job's rows go with the job, and a user's and a job's notify fields are kept.

#include <gtest/gtest.h>

#include "labmesh/store/store.hpp"
#include "store_test_util.hpp"

namespace labmesh::store {
namespace {

using testing::OpenOrDie;
using testing::TempDir;

Notification MakeNotification(uint64_t job, uint32_t index, NotifyState state) {
  Notification n;
  n.job_id = job;
  n.index = index;
  n.target = "webhook:http://h/" + std::to_string(index);
  n.owner = "alice";
  n.state = state;
  n.attempts = index;
  n.last_error = state == NotifyState::kFailed ? "gave up" : "";
  n.created_us = 1'764'000'000'000'000;
  n.next_attempt_us = n.created_us + 1000;
  n.document = "{\"job\":" + std::to_string(job) + "}";
  return n;
}

TEST(StoreNotify, KeyKeepsAJobsRowsTogetherInIndexOrder) {
  EXPECT_EQ(NotificationKey(7, 2), IdKey(7) + ".002");
  EXPECT_LT(NotificationKey(7, 9), NotificationKey(7, 10));
  EXPECT_LT(NotificationKey(7, 999), NotificationKey(8, 0));
}

TEST(StoreNotify, RowsWrittenWithTheJobReadBackAndPendingOnesAreFound) {
  TempDir tmp;
  {
    auto store = OpenOrDie(tmp.db());
    Job job;
    job.id = 5;
    job.owner = "alice";
    job.notify = {"email:a@b.org", "webhook:http://h/1"};
    job.notify_on = "failure";
    User user;
    user.name = "alice";
    user.notify = {"email:a@b.org"};
    user.notify_on = "always";
    WriteBatch batch;
    batch.PutJob(job);
    batch.PutUser(user);
    batch.PutNotification(MakeNotification(5, 1, NotifyState::kPending));
    batch.PutNotification(MakeNotification(5, 0, NotifyState::kDelivered));
    batch.PutNotification(MakeNotification(6, 0, NotifyState::kFailed));
    batch.PutNotification(MakeNotification(4, 0, NotifyState::kPending));
    ASSERT_TRUE(store->Apply(batch).ok());
  }
  auto store = OpenOrDie(tmp.db());
  auto rows = store->ListNotifications(5);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].index, 0u);
  EXPECT_EQ((*rows)[0].state, NotifyState::kDelivered);
  EXPECT_EQ((*rows)[1].target, "webhook:http://h/1");
  EXPECT_EQ((*rows)[1].document, "{\"job\":5}");
  EXPECT_EQ((*rows)[1].next_attempt_us, 1'764'000'000'001'000);
  auto pending = store->ListPendingNotifications();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].job_id, 4u);
  EXPECT_EQ((*pending)[1].job_id, 5u);
  auto job = store->GetJob(5);
  ASSERT_TRUE(job.ok() && job->has_value());
  EXPECT_EQ((*job)->notify, (std::vector<std::string>{"email:a@b.org", "webhook:http://h/1"}));
  EXPECT_EQ((*job)->notify_on, "failure");
  auto user = store->GetUser("alice");
  ASSERT_TRUE(user.ok() && user->has_value());
  EXPECT_EQ((*user)->notify, std::vector<std::string>{"email:a@b.org"});
  EXPECT_EQ((*user)->notify_on, "always");

  // A later write of a row (the sender's) replaces it.
  Notification delivered = (*rows)[1];
  delivered.state = NotifyState::kDelivered;
  WriteBatch update;
  update.PutNotification(delivered);
  ASSERT_TRUE(store->Apply(update).ok());
  EXPECT_EQ(store->ListPendingNotifications()->size(), 1u);

  // Deleting the job removes its rows only.
  WriteBatch remove;
  remove.DeleteJob(5);
  ASSERT_TRUE(store->Apply(remove).ok());
  EXPECT_TRUE(store->ListNotifications(5)->empty());
  EXPECT_EQ(store->ListNotifications(6)->size(), 1u);
  EXPECT_EQ(store->ListNotifications(4)->size(), 1u);
}

}  // namespace
}  // namespace labmesh::store
