// "Why is my job waiting?" (docs/jobs.md): a Queued entry's place in the queue and what holds
// the hosts it could run on (JobShowReply's waiting_for, queue_position, queue_length), and
// `host avail` (HostAvailRequest), from the scheduler's state on a real store with scripted
// agents (the Jobs fixture).

#include <gtest/gtest.h>

#include "jobs_fixture.hpp"

namespace labmesh::coordinator::testing {
namespace {

class Waiting : public Jobs {
 protected:
  void Lock(const std::string& host, const std::string& by, const std::string& reason) {
    store::Host* staged = registry_->Stage(host);
    ASSERT_NE(staged, nullptr);
    staged->locked = true;
    staged->locked_by = by;
    staged->lock_reason = reason;
    Flush();
  }

  Result<protocol::HostAvailReply> Avail(const std::string& label, uint32_t count,
                                         std::vector<std::string> depends = {}) {
    return Call<protocol::HostAvailReply>(protocol::HostAvailRequest{label, count, depends});
  }
};

TEST_F(Waiting, LabelEntrySaysWhatHoldsEveryHostWithTheLabelAndItsPlace) {
  Register("h1", {"gpu"});
  Register("h2", {"gpu"});
  Register("h3", {"gpu"});
  Register("other");
  Lock("h3", "alice", "bisecting");
  auto running = Create({.name = "running", .meta_label = "gpu", .meta_count = 2});
  ASSERT_TRUE(running.ok()) << running.status().ToString();
  ASSERT_EQ(TakeStarts("h1").size(), 1u);
  ASSERT_EQ(TakeStarts("h2").size(), 1u);

  auto first = Create({.name = "first", .meta_label = "gpu", .meta_count = 1});
  auto second = Create({.name = "second", .meta_label = "gpu", .meta_count = 1});
  ASSERT_TRUE(first.ok() && second.ok());
  protocol::EntryInfo waiting = Show(*first).entries.at(0);
  EXPECT_EQ(waiting.status, "Queued");
  std::string expected = "3 hosts carry gpu: 2 busy (job " + std::to_string(*running) +
                         "), 1 locked (alice: bisecting)";
  EXPECT_EQ(waiting.waiting_for, expected);
  EXPECT_EQ(waiting.queue_position, 1u);
  EXPECT_EQ(waiting.queue_length, 2u);
  protocol::EntryInfo behind = Show(*second).entries.at(0);
  EXPECT_EQ(behind.waiting_for, expected);
  EXPECT_EQ(behind.queue_position, 2u);
  EXPECT_EQ(behind.queue_length, 2u);

  // A started entry has nothing to explain.
  for (const protocol::EntryInfo& entry : Show(*running).entries) {
    EXPECT_EQ(entry.waiting_for, "");
    EXPECT_EQ(entry.queue_position, 0u);
  }

  // h1's entry ends: the first queued job takes h1, the second moves up.
  auto h1_entry = Show(*running).entries.at(0);
  ASSERT_EQ(h1_entry.host, "h1");
  RunEntry("h1", h1_entry.id, 0);
  AgentSend("h1", protocol::WorkRequest{incarnations_["h1"]});
  ASSERT_EQ(TakeStarts("h1").size(), 1u);
  EXPECT_NE(Show(*first).entries.at(0).status, "Queued");
  behind = Show(*second).entries.at(0);
  EXPECT_EQ(behind.queue_position, 1u);
  EXPECT_EQ(behind.queue_length, 1u);
  EXPECT_EQ(behind.waiting_for, "3 hosts carry gpu: 2 busy (jobs " + std::to_string(*running) +
                                    ", " + std::to_string(*first) +
                                    "), 1 locked (alice: bisecting)");
}

TEST_F(Waiting, NamedHostEntrySaysWhatItsHostDoes) {
  Register("h1");
  auto running = Create({.name = "running", .hosts = {"h1"}});
  ASSERT_TRUE(running.ok());
  ASSERT_EQ(TakeStarts("h1").size(), 1u);
  auto queued = Create({.name = "queued", .hosts = {"h1"}});
  ASSERT_TRUE(queued.ok());
  protocol::EntryInfo entry = Show(*queued).entries.at(0);
  EXPECT_EQ(entry.waiting_for, "host h1: busy (job " + std::to_string(*running) + ")");
  EXPECT_EQ(entry.queue_position, 1u);
  EXPECT_EQ(entry.queue_length, 1u);

  Lock("h1", "bob", "new firmware");
  EXPECT_EQ(Show(*queued).entries.at(0).waiting_for, "host h1: locked (bob: new firmware)");
}

TEST_F(Waiting, NamedHostInATaskSaysWhichTask) {
  answer_tasks_ = false;  // the verify stays open
  Register("h1");
  auto task = Call<protocol::HostTaskReply>(protocol::HostTaskRequest{"h1", "verify", "admin"});
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  auto queued = Create({.name = "queued", .hosts = {"h1"}});
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(Show(*queued).entries.at(0).waiting_for, "host h1: verifying");
}

TEST_F(Waiting, HostAvailCountsTheUsersHostsAndTheQueueAhead) {
  Register("h1", {"gpu"});
  Register("h2", {"gpu"});
  Register("h3", {"gpu", "big"});
  Register("h4");

  auto all_free = Avail("gpu", 3);
  ASSERT_TRUE(all_free.ok()) << all_free.status().ToString();
  EXPECT_EQ(all_free->hosts, 3u);
  EXPECT_EQ(all_free->free, 3u);
  EXPECT_EQ(all_free->queued_ahead, 0u);
  EXPECT_TRUE(all_free->can_start);
  EXPECT_FALSE(Avail("gpu", 4)->can_start);

  auto big = Avail("gpu", 1, {"big"});
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->hosts, 1u);

  Lock("h3", "alice", "bisecting");
  auto running = Create({.name = "running", .meta_label = "gpu", .meta_count = 2});
  ASSERT_TRUE(running.ok());
  auto queued = Create({.name = "queued", .meta_label = "gpu", .meta_count = 1});
  ASSERT_TRUE(queued.ok());
  auto now = Avail("gpu", 1);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->label, "gpu");
  EXPECT_EQ(now->count, 1u);
  EXPECT_EQ(now->hosts, 3u);
  EXPECT_EQ(now->free, 0u);
  EXPECT_EQ(now->busy, 2u);
  EXPECT_EQ(now->locked, 1u);
  EXPECT_EQ(now->in_task, 0u);
  EXPECT_EQ(now->down, 0u);
  EXPECT_EQ(now->queued_ahead, 1u);
  EXPECT_EQ(now->busy_jobs, std::vector<uint64_t>{*running});
  EXPECT_FALSE(now->can_start);
  EXPECT_NE(now->summary.find("1 queued ahead"), std::string::npos) << now->summary;
  EXPECT_NE(now->summary.find("would wait"), std::string::npos) << now->summary;

  auto none = Avail("fpga", 1);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->hosts, 0u);
  EXPECT_FALSE(none->can_start);
}

TEST_F(Waiting, HostAvailRefusesAMissingLabelAndABadCount) {
  Register("h1", {"gpu"});
  EXPECT_EQ(Avail("", 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Avail("gpu", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Avail("gpu", 10'001).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace labmesh::coordinator::testing
