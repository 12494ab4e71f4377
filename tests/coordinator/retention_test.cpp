// Retention (docs/retention.md): the policies' rules alone, and the sweeper on an aged store -
// the coordinator's Core on a real store, the real results index, intake and retention worker,
// jobs run by played agents, and time moved by the fake clock instead of waited for. Every test
// that removes something ends with the store check (`labmesh-coordinator --check`) clean.

#include "retention.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "jobs_fixture.hpp"
#include "labmesh/store/results_index.hpp"
#include "process.hpp"
#include "results_intake.hpp"
#include "retention_rules.hpp"
#include "retention_worker.hpp"
#include "store_check.hpp"

namespace labmesh::coordinator::testing {
namespace {

namespace fs = std::filesystem;
using labmesh::testing::WaitFor;
using store::ResultsState;

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kDayUs = kDayMs * 1000;

// ---- the rules alone ----

store::Job FinishedJob(int64_t finished_us, int64_t keep_ms = 0) {
  store::Job job;
  job.id = 1;
  job.finished_us = finished_us;
  job.keep_results_ms = keep_ms;
  return job;
}

TEST(RetentionRules, ResultsExpireAfterTheRetentionUnlessTheJobKeepsThem) {
  RetentionPolicy policy;
  policy.results_retention_ms = 90 * kDayMs;
  const int64_t now = 1000 * kDayUs;
  EXPECT_EQ(ResultsExpiry(FinishedJob(now - 91 * kDayUs), policy, now), "retention 90d");
  EXPECT_EQ(ResultsExpiry(FinishedJob(now - 89 * kDayUs), policy, now), "");
  EXPECT_EQ(ResultsExpiry(FinishedJob(0), policy, now), "") << "not finished";
  EXPECT_EQ(ResultsExpiry(FinishedJob(now - 500 * kDayUs, store::kKeepForever), policy, now), "");
  EXPECT_EQ(ResultsExpiry(FinishedJob(now - 91 * kDayUs, 120 * kDayMs), policy, now), "");
  EXPECT_EQ(ResultsExpiry(FinishedJob(now - 31 * kDayUs, 30 * kDayMs), policy, now),
            "--keep-results 30d")
      << "a shorter --keep-results removes earlier than the coordinator's retention";
  store::Job removed = FinishedJob(now - 91 * kDayUs);
  removed.results_state = ResultsState::kRemoved;
  EXPECT_EQ(ResultsExpiry(removed, policy, now), "");
  EXPECT_EQ(ResultsExpiry(FinishedJob(now - 9000 * kDayUs), RetentionPolicy{}, now), "")
      << "no policy keeps everything";
}

TEST(RetentionRules, RecordsExpireAfterTheJobRetentionButNotWhileTheirResultsAreKept) {
  RetentionPolicy policy;
  policy.job_retention_ms = 365 * kDayMs;
  const int64_t now = 2000 * kDayUs;
  EXPECT_EQ(RecordExpiry(FinishedJob(now - 366 * kDayUs), policy, now), "job retention 365d");
  EXPECT_EQ(RecordExpiry(FinishedJob(now - 364 * kDayUs), policy, now), "");
  EXPECT_EQ(RecordExpiry(FinishedJob(now - 999 * kDayUs, store::kKeepForever), policy, now), "");
  EXPECT_EQ(RecordExpiry(FinishedJob(now - 400 * kDayUs, 500 * kDayMs), policy, now), "");
  EXPECT_EQ(RecordExpiry(FinishedJob(now - 501 * kDayUs, 500 * kDayMs), policy, now),
            "job retention 365d");
}

TEST(RetentionRules, TheByteCapTakesTheOldestFinishedFirstUntilUnder) {
  std::vector<SizedJob> jobs = {{3, 300, 100}, {1, 100, 100}, {2, 200, 100}, {4, 200, 50}};
  EXPECT_EQ(OverCap(jobs, 350, 0), std::vector<uint64_t>{}) << "no cap";
  EXPECT_EQ(OverCap(jobs, 350, 400), std::vector<uint64_t>{}) << "within the cap";
  EXPECT_EQ(OverCap(jobs, 350, 250), (std::vector<uint64_t>{1})) << "oldest finished first";
  EXPECT_EQ(OverCap(jobs, 350, 150), (std::vector<uint64_t>{1, 2})) << "ties by id";
  EXPECT_EQ(OverCap(jobs, 350, 1), (std::vector<uint64_t>{1, 2, 4, 3}));
  store::Job forever = FinishedJob(5, store::kKeepForever);
  EXPECT_FALSE(CapMayRemove(forever));
  EXPECT_TRUE(CapMayRemove(FinishedJob(5, 30 * kDayMs)));
}

// ---- the sweeper on an aged store ----

class Retention : public Jobs {
 protected:
  void SetUp() override {
    Jobs::SetUp();
    config_.retention_sweep_interval_ms = 60'000;
    auto index = store::ResultsIndex::Open(dir_.path() + "/results-index");
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    index_ = std::move(*index);
    intake_ = std::make_unique<ResultsIntake>(results_->root(), index_.get());
    ASSERT_TRUE(intake_->Start().ok());
    jobs_->jobs().set_parser([this](ParseWork work) { intake_->Submit(std::move(work)); });
    Register("h1");
  }

  // After the test set config_'s policies.
  void StartSweeper() {
    worker_ = std::make_unique<RetentionWorker>(results_->root(), index_.get(), store_.get());
    worker_->Start();
    sweeper_ = std::make_unique<RetentionSweeper>(config_, &clock_, store_.get(), &jobs_->batch(),
                                                  worker_.get(),
                                                  [this](const std::string& id, std::string frame) {
                                                    api_sent_.push_back({id, frame});
                                                  });
    sweeper_->set_busy([this](uint64_t id) { return jobs_->jobs().FindJob(id) != nullptr; });
  }

  // One loop turn of the coordinator: the sweeper's share, then the commit.
  void Turn() {
    sweeper_->Step();
    Flush();
  }

  // Runs a job on h1 whose entry uploads a control log of `bytes` bytes and a status.log with
  // one GOOD result, and waits until its results are parsed (the job Completed).
  uint64_t RunJob(int64_t keep_ms = 0, size_t bytes = 1000, const std::string& user = "alice") {
    auto id = Create({.user = user, .hosts = {"h1"}, .keep_results_ms = keep_ms});
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    if (!id.ok()) return 0;
    auto starts = TakeStarts("h1");
    EXPECT_EQ(starts.size(), 1u);
    if (starts.empty()) return 0;
    const uint64_t entry = starts[0].entry_id;
    const std::string log(bytes, 'x');
    const std::string status =
        "START\t----\tboot\ttimestamp=1764400000\n"
        "\tGOOD\t----\tboot\ttimestamp=1764400001\tcompleted successfully\n"
        "END GOOD\t----\tboot\ttimestamp=1764400001\n";
    protocol::EntryReport report;
    report.entry_id = entry;
    report.phase = "running";
    report.sequence = 1;
    report.started_us = clock_.WallUs();
    AgentSend("h1", report);
    Chunk("h1", entry, "debug/control.log", log);
    Chunk("h1", entry, "status.log", status);
    report.phase = "uploaded";
    report.sequence = 2;
    report.exit_code = 0;
    report.outcome = "passed";
    report.files = {{"debug/control.log", log.size(), Blake2bHex(log)},
                    {"status.log", status.size(), Blake2bHex(status)}};
    AgentSend("h1", report);
    EXPECT_TRUE(WaitFor([&] {
      for (const ParseDone& done : intake_->TakeDone()) jobs_->jobs().OnParsed(done);
      Flush();
      return Show(*id).status == "Completed";
    }));
    AgentSend("h1", protocol::WorkRequest{incarnations_["h1"]});
    return *id;
  }

  // Moves the clock to the next sweep and runs loop turns until that sweep ended.
  void Sweep() {
    const uint64_t before = sweeper_->stats().sweeps;
    clock_.AdvanceMs(config_.retention_sweep_interval_ms);
    ASSERT_TRUE(WaitFor([&] {
      Turn();
      return sweeper_->stats().sweeps > before;
    }));
    Turn();  // the last commit's counters
  }

  store::Job StoredJob(uint64_t id) {
    auto job = store_->GetJob(id);
    EXPECT_TRUE(job.ok() && job->has_value()) << "job " << id;
    return job.ok() && job->has_value() ? **job : store::Job{};
  }

  bool ResultsDirExists(uint64_t id, const std::string& owner = "alice") {
    return fs::exists(dir_.path() + "/results/" + std::to_string(id) + "-" + owner);
  }

  uint64_t IndexedResults(uint64_t id) {
    auto counts = index_->CountsForJob(id);
    EXPECT_TRUE(counts.ok());
    return counts.ok() ? counts->total() : 0;
  }

  // Closes everything (one LMDB environment per directory per process) and runs the store
  // check on the data directory; the test cannot go on after it.
  void ExpectCheckClean() {
    sweeper_.reset();
    worker_.reset();
    intake_.reset();
    index_.reset();
    agents_.reset();
    jobs_.reset();
    catalog_.reset();
    registry_.reset();
    store_.reset();
    auto report = CheckDataDir(dir_.path());
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_GT(report->jobs, 0u) << "the check read the store";
    std::string problems;
    for (const std::string& p : report->problems) problems += p + "\n";
    EXPECT_TRUE(report->clean()) << report->Summary() << "\n" << problems;
  }

  template <typename Reply>
  Result<Reply> Retained(const protocol::Envelope& e, const Principal& who) {
    api_sent_.clear();
    sweeper_->HandleApi("api", e, who);
    Flush();
    EXPECT_TRUE(WaitFor([&] {
      Turn();
      return !api_sent_.empty();
    }));
    if (api_sent_.empty()) return Status::Internal("no reply");
    return protocol::DecodeAs<Reply>(api_sent_.back().frame);
  }

  Result<protocol::JobDeleteReply> DeleteJob(uint64_t id, Principal who) {
    auto e = protocol::DecodeEnvelope(protocol::Encode(protocol::JobDeleteRequest{id}, 9));
    EXPECT_TRUE(e.ok());
    return Retained<protocol::JobDeleteReply>(*e, who);
  }

  std::unique_ptr<store::ResultsIndex> index_;
  std::unique_ptr<ResultsIntake> intake_;
  std::unique_ptr<RetentionWorker> worker_;
  std::unique_ptr<RetentionSweeper> sweeper_;
};

TEST_F(Retention, AnAgedStoreShrinksToTheResultsRetention) {
  config_.results_retention_ms = 90 * kDayMs;
  StartSweeper();
  const uint64_t old_job = RunJob();
  clock_.AdvanceMs(60 * kDayMs);
  const uint64_t young_job = RunJob();
  ASSERT_EQ(IndexedResults(old_job), 1u);
  clock_.AdvanceMs(31 * kDayMs);  // the old job is 91 days old, the young one 31
  Sweep();

  store::Job old_stored = StoredJob(old_job);
  EXPECT_EQ(old_stored.results_state, ResultsState::kRemoved);
  EXPECT_EQ(old_stored.results_removed_reason, "retention 90d");
  EXPECT_FALSE(ResultsDirExists(old_job));
  EXPECT_EQ(IndexedResults(old_job), 0u);
  EXPECT_EQ(Show(old_job).results, "removed") << "job show says so";
  EXPECT_EQ(StoredJob(young_job).results_state, ResultsState::kPresent);
  EXPECT_TRUE(ResultsDirExists(young_job));
  EXPECT_EQ(IndexedResults(young_job), 1u);

  const RetentionStats& stats = sweeper_->stats();
  EXPECT_EQ(stats.results_removed, 1u);
  EXPECT_EQ(stats.dirs_removed, 1u);
  EXPECT_EQ(stats.files_removed, 2u);
  EXPECT_EQ(stats.bytes_removed, old_stored.result_bytes);
  EXPECT_GT(old_stored.result_bytes, 1000u);
  EXPECT_EQ(stats.index_rows_removed, 1u);
  EXPECT_EQ(sweeper_->Snapshot().results_removed, 1u) << "the copy for other threads";
  ExpectCheckClean();
}

TEST_F(Retention, KeepResultsOverridesTheRetentionBothWays) {
  config_.results_retention_ms = 10 * kDayMs;
  StartSweeper();
  const uint64_t plain = RunJob();
  const uint64_t month = RunJob(30 * kDayMs);
  const uint64_t forever = RunJob(store::kKeepForever);
  const uint64_t short_keep = RunJob(2 * kDayMs);
  clock_.AdvanceMs(3 * kDayMs);
  Sweep();
  EXPECT_EQ(StoredJob(short_keep).results_state, ResultsState::kRemoved);
  EXPECT_EQ(StoredJob(short_keep).results_removed_reason, "--keep-results 2d");
  EXPECT_EQ(StoredJob(plain).results_state, ResultsState::kPresent);
  clock_.AdvanceMs(12 * kDayMs);
  Sweep();
  EXPECT_EQ(StoredJob(plain).results_state, ResultsState::kRemoved);
  EXPECT_EQ(StoredJob(month).results_state, ResultsState::kPresent);
  clock_.AdvanceMs(16 * kDayMs);
  Sweep();
  EXPECT_EQ(StoredJob(month).results_state, ResultsState::kRemoved);
  clock_.AdvanceMs(5000 * kDayMs);
  Sweep();
  EXPECT_EQ(StoredJob(forever).results_state, ResultsState::kPresent);
  EXPECT_TRUE(ResultsDirExists(forever));
  ExpectCheckClean();
}

TEST_F(Retention, TheByteCapRemovesTheOldestFirstButNotWhatIsKeptForever) {
  StartSweeper();
  const uint64_t first = RunJob(store::kKeepForever, 5000);
  clock_.AdvanceMs(1000);
  const uint64_t second = RunJob(0, 5000);
  clock_.AdvanceMs(1000);
  const uint64_t third = RunJob(0, 5000);
  clock_.AdvanceMs(1000);
  const uint64_t fourth = RunJob(30 * kDayMs, 5000);  // a duration does not exempt it
  const uint64_t each = StoredJob(second).result_bytes;
  sweeper_.reset();
  config_.results_max_bytes = 2 * each;  // four are held: two must go
  StartSweeper();
  Sweep();
  EXPECT_EQ(StoredJob(first).results_state, ResultsState::kPresent);
  EXPECT_EQ(StoredJob(second).results_state, ResultsState::kRemoved);
  EXPECT_EQ(StoredJob(third).results_state, ResultsState::kRemoved);
  EXPECT_EQ(StoredJob(fourth).results_state, ResultsState::kPresent);
  EXPECT_NE(StoredJob(second).results_removed_reason.find("--results-max-bytes"),
            std::string::npos);
  ExpectCheckClean();
}

TEST_F(Retention, JobRetentionRemovesRecordsEntriesIndexRowsAndFiles) {
  config_.job_retention_ms = 30 * kDayMs;
  StartSweeper();
  const uint64_t old_job = RunJob();
  const uint64_t kept = RunJob(store::kKeepForever);
  const uint64_t entry = StoredJob(old_job).entry_ids.at(0);
  clock_.AdvanceMs(29 * kDayMs);
  const uint64_t young_job = RunJob();
  clock_.AdvanceMs(2 * kDayMs);
  Sweep();
  auto gone = store_->GetJob(old_job);
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  auto entry_gone = store_->GetEntry(entry);
  ASSERT_TRUE(entry_gone.ok());
  EXPECT_FALSE(entry_gone->has_value());
  EXPECT_FALSE(ResultsDirExists(old_job));
  EXPECT_EQ(IndexedResults(old_job), 0u);
  auto history = store_->ListHostEntries("h1", 100);
  ASSERT_TRUE(history.ok());
  for (const store::Entry& e : *history) EXPECT_NE(e.job_id, old_job);
  EXPECT_TRUE(StoredJob(kept).results_state == ResultsState::kPresent);
  EXPECT_TRUE(StoredJob(young_job).results_state == ResultsState::kPresent);
  EXPECT_EQ(sweeper_->stats().jobs_removed, 1u);
  EXPECT_EQ(sweeper_->stats().entries_removed, 1u);
  ExpectCheckClean();
}

TEST_F(Retention, AuditRecordsOlderThanTheRetentionGo) {
  config_.audit_retention_ms = 365 * kDayMs;
  StartSweeper();
  store::WriteBatch batch;
  const int64_t now_ms = clock_.WallMs();
  for (uint64_t id = 1; id <= 600; ++id) {  // more than one page
    store::AuditRecord record;
    record.id = id;
    record.time_ms = now_ms - (id <= 500 ? 400 : 100) * kDayMs;
    record.user = "alice";
    record.action = "JobCreateRequest";
    batch.PutAudit(record);
  }
  ASSERT_TRUE(store_->Apply(batch).ok());
  Sweep();
  auto left = store_->ListAudit("", 0, 1000);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->size(), 100u);
  EXPECT_EQ(left->back().id, 501u);
  EXPECT_EQ(sweeper_->stats().audit_removed, 500u);
}

TEST_F(Retention, WithoutAPolicyNothingIsEverRemoved) {
  StartSweeper();
  const uint64_t job = RunJob();
  clock_.AdvanceMs(3650 * kDayMs);
  for (int i = 0; i < 20; ++i) Turn();
  EXPECT_FALSE(sweeper_->sweeping());
  EXPECT_EQ(sweeper_->stats().sweeps, 0u);
  EXPECT_TRUE(ResultsDirExists(job));
  EXPECT_EQ(StoredJob(job).results_state, ResultsState::kPresent);
}

TEST_F(Retention, ASweepIsSpreadOverLoopTurnsInSmallBatches) {
  config_.results_retention_ms = kDayMs;
  std::vector<uint64_t> jobs;
  StartSweeper();
  for (int i = 0; i < 3 * static_cast<int>(RetentionSweeper::kMaxActionsPerTurn); ++i) {
    jobs.push_back(RunJob(0, 10));
  }
  clock_.AdvanceMs(2 * kDayMs);
  // Turns until the first removals are staged: never more than one batch in a turn.
  size_t removing = 0;
  ASSERT_TRUE(WaitFor([&] {
    sweeper_->Step();
    Flush();
    removing = 0;
    for (uint64_t id : jobs) {
      if (StoredJob(id).results_state != ResultsState::kPresent) ++removing;
    }
    return removing > 0;
  }));
  EXPECT_LE(removing, RetentionSweeper::kMaxActionsPerTurn);
  Sweep();  // the rest, then the next sweep
  for (uint64_t id : jobs) EXPECT_EQ(StoredJob(id).results_state, ResultsState::kRemoved);
  ExpectCheckClean();
}

TEST_F(Retention, AnInterruptedRemovalIsFinishedByTheNextSweep) {
  config_.results_retention_ms = 365 * kDayMs;
  StartSweeper();
  const uint64_t job = RunJob();
  // As a coordinator killed after committing `removing` leaves it: files and rows still there.
  store::Job stored = StoredJob(job);
  stored.results_state = ResultsState::kRemoving;
  stored.results_removed_reason = "retention 365d";
  store::WriteBatch batch;
  batch.PutJob(stored);
  ASSERT_TRUE(store_->Apply(batch).ok());
  Sweep();
  EXPECT_EQ(StoredJob(job).results_state, ResultsState::kRemoved);
  EXPECT_FALSE(ResultsDirExists(job));
  EXPECT_EQ(IndexedResults(job), 0u);
  ExpectCheckClean();
}

TEST_F(Retention, JobDeleteRemovesOneJobsResultsAtOnce) {
  StartSweeper();
  const uint64_t job = RunJob(store::kKeepForever);
  const uint64_t other = RunJob();
  auto bob = DeleteJob(job, Principal{"bob", false, ""});
  ASSERT_FALSE(bob.ok());
  EXPECT_EQ(bob.status().code(), StatusCode::kPermissionDenied) << bob.status().ToString();
  EXPECT_TRUE(ResultsDirExists(job)) << "a refused delete changes nothing";

  auto deleted = DeleteJob(job, Principal{"alice", false, ""});
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_FALSE(deleted->already_removed);
  EXPECT_EQ(deleted->dirs, 1u);
  EXPECT_EQ(deleted->files, 2u);
  EXPECT_EQ(deleted->index_rows, 1u);
  EXPECT_EQ(deleted->reason, "deleted by alice");
  EXPECT_FALSE(ResultsDirExists(job));
  EXPECT_EQ(StoredJob(job).results_state, ResultsState::kRemoved);
  EXPECT_TRUE(ResultsDirExists(other));

  auto again = DeleteJob(job, Principal{"root", true, ""});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_removed);

  auto unknown = DeleteJob(999, Principal{"alice", false, ""});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  ExpectCheckClean();
}

TEST_F(Retention, JobDeleteRefusesAJobThatIsStillRunning) {
  StartSweeper();
  auto id = Create({.hosts = {"h1"}});
  ASSERT_TRUE(id.ok());
  ASSERT_EQ(TakeStarts("h1").size(), 1u);
  auto refused = DeleteJob(*id, Principal{"alice", false, ""});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("labmesh job abort"), std::string::npos);
  EXPECT_EQ(StoredJob(*id).results_state, ResultsState::kPresent);
}

TEST_F(Retention, UsageCountsTheBytesHeldByOwnerAndMonth) {
  StartSweeper();
  const uint64_t a1 = RunJob(0, 1000, "alice");
  const uint64_t a2 = RunJob(0, 3000, "alice");
  clock_.AdvanceMs(40 * kDayMs);  // another month
  const uint64_t b1 = RunJob(0, 2000, "bob");
  const uint64_t bytes_a = StoredJob(a1).result_bytes + StoredJob(a2).result_bytes;
  const uint64_t bytes_b = StoredJob(b1).result_bytes;
  auto e = protocol::DecodeEnvelope(protocol::Encode(protocol::ResultsUsageRequest{}, 9));
  auto usage = Retained<protocol::ResultsUsageReply>(*e, Principal{"carol", false, ""});
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  EXPECT_EQ(usage->total_bytes, bytes_a + bytes_b);
  EXPECT_EQ(usage->jobs, 3u);
  ASSERT_EQ(usage->by_owner.size(), 2u);
  EXPECT_EQ(usage->by_owner[0].key, bytes_a > bytes_b ? "alice" : "bob");
  ASSERT_EQ(usage->by_month.size(), 2u);
  EXPECT_LT(usage->by_month[0].key, usage->by_month[1].key);
  EXPECT_EQ(usage->by_month[1].bytes, bytes_b);
  // Deleted results no longer count.
  ASSERT_TRUE(DeleteJob(b1, Principal{"bob", false, ""}).ok());
  usage = Retained<protocol::ResultsUsageReply>(*e, Principal{"carol", false, ""});
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->total_bytes, bytes_a);
  EXPECT_EQ(usage->by_owner.size(), 1u);
}

}  // namespace
}  // namespace labmesh::coordinator::testing
