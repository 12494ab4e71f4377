// The analysis backend inside the coordinator: ResultsIntake parses an entry's files on its
// worker thread into a real results index (temp dir), and the JobService keeps an entry in
// Parsing - its host already free for other work - until the parse decides Completed or Failed.

#include <gtest/gtest.h>
#include <poll.h>

#include <filesystem>
#include <fstream>

#include "jobs_fixture.hpp"
#include "results_intake.hpp"

namespace labmesh::coordinator::testing {
namespace {

void Write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// Waits (with a deadline) until the intake has finished `n` parses.
std::vector<ParseDone> WaitDone(ResultsIntake& intake, size_t n) {
  std::vector<ParseDone> all;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (all.size() < n && std::chrono::steady_clock::now() < deadline) {
    pollfd fd{intake.fd(), POLLIN, 0};
    if (poll(&fd, 1, 100) > 0) {
      for (ParseDone& d : intake.TakeDone()) all.push_back(std::move(d));
    }
  }
  return all;
}

TEST(ResultsIntake, ParsesAnEntrysFilesIntoTheIndex) {
  labmesh::testing::TempDir dir;
  std::string root = dir.path() + "/results";
  std::string entry_dir = "7-alice/h1";
  Write(root + "/" + entry_dir + "/suite.tap", "1..3\nok 1 - a\nnot ok 2 - b\nok 3 - c\n");
  Write(root + "/" + entry_dir + "/broken.xml", "<testsuite><testcase name=");
  std::string long_name(400, 'n');
  Write(root + "/" + entry_dir + "/long.tap", "1..1\nok 1 - " + long_name + "\n");
  auto index = store::ResultsIndex::Open(dir.path() + "/index");
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  ResultsIntake intake(root, index->get());
  ASSERT_TRUE(intake.Start().ok());
  ParseWork work{7, 70, "h1", {"gpu", "arm", "gpu", std::string(200, 'x')}, entry_dir, 12345, 0};
  intake.Submit(work);
  auto done = WaitDone(intake, 1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].status.ok()) << done[0].status.ToString();
  EXPECT_EQ(done[0].results, 4u);
  EXPECT_EQ(done[0].counts[store::ResultStatus::kGood], 3u);
  EXPECT_EQ(done[0].counts[store::ResultStatus::kFail], 1u);
  ASSERT_EQ(done[0].failed.size(), 1u);
  bool warned = false;
  for (const std::string& w : done[0].warnings) warned |= w.find("broken.xml") != std::string::npos;
  EXPECT_TRUE(warned);

  store::ResultFilter filter;
  filter.job_id = 7;
  auto page = (*index)->Query(filter);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->records.size(), 4u);
  for (const store::ResultRecord& r : page->records) {
    EXPECT_EQ(r.hostname, "h1");
    EXPECT_EQ(r.labels, (std::vector<std::string>{"arm", "gpu"}));  // sorted, too long dropped
    EXPECT_EQ(r.start_us, 12345);  // TAP has no times: the entry's
    EXPECT_LE(r.test.size(), store::kMaxTestNameBytes);
    EXPECT_EQ(r.link, "/results/7-alice/h1/" + r.file);
  }
  // A reparse gives the same records.
  work.reparse = 1;
  intake.Submit(work);
  ASSERT_EQ(WaitDone(intake, 1).size(), 1u);
  auto again = (*index)->Query(filter);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->records, page->records);
}

class Parsing : public Jobs {
 protected:
  void SetUp() override {
    Jobs::SetUp();
    jobs_->jobs().set_parser([this](ParseWork work) { submitted_.push_back(std::move(work)); });
  }
  void Upload(const std::string& host, uint64_t entry, const std::string& outcome) {
    protocol::EntryReport report;
    report.entry_id = entry;
    report.sequence = 1;
    report.phase = "uploaded";
    report.outcome = outcome;
    report.exit_code = outcome == "passed" ? 0 : 1;
    AgentSend(host, report);
  }
  std::vector<ParseWork> submitted_;
};

TEST_F(Parsing, AnEntryIsParsedOffTheSchedulingPathThenCompletedOrFailed) {
  Register("h1");
  auto first = Create({.hosts = {"h1"}});
  auto second = Create({.hosts = {"h1"}});
  uint64_t e1 = TakeStarts("h1").at(0).entry_id;
  Upload("h1", e1, "passed");
  EXPECT_EQ(Show(*first).entries[0].status, "Parsing");
  ASSERT_EQ(submitted_.size(), 1u);  // handed over after the commit
  EXPECT_EQ(submitted_[0].entry_dir, std::to_string(*first) + "-alice/h1");
  // The host is free at once: the next job starts while the first is parsed.
  AgentSend("h1", protocol::WorkRequest{incarnations_["h1"]});
  auto next = TakeStarts("h1");
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].job_id, *second);

  ParseDone done;
  done.work = submitted_[0];
  done.results = 3;
  done.counts[store::ResultStatus::kGood] = 2;
  done.counts[store::ResultStatus::kFail] = 1;
  done.failed = {"boot"};
  done.warnings = {"broken.xml: not well-formed"};
  jobs_->jobs().OnParsed(done);
  Flush();
  protocol::JobInfo job = Show(*first);
  EXPECT_EQ(job.entries[0].status, "Failed");
  EXPECT_EQ(job.entries[0].reason, "1 of 3 tests did not pass: boot");
  EXPECT_EQ(job.entries[0].fault, "test");
  EXPECT_EQ(job.entries[0].result_counts.at("FAIL"), 1u);
  EXPECT_EQ(job.entries[0].parse_warnings, done.warnings);

  uint64_t e2 = next[0].entry_id;
  Upload("h1", e2, "passed");
  ParseDone clean;
  clean.work = submitted_.at(1);
  clean.results = 1;
  clean.counts[store::ResultStatus::kGood] = 1;
  jobs_->jobs().OnParsed(clean);
  jobs_->jobs().OnParsed(clean);  // a repeat changes nothing
  Flush();
  EXPECT_EQ(Show(*second).status, "Completed");
}

TEST_F(Parsing, ARestartParsesEntriesLeftInParsingAgain) {
  Register("h1");
  auto id = Create({.hosts = {"h1"}});
  Upload("h1", TakeStarts("h1").at(0).entry_id, "failed");
  ASSERT_EQ(submitted_.size(), 1u);
  registry_ = std::make_unique<HostRegistry>(store_.get(), &clock_);
  ASSERT_TRUE(registry_->Load().ok());
  StartJobs();
  submitted_.clear();
  jobs_->jobs().set_parser([this](ParseWork work) { submitted_.push_back(std::move(work)); });
  Flush();
  ASSERT_EQ(submitted_.size(), 1u);
  ParseDone done;
  done.work = submitted_[0];
  jobs_->jobs().OnParsed(done);
  Flush();
  EXPECT_EQ(Show(*id).entries[0].status, "Failed");  // the control's own failure
}

}  // namespace
}  // namespace labmesh::coordinator::testing
