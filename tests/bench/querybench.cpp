// labmesh-querybench: results summaries back to back against a running coordinator, from one
// process over one connection (scripts/bench-queries.sh runs it beside a simulated fleet): for
// --seconds, a ResultsSummaryRequest by host for one label (pool:00 .. pool:49, the labels
// labmesh-resultsbench gives its hosts) over every result, the next as soon as the last is
// answered. Prints how many were answered, their p50/p99 and the rows of the last.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench_api.hpp"
#include "labmesh/protocol/messages.hpp"

namespace labmesh {
namespace {

using bench::Percentile;

int Run(const std::string& endpoint, const std::string& token, int seconds, int labels) {
  bench::Api api(endpoint, token);
  using Clock = std::chrono::steady_clock;
  const auto end = Clock::now() + std::chrono::seconds(seconds);
  std::vector<double> ms;
  size_t rows = 0;
  for (int n = 0; Clock::now() < end; ++n) {
    protocol::ResultsSummaryRequest request;
    request.group_by = "host";
    char label[16];
    std::snprintf(label, sizeof label, "pool:%02d", n % labels);
    request.label = label;
    auto start = Clock::now();
    auto reply = api.Call<protocol::ResultsSummaryReply>(request);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    rows = reply.rows.size();
  }
  std::printf("querybench: summaries=%zu p50_ms=%.1f p99_ms=%.1f rows=%zu\n", ms.size(),
              Percentile(ms, 0.5), Percentile(ms, 0.99), rows);
  return ms.empty() ? 1 : 0;
}

}  // namespace
}  // namespace labmesh

int main(int argc, char** argv) {
  std::string endpoint, token;
  int seconds = 20, labels = 50;
  CLI::App app{"labmesh-querybench: results summaries back to back"};
  app.add_option("--api", endpoint, "the coordinator's API endpoint")->required();
  app.add_option("--seconds", seconds, "how long")->check(CLI::PositiveNumber);
  app.add_option("--labels", labels, "labels pool:00 .. to cycle through")->check(CLI::PositiveNumber);
  app.add_option("--token", token, "an API token")->envname("LABMESH_TOKEN");
  CLI11_PARSE(app, argc, argv);
  try {
    return labmesh::Run(endpoint, token, seconds, labels);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "querybench: %s\n", e.what());
    return 1;
  }
}
