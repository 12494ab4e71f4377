// Synchronous jobs (synch_count > 1) and the sync service: groups held Pending and started in
// one fan-out, holds released when a group cannot complete, the rest of a group aborted when a
// host is lost, barriers and values answered (and failed) through scripted agents.

#include <gtest/gtest.h>

#include <algorithm>

#include "job_rules.hpp"
#include "jobs_fixture.hpp"
#include "sync_service.hpp"

namespace labmesh::coordinator::testing {
namespace {

class Groups : public Jobs {
 protected:
  protocol::SyncRequest Barrier(uint64_t entry, const std::string& name, uint32_t gen,
                                int64_t timeout_ms = 0) {
    protocol::SyncRequest r;
    r.entry_id = entry;
    r.op = "barrier";
    r.name = name;
    r.generation = gen;
    r.timeout_ms = timeout_ms;
    return r;
  }
  protocol::SyncRequest Send(uint64_t entry, const std::string& key, const std::string& value) {
    protocol::SyncRequest r;
    r.entry_id = entry;
    r.op = "send";
    r.name = key;
    r.value.assign(value.begin(), value.end());
    return r;
  }
  protocol::SyncRequest Wait(uint64_t entry, const std::string& key, const std::string& from = "",
                             int64_t timeout_ms = 0) {
    protocol::SyncRequest r;
    r.entry_id = entry;
    r.op = "wait";
    r.name = key;
    r.from_host = from;
    r.timeout_ms = timeout_ms;
    return r;
  }
  std::vector<protocol::SyncReply> Replies(const std::string& host) {
    return TakeSentOf<protocol::SyncReply>(host);
  }
  const protocol::EntryInfo* EntryOn(const protocol::JobInfo& job, const std::string& host) {
    for (const auto& e : job.entries) {
      if (e.host == host) return &e;
    }
    return nullptr;
  }
  void Running(const std::string& host, uint64_t entry) {
    protocol::EntryReport report;
    report.entry_id = entry;
    report.phase = "running";
    report.sequence = 1;
    report.started_us = clock_.WallUs();
    AgentSend(host, report);
  }
};

TEST(SyncRules, RequestsAreChecked) {
  protocol::SyncRequest r;
  r.op = "barrier";
  r.name = "setup";
  r.generation = 1;
  EXPECT_TRUE(ValidateSyncRequest(r).ok());
  r.generation = 0;
  EXPECT_FALSE(ValidateSyncRequest(r).ok());
  r.op = "jump";
  EXPECT_FALSE(ValidateSyncRequest(r).ok());
  r.op = "send";
  r.name = "";
  EXPECT_FALSE(ValidateSyncRequest(r).ok());
  r.name = std::string(257, 'k');
  EXPECT_FALSE(ValidateSyncRequest(r).ok());
  r.name = "k";
  r.value.assign(protocol::kMaxSyncValueBytes, 'v');
  EXPECT_TRUE(ValidateSyncRequest(r).ok());
  r.value.push_back('v');
  EXPECT_NE(ValidateSyncRequest(r).message().find("65536"), std::string::npos);
}

TEST(SyncJobRules, GroupsMustBeWhole) {
  protocol::JobCreateRequest r;
  r.name = "j";
  r.user = "alice";
  r.command = "true";
  r.hosts = {"a", "b", "c"};
  r.synch_count = 2;
  auto three = ValidateJobSpec(r);
  ASSERT_FALSE(three.ok());
  EXPECT_NE(three.status().message().find("multiple of --synch-count 2"), std::string::npos);
  r.hosts = {};
  r.meta_label = "gpu";
  r.meta_count = 6;
  r.synch_count = 4;
  auto six = ValidateJobSpec(r);
  ASSERT_FALSE(six.ok());
  EXPECT_NE(six.status().message().find("--count 6"), std::string::npos);
  r.meta_count = 8;
  EXPECT_TRUE(ValidateJobSpec(r).ok());
}

TEST_F(Groups, TwoGroupsOfTwoStartTogetherWithTheirOwnHostsAndPeers) {
  for (const char* h : {"h1", "h2", "h3", "h4"}) Register(h);
  auto id = Create({.hosts = {"h1", "h2", "h3", "h4"}, .synch_count = 2});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  for (const char* h : {"h1", "h2", "h3", "h4"}) {
    auto starts = TakeStarts(h);
    ASSERT_EQ(starts.size(), 1u) << h;
    std::string host = h;
    bool first = host == "h1" || host == "h2";
    EXPECT_EQ(starts[0].synch_count, 2u);
    EXPECT_EQ(starts[0].group, first ? 0u : 1u);
    EXPECT_EQ(starts[0].hosts, first ? (std::vector<std::string>{"h1", "h2"})
                                     : (std::vector<std::string>{"h3", "h4"}));
    EXPECT_EQ(starts[0].peers.size(), 2u);
    EXPECT_EQ(starts[0].peers.count(host), 1u);
  }
  protocol::JobInfo job = Show(*id);
  for (const auto& e : job.entries) EXPECT_EQ(e.status, "Starting");
}

TEST_F(Groups, AnEntryHoldsItsHostPendingUntilTheGroupIsComplete) {
  Register("h1", {"pair"});
  Register("h2", {"pair"}, {}, /*ask_for_work=*/false);  // busy elsewhere: not idle yet
  auto id = Create({.meta_label = "pair", .meta_count = 2, .synch_count = 2});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_TRUE(TakeStarts("h1").empty());
  protocol::JobInfo job = Show(*id);
  const protocol::EntryInfo* held = EntryOn(job, "h1");
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(held->status, "Pending");
  EXPECT_EQ(registry_->Find("h1")->record.status, protocol::HostStatus::kPending);
  // h1 asks again (a reconnect): it stays held, nothing fails.
  AgentSend("h1", protocol::WorkRequest{incarnations_["h1"]});
  EXPECT_EQ(EntryOn(Show(*id), "h1")->status, "Pending");
  AgentSend("h2", protocol::WorkRequest{incarnations_["h2"]});
  EXPECT_EQ(TakeStarts("h1").size(), 1u);
  EXPECT_EQ(TakeStarts("h2").size(), 1u);
  EXPECT_EQ(registry_->Find("h1")->record.status, protocol::HostStatus::kRunning);
}

TEST_F(Groups, BarrierReleasesWhenAllArriveAndANameCanBeUsedAgain) {
  Register("h1");
  Register("h2");
  auto id = Create({.hosts = {"h1", "h2"}, .synch_count = 2});
  uint64_t e1 = TakeStarts("h1").at(0).entry_id;
  uint64_t e2 = TakeStarts("h2").at(0).entry_id;
  Running("h1", e1);
  Running("h2", e2);
  for (uint32_t gen = 1; gen <= 3; ++gen) {
    AgentSend("h1", Barrier(e1, "setup", gen));
    EXPECT_TRUE(Replies("h1").empty());
    EXPECT_EQ(EntryOn(Show(*id), "h1")->waiting_in,
              "barrier 'setup' (use " + std::to_string(gen) + "): 1/2 arrived");
    AgentSend("h2", Barrier(e2, "setup", gen));
    auto r1 = Replies("h1");
    auto r2 = Replies("h2");
    ASSERT_EQ(r1.size(), 1u);
    ASSERT_EQ(r2.size(), 1u);
    EXPECT_TRUE(r1[0].ok);
    EXPECT_TRUE(r2[0].ok);
    EXPECT_EQ(r1[0].generation, gen);
    EXPECT_EQ(EntryOn(Show(*id), "h1")->waiting_in, "");
  }
  // A repeat of a released arrival (after a reconnect) is answered at once.
  AgentSend("h1", Barrier(e1, "setup", 2));
  auto again = Replies("h1");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].ok);
}

TEST_F(Groups, BarrierTimeoutNamesTheHostsThatNeverArrived) {
  for (const char* h : {"h1", "h2", "h3"}) Register(h);
  ASSERT_TRUE(Create({.hosts = {"h1", "h2", "h3"}, .synch_count = 3}).ok());
  uint64_t e1 = TakeStarts("h1").at(0).entry_id;
  uint64_t e2 = TakeStarts("h2").at(0).entry_id;
  AgentSend("h1", Barrier(e1, "ready", 1, 2000));
  AgentSend("h2", Barrier(e2, "ready", 1, 5000));
  clock_.AdvanceMs(1999);
  jobs_->OnTimer();
  EXPECT_TRUE(Replies("h1").empty());
  EXPECT_GE(jobs_->NextDeadlineMs(), clock_.SteadyMs());
  clock_.AdvanceMs(1);
  jobs_->OnTimer();
  auto r1 = Replies("h1");
  auto r2 = Replies("h2");
  ASSERT_EQ(r1.size(), 1u);
  ASSERT_EQ(r2.size(), 1u);  // every waiter fails, not only the one whose time ran out
  EXPECT_FALSE(r1[0].ok);
  EXPECT_NE(r1[0].error.find("timed out"), std::string::npos) << r1[0].error;
  EXPECT_NE(r1[0].error.find("h3"), std::string::npos) << r1[0].error;
  EXPECT_EQ(r1[0].error.find("h1"), std::string::npos) << r1[0].error;
  EXPECT_EQ(r2[0].error, r1[0].error);
}

TEST_F(Groups, HostLostDuringABarrierReleasesWaitersAndAbortsTheGroup) {
  config_.dead_after_ms = 1000;
  Register("h1");
  Register("h2");
  auto id = Create({.hosts = {"h1", "h2"}, .synch_count = 2});
  uint64_t e1 = TakeStarts("h1").at(0).entry_id;
  uint64_t e2 = TakeStarts("h2").at(0).entry_id;
  Running("h1", e1);
  Running("h2", e2);
  AgentSend("h1", Barrier(e1, "b", 1));
  clock_.AdvanceMs(5000);
  Heartbeat("h1");
  agents_->CheckDeadHosts();
  Flush();
  auto released = Replies("h1");
  ASSERT_EQ(released.size(), 1u);
  EXPECT_FALSE(released[0].ok);
  EXPECT_NE(released[0].error.find("h2"), std::string::npos) << released[0].error;
  auto aborts = TakeSentOf<protocol::AbortEntry>("h1");
  ASSERT_EQ(aborts.size(), 1u);
  EXPECT_NE(aborts[0].reason.find("h2"), std::string::npos) << aborts[0].reason;
  protocol::JobInfo job = Show(*id);
  EXPECT_EQ(EntryOn(job, "h2")->status, "Failed");
  EXPECT_EQ(EntryOn(job, "h2")->fault, "infrastructure");
}

TEST_F(Groups, ValuesPassBetweenHostsOfTheGroup) {
  Register("h1");
  Register("h2");
  auto id = Create({.hosts = {"h1", "h2"}, .synch_count = 2});
  uint64_t e1 = TakeStarts("h1").at(0).entry_id;
  uint64_t e2 = TakeStarts("h2").at(0).entry_id;
  // A wait before the send is answered by the send.
  AgentSend("h2", Wait(e2, "port", "h1"));
  EXPECT_TRUE(Replies("h2").empty());
  EXPECT_EQ(EntryOn(Show(*id), "h2")->waiting_in, "wait for 'port' from h1");
  AgentSend("h1", Send(e1, "port", "8080"));
  auto sent = Replies("h1");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].ok);
  auto got = Replies("h2");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].ok);
  EXPECT_EQ(std::string(got[0].value.begin(), got[0].value.end()), "8080");
  EXPECT_EQ(got[0].from_host, "h1");
  // Any host's value: the first sender's; --host picks one.
  AgentSend("h2", Send(e2, "port", "9090"));
  Replies("h2");
  AgentSend("h1", Wait(e1, "port"));
  auto any = Replies("h1");
  ASSERT_EQ(any.size(), 1u);
  EXPECT_EQ(std::string(any[0].value.begin(), any[0].value.end()), "8080");
  AgentSend("h1", Wait(e1, "port", "h2"));
  auto from_h2 = Replies("h1");
  ASSERT_EQ(from_h2.size(), 1u);
  EXPECT_EQ(std::string(from_h2[0].value.begin(), from_h2[0].value.end()), "9090");
  // Too big, a host outside the group, a wait that times out.
  protocol::SyncRequest big = Send(e1, "blob", std::string(protocol::kMaxSyncValueBytes + 1, 'x'));
  AgentSend("h1", big);
  auto refused = Replies("h1");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_FALSE(refused[0].ok);
  AgentSend("h1", Wait(e1, "port", "h9"));
  auto stranger = Replies("h1");
  ASSERT_EQ(stranger.size(), 1u);
  EXPECT_NE(stranger[0].error.find("not in this group"), std::string::npos);
  AgentSend("h1", Wait(e1, "never", "", 1000));
  clock_.AdvanceMs(1000);
  jobs_->OnTimer();
  auto timed_out = Replies("h1");
  ASSERT_EQ(timed_out.size(), 1u);
  EXPECT_NE(timed_out[0].error.find("timed out"), std::string::npos);
}

TEST_F(Groups, RequestsOfEntriesNotRunningHereAreRefused) {
  Register("h1");
  Register("h2");
  ASSERT_TRUE(Create({.hosts = {"h1", "h2"}, .synch_count = 2}).ok());
  uint64_t e1 = TakeStarts("h1").at(0).entry_id;
  AgentSend("h2", Barrier(e1, "b", 1));  // h1's entry, sent by h2
  auto refused = Replies("h2");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_FALSE(refused[0].ok);
  EXPECT_NE(refused[0].error.find("not running on h2"), std::string::npos);
  AgentSend("h1", Barrier(e1, "b", 0));  // no generation
  EXPECT_FALSE(Replies("h1").at(0).ok);
}

TEST_F(Groups, AGroupThatCannotCompleteReleasesItsHostsAndTriesAgain) {
  config_.sync_hold_ms = 10'000;
  Register("h1");
  Register("h2", {}, {}, /*ask_for_work=*/false);  // never idle
  auto sync = Create({.hosts = {"h1", "h2"}, .synch_count = 2});
  ASSERT_TRUE(sync.ok());
  auto other = Create({.hosts = {"h1"}});  // client-side work behind it
  EXPECT_TRUE(TakeStarts("h1").empty());    // h1 is held for the group
  EXPECT_EQ(jobs_->NextDeadlineMs(), clock_.SteadyMs() + 10'000);
  clock_.AdvanceMs(10'000);
  jobs_->OnTimer();
  Flush();
  auto starts = TakeStarts("h1");
  ASSERT_EQ(starts.size(), 1u);  // released: the other job runs
  EXPECT_EQ(starts[0].job_id, *other);
  protocol::JobInfo job = Show(*sync);
  EXPECT_EQ(EntryOn(job, "h1")->status, "Queued");
  EXPECT_NE(EntryOn(job, "h1")->reason.find("hosts released"), std::string::npos);
  RunEntry("h1", starts[0].entry_id, 0);
  AgentSend("h1", protocol::WorkRequest{incarnations_["h1"]});
  // Paused for half the hold time; then it holds h1 again and completes when h2 is free.
  EXPECT_EQ(EntryOn(Show(*sync), "h1")->status, "Queued");
  clock_.AdvanceMs(5'000);
  jobs_->OnTimer();
  Flush();
  EXPECT_EQ(EntryOn(Show(*sync), "h1")->status, "Pending");
  AgentSend("h2", protocol::WorkRequest{incarnations_["h2"]});
  EXPECT_EQ(TakeStarts("h1").size(), 1u);
  EXPECT_EQ(TakeStarts("h2").size(), 1u);
}

TEST_F(Groups, AHoldingGroupGetsTheNextFreeHostBeforeNewWork) {
  Register("h1");
  Register("h2", {}, {}, /*ask_for_work=*/false);
  auto sync = Create({.hosts = {"h1", "h2"}, .synch_count = 2});
  auto urgent = Create({.hosts = {"h2"}, .priority = "urgent"});
  ASSERT_TRUE(urgent.ok());
  AgentSend("h2", protocol::WorkRequest{incarnations_["h2"]});
  auto starts = TakeStarts("h2");
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].job_id, *sync);  // the group holding h1 came first
}

TEST_F(Groups, OverlappingSynchronousJobsBothFinish) {
  for (const char* h : {"h1", "h2", "h3"}) Register(h);
  auto a = Create({.hosts = {"h1", "h2"}, .synch_count = 2});
  auto b = Create({.hosts = {"h2", "h3"}, .synch_count = 2});
  ASSERT_TRUE(a.ok() && b.ok());
  auto a1 = TakeStarts("h1");
  auto a2 = TakeStarts("h2");
  ASSERT_EQ(a1.size(), 1u);
  ASSERT_EQ(a2.size(), 1u);
  EXPECT_TRUE(TakeStarts("h3").empty());  // b holds h3 and waits for h2
  EXPECT_EQ(EntryOn(Show(*b), "h3")->status, "Pending");
  RunEntry("h1", a1[0].entry_id, 0);
  RunEntry("h2", a2[0].entry_id, 0);
  AgentSend("h2", protocol::WorkRequest{incarnations_["h2"]});
  auto b2 = TakeStarts("h2");
  auto b3 = TakeStarts("h3");
  ASSERT_EQ(b2.size(), 1u);
  ASSERT_EQ(b3.size(), 1u);
  RunEntry("h2", b2[0].entry_id, 0);
  RunEntry("h3", b3[0].entry_id, 0);
  EXPECT_EQ(Show(*a).status, "Completed");
  EXPECT_EQ(Show(*b).status, "Completed");
}

TEST_F(Groups, AbortingAHeldGroupGivesItsHostsBack) {
  Register("h1");
  Register("h2", {}, {}, false);
  auto sync = Create({.hosts = {"h1", "h2"}, .synch_count = 2});
  auto other = Create({.hosts = {"h1"}});
  auto reply = Call<protocol::OkReply>(protocol::JobAbortRequest{*sync, "", "alice"});
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  protocol::JobInfo job = Show(*sync);
  EXPECT_EQ(job.status, "Aborted");
  for (const auto& e : job.entries) EXPECT_EQ(e.reason, "aborted by alice");
  auto starts = TakeStarts("h1");
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].job_id, *other);
}

TEST_F(Groups, CoordinatorRestartRequeuesHeldEntriesAndFreesTheirHosts) {
  Register("h1");
  Register("h2", {}, {}, false);
  auto sync = Create({.hosts = {"h1", "h2"}, .synch_count = 2});
  EXPECT_EQ(EntryOn(Show(*sync), "h1")->status, "Pending");
  registry_ = std::make_unique<HostRegistry>(store_.get(), &clock_);
  ASSERT_TRUE(registry_->Load().ok());
  StartJobs();
  Flush();
  EXPECT_EQ(registry_->Find("h1")->record.status, protocol::HostStatus::kReady);
  EXPECT_EQ(EntryOn(Show(*sync), "h1")->status, "Queued");
  agent_sent_.clear();
  Register("h1");
  Register("h2");
  EXPECT_EQ(TakeStarts("h1").size(), 1u);
  EXPECT_EQ(TakeStarts("h2").size(), 1u);
}

}  // namespace
}  // namespace labmesh::coordinator::testing
