// labmesh-retentionbench (issue 23): the two halves of scripts/bench-retention.sh.
//
//   fill  --data-dir D --jobs N --files F --file-bytes B --age-days A
//         writes an aged data directory as a coordinator would have left it: N finished jobs
//         (one Completed entry each, on 8 hosts, 5 owners) that finished A days ago, each with
//         F files of B bytes and a status.log of 5 GOOD results, indexed in the results index
//         - consistent, so that `labmesh-coordinator --check` says clean.
//   probe --api ENDPOINT --token T --log FILE
//         while the coordinator whose log is FILE sweeps, sends one request at a time (a page of
//         100 results, then a host list, alternately) and times each round trip, until the log
//         has the sweep's summary line. Prints the latencies before the first removal and during
//         the sweep: a request waits for whatever the loop turn in progress holds, so the
//         longest of them bounds the longest event-loop stall the sweep caused.

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "labmesh/client/api_client.hpp"
#include "labmesh/protocol/messages.hpp"
#include "labmesh/store/results_index.hpp"
#include "labmesh/store/store.hpp"

namespace labmesh {
namespace {

namespace fs = std::filesystem;
using protocol::EntryStatus;
constexpr int64_t kDayUs = 86'400'000'000LL;
constexpr int kResultsPerJob = 5;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int Fill(const std::string& data_dir, uint64_t jobs, int files, size_t file_bytes, int age_days) {
  auto store = store::Store::Open(data_dir + "/db");
  if (!store.ok()) return std::cerr << store.status().ToString() << "\n", 1;
  auto index = store::ResultsIndex::Open(data_dir + "/results-index");
  if (!index.ok()) return std::cerr << index.status().ToString() << "\n", 1;
  const std::string payload(file_bytes, 'r');
  const int64_t finished_base = NowUs() - static_cast<int64_t>(age_days) * kDayUs;
  store::WriteBatch batch;
  std::vector<store::EntryResults> indexed;
  auto flush = [&]() -> bool {
    if (Status s = (*store)->Apply(batch); !s.ok()) return std::cerr << s.ToString() << "\n", false;
    batch.Clear();
    if (Status s = (*index)->ReplaceEntries(indexed); !s.ok()) {
      return std::cerr << s.ToString() << "\n", false;
    }
    indexed.clear();
    return true;
  };
  for (uint64_t id = 1; id <= jobs; ++id) {
    const std::string owner = "user" + std::to_string(id % 5);
    const std::string host = "lab-" + std::to_string(id % 8);
    const int64_t t = finished_base + static_cast<int64_t>(id) * 1000;
    store::Job job;
    job.id = id;
    job.name = "bench-" + std::to_string(id);
    job.owner = owner;
    job.control_kind = "command";
    job.control = "true";
    job.hosts = {host};
    job.created_us = t - 60'000'000;
    job.finished_us = t;
    job.entry_ids = {id};
    store::Entry entry;
    entry.id = id;
    entry.job_id = id;
    entry.hostname = host;
    entry.status = EntryStatus::kCompleted;
    entry.queued_us = job.created_us;
    entry.started_us = t - 50'000'000;
    entry.finished_us = t;
    entry.outcome = "passed";
    entry.exit_code = 0;
    entry.result_counts = {{"GOOD", kResultsPerJob}};
    int64_t at = job.created_us;
    for (EntryStatus s : {EntryStatus::kQueued, EntryStatus::kStarting, EntryStatus::kRunning,
                          EntryStatus::kGathering, EntryStatus::kParsing, EntryStatus::kCompleted}) {
      entry.history.push_back({s, at, "bench"});
      at += 10'000'000;
    }
    const fs::path dir = fs::path(data_dir) / "results" / (std::to_string(id) + "-" + owner) / host;
    fs::create_directories(dir / "debug");
    std::string status_log;
    store::EntryResults results{id, id, {}};
    for (int r = 0; r < kResultsPerJob; ++r) {
      const std::string test = "suite/test" + std::to_string(r);
      status_log += "START\t----\t" + test + "\ttimestamp=1\n\tGOOD\t----\t" + test +
                    "\ttimestamp=2\tok\nEND GOOD\t----\t" + test + "\ttimestamp=2\n";
      store::ResultRecord record;
      record.hostname = host;
      record.test = test;
      record.status = "GOOD";
      record.start_us = entry.started_us;
      record.end_us = entry.started_us + 1'000'000;
      record.duration_us = 1'000'000;
      record.file = "status.log";
      record.link = "/results/" + std::to_string(id) + "-" + owner + "/" + host + "/status.log";
      results.records.push_back(std::move(record));
    }
    std::ofstream(dir / "status.log") << status_log;
    job.result_bytes = status_log.size();
    for (int f = 0; f < files; ++f) {
      std::ofstream(dir / ("data-" + std::to_string(f) + ".bin"), std::ios::binary) << payload;
      job.result_bytes += payload.size();
    }
    batch.PutJob(std::move(job));
    batch.PutEntry(std::move(entry));
    indexed.push_back(std::move(results));
    if (id % 1000 == 0 && !flush()) return 1;
  }
  if (!flush()) return 1;
  std::cout << "retentionbench: filled jobs=" << jobs << " files=" << jobs * (files + 1)
            << " results=" << jobs * kResultsPerJob << "\n";
  return 0;
}

struct Latencies {
  std::vector<double> ms;
  void Print(const char* name) {
    if (ms.empty()) {
      std::cout << "retentionbench: " << name << " n=0\n";
      return;
    }
    std::sort(ms.begin(), ms.end());
    auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))]; };
    std::printf("retentionbench: %s n=%zu p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", name, ms.size(),
                at(0.5), at(0.99), ms.back());
  }
};

bool LogHas(const std::string& path, const std::string& text) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

int Probe(const std::string& endpoint, const std::string& token, const std::string& log_path,
          const std::string& data_dir, int timeout_s) {
  zmq::context_t context(1);
  client::ApiClient api(context, endpoint, 30'000);
  api.set_credentials(protocol::Credentials{"", token, "", "", ""});
  Latencies before_list, before_ping, during_list, during_ping;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  // The sweep has begun once the oldest job's directory is gone (the first one it removes).
  const fs::path first_dir = fs::path(data_dir) / "results" / "1-user1";
  uint64_t n = 0;
  while (!LogHas(log_path, "retention sweep:")) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::cerr << "retentionbench: no sweep summary in " << log_path << "\n";
      return 1;
    }
    const bool sweeping = !fs::exists(first_dir);
    const auto start = std::chrono::steady_clock::now();
    Status status;
    const bool list = n++ % 2 == 0;
    if (list) {
      protocol::ResultsListRequest request;
      request.limit = 100;
      status = api.Call<protocol::ResultsListReply>(request).status();
    } else {
      status = api.Call<protocol::HostListReply>(protocol::HostListRequest{}).status();
    }
    if (!status.ok()) return std::cerr << "retentionbench: " << status.ToString() << "\n", 1;
    const double ms = std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - start)
                          .count();
    (sweeping ? (list ? during_list : during_ping) : (list ? before_list : before_ping))
        .ms.push_back(ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  before_list.Print("results_list_before");
  before_ping.Print("host_list_before");
  during_list.Print("results_list_during");
  during_ping.Print("host_list_during");
  return 0;
}

}  // namespace
}  // namespace labmesh

int main(int argc, char** argv) {
  CLI::App app("labmesh retention benchmark (scripts/bench-retention.sh)");
  app.require_subcommand(1);
  std::string data_dir, endpoint, token, log_path;
  uint64_t jobs = 20'000;
  int files = 3, age_days = 100, timeout_s = 600;
  size_t file_bytes = 4096;
  auto* fill = app.add_subcommand("fill", "write an aged data directory");
  fill->add_option("--data-dir", data_dir)->required();
  fill->add_option("--jobs", jobs);
  fill->add_option("--files", files);
  fill->add_option("--file-bytes", file_bytes);
  fill->add_option("--age-days", age_days);
  auto* probe = app.add_subcommand("probe", "time requests while the coordinator sweeps");
  probe->add_option("--api", endpoint)->required();
  probe->add_option("--token", token)->envname("LABMESH_TOKEN");
  probe->add_option("--log", log_path)->required();
  probe->add_option("--data-dir", data_dir)->required();
  probe->add_option("--timeout", timeout_s, "give up after this many seconds");
  CLI11_PARSE(app, argc, argv);
  if (fill->parsed()) return labmesh::Fill(data_dir, jobs, files, file_bytes, age_days);
  return labmesh::Probe(endpoint, token, log_path, data_dir, timeout_s);
}
