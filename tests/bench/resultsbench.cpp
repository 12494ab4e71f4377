// labmesh-resultsbench: the results index (issue 8) on its own, without a coordinator.
//   ingest:  N synthetic results indexed the way the results parser does it, entry by entry,
//            --batch results per write transaction (each a real synced commit); results/s
//            counts only the time inside ReplaceEntries (making and freeing the records, the
//            parser's side, is not timed). cpu_us_per_result is the CPU the calls used.
//   queries: after a warm-up, --runs runs each (varying the label, test and host), p50/p99 of
//            (a) pass rates per test x host for one label over 7 days,
//            (b) pass rates per test x label over 30 days for one test, and for one suite
//                (a test prefix of 50 tests),
//            (c) lists of 100: test=X host=Y, label=L status=FAIL, and test=X.
// The fleet: --hosts hosts with 4 of --labels labels each, --tests test names in suites of 50
// ("suite017/case042"); an entry runs one suite on one host (50 results, seconds apart);
// entries are spread evenly over 30 days, in time order; 90% GOOD; each result has two
// keyvals and one or two perf values. Output: one "resultsbench: NAME key=value..." per figure.

#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "labmesh/store/results_index.hpp"

namespace labmesh {
namespace {

using store::EntryResults;
using store::ResultRecord;
using Clock = std::chrono::steady_clock;

constexpr int kSuiteSize = 50;
constexpr int64_t kDayUs = store::kUsPerDay;
constexpr int64_t kStartUs = 19'800 * kDayUs;  // 2024-03-18, a UTC midnight
constexpr int kDays = 30;

struct Fleet {
  std::vector<std::string> tests;
  std::vector<std::string> hosts;
  std::vector<std::string> labels;
  std::vector<std::vector<std::string>> host_labels;  // sorted, 4 each
};

Fleet MakeFleet(int tests, int hosts, int labels, std::mt19937_64& rng) {
  Fleet fleet;
  char name[64];
  for (int i = 0; i < tests; ++i) {
    std::snprintf(name, sizeof name, "suite%03d/case%03d", i / kSuiteSize, i % kSuiteSize);
    fleet.tests.push_back(name);
  }
  for (int i = 0; i < labels; ++i) {
    std::snprintf(name, sizeof name, "pool:%02d", i);
    fleet.labels.push_back(name);
  }
  for (int i = 0; i < hosts; ++i) {
    std::snprintf(name, sizeof name, "lab-%04d", i);
    fleet.hosts.push_back(name);
    std::vector<std::string> mine;
    while (mine.size() < 4 && mine.size() < fleet.labels.size()) {
      const std::string& label = fleet.labels[rng() % fleet.labels.size()];
      if (std::find(mine.begin(), mine.end(), label) == mine.end()) mine.push_back(label);
    }
    std::sort(mine.begin(), mine.end());
    fleet.host_labels.push_back(std::move(mine));
  }
  return fleet;
}

const char* PickStatus(std::mt19937_64& rng) {
  unsigned p = static_cast<unsigned>(rng() % 1000);
  if (p < 900) return "GOOD";
  if (p < 950) return "FAIL";
  if (p < 970) return "ERROR";
  if (p < 980) return "WARN";
  if (p < 995) return "TEST_NA";
  return "ABORT";
}

// Entry `e` of `entries`: one suite on one host, starting at its slot of the 30 days.
EntryResults MakeEntry(const Fleet& fleet, uint64_t e, uint64_t entries, std::mt19937_64& rng) {
  EntryResults entry;
  entry.job_id = 1 + e / 4;  // jobs of 4 entries
  entry.entry_id = 1 + e;
  size_t host = rng() % fleet.hosts.size();
  size_t suites = std::max<size_t>(1, fleet.tests.size() / kSuiteSize);
  size_t suite = rng() % suites;
  int64_t start = kStartUs + static_cast<int64_t>(static_cast<double>(e) / entries * kDays * kDayUs);
  for (int c = 0; c < kSuiteSize && suite * kSuiteSize + c < fleet.tests.size(); ++c) {
    ResultRecord r;
    r.hostname = fleet.hosts[host];
    r.labels = fleet.host_labels[host];
    r.test = fleet.tests[suite * kSuiteSize + c];
    r.status = PickStatus(rng);
    if (r.status != "GOOD") r.reason = "assertion failed at line " + std::to_string(rng() % 900);
    r.start_us = start + c * 2'000'000;
    r.duration_us = 500'000 + static_cast<int64_t>(rng() % 1'500'000);
    r.end_us = r.start_us + r.duration_us;
    r.keyvals["iterations"] = std::to_string(1 + rng() % 5);
    r.keyvals["kernel"] = "6.1.0-18-amd64";
    r.perf["throughput_mbps"] = 900.0 + static_cast<double>(rng() % 2000) / 10.0;
    if (c % 2 == 0) r.perf["latency_ms"] = static_cast<double>(rng() % 5000) / 100.0;
    r.file = "suite/" + r.test + "/status.log";
    r.link = "/results/" + std::to_string(entry.job_id) + "-bench/" + r.hostname + "/" + r.file;
    entry.records.push_back(std::move(r));
  }
  return entry;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Runs `query(run)` warm-up times untimed, then `runs` times timed; prints the figures.
// `query` returns the rows (or records) it produced, or -1 on failure.
bool Measure(const char* name, int runs, const std::function<long(int)>& query) {
  for (int i = 0; i < 5; ++i) {
    if (query(1000 + i) < 0) return false;
  }
  std::vector<double> ms;
  long rows = 0;
  for (int i = 0; i < runs; ++i) {
    auto start = Clock::now();
    long n = query(i);
    ms.push_back(MsSince(start));
    if (n < 0) return false;
    rows += n;
  }
  std::printf("resultsbench: %s n=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f mean_rows=%.0f\n", name,
              runs, Percentile(ms, 0.5), Percentile(ms, 0.99), Percentile(ms, 1.0),
              runs > 0 ? static_cast<double>(rows) / runs : 0.0);
  std::fflush(stdout);
  return true;
}

// CPU seconds (user + system) this process has used.
double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

uint64_t DiskBytes(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_blocks) * 512 : 0;
}

int Run(const std::string& dir, uint64_t results, uint64_t batch, int tests, int hosts,
        int labels, int runs, bool sync, bool ingest) {
  std::mt19937_64 rng(42);
  Fleet fleet = MakeFleet(tests, hosts, labels, rng);
  store::ResultsIndexOptions options;
  options.sync_commits = sync;
  auto opened = store::ResultsIndex::Open(dir, options);
  if (!opened.ok()) {
    std::fprintf(stderr, "resultsbench: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  store::ResultsIndex& index = **opened;

  const uint64_t entries = ingest ? (results + kSuiteSize - 1) / kSuiteSize : 0;
  double index_ms = 0, index_cpu_s = 0;
  uint64_t indexed = 0, commits = 0;
  auto wall = Clock::now();
  std::vector<EntryResults> pending;
  uint64_t pending_results = 0;
  for (uint64_t e = 0; e < entries; ++e) {
    pending.push_back(MakeEntry(fleet, e, entries, rng));
    pending_results += pending.back().records.size();
    if (pending_results < batch && e + 1 < entries) continue;
    auto start = Clock::now();
    double cpu_start = CpuSeconds();
    Status status = index.ReplaceEntries(pending);
    index_ms += MsSince(start);
    index_cpu_s += CpuSeconds() - cpu_start;
    if (!status.ok()) {
      std::fprintf(stderr, "resultsbench: ingest: %s\n", status.ToString().c_str());
      return 1;
    }
    indexed += pending_results;
    ++commits;
    pending.clear();
    pending_results = 0;
  }
  double wall_s = MsSince(wall) / 1000.0;
  if (ingest) std::printf(
      "resultsbench: ingest results=%llu batch=%llu commits=%llu sync=%d index_s=%.2f rate=%.0f "
      "cpu_s=%.2f cpu_us_per_result=%.1f db_mib=%.0f wall_s=%.2f\n",
      static_cast<unsigned long long>(indexed), static_cast<unsigned long long>(batch),
      static_cast<unsigned long long>(commits), sync ? 1 : 0, index_ms / 1000.0,
      indexed / (index_ms / 1000.0), index_cpu_s, index_cpu_s * 1e6 / indexed,
      static_cast<double>(DiskBytes(dir + "/data.mdb")) / (1 << 20), wall_s);
  std::fflush(stdout);

  const int64_t end_us = kStartUs + kDays * kDayUs;
  auto pick = [](const std::vector<std::string>& from, int run) -> const std::string& {
    return from[(static_cast<size_t>(run) * 7919) % from.size()];
  };
  auto summary = [&](const store::SummaryFilter& filter) -> long {
    auto rows = index.Summary(filter);
    if (!rows.ok()) std::fprintf(stderr, "resultsbench: %s\n", rows.status().ToString().c_str());
    return rows.ok() ? static_cast<long>(rows->size()) : -1;
  };
  auto list = [&](const store::ResultFilter& filter) -> long {
    auto page = index.Query(filter);
    if (!page.ok()) std::fprintf(stderr, "resultsbench: %s\n", page.status().ToString().c_str());
    return page.ok() ? static_cast<long>(page->records.size()) : -1;
  };
  bool ok =
      Measure("summary_host_by_label_7d", runs,
              [&](int run) {
                return summary({.group_by = store::SummaryGroup::kHost,
                                .label = pick(fleet.labels, run),
                                .since_us = end_us - 7 * kDayUs,
                                .until_us = end_us});
              }) &&
      Measure("summary_label_by_test_30d", runs,
              [&](int run) {
                return summary({.group_by = store::SummaryGroup::kLabel,
                                .test = pick(fleet.tests, run),
                                .since_us = end_us - 30 * kDayUs,
                                .until_us = end_us});
              }) &&
      Measure("summary_label_by_suite_30d", runs,
              [&](int run) {
                std::string suite = pick(fleet.tests, run);
                suite = suite.substr(0, suite.find('/') + 1);
                return summary({.group_by = store::SummaryGroup::kLabel,
                                .test_prefix = suite,
                                .since_us = end_us - 30 * kDayUs,
                                .until_us = end_us});
              }) &&
      Measure("list_test_host", runs,
              [&](int run) {
                return list({.host = pick(fleet.hosts, run), .test = pick(fleet.tests, run)});
              }) &&
      Measure("list_label_fail", runs,
              [&](int run) { return list({.label = pick(fleet.labels, run), .status = "FAIL"}); }) &&
      Measure("list_test", runs, [&](int run) { return list({.test = pick(fleet.tests, run)}); });
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace labmesh

int main(int argc, char** argv) {
  CLI::App app{"labmesh-resultsbench: results index ingest rate and query latency"};
  uint64_t results = 1'000'000, batch = 20'000;
  int tests = 2000, hosts = 1000, labels = 50, runs = 50;
  std::string dir;
  bool keep = false, no_sync = false, queries_only = false;
  app.add_option("--results", results, "results to ingest");
  app.add_option("--batch", batch, "results per write transaction (whole entries)");
  app.add_option("--dir", dir, "where the index goes (default: a new temp directory)");
  app.add_flag("--keep", keep, "keep the index directory afterwards");
  app.add_flag("--no-sync", no_sync, "commit without fsync (diagnosis only: not the figure)");
  app.add_flag("--queries-only", queries_only, "only query an index left in --dir by --keep");
  app.add_option("--tests", tests, "test names (suites of 50)");
  app.add_option("--hosts", hosts, "hosts (4 labels each)");
  app.add_option("--labels", labels, "labels");
  app.add_option("--runs", runs, "timed runs per query");
  CLI11_PARSE(app, argc, argv);
  if (tests < 1 || hosts < 1 || labels < 4 || runs < 1 || batch < 1) {
    std::fprintf(stderr, "resultsbench: need tests, hosts, runs, batch >= 1 and labels >= 4\n");
    return 2;
  }
  bool made = dir.empty();
  if (made) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/labmesh-resultsbench.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("resultsbench: mkdtemp");
      return 1;
    }
    dir = pattern;
  }
  int rc = labmesh::Run(dir, results, batch, tests, hosts, labels, runs, !no_sync, !queries_only);
  if (made && !keep) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  return rc;
}
