// labmesh-healthbench: host health scores (issue 26, docs/quarantine.md) over a synthetic lab,
// without a coordinator: the HealthService's computation (HealthService::Compute, what its
// worker thread runs) on a real store and a real results index in --dir.
//   The lab: --hosts hosts in --groups peer groups (labels arch:x86_64 + pool:NN), --tests
//   tests; --results results in entries of 20 tests on one host, spread over the last 7 days
//   (the health window), every result a keyval build=bN. Every host's entries are in the store
//   too (Completed, or Failed as a test fault when a result failed).
//   Planted: --bad hosts where one test of their own fails 90% of the time (it passes on their
//   peers); --infra hosts with 8 entries that failed as infrastructure; 5 tests that fail
//   everywhere; 10 that fail 25% of the time everywhere (flaky: passed and failed with one
//   build); and --noise, a chance that any result fails anyway.
//   Measured: the computation's wall time over --runs runs (p50, max), and precision: which
//   hosts reach the threshold (6) against the planted ones.
// Output: one "healthbench: NAME key=value..." line per figure.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "health_service.hpp"
#include "labmesh/store/results_index.hpp"
#include "labmesh/store/store.hpp"

namespace labmesh {
namespace {

constexpr int kSuite = 20;
constexpr int kBroken = 5;
constexpr int kFlaky = 10;
constexpr int kInfraEntries = 8;

int Fail(const char* what, const Status& status) {
  std::fprintf(stderr, "healthbench: %s: %s\n", what, status.ToString().c_str());
  return 1;
}

}  // namespace
}  // namespace labmesh

int main(int argc, char** argv) {
  using namespace labmesh;
  CLI::App app{"labmesh-healthbench: host health scores over a synthetic lab"};
  uint64_t results = 1'000'000;
  int hosts = 1000, tests = 200, groups = 10, bad = 10, infra = 10, runs = 5;
  double noise = 0.003;
  std::string dir;
  app.add_option("--results", results, "results in the window");
  app.add_option("--hosts", hosts, "hosts");
  app.add_option("--tests", tests, "test names")->check(CLI::Range(kBroken + kFlaky + kSuite, 100'000));
  app.add_option("--groups", groups, "peer groups (label sets)");
  app.add_option("--bad", bad, "hosts with a test that fails only there");
  app.add_option("--infra", infra, "hosts whose entries fail as infrastructure");
  app.add_option("--noise", noise, "the chance that any result fails");
  app.add_option("--runs", runs, "computations timed");
  app.add_option("--dir", dir, "where the store and the index go (removed first)")->required();
  CLI11_PARSE(app, argc, argv);

  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = store::Store::Open(dir + "/db");
  if (!store.ok()) return Fail("store", store.status());
  store::ResultsIndexOptions index_options;
  index_options.sync_commits = false;  // filling it is not what is measured
  auto index = store::ResultsIndex::Open(dir + "/index", index_options);
  if (!index.ok()) return Fail("index", index.status());

  std::mt19937_64 rng(26);
  std::uniform_real_distribution<double> coin(0, 1);
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const int64_t window_us = 7 * 24 * 3'600'000'000LL;
  const int64_t start_us = now_ms * 1000 - window_us + 60'000'000;

  std::vector<std::string> names;
  std::vector<std::vector<std::string>> labels;
  char text[64];
  for (int i = 0; i < hosts; ++i) {
    std::snprintf(text, sizeof text, "lab-%04d", i);
    names.push_back(text);
    std::snprintf(text, sizeof text, "pool:%02d", i % groups);
    labels.push_back({"arch:x86_64", text});
  }
  std::vector<std::string> test_names;
  for (int t = 0; t < tests; ++t) {
    std::snprintf(text, sizeof text, "suite%02d/case%03d", t / kSuite, t % kSuite);
    test_names.push_back(text);
  }
  // The planted hosts: spread over the groups, each bad host with its own failing test.
  std::set<std::string> bad_hosts, infra_hosts;
  std::vector<int> bad_test(hosts, -1);
  for (int b = 0; b < bad; ++b) {
    int h = (b * hosts) / bad + 3;
    bad_hosts.insert(names[h]);
    bad_test[h] = kBroken + kFlaky + (b * 37) % (tests - kBroken - kFlaky);
  }
  for (int k = 0; k < infra; ++k) infra_hosts.insert(names[(k * hosts) / infra + 7]);

  // Fill: entries of one suite on one host, in time order.
  const uint64_t entries = results / kSuite;
  const int suites = tests / kSuite;
  const auto fill_begin = std::chrono::steady_clock::now();
  std::vector<store::EntryResults> batch;
  store::WriteBatch writes;
  size_t staged = 0;
  uint64_t failed_results = 0;
  auto flush = [&]() -> Status {
    if (!batch.empty()) LABMESH_RETURN_IF_ERROR((*index)->ReplaceEntries(batch));
    batch.clear();
    if (staged > 0) LABMESH_RETURN_IF_ERROR((*store)->Apply(writes));
    writes = store::WriteBatch();
    staged = 0;
    return Status::Ok();
  };
  for (uint64_t e = 0; e < entries; ++e) {
    const int h = static_cast<int>(e % static_cast<uint64_t>(hosts));
    const int suite = static_cast<int>(rng() % static_cast<uint64_t>(suites));
    const int64_t at = start_us + static_cast<int64_t>(e) * (window_us - 120'000'000) /
                                      static_cast<int64_t>(entries);
    const std::string build = "b" + std::to_string(rng() % 3);
    store::EntryResults entry;
    entry.job_id = e + 1;
    entry.entry_id = e + 1;
    bool any_failed = false;
    for (int i = 0; i < kSuite; ++i) {
      const int t = suite * kSuite + i;
      double fail_p = noise;
      if (t < kBroken) fail_p = 1;
      else if (t < kBroken + kFlaky) fail_p = 0.25;
      if (bad_test[h] == t) fail_p = 0.9;
      const bool failed = coin(rng) < fail_p;
      store::ResultRecord r;
      r.hostname = names[h];
      r.labels = labels[h];
      r.test = test_names[t];
      r.status = failed ? "FAIL" : "GOOD";
      r.start_us = at + i * 1'000'000;
      r.keyvals = {{"build", build}};
      entry.records.push_back(std::move(r));
      any_failed = any_failed || failed;
      failed_results += failed ? 1 : 0;
    }
    batch.push_back(std::move(entry));
    store::Entry row;
    row.id = e + 1;
    row.job_id = e + 1;
    row.hostname = names[h];
    row.status = any_failed ? protocol::EntryStatus::kFailed : protocol::EntryStatus::kCompleted;
    row.fault = any_failed ? "test" : "";
    row.finished_us = at + kSuite * 1'000'000;
    writes.PutEntry(row);
    if (++staged >= 5'000) {
      if (Status s = flush(); !s.ok()) return Fail("fill", s);
    }
  }
  uint64_t id = entries;
  for (const std::string& host : infra_hosts) {
    for (int i = 0; i < kInfraEntries; ++i) {
      store::Entry row;
      row.id = ++id;
      row.job_id = id;
      row.hostname = host;
      row.status = protocol::EntryStatus::kFailed;
      row.fault = "infrastructure";
      row.status_reason = "host lost: no heartbeat for 30s";
      row.finished_us = now_ms * 1000 - (i + 1) * 3'600'000'000LL;
      writes.PutEntry(row);
      ++staged;
    }
  }
  if (Status s = flush(); !s.ok()) return Fail("fill", s);
  const double fill_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - fill_begin).count();
  std::printf("healthbench: lab hosts=%d groups=%d tests=%d results=%llu entries=%llu failed=%llu "
              "bad=%d infra=%d noise=%g fill_s=%.1f\n",
              hosts, groups, tests, static_cast<unsigned long long>(entries * kSuite),
              static_cast<unsigned long long>(entries), static_cast<unsigned long long>(failed_results),
              bad, infra, noise, fill_s);

  coordinator::CoordinatorConfig config;
  std::vector<coordinator::HealthService::HostInput> inputs;
  for (int i = 0; i < hosts; ++i) {
    coordinator::HealthService::HostInput in;
    in.hostname = names[i];
    in.labels = labels[i];
    in.status = "Ready";
    inputs.push_back(std::move(in));
  }
  std::vector<double> times_ms;
  coordinator::HealthService::Computed last;
  for (int run = 0; run < runs; ++run) {
    const auto begin = std::chrono::steady_clock::now();
    last = coordinator::HealthService::Compute(config, **store, **index, inputs, now_ms);
    times_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count());
    if (!last.status.ok()) return Fail("compute", last.status);
  }
  std::sort(times_ms.begin(), times_ms.end());
  std::printf("healthbench: compute runs=%d p50_ms=%.0f max_ms=%.0f hosts=%zu flaky_tests=%zu\n",
              runs, times_ms[times_ms.size() / 2], times_ms.back(), last.scores.hosts.size(),
              last.scores.flaky.size());

  int caught_bad = 0, caught_infra = 0, false_positives = 0;
  std::string false_names;
  for (const auto& h : last.scores.hosts) {
    if (!h.suspect) continue;
    if (bad_hosts.count(h.hostname)) {
      ++caught_bad;
    } else if (infra_hosts.count(h.hostname)) {
      ++caught_infra;
    } else {
      ++false_positives;
      if (false_names.size() < 200) false_names += " " + h.hostname + "(" + std::to_string(h.score) + ")";
    }
  }
  int flaky_found = 0, flaky_wrong = 0;
  for (const auto& t : last.scores.flaky) {
    auto at = std::find(test_names.begin(), test_names.end(), t.test) - test_names.begin();
    if (at >= kBroken && at < kBroken + kFlaky) {
      ++flaky_found;
    } else {
      ++flaky_wrong;
    }
  }
  std::printf("healthbench: precision bad_caught=%d/%d infra_caught=%d/%d good_flagged=%d/%d "
              "flaky_found=%d/%d other_tests_flaky=%d%s%s\n",
              caught_bad, bad, caught_infra, infra, false_positives, hosts - bad - infra,
              flaky_found, kFlaky, flaky_wrong, false_names.empty() ? "" : " flagged:",
              false_names.c_str());
  return 0;
}
