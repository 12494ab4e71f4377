// labmesh-jobbench: job figures against a running coordinator and its agents (scripts/bench.sh
// starts them).
//   latency:    N jobs one after the other on an idle system; for each, the time from the
//               coordinator creating it (JobInfo.created_us) to the agent spawning its control
//               (EntryInfo.started_us). Both clocks are this machine's. Prints p50/p99.
//   throughput: M jobs submitted as fast as the API socket takes them (a window of requests in
//               flight), then waited for; jobs per second from the first submission to the
//               last entry Completed (the coordinator's finished_us, results uploaded).
// Every job is `--command true --label L --count 1`.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <zmq.hpp>

#include "bench_api.hpp"
#include "labmesh/common/clock.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "labmesh/protocol/messages.hpp"

namespace labmesh {
namespace {

using bench::Api;
using bench::Percentile;
using protocol::JobCreateRequest;

JobCreateRequest TrueJob(const std::string& label, int i) {
  JobCreateRequest request;
  request.name = "bench-" + std::to_string(i);
  request.user = "bench";
  request.command = "true";
  request.meta_label = label;
  request.meta_count = 1;
  return request;
}

bool Final(const std::string& status) {
  return status == "Completed" || status == "Failed" || status == "Aborted";
}

// Polls every `poll_us` until the job is final; returns it. The figures come from the
// coordinator's timestamps, so the poll interval only decides when we notice, and a slow poll
// keeps the benchmark itself from loading the coordinator.
protocol::JobInfo WaitJob(Api& api, uint64_t id, int poll_us) {
  for (;;) {
    auto shown = api.Call<protocol::JobShowReply>(protocol::JobShowRequest{id});
    if (Final(shown.job.status)) return shown.job;
    std::this_thread::sleep_for(std::chrono::microseconds(poll_us));
  }
}

// Waits (up to a minute) until `count` hosts with `label` are Ready.
bool WaitForHosts(Api& api, const std::string& label, int count) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (std::chrono::steady_clock::now() < deadline) {
    protocol::HostListRequest request;
    request.label = label;
    request.status = "Ready";
    auto hosts = api.Call<protocol::HostListReply>(request);
    if (static_cast<int>(hosts.hosts.size()) >= count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

int Run(const std::string& endpoint, const std::string& token, const std::string& label, int hosts, int latency_jobs,
        int jobs, int window) {
  Api api(endpoint, token);
  SystemClock clock;
  int failed = 0;
  if (!WaitForHosts(api, label, hosts)) {
    std::fprintf(stderr, "jobbench: %d hosts with label %s not Ready within a minute\n", hosts,
                 label.c_str());
    return 1;
  }

  std::vector<double> latency_ms;
  for (int i = 0; i < latency_jobs; ++i) {
    auto created = api.Call<protocol::JobCreateReply>(TrueJob(label, i));
    protocol::JobInfo job = WaitJob(api, created.id, 500);
    if (job.status != "Completed") ++failed;
    if (!job.entries.empty() && job.entries[0].started_us > 0) {
      latency_ms.push_back(static_cast<double>(job.entries[0].started_us - job.created_us) / 1000.0);
    }
  }
  if (latency_jobs > 0) {
    std::printf("jobbench: latency n=%zu p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
                latency_ms.size(), Percentile(latency_ms, 0.5), Percentile(latency_ms, 0.99),
                Percentile(latency_ms, 1.0));
    std::fflush(stdout);
  }

  int64_t start_us = clock.WallUs();
  std::vector<uint64_t> ids;
  int sent = 0, in_flight = 0;
  while (static_cast<int>(ids.size()) < jobs) {
    while (sent < jobs && in_flight < window) {
      api.Send(protocol::Encode(TrueJob(label, sent), api.next_request_id(), api.credentials()));
      ++sent;
      ++in_flight;
    }
    auto reply = protocol::DecodeAs<protocol::JobCreateReply>(api.Receive());
    if (!reply.ok()) {
      std::fprintf(stderr, "jobbench: create failed: %s\n", reply.status().ToString().c_str());
      return 1;
    }
    --in_flight;
    ids.push_back(reply->id);
  }
  int64_t submitted_us = clock.WallUs();
  int64_t last_finished_us = 0;
  std::sort(ids.begin(), ids.end());
  for (uint64_t id : ids) {
    protocol::JobInfo job = WaitJob(api, id, 20'000);
    if (job.status != "Completed") ++failed;
    last_finished_us = std::max(last_finished_us, job.finished_us);
  }
  double seconds = static_cast<double>(last_finished_us - start_us) / 1e6;
  if (jobs > 0) {
    std::printf("jobbench: throughput jobs=%d submit_s=%.2f seconds=%.2f rate=%.0f failed=%d\n",
                jobs, static_cast<double>(submitted_us - start_us) / 1e6, seconds,
                seconds > 0 ? jobs / seconds : 0.0, failed);
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace labmesh

int main(int argc, char** argv) {
  CLI::App app{"labmesh-jobbench: job latency and throughput against a running coordinator"};
  std::string api = "tcp://127.0.0.1:7711";
  std::string label = "bench";
  int hosts = 8, latency_jobs = 200, jobs = 2000, window = 256;
  app.add_option("--hosts", hosts, "wait until this many hosts with the label are Ready");
  app.add_option("--api", api, "the coordinator's API endpoint");
  std::string token;
  app.add_option("--token", token, "an admin's API token")->envname("LABMESH_TOKEN");
  app.add_option("--label", label, "the label every bench agent carries");
  app.add_option("--latency-jobs", latency_jobs, "jobs for the latency figure (one at a time)");
  app.add_option("--jobs", jobs, "jobs for the throughput figure");
  app.add_option("--window", window, "create requests in flight");
  CLI11_PARSE(app, argc, argv);
  try {
    return labmesh::Run(api, token, label, hosts, latency_jobs, jobs, std::max(1, window));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "jobbench: %s\n", e.what());
    return 1;
  }
}
