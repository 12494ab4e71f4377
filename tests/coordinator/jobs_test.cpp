// JobService with AgentService on a real store, a fake clock and recording outboxes: the
// scheduler, the entry state machine driven by scripted agent messages, abort, refusal,
// re-attachment and dead hosts. No sockets, no processes (the e2e tests have those).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "entry_status.hpp"
#include "job_rules.hpp"
#include "jobs_fixture.hpp"

namespace labmesh::coordinator::testing {
namespace {

TEST(EntryTransitions, TableAllowsTheLifecycleAndRefusesLeavingFinal) {
  EXPECT_TRUE(CanTransition(EntryStatus::kQueued, EntryStatus::kStarting));
  EXPECT_TRUE(CanTransition(EntryStatus::kStarting, EntryStatus::kRunning));
  EXPECT_TRUE(CanTransition(EntryStatus::kRunning, EntryStatus::kGathering));
  EXPECT_TRUE(CanTransition(EntryStatus::kGathering, EntryStatus::kParsing));
  EXPECT_TRUE(CanTransition(EntryStatus::kParsing, EntryStatus::kCompleted));
  EXPECT_TRUE(CanTransition(EntryStatus::kQueued, EntryStatus::kAborted));
  EXPECT_FALSE(CanTransition(EntryStatus::kQueued, EntryStatus::kCompleted));
  // Running back to Queued only for --retry after a lost host (docs/lifecycle.md).
  EXPECT_TRUE(CanTransition(EntryStatus::kRunning, EntryStatus::kQueued));
  EXPECT_FALSE(CanTransition(EntryStatus::kParsing, EntryStatus::kQueued));
  EXPECT_FALSE(CanTransition(EntryStatus::kCompleted, EntryStatus::kFailed));
  EXPECT_FALSE(CanTransition(EntryStatus::kAborted, EntryStatus::kQueued));
  store::Entry entry;
  EXPECT_FALSE(MoveEntry(entry, EntryStatus::kParsing, "skip", 5).ok());
  EXPECT_TRUE(entry.history.empty());
  ASSERT_TRUE(MoveEntry(entry, EntryStatus::kStarting, "go", 6).ok());
  ASSERT_EQ(entry.history.size(), 1u);
  EXPECT_EQ(entry.history[0].at_us, 6);
}

TEST(JobRules, RefusesMalformedSpecs) {
  protocol::JobCreateRequest ok;
  ok.name = "n";
  ok.user = "alice";
  ok.command = "true";
  ok.hosts = {"h1"};
  EXPECT_TRUE(ValidateJobSpec(ok).ok());
  auto bad = ok;
  bad.control = "#!/bin/sh\n";
  EXPECT_FALSE(ValidateJobSpec(bad).ok());  // two controls
  bad = ok;
  bad.hosts.clear();
  EXPECT_FALSE(ValidateJobSpec(bad).ok());  // no host
  bad = ok;
  bad.meta_label = "x";
  EXPECT_FALSE(ValidateJobSpec(bad).ok());  // label without count
  bad = ok;
  bad.priority = "extreme";
  EXPECT_FALSE(ValidateJobSpec(bad).ok());
  bad = ok;
  bad.user = "../root";
  EXPECT_FALSE(ValidateJobSpec(bad).ok());
  bad = ok;
  bad.max_runtime_ms = -1;
  EXPECT_FALSE(ValidateJobSpec(bad).ok());
  for (const char* path : {"../x", "/etc/passwd", "a//b", "a/./b", "a/..", "", "a\\b"}) {
    EXPECT_FALSE(ValidateResultPath(path).ok()) << path;
  }
  EXPECT_TRUE(ValidateResultPath("debug/control.log").ok());
}

TEST_F(Jobs, NamedHostsJobRunsToCompletedWithItsFiles) {
  Register("h1");
  Register("h2");
  auto id = Create({.hosts = {"h1", "h2"}});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto s1 = TakeStarts("h1");
  auto s2 = TakeStarts("h2");
  ASSERT_EQ(s1.size(), 1u);
  ASSERT_EQ(s2.size(), 1u);
  EXPECT_EQ(s1[0].hosts, (std::vector<std::string>{"h1", "h2"}));
  EXPECT_EQ(registry_->Find("h1")->record.status, protocol::HostStatus::kRunning);
  RunEntry("h1", s1[0].entry_id, 0);
  EXPECT_EQ(Show(*id).status, "Running");
  RunEntry("h2", s2[0].entry_id, 0);
  protocol::JobInfo job = Show(*id);
  EXPECT_EQ(job.status, "Completed");
  for (const auto& entry : job.entries) {
    EXPECT_EQ(entry.status, "Completed");
    std::ifstream log(dir_.path() + "/results/" + entry.results_path + "/debug/control.log");
    std::string text((std::istreambuf_iterator<char>(log)), {});
    EXPECT_EQ(text, "hello\n");
  }
  EXPECT_EQ(registry_->Find("h1")->record.status, protocol::HostStatus::kReady);
  EXPECT_EQ(jobs_->jobs().active_jobs(), 0u);
  // The history records every move with a time.
  auto stored = store_->GetEntry(s1[0].entry_id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  std::vector<EntryStatus> moves;
  for (const auto& change : (*stored)->history) moves.push_back(change.status);
  EXPECT_EQ(moves, (std::vector<EntryStatus>{EntryStatus::kQueued, EntryStatus::kStarting,
                                             EntryStatus::kRunning, EntryStatus::kGathering,
                                             EntryStatus::kParsing, EntryStatus::kCompleted}));
}

TEST_F(Jobs, FailedControlIsATestFaultWithItsExitStatus) {
  Register("h1");
  auto id = Create({.hosts = {"h1"}});
  ASSERT_TRUE(id.ok());
  auto starts = TakeStarts("h1");
  ASSERT_EQ(starts.size(), 1u);
  RunEntry("h1", starts[0].entry_id, 3);
  protocol::JobInfo job = Show(*id);
  EXPECT_EQ(job.status, "Failed");
  EXPECT_EQ(job.entries[0].fault, "test");
  EXPECT_EQ(job.entries[0].exit_code, 3);
  EXPECT_EQ(job.entries[0].reason, "exit status 3");
}

TEST_F(Jobs, OneEntryPerHostAndPriorityOrder) {
  Register("h1");
  auto first = Create({.name = "first", .hosts = {"h1"}});
  auto low = Create({.name = "low", .hosts = {"h1"}, .priority = "low"});
  auto urgent = Create({.name = "urgent", .hosts = {"h1"}, .priority = "urgent"});
  ASSERT_TRUE(first.ok() && low.ok() && urgent.ok());
  auto starts = TakeStarts("h1");
  ASSERT_EQ(starts.size(), 1u);  // the host runs one entry at a time
  EXPECT_EQ(starts[0].job_id, *first);
  RunEntry("h1", starts[0].entry_id, 0);
  AgentSend("h1", protocol::WorkRequest{incarnation_});
  starts = TakeStarts("h1");
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].job_id, *urgent);
  RunEntry("h1", starts[0].entry_id, 0);
  AgentSend("h1", protocol::WorkRequest{incarnation_});
  starts = TakeStarts("h1");
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].job_id, *low);
}

TEST_F(Jobs, LabelCountJobUsesDistinctHostsWithTheLabel) {
  Register("h1", {"gpu"});
  Register("h2", {"gpu"});
  Register("h3");
  auto id = Create({.meta_label = "gpu", .meta_count = 2});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(TakeStarts("h1").size(), 1u);
  EXPECT_EQ(TakeStarts("h2").size(), 1u);
  EXPECT_EQ(TakeStarts("h3").size(), 0u);
  auto too_many = Create({.meta_label = "gpu", .meta_count = 3});
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("only 2"), std::string::npos);
}

TEST_F(Jobs, JobsThatCanNeverRunAreRefusedAndChangeNothing) {
  Register("h1");
  auto before = store_->ListJobs();
  auto missing = Create({.hosts = {"nope"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("does not exist"), std::string::npos);
  auto deps = Create({.hosts = {"h1"}, .depends = {"gpu"}});
  ASSERT_FALSE(deps.ok());
  EXPECT_NE(deps.status().message().find("lacks label"), std::string::npos);
  auto test = Create({.test = "no-such-test", .hosts = {"h1"}});
  ASSERT_FALSE(test.ok());
  // A user outside the host's ACL groups.
  store::WriteBatch batch;
  batch.PutUser(store::User{"mallory", {"lab-b"}, false, 0});
  ASSERT_TRUE(store_->Apply(batch).ok());
  auto acl = Create({.user = "mallory", .hosts = {"h1"}});
  ASSERT_FALSE(acl.ok());
  EXPECT_NE(acl.status().message().find("ACL"), std::string::npos);
  auto after = store_->ListJobs();
  EXPECT_EQ(before->size(), after->size());
  EXPECT_EQ(after->size(), 0u);
  EXPECT_EQ(jobs_->jobs().active_jobs(), 0u);
}

TEST_F(Jobs, AbortQueuedAtOnceAndRunningThroughTheAgent) {
  Register("h1");
  auto running = Create({.hosts = {"h1"}});
  auto queued = Create({.hosts = {"h1"}});
  ASSERT_TRUE(running.ok() && queued.ok());
  auto starts = TakeStarts("h1");
  ASSERT_EQ(starts.size(), 1u);
  ASSERT_TRUE(Call<protocol::OkReply>(protocol::JobAbortRequest{*queued, "", "bob"}).ok());
  EXPECT_EQ(Show(*queued).status, "Aborted");
  EXPECT_EQ(Show(*queued).entries[0].reason, "aborted by bob");
  ASSERT_TRUE(Call<protocol::OkReply>(protocol::JobAbortRequest{*running, "", "bob"}).ok());
  auto aborts = TakeSentOf<protocol::AbortEntry>("h1");
  ASSERT_EQ(aborts.size(), 1u);
  EXPECT_EQ(aborts[0].entry_id, starts[0].entry_id);
  EXPECT_EQ(Show(*running).status, "Running");  // until the agent reports
  protocol::EntryReport report;
  report.entry_id = starts[0].entry_id;
  report.sequence = 1;
  report.phase = "uploaded";
  report.outcome = "aborted";
  report.signal = 15;
  report.reason = "aborted by bob";
  AgentSend("h1", report);
  protocol::JobInfo job = Show(*running);
  EXPECT_EQ(job.status, "Aborted");
  EXPECT_EQ(job.entries[0].status, "Aborted");
}

TEST_F(Jobs, RepeatedReportsAreAppliedOnce) {
  Register("h1");
  auto id = Create({.hosts = {"h1"}});
  auto starts = TakeStarts("h1");
  ASSERT_EQ(starts.size(), 1u);
  protocol::EntryReport report;
  report.entry_id = starts[0].entry_id;
  report.sequence = 1;
  report.phase = "running";
  AgentSend("h1", report);
  AgentSend("h1", report);
  auto stored = store_->GetEntry(starts[0].entry_id);
  EXPECT_EQ((*stored)->history.size(), 3u);  // Queued, Starting, Running: once
  EXPECT_EQ(TakeSentOf<protocol::EntryReportAck>("h1").size(), 2u);  // both acknowledged
  (void)id;
}

// Issue 20 (PROTOCOL.md, EntryReport): a report of another incarnation or without its
// outcome is refused and not applied; "uploaded" may leave out what "exited" said; one whose
// files do not match is refused with a ResultAck (the report's request id) and not applied; a
// repeat of the applied one is acked done; a file it does not list is recorded.
TEST_F(Jobs, ReportsAreCheckedAndUploadedKeepsWhatExitedSaid) {
  Register("h1");
  auto id = Create({.hosts = {"h1"}});
  auto starts = TakeStarts("h1");
  ASSERT_EQ(starts.size(), 1u);
  const uint64_t entry = starts[0].entry_id;
  const std::string log = "hello\n";
  Chunk("h1", entry, "debug/control.log", log);
  Chunk("h1", entry, "extra.txt", "x");
  protocol::EntryReport report;
  report.entry_id = entry;
  report.sequence = 1;
  report.phase = "exited";
  report.exit_code = 3;
  report.incarnation = incarnations_["h1"] + 7;
  report.outcome = "failed";
  AgentSend("h1", report);
  report.incarnation = incarnations_["h1"];
  report.outcome = "";
  AgentSend("h1", report);
  auto errors = TakeSentOf<protocol::ErrorReply>("h1");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].code, static_cast<uint32_t>(StatusCode::kFailedPrecondition));
  EXPECT_EQ(errors[1].code, static_cast<uint32_t>(StatusCode::kInvalidArgument));
  EXPECT_EQ(Show(*id).entries[0].status, "Starting");  // nothing applied
  report.outcome = "failed";
  report.reason = "exit status 3";
  AgentSend("h1", report);

  protocol::EntryReport uploaded;
  uploaded.entry_id = entry;
  uploaded.sequence = 2;
  uploaded.phase = "uploaded";
  uploaded.files = {{"debug/control.log", log.size() + 1, Blake2bHex(log + "!")}};
  AgentSend("h1", uploaded);
  auto refusals = TakeSentOf<protocol::ResultAck>("h1");
  ASSERT_FALSE(refusals.empty());
  EXPECT_EQ(refusals.back().path, "debug/control.log");
  EXPECT_EQ(refusals.back().next_offset, log.size());
  EXPECT_FALSE(refusals.back().error.empty());
  EXPECT_EQ(Show(*id).entries[0].status, "Gathering");
  TakeSentOf<protocol::EntryReportAck>("h1");

  uploaded.files = {{"debug/control.log", log.size(), Blake2bHex(log)}};
  AgentSend("h1", uploaded);
  AgentSend("h1", uploaded);  // a repeat: acked as the first, nothing applied again
  auto acks = TakeSentOf<protocol::EntryReportAck>("h1");
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_TRUE(acks[0].done);
  EXPECT_TRUE(acks[1].done);
  protocol::JobInfo job = Show(*id);
  EXPECT_EQ(job.status, "Failed");
  EXPECT_EQ(job.entries[0].exit_code, 3);
  EXPECT_EQ(job.entries[0].reason, "exit status 3");
  EXPECT_EQ(job.entries[0].fault, "test");
  ASSERT_FALSE(job.entries[0].parse_warnings.empty());
  EXPECT_NE(job.entries[0].parse_warnings[0].find("extra.txt"), std::string::npos);
}

TEST_F(Jobs, CoordinatorRestartReattachesHeldEntriesAndRequeuesUnstarted) {
  Register("h1");
  Register("h2");
  auto id = Create({.hosts = {"h1", "h2"}});
  ASSERT_TRUE(id.ok());
  auto s1 = TakeStarts("h1");
  ASSERT_EQ(s1.size(), 1u);
  protocol::EntryReport report;
  report.entry_id = s1[0].entry_id;
  report.sequence = 1;
  report.phase = "running";
  AgentSend("h1", report);
  // h2's start is "lost". Restart the services on the same store.
  registry_ = std::make_unique<HostRegistry>(store_.get(), &clock_);
  ASSERT_TRUE(registry_->Load().ok());
  StartJobs();
  agent_sent_.clear();
  Register("h1", {}, {{s1[0].entry_id, "running"}}, /*ask_for_work=*/false);
  Register("h2", {}, {}, /*ask_for_work=*/true);
  auto again = TakeStarts("h2");
  ASSERT_EQ(again.size(), 1u);  // requeued and started again
  EXPECT_TRUE(TakeSentOf<protocol::AbortEntry>("h1").empty());
  RunEntry("h1", s1[0].entry_id, 0);
  RunEntry("h2", again[0].entry_id, 0);
  EXPECT_EQ(Show(*id).status, "Completed");
}

TEST_F(Jobs, AgentThatLostItsEntryFailsItAsInfrastructure) {
  Register("h1");
  auto id = Create({.hosts = {"h1"}});
  auto starts = TakeStarts("h1");
  protocol::EntryReport report;
  report.entry_id = starts[0].entry_id;
  report.sequence = 1;
  report.phase = "running";
  AgentSend("h1", report);
  Register("h1", {}, {}, /*ask_for_work=*/false);  // a new incarnation without the entry
  protocol::JobInfo job = Show(*id);
  EXPECT_EQ(job.status, "Failed");
  EXPECT_EQ(job.entries[0].fault, "infrastructure");
}

TEST_F(Jobs, WorkRequestWhileResultsAreCheckedDoesNotFailTheEntry) {
  Register("h1");
  auto first = Create({.hosts = {"h1"}});
  auto second = Create({.hosts = {"h1"}});
  auto starts = TakeStarts("h1");
  ASSERT_EQ(starts.size(), 1u);
  protocol::EntryReport report;
  report.entry_id = starts[0].entry_id;
  report.sequence = 1;
  report.phase = "exited";
  report.started_us = 1;
  report.exit_code = 0;
  report.outcome = "passed";
  AgentSend("h1", report);
  // An agent waiting only for its results to be acknowledged may ask for work (after a
  // reconnect); the entry is not lost, and the host gets work once the entry is done.
  AgentSend("h1", protocol::WorkRequest{incarnation_});
  EXPECT_EQ(Show(*first).entries[0].status, "Gathering");
  EXPECT_TRUE(TakeStarts("h1").empty());
  report.sequence = 2;
  report.phase = "uploaded";
  AgentSend("h1", report);
  EXPECT_EQ(Show(*first).status, "Completed");
  auto next = TakeStarts("h1");
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].job_id, *second);
}

TEST_F(Jobs, AFailedCommitSendsNothingAndTheJobCanBeSubmittedAgain) {
  Register("h1");
  store_->fail_applies = 1;
  auto refused = Create({.hosts = {"h1"}});
  EXPECT_FALSE(refused.ok());
  EXPECT_TRUE(TakeStarts("h1").empty());  // nothing announced that was not stored
  EXPECT_EQ(jobs_->jobs().active_jobs(), 0u);
  EXPECT_EQ(store_->ListJobs()->size(), 0u);
  // The idle host is still known to want work.
  auto id = Create({.hosts = {"h1"}});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(TakeStarts("h1").size(), 1u);
}

TEST_F(Jobs, DeadHostFailsItsEntryAndAStaleReportIsDiscarded) {
  config_.dead_after_ms = 1000;
  Register("h1");
  auto id = Create({.hosts = {"h1"}});
  auto starts = TakeStarts("h1");
  clock_.AdvanceMs(5000);
  agents_->CheckDeadHosts();
  Flush();
  protocol::JobInfo job = Show(*id);
  EXPECT_EQ(job.status, "Failed");
  EXPECT_EQ(job.entries[0].fault, "infrastructure");
  // It comes back still holding the entry: told to drop it.
  agent_sent_.clear();
  Register("h1", {}, {{starts[0].entry_id, "running"}}, false);
  auto aborts = TakeSentOf<protocol::AbortEntry>("h1");
  ASSERT_EQ(aborts.size(), 1u);
  EXPECT_TRUE(aborts[0].discard);
}

TEST_F(Jobs, ChunksOutsideTheResultsTreeAreRefused) {
  Register("h1");
  auto id = Create({.hosts = {"h1"}});
  auto starts = TakeStarts("h1");
  Chunk("h1", starts[0].entry_id, "../../escape", "x");
  auto acks = TakeSentOf<protocol::ResultAck>("h1");
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_FALSE(acks[0].error.empty());
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/results/escape"));
  // A chunk with a wrong hash or a gap is refused with what the coordinator holds.
  Chunk("h1", starts[0].entry_id, "a.txt", "abc");
  protocol::ResultChunk bad;
  bad.entry_id = starts[0].entry_id;
  bad.path = "a.txt";
  bad.offset = 10;
  bad.data = {'z'};
  bad.hash = Blake2bHex("z");
  AgentSend("h1", bad);
  acks = TakeSentOf<protocol::ResultAck>("h1");
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[1].next_offset, 3u);
  EXPECT_FALSE(acks[1].error.empty());
  (void)id;
}

TEST_F(Jobs, JobTimeoutAbortsTheJob) {
  Register("h1");
  auto id = Create({.hosts = {"h1"}, .timeout_ms = 1000});
  auto queued = Create({.hosts = {"h1"}, .timeout_ms = 1000});
  clock_.AdvanceMs(2000);
  jobs_->CheckTimeouts();
  Flush();
  EXPECT_EQ(TakeSentOf<protocol::AbortEntry>("h1").size(), 1u);
  EXPECT_EQ(Show(*queued).status, "Aborted");
  EXPECT_NE(Show(*queued).abort_reason.find("timeout"), std::string::npos);
  (void)id;
}

}  // namespace
}  // namespace labmesh::coordinator::testing
