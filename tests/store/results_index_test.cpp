// The results index: replacing an entry's results, every query filter, cursors, summaries and
// their counts across reparse and delete, keyval series, bad input, reopen and damaged bytes.

#include "labmesh/store/results_index.hpp"

#include <gtest/gtest.h>
#include <msgpack.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "lmdb_env.hpp"
#include "process.hpp"
#include "results_keys.hpp"

namespace labmesh::store {
namespace {

constexpr int64_t kDay = kUsPerDay;
constexpr int64_t kT0 = 20'000 * kDay;  // a UTC midnight in 2024

class ResultsIndexTest : public ::testing::Test {
 protected:
  std::string dir() const { return tmp_.path() + "/results-index"; }

  std::unique_ptr<ResultsIndex> Open(const ResultsIndexOptions& options = {}) {
    Result<std::unique_ptr<ResultsIndex>> index = ResultsIndex::Open(dir(), options);
    EXPECT_TRUE(index.ok()) << index.status().ToString();
    return index.ok() ? std::move(index).value() : nullptr;
  }

  // Writes `bytes` at table[key] straight through LMDB (the index must be closed).
  void PutRaw(const std::string& table, const std::string& key, const std::string& bytes) {
    Env::Options options;
    options.dir = dir();
    options.max_dbs = 16;
    Result<std::unique_ptr<Env>> env = Env::Open(options);
    ASSERT_TRUE(env.ok()) << env.status().ToString();
    WriteTxn txn(**env);
    ASSERT_TRUE(txn.Begin().ok());
    Result<Dbi> dbi = txn.OpenDbi(table, /*create=*/false);
    ASSERT_TRUE(dbi.ok()) << dbi.status().ToString();
    ASSERT_TRUE(txn.Put(*dbi, key, bytes).ok());
    ASSERT_TRUE(txn.Commit().ok());
  }

  labmesh::testing::TempDir tmp_;
};

ResultRecord Result1(const std::string& test, const std::string& host, const std::string& status,
                     int64_t start_us, std::vector<std::string> labels = {"pool:a"}) {
  ResultRecord r;
  r.hostname = host;
  r.labels = std::move(labels);
  r.test = test;
  r.status = status;
  r.reason = status == "GOOD" ? "" : "went wrong";
  r.start_us = start_us;
  r.end_us = start_us + 1000;
  r.duration_us = 1000;
  r.file = "status.log";
  r.link = "/results/1-me/" + host + "/status.log";
  return r;
}

std::vector<uint64_t> Ids(const QueryPage& page) {
  std::vector<uint64_t> ids;
  for (const ResultRecord& r : page.records) ids.push_back(r.id);
  return ids;
}

QueryPage QueryOk(const ResultsIndex& index, const ResultFilter& filter) {
  Result<QueryPage> page = index.Query(filter);
  EXPECT_TRUE(page.ok()) << page.status().ToString();
  return page.ok() ? std::move(page).value() : QueryPage{};
}

std::vector<SummaryRow> SummaryOk(const ResultsIndex& index, const SummaryFilter& filter) {
  Result<std::vector<SummaryRow>> rows = index.Summary(filter);
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  return rows.ok() ? std::move(rows).value() : std::vector<SummaryRow>{};
}

// Job 1: entry 10 on h1 (labels pool:a, arch:x) and entry 11 on h2 (pool:a, pool:b); job 2:
// entry 20 on h1. Times are kT0 + i seconds, so the later in each list is newer.
void Fill(ResultsIndex& index) {
  const std::vector<std::string> h1 = {"arch:x", "pool:a"}, h2 = {"pool:a", "pool:b"};
  ASSERT_TRUE(index
                  .ReplaceEntry(1, 10,
                                {Result1("boot", "h1", "GOOD", kT0 + 1'000'000, h1),
                                 Result1("net", "h1", "FAIL", kT0 + 2'000'000, h1),
                                 Result1("disk", "h1", "GOOD", kT0 + 3'000'000, h1)})
                  .ok());
  ASSERT_TRUE(index
                  .ReplaceEntry(1, 11,
                                {Result1("boot", "h2", "GOOD", kT0 + 4'000'000, h2),
                                 Result1("net", "h2", "ERROR", kT0 + 5'000'000, h2)})
                  .ok());
  ASSERT_TRUE(index
                  .ReplaceEntry(2, 20,
                                {Result1("boot", "h1", "TEST_NA", kT0 + kDay, h1),
                                 Result1("net", "h1", "GOOD", kT0 + kDay + 1, h1)})
                  .ok());
}

TEST_F(ResultsIndexTest, QueriesByEveryFilterNewestFirst) {
  auto index = Open();
  ASSERT_NE(index, nullptr);
  Fill(*index);
  // Ids are assigned in insertion order: 1..3 entry 10, 4..5 entry 11, 6..7 entry 20.
  EXPECT_EQ(Ids(QueryOk(*index, {})), (std::vector<uint64_t>{7, 6, 5, 4, 3, 2, 1}));
  ResultFilter f;
  f.job_id = 1;
  EXPECT_EQ(Ids(QueryOk(*index, f)), (std::vector<uint64_t>{5, 4, 3, 2, 1}));
  f = {};
  f.host = "h1";
  EXPECT_EQ(Ids(QueryOk(*index, f)), (std::vector<uint64_t>{7, 6, 3, 2, 1}));
  f = {};
  f.label = "pool:b";
  EXPECT_EQ(Ids(QueryOk(*index, f)), (std::vector<uint64_t>{5, 4}));
  f.label = "pool:a";
  EXPECT_EQ(Ids(QueryOk(*index, f)), (std::vector<uint64_t>{7, 6, 5, 4, 3, 2, 1}));
  f = {};
  f.test = "net";
  EXPECT_EQ(Ids(QueryOk(*index, f)), (std::vector<uint64_t>{7, 5, 2}));
  f = {};
  f.status = "FAIL";
  EXPECT_EQ(Ids(QueryOk(*index, f)), (std::vector<uint64_t>{2}));
  f = {};
  f.since_us = kT0 + 2'000'000;
  f.until_us = kT0 + 5'000'000;  // exclusive
  EXPECT_EQ(Ids(QueryOk(*index, f)), (std::vector<uint64_t>{4, 3, 2}));
  // Combined: each index with the other filters checked on its values.
  f = {};
  f.test = "net";
  f.host = "h1";
  EXPECT_EQ(Ids(QueryOk(*index, f)), (std::vector<uint64_t>{7, 2}));
  f = {};
  f.label = "pool:a";
  f.status = "ERROR";
  EXPECT_EQ(Ids(QueryOk(*index, f)), (std::vector<uint64_t>{5}));
  f = {};
  f.job_id = 1;
  f.label = "arch:x";
  f.test = "boot";
  EXPECT_EQ(Ids(QueryOk(*index, f)), (std::vector<uint64_t>{1}));
  f = {};
  f.host = "h2";
  f.label = "arch:x";
  EXPECT_TRUE(QueryOk(*index, f).records.empty());
  f = {};
  f.label = "nobody";
  EXPECT_TRUE(QueryOk(*index, f).records.empty());

  QueryPage one = QueryOk(*index, ResultFilter{.test = "disk"});
  ASSERT_EQ(one.records.size(), 1u);
  const ResultRecord& r = one.records[0];
  EXPECT_EQ(r.job_id, 1u);
  EXPECT_EQ(r.entry_id, 10u);
  EXPECT_EQ(r.labels, (std::vector<std::string>{"arch:x", "pool:a"}));
  EXPECT_EQ(r.link, "/results/1-me/h1/status.log");
  Result<std::optional<ResultRecord>> got = index->Get(r.id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, r);
}

TEST_F(ResultsIndexTest, TestAndHostOnABusyHostStillFindsEveryResult) {
  auto index = Open();
  ASSERT_NE(index, nullptr);
  // 5,000 results on h (more than the host-first budget), 3 of them of "rare".
  std::vector<ResultRecord> records;
  for (int i = 0; i < 5000; ++i) {
    bool rare = i == 10 || i == 2500 || i == 4990;
    records.push_back(Result1(rare ? "rare" : "t" + std::to_string(i % 40), "h", "GOOD",
                              kT0 + static_cast<int64_t>(i) * 60'000'000));
  }
  records.push_back(Result1("rare", "other", "GOOD", kT0 + 5));
  ASSERT_TRUE(index->ReplaceEntry(1, 1, records).ok());
  QueryPage page = QueryOk(*index, ResultFilter{.host = "h", .test = "rare"});
  EXPECT_EQ(Ids(page), (std::vector<uint64_t>{4991, 2501, 11}));
  EXPECT_TRUE(page.next_cursor.empty());
  page = QueryOk(*index, ResultFilter{.host = "h", .test = "rare", .limit = 2});
  EXPECT_EQ(Ids(page), (std::vector<uint64_t>{4991, 2501}));
  page = QueryOk(*index, ResultFilter{.host = "h", .test = "rare", .cursor = page.next_cursor});
  EXPECT_EQ(Ids(page), (std::vector<uint64_t>{11}));
}

TEST_F(ResultsIndexTest, LabelsAreTheOnesTheHostHadWhenIndexed) {
  auto index = Open();
  ASSERT_NE(index, nullptr);
  ASSERT_TRUE(index->ReplaceEntry(1, 1, {Result1("t", "h", "GOOD", kT0, {"old"})}).ok());
  ASSERT_TRUE(index->ReplaceEntry(2, 2, {Result1("t", "h", "FAIL", kT0 + 1, {"new"})}).ok());
  EXPECT_EQ(Ids(QueryOk(*index, ResultFilter{.label = "old"})), (std::vector<uint64_t>{1}));
  EXPECT_EQ(Ids(QueryOk(*index, ResultFilter{.label = "new"})), (std::vector<uint64_t>{2}));
  auto rows = SummaryOk(*index, SummaryFilter{.group_by = SummaryGroup::kLabel});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].group, "new");
  EXPECT_EQ(rows[0].counts[ResultStatus::kFail], 1u);
  EXPECT_EQ(rows[1].group, "old");
  EXPECT_EQ(rows[1].counts[ResultStatus::kGood], 1u);
}

TEST_F(ResultsIndexTest, CursorsWalkEveryResultOnceEvenWithTinyScanBudget) {
  for (uint64_t budget : {uint64_t{20'000}, uint64_t{7}}) {
    SCOPED_TRACE("budget " + std::to_string(budget));
    labmesh::testing::TempDir tmp;
    ResultsIndexOptions options;
    options.query_scan_budget = budget;
    auto opened = ResultsIndex::Open(tmp.path() + "/ri", options);
    ASSERT_TRUE(opened.ok());
    ResultsIndex& index = **opened;
    std::vector<ResultRecord> records;
    for (int i = 0; i < 250; ++i) {
      // Pairs of equal start times: ties are ordered by id.
      records.push_back(Result1("t" + std::to_string(i % 5), "h" + std::to_string(i % 3),
                                i % 10 == 0 ? "FAIL" : "GOOD", kT0 + (i / 2) * 1000));
    }
    ASSERT_TRUE(index.ReplaceEntry(1, 1, records).ok());
    for (const ResultFilter& base :
         {ResultFilter{}, ResultFilter{.status = "FAIL"}, ResultFilter{.host = "h1"},
          ResultFilter{.label = "pool:a", .test = "t2"}}) {
      ResultFilter f = base;
      f.limit = 40;
      std::vector<uint64_t> walked;
      for (int pages = 0; pages < 1000; ++pages) {
        QueryPage page = QueryOk(index, f);
        EXPECT_LE(page.records.size(), 40u);
        for (uint64_t id : Ids(page)) walked.push_back(id);
        if (page.next_cursor.empty()) break;
        f.cursor = page.next_cursor;
      }
      std::vector<uint64_t> expected;  // newest first; record i has id i + 1
      for (int i = 249; i >= 0; --i) {
        const ResultRecord& r = records[i];
        if ((base.status.empty() || r.status == base.status) &&
            (base.host.empty() || r.hostname == base.host) &&
            (base.test.empty() || r.test == base.test)) {
          expected.push_back(i + 1);
        }
      }
      EXPECT_EQ(walked, expected);
    }
  }
}

TEST_F(ResultsIndexTest, ReparseGivesIdenticalAnswersAndNoDoubleCounts) {
  auto index = Open();
  ASSERT_NE(index, nullptr);
  Fill(*index);
  auto everything = QueryOk(*index, {});
  auto by_host = SummaryOk(*index, {});
  auto by_label = SummaryOk(*index, SummaryFilter{.group_by = SummaryGroup::kLabel});
  auto job = index->CountsForJob(1);
  ASSERT_TRUE(job.ok());
  for (int i = 0; i < 3; ++i) Fill(*index);  // the same files parsed again
  EXPECT_EQ(QueryOk(*index, {}).records, everything.records);
  EXPECT_EQ(SummaryOk(*index, {}), by_host);
  EXPECT_EQ(SummaryOk(*index, SummaryFilter{.group_by = SummaryGroup::kLabel}), by_label);
  auto again = index->CountsForJob(1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *job);
  EXPECT_EQ(job->total(), 5u);
  EXPECT_EQ((*job)[ResultStatus::kGood], 3u);

  // A reparse that finds fewer results keeps the first ids and drops the rest.
  ASSERT_TRUE(index->ReplaceEntry(1, 10, {Result1("boot", "h1", "FAIL", kT0 + 1'000'000,
                                                  {"arch:x", "pool:a"})}).ok());
  ResultFilter f;
  f.job_id = 1;
  EXPECT_EQ(Ids(QueryOk(*index, f)), (std::vector<uint64_t>{5, 4, 1}));
  auto entry = index->CountsForEntry(1, 10);
  ASSERT_TRUE(entry.ok() && entry->has_value());
  EXPECT_EQ((**entry).total(), 1u);
  EXPECT_EQ((**entry)[ResultStatus::kFail], 1u);
  auto rows = SummaryOk(*index, SummaryFilter{.test = "boot", .host = "h1"});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].total, 2u);  // job 1's FAIL and job 2's TEST_NA
  EXPECT_EQ(rows[0].counts[ResultStatus::kFail], 1u);
  EXPECT_EQ(rows[0].pass_rate, 0.0);
  // More results than before: new ids after every existing one.
  std::vector<ResultRecord> more(3, Result1("x", "h1", "GOOD", kT0 + 9));
  ASSERT_TRUE(index->ReplaceEntry(1, 10, more).ok());
  f.test = "x";
  EXPECT_EQ(Ids(QueryOk(*index, f)), (std::vector<uint64_t>{9, 8, 1}));
  // An entry replaced with nothing is known, with zero counts.
  ASSERT_TRUE(index->ReplaceEntry(3, 30, {}).ok());
  auto empty = index->CountsForEntry(3, 30);
  ASSERT_TRUE(empty.ok() && empty->has_value());
  EXPECT_EQ((**empty).total(), 0u);
  auto unknown = index->CountsForEntry(3, 31);
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
}

TEST_F(ResultsIndexTest, DeleteJobRemovesRecordsIndexesAndCounts) {
  auto index = Open();
  ASSERT_NE(index, nullptr);
  Fill(*index);
  ASSERT_TRUE(index->DeleteJob(1).ok());
  ASSERT_TRUE(index->DeleteJob(99).ok());
  EXPECT_EQ(Ids(QueryOk(*index, {})), (std::vector<uint64_t>{7, 6}));
  EXPECT_TRUE(QueryOk(*index, ResultFilter{.label = "pool:b"}).records.empty());
  auto job = index->CountsForJob(1);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->total(), 0u);
  auto rows = SummaryOk(*index, {});
  ASSERT_EQ(rows.size(), 2u);  // only job 2 on h1
  for (const SummaryRow& row : rows) EXPECT_EQ(row.total, 1u);
  EXPECT_FALSE(index->Get(1)->has_value());
}

TEST_F(ResultsIndexTest, DeleteJobsRemovesSeveralJobsInOneCallAndCountsTheirRecords) {
  auto index = Open();
  ASSERT_NE(index, nullptr);
  Fill(*index);
  const uint64_t job1 = index->CountsForJob(1)->total();
  const uint64_t job2 = index->CountsForJob(2)->total();
  const std::vector<uint64_t> ids = {1, 99, 2};
  auto removed = index->DeleteJobs(ids);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, (std::vector<uint64_t>{job1, 0, job2}));
  EXPECT_GT(job1, 0u);
  EXPECT_EQ(index->CountsForJob(1)->total(), 0u);
  EXPECT_EQ(index->CountsForJob(2)->total(), 0u);
  auto listed = index->ListEntries();
  ASSERT_TRUE(listed.ok());
  for (const IndexedEntry& e : *listed) EXPECT_TRUE(e.job_id != 1 && e.job_id != 2);
}

TEST_F(ResultsIndexTest, SummaryPerHostPerLabelAndWindow) {
  auto index = Open();
  ASSERT_NE(index, nullptr);
  Fill(*index);
  auto rows = SummaryOk(*index, SummaryFilter{.test = "net"});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].group, "h1");
  EXPECT_EQ(rows[0].total, 2u);  // FAIL on day 0, GOOD on day 1
  EXPECT_EQ(rows[0].pass_rate, 0.5);
  EXPECT_EQ(rows[0].first_us, kT0 + 2'000'000);
  EXPECT_EQ(rows[0].last_us, kT0 + kDay + 1);
  EXPECT_EQ(rows[1].group, "h2");
  EXPECT_EQ(rows[1].counts[ResultStatus::kError], 1u);

  // The window is rounded out to whole UTC hours: any instant of an hour selects all of it.
  SummaryFilter hour0{.test = "net", .since_us = kT0 + 5, .until_us = kT0 + 6};
  rows = SummaryOk(*index, hour0);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].total, 1u);
  EXPECT_EQ(rows[0].counts[ResultStatus::kFail], 1u);
  rows = SummaryOk(*index, SummaryFilter{.since_us = kT0 + kDay});
  ASSERT_EQ(rows.size(), 2u);  // day 1: boot and net on h1
  EXPECT_EQ(rows[0].test, "boot");
  EXPECT_EQ(rows[0].pass_rate, std::nullopt);  // TEST_NA only

  rows = SummaryOk(*index, SummaryFilter{.group_by = SummaryGroup::kLabel, .test = "boot"});
  ASSERT_EQ(rows.size(), 3u);  // arch:x (h1 twice), pool:a (h1 twice, h2), pool:b (h2)
  EXPECT_EQ(rows[0].group, "arch:x");
  EXPECT_EQ(rows[0].total, 2u);
  EXPECT_EQ(rows[1].group, "pool:a");
  EXPECT_EQ(rows[1].total, 3u);
  EXPECT_EQ(rows[1].pass_rate, 1.0);
  EXPECT_EQ(rows[2].group, "pool:b");

  // Per host for one label: only the label's hosts.
  rows = SummaryOk(*index, SummaryFilter{.label = "pool:b"});
  ASSERT_EQ(rows.size(), 2u);
  for (const SummaryRow& row : rows) EXPECT_EQ(row.group, "h2");
  // A host filter, and a test prefix.
  rows = SummaryOk(*index, SummaryFilter{.group_by = SummaryGroup::kLabel, .host = "h2"});
  ASSERT_EQ(rows.size(), 4u);  // {boot, net} x {pool:a, pool:b}
  rows = SummaryOk(*index, SummaryFilter{.test_prefix = "b", .until_us = kT0 + kDay});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].group, "h1");
  EXPECT_EQ(rows[1].group, "h2");
  EXPECT_TRUE(SummaryOk(*index, SummaryFilter{.host = "h1", .label = "pool:b"}).empty());
}

TEST_F(ResultsIndexTest, SummaryBoundsFollowRemovals) {
  auto index = Open();
  ASSERT_NE(index, nullptr);
  ASSERT_TRUE(index->ReplaceEntry(1, 1, {Result1("t", "h", "GOOD", kT0 + 10)}).ok());
  ASSERT_TRUE(index->ReplaceEntry(1, 2, {Result1("t", "h", "GOOD", kT0 + 20)}).ok());
  ASSERT_TRUE(index->ReplaceEntry(1, 3, {Result1("t", "h", "GOOD", kT0 + 30)}).ok());
  auto rows = SummaryOk(*index, {});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].first_us, kT0 + 10);
  EXPECT_EQ(rows[0].last_us, kT0 + 30);
  ASSERT_TRUE(index->ReplaceEntry(1, 1, {Result1("t", "h", "GOOD", kT0 + 25)}).ok());
  ASSERT_TRUE(index->ReplaceEntry(1, 3, {}).ok());
  rows = SummaryOk(*index, {});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].total, 2u);
  EXPECT_EQ(rows[0].first_us, kT0 + 20);
  EXPECT_EQ(rows[0].last_us, kT0 + 25);
}

TEST_F(ResultsIndexTest, KeyvalSeriesOldestFirst) {
  auto index = Open();
  ASSERT_NE(index, nullptr);
  std::vector<ResultRecord> records;
  for (int i = 0; i < 10; ++i) {
    ResultRecord r = Result1("bench", i % 2 ? "h1" : "h2", "GOOD", kT0 + i * 1000);
    if (i % 3 == 0) r.perf["mbps"] = i * 1.5;
    if (i % 3 == 1) r.keyvals["mbps"] = std::to_string(i) + ".25";
    if (i % 3 == 2) r.keyvals["mbps"] = "fast";  // not a number: no point
    records.push_back(r);
  }
  ASSERT_TRUE(index->ReplaceEntry(4, 40, records).ok());
  Result<std::vector<SeriesPoint>> points = index->KeyvalSeries({.test = "bench", .key = "mbps"});
  ASSERT_TRUE(points.ok()) << points.status().ToString();
  std::vector<double> values;
  for (const SeriesPoint& p : *points) values.push_back(p.value);
  EXPECT_EQ(values, (std::vector<double>{0, 1.25, 4.5, 4.25, 9, 7.25, 13.5}));
  EXPECT_EQ((*points)[1].hostname, "h1");
  EXPECT_EQ((*points)[1].job_id, 4u);
  EXPECT_EQ((*points)[1].time_us, kT0 + 1000);
  // The newest `limit` points, still oldest first; and a host filter.
  points = index->KeyvalSeries({.test = "bench", .key = "mbps", .limit = 2});
  ASSERT_TRUE(points.ok());
  ASSERT_EQ(points->size(), 2u);
  EXPECT_EQ((*points)[0].value, 7.25);
  EXPECT_EQ((*points)[1].value, 13.5);
  points = index->KeyvalSeries({.test = "bench", .key = "mbps", .host = "h1"});
  ASSERT_TRUE(points.ok());
  EXPECT_EQ(points->size(), 4u);  // i = 1, 3, 7, 9
  EXPECT_EQ(index->KeyvalSeries({.test = "bench"}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ResultsIndexTest, BadInputIsRefusedAndWritesNothing) {
  auto index = Open();
  ASSERT_NE(index, nullptr);
  Fill(*index);
  auto before = QueryOk(*index, {});
  ResultRecord no_test = Result1("", "h", "GOOD", kT0);
  ResultRecord bad_status = Result1("t", "h", "PASSED", kT0);
  ResultRecord nul_host = Result1("t", std::string("h\0x", 3), "GOOD", kT0);
  ResultRecord unsorted = Result1("t", "h", "GOOD", kT0, {"b", "a"});
  ResultRecord negative = Result1("t", "h", "GOOD", -1);
  ResultRecord long_test = Result1(std::string(kMaxTestNameBytes + 1, 't'), "h", "GOOD", kT0);
  for (const ResultRecord& bad : {no_test, bad_status, nul_host, unsorted, negative, long_test}) {
    std::vector<EntryResults> batch = {{9, 90, {Result1("ok", "h", "GOOD", kT0)}},
                                       {1, 10, {Result1("ok", "h", "GOOD", kT0), bad}}};
    EXPECT_EQ(index->ReplaceEntries(batch).code(), StatusCode::kInvalidArgument) << bad.test;
  }
  EXPECT_EQ(QueryOk(*index, {}).records, before.records);
  EXPECT_FALSE(index->CountsForEntry(9, 90)->has_value());

  EXPECT_EQ(index->Query({.status = "BAD"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Query({.limit = kMaxQueryLimit + 1}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Query({.cursor = "12x"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Summary({.since_us = -1}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ResultsIndexTest, BatchesAndDuplicateEntriesInOneTransaction) {
  auto index = Open();
  ASSERT_NE(index, nullptr);
  std::vector<EntryResults> batch = {{1, 1, {Result1("a", "h", "GOOD", kT0)}},
                                     {1, 2, {Result1("b", "h", "GOOD", kT0 + 1)}},
                                     {1, 1, {Result1("c", "h", "FAIL", kT0 + 2)}}};
  ASSERT_TRUE(index->ReplaceEntries(batch).ok());
  auto page = QueryOk(*index, {});
  ASSERT_EQ(page.records.size(), 2u);
  EXPECT_EQ(page.records[0].test, "c");
  EXPECT_EQ(page.records[1].test, "b");
  EXPECT_EQ(index->CountsForJob(1)->total(), 2u);
}

TEST_F(ResultsIndexTest, ReopenKeepsEverythingAndContinuesIds) {
  {
    auto index = Open();
    ASSERT_NE(index, nullptr);
    Fill(*index);
    ASSERT_TRUE(index->DeleteJob(2).ok());  // ids 6 and 7 are gone but not reused
  }
  auto index = Open();
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(Ids(QueryOk(*index, ResultFilter{.label = "pool:b"})), (std::vector<uint64_t>{5, 4}));
  ASSERT_TRUE(index->ReplaceEntry(3, 30, {Result1("new", "h1", "GOOD", kT0,
                                                  {"arch:x", "pool:a"})}).ok());
  auto page = QueryOk(*index, ResultFilter{.test = "new"});
  ASSERT_EQ(page.records.size(), 1u);
  EXPECT_EQ(page.records[0].id, 8u);
  EXPECT_EQ(SummaryOk(*index, SummaryFilter{.label = "arch:x"}).size(), 4u);
}

TEST_F(ResultsIndexTest, GrowsTheMapWhenFull) {
  ResultsIndexOptions options;
  options.initial_map_bytes = 1 << 20;
  auto index = Open(options);
  ASSERT_NE(index, nullptr);
  for (int entry = 0; entry < 20; ++entry) {
    std::vector<ResultRecord> records;
    for (int i = 0; i < 200; ++i) {
      ResultRecord r = Result1("test-" + std::to_string(i), "host-" + std::to_string(entry),
                               "GOOD", kT0 + entry * 1000 + i);
      r.reason = std::string(200, 'r');
      records.push_back(r);
    }
    ASSERT_TRUE(index->ReplaceEntry(1, entry, records).ok());
  }
  EXPECT_GT(index->map_size_bytes(), uint64_t{1} << 20);
  EXPECT_EQ(index->CountsForJob(1)->total(), 4000u);
}

TEST_F(ResultsIndexTest, DamagedBytesAreCorruptionNotACrash) {
  {
    auto index = Open();
    ASSERT_NE(index, nullptr);
    Fill(*index);
  }
  PutRaw("records", results::RecordKey(3), "\xc1garbage");
  results::BucketId bucket{results::HourOf(kT0), "net", "h2", 0};
  {
    auto index = Open();
    ASSERT_NE(index, nullptr);
    EXPECT_EQ(index->Query({}).status().code(), StatusCode::kCorruption);
    EXPECT_EQ(index->Get(3).status().code(), StatusCode::kCorruption);
    // Replacing the entry must read the damaged record: refused, nothing changed.
    EXPECT_EQ(index->ReplaceEntry(1, 10, {}).code(), StatusCode::kCorruption);
    EXPECT_TRUE(index->Query({.host = "h2"}).ok());
  }
  // h2's labels were the second set interned (after h1's).
  bucket.label_set = 2;
  PutRaw("sum_test", results::SumTestKey(bucket), "\xff\xff");
  PutRaw("by_test", results::ByTestKey("boot", kT0 + 4'000'000, 4), "");
  auto index = Open();
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->Summary({.test = "net"}).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(index->Query({.test = "boot"}).status().code(), StatusCode::kCorruption);
  EXPECT_TRUE(index->Query({.test = "net"}).ok());
}

TEST_F(ResultsIndexTest, RefusesANewerSchema) {
  { ASSERT_NE(Open(), nullptr); }
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, kResultsIndexSchemaVersion + 1);
  PutRaw("meta", "schema_version", std::string(buffer.data(), buffer.size()));
  auto index = ResultsIndex::Open(dir());
  EXPECT_EQ(index.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace labmesh::store
