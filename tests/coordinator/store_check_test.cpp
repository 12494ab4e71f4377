// The store check (`labmesh-coordinator --check`): a consistent data directory is clean, and
// each kind of inconsistency, written straight into a real store, results index and results
// tree, is reported - without the check changing anything.

#include "store_check.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "entry_status.hpp"
#include "labmesh/store/results_index.hpp"
#include "labmesh/store/store.hpp"
#include "process.hpp"
#include "results_repository.hpp"

namespace labmesh::coordinator {
namespace {

using protocol::EntryStatus;
namespace fs = std::filesystem;

store::Entry MakeEntry(uint64_t id, uint64_t job_id, const std::string& host,
                       std::vector<EntryStatus> path) {
  store::Entry entry;
  entry.id = id;
  entry.job_id = job_id;
  entry.hostname = host;
  entry.history.push_back(store::StatusChange{EntryStatus::kQueued, 1000, ""});
  int64_t now = 1000;
  for (EntryStatus to : path) EXPECT_TRUE(MoveEntry(entry, to, "test", ++now).ok());
  return entry;
}

const std::vector<EntryStatus> kCompletedPath = {EntryStatus::kStarting, EntryStatus::kRunning,
                                                 EntryStatus::kGathering, EntryStatus::kParsing,
                                                 EntryStatus::kCompleted};

class StoreCheckTest : public ::testing::Test {
 protected:
  // A consistent data directory: job 1 (alice) with entry 10 completed on lab-1 (one GOOD
  // result from status.log, indexed, the file on disk) and entry 11 running on lab-2.
  void SetUp() override {
    dir_ = tmp_.path() + "/data";
    job_.id = 1;
    job_.owner = "alice";
    job_.hosts = {"lab-1", "lab-2"};
    job_.entry_ids = {10, 11};
    job_.created_us = 1000;
    done_ = MakeEntry(10, 1, "lab-1", kCompletedPath);
    done_.result_counts = {{"GOOD", 1}};
    running_ = MakeEntry(11, 1, "lab-2", {EntryStatus::kStarting, EntryStatus::kRunning});
    for (const char* name : {"lab-1", "lab-2"}) {
      store::Host host;
      host.hostname = name;
      host.status = std::string(name) == "lab-2" ? protocol::HostStatus::kRunning
                                                 : protocol::HostStatus::kReady;
      hosts_.push_back(host);
    }
    WriteFile(ResultsRepository::EntryDir(1, "alice", "lab-1") + "/status.log", "START\n");
    WriteFile(ResultsRepository::EntryDir(1, "alice", "lab-2") + "/debug/control.log", "x");
    store::ResultRecord record;
    record.hostname = "lab-1";
    record.test = "boot";
    record.status = "GOOD";
    record.start_us = 1000;
    record.file = "status.log";
    records_[{1, 10}] = {record};
  }

  void WriteFile(const std::string& rel, const std::string& text) {
    fs::path path = dir_ + "/results/" + rel;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }

  // Writes the records (as they are after a test changed them) and runs the check.
  StoreCheckReport Check() {
    {
      auto store = store::Store::Open(dir_ + "/db");
      EXPECT_TRUE(store.ok()) << store.status().ToString();
      store::WriteBatch batch;
      for (const store::Host& host : hosts_) batch.PutHost(host);
      batch.PutJob(job_);
      batch.PutEntry(done_);
      batch.PutEntry(running_);
      for (const store::Job& job : extra_jobs_) batch.PutJob(job);
      for (const store::Entry& entry : extra_entries_) batch.PutEntry(entry);
      EXPECT_TRUE((*store)->Apply(batch).ok());
      auto index = store::ResultsIndex::Open(dir_ + "/results-index");
      EXPECT_TRUE(index.ok()) << index.status().ToString();
      for (auto& [key, records] : records_) {
        EXPECT_TRUE((*index)->ReplaceEntry(key.first, key.second, records).ok());
      }
    }
    auto report = CheckDataDir(dir_);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : StoreCheckReport{};
  }

  // Whether one problem holds every one of `parts`.
  static bool Reported(const StoreCheckReport& report, std::vector<std::string> parts) {
    for (const std::string& problem : report.problems) {
      bool all = true;
      for (const std::string& part : parts) all = all && problem.find(part) != std::string::npos;
      if (all) return true;
    }
    return false;
  }

  static std::string Problems(const StoreCheckReport& report) {
    std::string out;
    for (const std::string& p : report.problems) out += p + "\n";
    return out;
  }

  labmesh::testing::TempDir tmp_;
  std::string dir_;
  store::Job job_;
  store::Entry done_, running_;
  std::vector<store::Host> hosts_;
  std::vector<store::Job> extra_jobs_;
  std::vector<store::Entry> extra_entries_;
  std::map<std::pair<uint64_t, uint64_t>, std::vector<store::ResultRecord>> records_;
};

TEST_F(StoreCheckTest, ConsistentDataDirIsClean) {
  StoreCheckReport report = Check();
  EXPECT_TRUE(report.clean()) << Problems(report);
  EXPECT_EQ(report.jobs, 1u);
  EXPECT_EQ(report.entries, 2u);
  EXPECT_EQ(report.hosts, 2u);
  EXPECT_EQ(report.indexed_entries, 1u);
  EXPECT_EQ(report.results, 1u);
  EXPECT_EQ(report.result_dirs, 2u);
  EXPECT_EQ(report.Summary().rfind("clean: 1 jobs, 2 entries", 0), 0u) << report.Summary();
}

TEST_F(StoreCheckTest, NoStoreIsAnErrorNotAReport) {
  auto report = CheckDataDir(tmp_.path() + "/nothing-here");
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(tmp_.path() + "/nothing-here"));  // and nothing was created
}

TEST_F(StoreCheckTest, JobListingAMissingEntry) {
  job_.entry_ids.push_back(12);
  EXPECT_TRUE(Reported(Check(), {"job 1", "entry 12", "does not exist"}));
}

TEST_F(StoreCheckTest, EntryOfAMissingJob) {
  extra_entries_.push_back(MakeEntry(20, 7, "", {}));
  StoreCheckReport report = Check();
  EXPECT_TRUE(Reported(report, {"entry 20", "job 7", "does not exist"})) << Problems(report);
}

TEST_F(StoreCheckTest, EntryItsJobDoesNotList) {
  extra_entries_.push_back(MakeEntry(12, 1, "", {}));
  EXPECT_TRUE(Reported(Check(), {"entry 12 (job 1)", "not listed by its job"}));
}

TEST_F(StoreCheckTest, StatusThatIsNotTheHistorysLast) {
  done_.status = EntryStatus::kRunning;
  StoreCheckReport report = Check();
  EXPECT_TRUE(Reported(report, {"entry 10", "status Running but history ends in Completed"}))
      << Problems(report);
}

TEST_F(StoreCheckTest, HistoryWithAForbiddenMove) {
  done_.history.insert(done_.history.begin() + 1,
                       store::StatusChange{EntryStatus::kCompleted, 1000, "early"});
  StoreCheckReport report = Check();
  EXPECT_TRUE(Reported(report, {"entry 10", "Queued -> Completed", "not allowed"}))
      << Problems(report);
  EXPECT_TRUE(Reported(report, {"entry 10", "Completed -> Starting", "not allowed"}));
}

TEST_F(StoreCheckTest, FinalEntryWithoutFinishTime) {
  done_.finished_us = 0;
  EXPECT_TRUE(Reported(Check(), {"entry 10", "Completed without a finish time"}));
}

TEST_F(StoreCheckTest, FinishedJobWithALiveEntry) {
  job_.finished_us = 5000;
  EXPECT_TRUE(Reported(Check(), {"job 1", "finished, but not all of its entries are final"}));
}

TEST_F(StoreCheckTest, JobWhoseEntriesAreAllFinalButNotFinished) {
  running_ = MakeEntry(11, 1, "lab-2", {EntryStatus::kStarting, EntryStatus::kFailed});
  hosts_[1].status = protocol::HostStatus::kReady;
  EXPECT_TRUE(Reported(Check(), {"job 1", "every entry is final, but the job is not finished"}));
}

TEST_F(StoreCheckTest, HostHeldByTwoEntries) {
  job_.entry_ids.push_back(12);
  extra_entries_.push_back(MakeEntry(12, 1, "lab-2", {EntryStatus::kStarting}));
  StoreCheckReport report = Check();
  EXPECT_TRUE(Reported(report, {"host lab-2", "entry 11 and entry 12"})) << Problems(report);
}

TEST_F(StoreCheckTest, RunningHostThatNoEntryHolds) {
  hosts_[0].status = protocol::HostStatus::kRunning;
  EXPECT_TRUE(Reported(Check(), {"host lab-1", "Running but no entry holds it"}));
}

TEST_F(StoreCheckTest, EntryOnAHostThatDoesNotExist) {
  hosts_.pop_back();
  EXPECT_TRUE(Reported(Check(), {"entry 11", "host lab-2, which does not exist"}));
}

TEST_F(StoreCheckTest, RetriedMoreOftenThanTheJobAllows) {
  running_.retries = 2;
  EXPECT_TRUE(Reported(Check(), {"entry 11", "retried 2 times, the job allows 0"}));
}

TEST_F(StoreCheckTest, IndexedEntryTheStoreDoesNotKnow) {
  store::ResultRecord record = records_[{1, 10}][0];
  records_[{9, 90}] = {record};
  StoreCheckReport report = Check();
  EXPECT_TRUE(Reported(report, {"results index", "entry 90 of job 9", "not in the store"}))
      << Problems(report);
}

TEST_F(StoreCheckTest, CountsThatDisagreeWithTheIndex) {
  done_.result_counts = {{"GOOD", 2}};
  StoreCheckReport report = Check();
  EXPECT_TRUE(Reported(report, {"entry 10", "counts 2 GOOD", "results index has 1 GOOD"}))
      << Problems(report);
}

TEST_F(StoreCheckTest, ParsedEntryMissingFromTheIndex) {
  records_.clear();
  EXPECT_TRUE(Reported(Check(), {"entry 10", "not in the results index"}));
}

TEST_F(StoreCheckTest, ParsedEntryNotIndexedOnPurposeIsFine) {
  records_.clear();
  done_.result_counts.clear();
  done_.parse_warnings = {"results not indexed: disk full"};
  StoreCheckReport report = Check();
  EXPECT_TRUE(report.clean()) << Problems(report);
}

TEST_F(StoreCheckTest, IndexedResultWhoseFileIsGone) {
  fs::remove(dir_ + "/results/" + ResultsRepository::EntryDir(1, "alice", "lab-1") +
             "/status.log");
  StoreCheckReport report = Check();
  EXPECT_TRUE(Reported(report, {"record", "entry 10", "status.log, which is missing"}))
      << Problems(report);
}

TEST_F(StoreCheckTest, UploadedEntryWithoutItsDirectory) {
  fs::remove_all(dir_ + "/results/" + ResultsRepository::EntryDir(1, "alice", "lab-1"));
  records_.clear();
  done_.result_counts.clear();
  done_.parse_warnings = {"results not indexed: test"};
  StoreCheckReport report = Check();
  EXPECT_TRUE(Reported(report, {"entry 10", "uploaded, but results/", "is missing"}))
      << Problems(report);
}

TEST_F(StoreCheckTest, ResultsDirectoryOfNoJob) {
  WriteFile("99-bob/lab-1/status.log", "x");
  WriteFile(ResultsRepository::EntryDir(1, "mallory", "lab-1") + "/x", "x");
  StoreCheckReport report = Check();
  EXPECT_TRUE(Reported(report, {"results/99-bob", "no such job"})) << Problems(report);
  EXPECT_TRUE(Reported(report, {"results/1-mallory", "no such job"}));
}

TEST_F(StoreCheckTest, ResultsDirectoryOfAHostTheJobNeverHad) {
  WriteFile(ResultsRepository::EntryDir(1, "alice", "lab-9") + "/x", "x");
  StoreCheckReport report = Check();
  EXPECT_TRUE(Reported(report, {"no entry of job 1 was given host lab-9"})) << Problems(report);
}

TEST_F(StoreCheckTest, ReadsBesideAnOpenWriterAndChangesNothing) {
  ASSERT_TRUE(Check().clean());
  auto writer = store::Store::Open(dir_ + "/db");  // as a live coordinator holds it
  ASSERT_TRUE(writer.ok());
  auto index = store::ResultsIndex::Open(dir_ + "/results-index");
  ASSERT_TRUE(index.ok());
  auto before = fs::last_write_time(dir_ + "/db/data.mdb");
  auto size = fs::file_size(dir_ + "/db/data.mdb");
  auto index_before = fs::last_write_time(dir_ + "/results-index/data.mdb");
  auto report = CheckDataDir(dir_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->clean());
  EXPECT_EQ(fs::last_write_time(dir_ + "/db/data.mdb"), before);
  EXPECT_EQ(fs::file_size(dir_ + "/db/data.mdb"), size);
  EXPECT_EQ(fs::last_write_time(dir_ + "/results-index/data.mdb"), index_before);
}

}  // namespace
}  // namespace labmesh::coordinator
