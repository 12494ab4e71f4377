// Host health and quarantine (docs/quarantine.md): the scoring rules on their own, then a
// synthetic lab in a real store and results index (20 hosts, one bad, a test that fails
// everywhere, one that is flaky everywhere, a host that fails only as infrastructure) scored by
// the HealthService, and the quarantine it acts on: the bad host gets no work but its probe
// jobs, is repaired, and is released after its probes pass while the others keep working.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "audit_log.hpp"
#include "health_rules.hpp"
#include "health_service.hpp"
#include "jobs_fixture.hpp"
#include "labmesh/store/results_index.hpp"

namespace labmesh::coordinator::testing {
namespace {

using protocol::HostStatus;

// ---- the rules ----

HostHistory Host(const std::string& name, std::vector<std::string> labels = {"pool:a"}) {
  HostHistory h;
  h.hostname = name;
  h.labels = std::move(labels);
  h.status = "Ready";
  return h;
}

TestRuns Runs(const std::string& test, const std::string& host, uint64_t passed, uint64_t failed) {
  return TestRuns{test, host, passed + failed, failed, passed, 1};
}

const protocol::HostHealthInfo& Of(const HealthScores& scores, const std::string& name) {
  for (const auto& h : scores.hosts) {
    if (h.hostname == name) return h;
  }
  static protocol::HostHealthInfo none;
  ADD_FAILURE() << "no score for " << name;
  return none;
}

TEST(HealthRules, LoneFailureAgainstPeersCountsUpToTheCap) {
  HealthInput in;
  in.hosts = {Host("a"), Host("b"), Host("c")};
  in.runs = {Runs("net", "a", 0, 5), Runs("net", "b", 4, 0), Runs("net", "c", 3, 0)};
  HealthScores scores = ScoreHosts(in);
  const auto& a = Of(scores, "a");
  EXPECT_DOUBLE_EQ(a.score, 6);  // 2 per failure, at most 3 failures of one test
  EXPECT_TRUE(a.suspect);
  ASSERT_EQ(a.evidence.size(), 1u);
  EXPECT_EQ(a.evidence[0].kind, "lone-failure");
  EXPECT_EQ(a.evidence[0].test, "net");
  EXPECT_EQ(a.evidence[0].failed, 5u);
  EXPECT_EQ(a.evidence[0].peer_hosts, 2u);
  EXPECT_EQ(a.evidence[0].peer_runs, 7u);
  EXPECT_EQ(a.evidence[0].peers_passed, (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(scores.hosts.front().hostname, "a");  // worst first
  EXPECT_DOUBLE_EQ(Of(scores, "b").score, 0);
  EXPECT_FALSE(Of(scores, "b").suspect);
}

TEST(HealthRules, FailuresSharedWithPeersOrWithoutPeersDoNotCount) {
  HealthInput in;
  in.hosts = {Host("a"), Host("b"), Host("c"), Host("lone", {"pool:b"})};
  in.runs = {
      // fails everywhere
      Runs("broken", "a", 0, 3), Runs("broken", "b", 0, 3), Runs("broken", "c", 0, 3),
      // fails now and then everywhere (peers above max_peer_fail_rate)
      Runs("racy", "a", 2, 1), Runs("racy", "b", 2, 1), Runs("racy", "c", 2, 1),
      // only one peer run: too few to compare with
      Runs("rare", "a", 0, 1), Runs("rare", "b", 1, 0),
      // a host with other labels has no peers
      Runs("net", "lone", 0, 4), Runs("net", "a", 4, 0),
      // one failure is not enough, nor failing a third of the time where the peers pass
      Runs("once", "a", 3, 1), Runs("once", "b", 4, 0), Runs("once", "c", 4, 0),
      Runs("third", "b", 4, 2), Runs("third", "a", 6, 0), Runs("third", "c", 6, 0)};
  HealthScores scores = ScoreHosts(in);
  for (const auto& h : scores.hosts) {
    EXPECT_DOUBLE_EQ(h.score, 0) << h.hostname;
    EXPECT_TRUE(h.evidence.empty()) << h.hostname;
  }
}

TEST(HealthRules, EntriesAndTasksWeigh) {
  HealthInput in;
  HostHistory h = Host("a");
  store::Entry crash;
  crash.id = 1;
  crash.job_id = 10;
  crash.status = protocol::EntryStatus::kFailed;
  crash.fault = "infrastructure";
  crash.crash = true;
  crash.crash_line = "Kernel panic - not syncing";
  store::Entry infra = crash;
  infra.id = 2;
  infra.crash = false;
  infra.status_reason = "host lost";
  store::Entry test_failure = infra;
  test_failure.id = 3;
  test_failure.fault = "test";
  store::Entry aborted = infra;
  aborted.id = 4;
  aborted.status = protocol::EntryStatus::kAborted;
  h.entries = {crash, infra, test_failure, aborted};
  store::SpecialTask verify;
  verify.id = 7;
  verify.kind = protocol::TaskKind::kVerify;
  verify.status = protocol::TaskStatus::kFailed;
  store::SpecialTask repair = verify;
  repair.id = 8;
  repair.kind = protocol::TaskKind::kRepair;
  store::SpecialTask update = verify;
  update.id = 9;
  update.kind = protocol::TaskKind::kUpdate;
  store::SpecialTask passed = verify;
  passed.id = 10;
  passed.status = protocol::TaskStatus::kCompleted;
  h.tasks = {verify, repair, update, passed};
  in.hosts = {h};
  HealthScores scores = ScoreHosts(in);
  const auto& a = Of(scores, "a");
  // crash 2 + infrastructure 1 + verify 1 + repair 2; the test failure, the abort, the update
  // (the package's fault) and the passed task do not count.
  EXPECT_DOUBLE_EQ(a.score, 6);
  ASSERT_EQ(a.evidence.size(), 4u);
  EXPECT_EQ(a.evidence[0].weight, 2);
  EXPECT_NE(QuarantineReason(a, 6).find("health score 6.0 >= 6.0: "), std::string::npos);
}

TEST(HealthRules, FlakyTestsAreGroupedByTest) {
  HealthInput in;
  in.hosts = {Host("a"), Host("b")};
  in.runs = {Runs("racy", "a", 3, 2), Runs("racy", "b", 1, 1)};
  in.flips = {{"racy", "b", "6.12"}, {"racy", "a", "6.12"}};
  HealthScores scores = ScoreHosts(in);
  ASSERT_EQ(scores.flaky.size(), 1u);
  EXPECT_EQ(scores.flaky[0].test, "racy");
  EXPECT_EQ(scores.flaky[0].hosts, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(scores.flaky[0].passed, 4u);
  EXPECT_EQ(scores.flaky[0].failed, 3u);
}

TEST(HealthRules, Modes) {
  EXPECT_TRUE(ValidateQuarantineMode("off").ok());
  EXPECT_TRUE(ValidateQuarantineMode("suggest").ok());
  EXPECT_TRUE(ValidateQuarantineMode("auto").ok());
  EXPECT_FALSE(ValidateQuarantineMode("yes").ok());
}

// ---- a synthetic lab in the store, scored and acted on ----

class Health : public Jobs {
 protected:
  void SetUp() override {
    config_.health_window_ms = 7 * 24 * 3'600'000LL;
    config_.quarantine_threshold = 6;
    Jobs::SetUp();
    auto index = store::ResultsIndex::Open(dir_.path() + "/results-index");
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    index_ = std::move(*index);
    for (int i = 0; i < 20; ++i) {
      char name[8];
      std::snprintf(name, sizeof name, "h%02d", i);
      hosts_.push_back(name);
      Register(name, {"pool:a"});
    }
  }

  void StartHealth() {
    audit_ = std::make_unique<AuditLog>(store_.get(), &clock_);
    ASSERT_TRUE(audit_->Load().ok());
    jobs_->set_audit(audit_.get());
    health_ = std::make_unique<HealthService>(config_, &clock_, store_.get(), index_.get(),
                                              registry_.get(), jobs_.get(), audit_.get());
    jobs_->jobs().set_on_job_end([this](const store::Job& job, const std::vector<store::Entry>& e) {
      health_->OnJobEnd(job, e);
    });
  }

  // Results of one entry of a made-up job on `host`, an hour apart per job.
  void AddResults(uint64_t job, const std::string& host,
                  std::vector<std::pair<std::string, std::string>> tests) {
    store::EntryResults entry;
    entry.job_id = job;
    entry.entry_id = job * 100 + static_cast<uint64_t>(std::stoi(host.substr(1)));
    for (auto& [test, status] : tests) {
      store::ResultRecord r;
      r.hostname = host;
      r.labels = registry_->ToInfo(*registry_->Find(host)).labels;
      r.test = test;
      r.status = status;
      r.start_us = clock_.WallUs() - static_cast<int64_t>(50 - job) * 3'600'000'000LL;
      r.keyvals = {{"build", "b1"}};
      entry.records.push_back(std::move(r));
    }
    std::vector<store::EntryResults> batch{std::move(entry)};
    ASSERT_TRUE(index_->ReplaceEntries(batch).ok());
  }

  // One bad host (h07 fails "net", which passes everywhere else), a test that fails
  // everywhere ("broken"), one that is flaky everywhere ("racy", same build), and h12 whose
  // entries fail as infrastructure.
  void BuildLab() {
    for (uint64_t job = 1; job <= 10; ++job) {
      for (const std::string& host : hosts_) {
        AddResults(job, host, {{"boot", "GOOD"},
                               {"net", host == "h07" ? "FAIL" : "GOOD"},
                               {"broken", "FAIL"},
                               {"racy", (job + host.back()) % 3 == 0 ? "FAIL" : "GOOD"}});
      }
    }
    store::WriteBatch writes;
    for (uint64_t i = 0; i < 6; ++i) {
      store::Entry e;
      e.id = 900 + i;
      e.job_id = 90 + i;
      e.hostname = "h12";
      e.status = protocol::EntryStatus::kFailed;
      e.fault = "infrastructure";
      e.status_reason = "host lost";
      e.finished_us = clock_.WallUs() - static_cast<int64_t>(i) * 1'000'000;
      writes.PutEntry(e);
    }
    ASSERT_TRUE(store_->Apply(writes).ok());
  }

  protocol::HostFlakyReply Flaky(const std::string& label = "") {
    auto e = protocol::DecodeEnvelope(protocol::Encode(protocol::HostFlakyRequest{label, "", 0}, 3));
    auto reply = protocol::DecodeAs<protocol::HostFlakyReply>(health_->HandleFlaky(*e));
    EXPECT_TRUE(reply.ok());
    return reply.ok() ? *reply : protocol::HostFlakyReply{};
  }

  // Steps the health service a second later, then ends the turn.
  void Tick() {
    clock_.AdvanceMs(1'000);
    health_->Step();
    Flush();
    AnswerTasks();
  }

  const store::Host& Record(const std::string& host) { return *registry_->Staged(host); }

  std::unique_ptr<store::ResultsIndex> index_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<HealthService> health_;
  std::vector<std::string> hosts_;
};

TEST_F(Health, SyntheticLabScoresTheBadHostsOnly) {
  BuildLab();
  config_.quarantine_mode = "off";
  StartHealth();
  health_->ComputeNow();
  protocol::HostFlakyReply reply = Flaky();
  ASSERT_EQ(reply.hosts.size(), 20u);
  std::vector<std::string> suspects;
  for (const auto& h : reply.hosts) {
    if (h.suspect) suspects.push_back(h.hostname);
  }
  std::sort(suspects.begin(), suspects.end());
  EXPECT_EQ(suspects, (std::vector<std::string>{"h07", "h12"}));
  const auto& bad = reply.hosts[0].hostname == "h07" ? reply.hosts[0] : reply.hosts[1];
  ASSERT_EQ(bad.hostname, "h07");
  EXPECT_DOUBLE_EQ(bad.score, 6);
  ASSERT_EQ(bad.evidence.size(), 1u);
  EXPECT_EQ(bad.evidence[0].test, "net");
  EXPECT_EQ(bad.evidence[0].failed, 10u);
  EXPECT_EQ(bad.evidence[0].peer_hosts, 19u);
  EXPECT_EQ(bad.evidence[0].peer_failed, 0u);
  for (const auto& h : reply.hosts) {
    if (h.hostname != "h07" && h.hostname != "h12") {
      EXPECT_DOUBLE_EQ(h.score, 0) << h.hostname;
    }
    EXPECT_EQ(h.results, 40u) << h.hostname;
  }
  ASSERT_EQ(reply.flaky_tests.size(), 1u);
  EXPECT_EQ(reply.flaky_tests[0].test, "racy");
  EXPECT_EQ(reply.flaky_tests[0].build, "b1");
  // Off: nothing is acted on.
  EXPECT_EQ(Record("h07").status, HostStatus::kReady);
  EXPECT_EQ(Record("h07").suspect_ms, 0);
  // The host view carries the scores.
  EXPECT_TRUE(registry_->ToInfo(*registry_->Find("h07")).suspect);
  EXPECT_DOUBLE_EQ(registry_->ToInfo(*registry_->Find("h03")).health_score, 0);
  EXPECT_TRUE(registry_->health()->flaky_tests.count("racy"));
}

TEST_F(Health, SuggestMarksSuspectsOnceAndQuarantinesNothing) {
  BuildLab();
  config_.quarantine_mode = "suggest";
  StartHealth();
  health_->ComputeNow();
  Flush();
  EXPECT_NE(Record("h07").suspect_ms, 0);
  EXPECT_EQ(Record("h07").status, HostStatus::kReady);
  EXPECT_EQ(Record("h07").quarantined_ms, 0);
  auto audit = store_->ListAudit("labmesh", 0, 100);
  ASSERT_TRUE(audit.ok());
  EXPECT_EQ(audit->size(), 2u);  // h07 and h12, once each
  health_->ComputeNow();
  Flush();
  audit = store_->ListAudit("labmesh", 0, 100);
  EXPECT_EQ(audit->size(), 2u);
}

TEST_F(Health, AutoQuarantinesRepairsProbesAndReleases) {
  BuildLab();
  config_.quarantine_mode = "auto";
  config_.quarantine_probes = 2;
  config_.quarantine_probe_template = "probe";
  protocol::TemplateInfo probe;
  probe.name = "probe";
  probe.owner = "alice";
  probe.job.name = "probe";
  probe.job.command = "true";
  probe.job.meta_label = "pool:a";
  probe.job.meta_count = 1;
  store::WriteBatch writes;
  writes.PutTemplate(probe);
  ASSERT_TRUE(store_->Apply(writes).ok());
  StartHealth();  // no worker (Start): the test computes the scores itself
  health_->ComputeNow();
  Flush();
  AnswerTasks();  // the quarantine's Repair passes

  const store::Host& bad = Record("h07");
  EXPECT_EQ(bad.status, HostStatus::kQuarantined) << bad.status_reason;
  EXPECT_NE(bad.quarantine_reason.find("net failed 10 of 10 here"), std::string::npos)
      << bad.quarantine_reason;
  EXPECT_EQ(bad.quarantined_by, "labmesh");
  EXPECT_EQ(Record("h12").status, HostStatus::kQuarantined);
  auto history = store_->ListHostTasks("h07", 10);
  ASSERT_TRUE(history.ok());
  ASSERT_FALSE(history->empty());
  EXPECT_EQ(history->front().kind, protocol::TaskKind::kRepair);
  EXPECT_EQ(history->front().status, protocol::TaskStatus::kCompleted);

  // Ordinary work goes around the quarantined hosts.
  for (const std::string& host : hosts_) TakeStarts(host);
  for (int i = 0; i < 18; ++i) ASSERT_TRUE(Create({.meta_label = "pool:a", .meta_count = 1}).ok());
  EXPECT_TRUE(TakeStarts("h07").empty());
  EXPECT_TRUE(TakeStarts("h12").empty());
  size_t started = 0;
  for (const std::string& host : hosts_) {
    for (const auto& start : TakeStarts(host)) {
      ++started;
      RunEntry(host, start.entry_id, 0);
    }
  }
  EXPECT_EQ(started, 18u);

  // A probe job each: the first passes on h07, then the second; h07 is released.
  for (int probe_number = 1; probe_number <= 2; ++probe_number) {
    Tick();
    auto starts = TakeStarts("h07");
    ASSERT_EQ(starts.size(), 1u) << "probe " << probe_number;
    EXPECT_EQ(Show(starts[0].job_id).probe_for, "h07");
    RunEntry("h07", starts[0].entry_id, 0);
    AgentSend("h07", protocol::WorkRequest{incarnations_["h07"]});
  }
  EXPECT_EQ(Record("h07").status, HostStatus::kReady) << Record("h07").status_reason;
  EXPECT_EQ(Record("h07").quarantined_ms, 0);
  EXPECT_NE(Record("h07").health_since_ms, 0);
  // Its old failures no longer count: it is not quarantined again.
  health_->ComputeNow();
  Flush();
  EXPECT_EQ(Record("h07").status, HostStatus::kReady);

  // h12's probe (made with h07's first) fails: it stays quarantined and no more probes are made.
  Tick();
  auto starts = TakeStarts("h12");
  ASSERT_EQ(starts.size(), 1u);
  RunEntry("h12", starts[0].entry_id, 1);
  Flush();
  EXPECT_EQ(Record("h12").status, HostStatus::kQuarantined);
  EXPECT_TRUE(Record("h12").probes_stopped);
  Tick();
  Tick();
  EXPECT_TRUE(TakeStarts("h12").empty());
}

TEST_F(Health, AdminQuarantineAndRelease) {
  config_.quarantine_mode = "off";
  StartHealth();
  auto call = [&](protocol::HostQuarantineRequest request) {
    auto e = protocol::DecodeEnvelope(protocol::Encode(request, 5));
    Principal admin{"root", true};
    std::string frame = health_->HandleQuarantine(*e, admin);
    Flush();
    AnswerTasks();
    return frame;
  };
  EXPECT_TRUE(ErrorIn(call({"nope", false, ""})).has_value());
  EXPECT_TRUE(ErrorIn(call({"h03", true, ""})).has_value());  // not quarantined
  EXPECT_TRUE(ErrorIn(call({"h03", false, std::string(300, 'x')})).has_value());
  EXPECT_EQ(Record("h03").status, HostStatus::kReady);

  auto shown = protocol::DecodeAs<protocol::HostShowReply>(call({"h03", false, "bad NIC"}));
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ(shown->host.quarantine_reason, "bad NIC");
  EXPECT_EQ(shown->host.quarantined_by, "root");
  EXPECT_EQ(Record("h03").status, HostStatus::kQuarantined);
  EXPECT_TRUE(ErrorIn(call({"h03", false, "again"})).has_value());  // already
  // Committed with the turn: a restarted coordinator reads it back.
  auto stored = store_->GetHost("h03");
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->status, HostStatus::kQuarantined);
  EXPECT_EQ((*stored)->quarantine_reason, "bad NIC");
  EXPECT_EQ((*stored)->quarantined_by, "root");

  shown = protocol::DecodeAs<protocol::HostShowReply>(call({"h03", true, "swapped the NIC"}));
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ(shown->host.status, "Ready");
  EXPECT_EQ(Record("h03").quarantined_ms, 0);
}

}  // namespace
}  // namespace labmesh::coordinator::testing
