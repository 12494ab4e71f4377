// labmesh-barrierbench: barrier release latency with simulated participants; see
// barrier_bench.hpp for what it measures and prints, scripts/bench-barrier.sh for how it runs.

#include <CLI/CLI.hpp>
#include <iostream>

#include "barrier_bench.hpp"
#include "labmesh/common/curve_keys.hpp"
#include "labmesh/common/flags.hpp"

int main(int argc, char** argv) {
  namespace flags = labmesh::flags;
  labmesh::bench::Options options;
  CLI::App app{"labmesh-barrierbench: barrier release latency with simulated participants"};
  flags::Add(app, "participants", options.participants, "simulated agents in the one group")
      ->check(CLI::Range(2, 100'000));
  flags::Add(app, "rounds", options.rounds, "burst rounds: all arrivals sent back to back")
      ->check(CLI::NonNegativeNumber);
  flags::Add(app, "settled-rounds", options.settled_rounds,
             "settled rounds: the last arrival sent once the others are counted")
      ->check(CLI::NonNegativeNumber);
  flags::Add(app, "coordinator", options.coordinator, "the coordinator's agent endpoint");
  flags::Add(app, "coordinator-key", options.coordinator_key,
             "the coordinator's public key (Z85) or the file holding it")
      ->required();
  flags::Add(app, "api", options.api, "the coordinator's API endpoint");
  app.add_option("--token", options.token, "an admin's API token")->envname("LABMESH_TOKEN");
  flags::Add(app, "label", options.label, "the label the participants ask for and the job uses");
  flags::Add(app, "prefix", options.prefix, "hostname prefix; participant 42 is PREFIX00042");
  flags::Add(app, "ramp-batch", options.ramp_batch, "connections started at once")
      ->check(CLI::PositiveNumber);
  flags::AddDuration(app, "ramp-every", options.ramp_every_ms, "time between connection batches");
  flags::AddDuration(app, "step-timeout", options.step_timeout_ms,
                     "give up when a step (registration, start, a round, the end) takes longer");
  flags::AddDuration(app, "round-gap", options.round_gap_ms, "quiet time between rounds");
  flags::Add(app, "io-threads", options.io_threads, "ZeroMQ I/O threads")
      ->check(CLI::PositiveNumber);
  flags::Add(app, "watch-pid", options.watch_pid,
             "the coordinator: per round, how long its threads and ours ran and waited for a CPU");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return flags::ExitForParseError(app, e);
  }
  if (options.step_timeout_ms <= 0) {
    std::cerr << "labmesh-barrierbench: --step-timeout must be positive\n";
    return 2;
  }
  auto key = labmesh::ResolveCurveKey(options.coordinator_key);
  if (!key.ok()) {
    std::cerr << "labmesh-barrierbench: --coordinator-key: " << key.status().ToString() << "\n";
    return 2;
  }
  labmesh::bench::RaiseFileLimit();
  labmesh::bench::BarrierBench bench(options, *key);
  labmesh::Status status = bench.Init();
  if (status.ok()) status = bench.Run();
  if (!status.ok()) {
    std::cerr << "labmesh-barrierbench: " << status.ToString() << "\n";
    return 1;
  }
  return bench.Report() ? 0 : 1;
}
