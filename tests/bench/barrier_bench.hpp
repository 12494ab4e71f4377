#pragma once
// BarrierBench: the whole of labmesh-barrierbench (barrierbench.cpp only parses its flags):
// barrier release latency with N simulated participants (issue 4), for scripts/bench-barrier.sh.
//
// One process is the whole group: N simulated agents (SimFleet: a Curve DEALER each, the real
// agent protocol) register with --label, heartbeat at the Welcome's interval and ask for work;
// one job (`true`, --label L --count N, synch_count N) is created over the API socket. The
// coordinator holds the N hosts Pending and starts them in one fan-out: reported are the time
// from the create to the first StartEntry and the spread of the StartEntry arrivals (first to
// last; each is only kept while the group starts, see HandleAgent). Every agent reports
// "running"; once every report is acknowledged the group goes through barrier "b", one
// generation per round:
//   burst rounds    all N arrivals are sent back to back from the one thread; latency = the last
//                   SyncReply received - the last arrival sent. It includes the coordinator
//                   working through the arrivals still queued when the last one left.
//   settled rounds  N-1 arrivals, then `job show` is polled until the coordinator reports N-1
//                   hosts waiting at that generation; then the last arrival goes: latency = the
//                   last SyncReply received - that arrival sent. This is the release alone:
//                   decoding one arrival, fanning out N replies, Curve on both sides, and this
//                   process reading the N replies (one thread, so reply k waits for 1..k-1).
// Rounds start --round-gap after the previous one ended, from a quiet coordinator. At the end
// every agent reports "exited" and "uploaded" (no files) and the job must end Completed.
// With --watch-pid (the coordinator), each round also reads how long the coordinator's threads
// and this process's threads ran and waited for a CPU (schedstat): on a shared machine that
// tells the cost of a release from time spent not scheduled.
//
// Prints lines that scripts grep:
//   barrierbench: participants=N rounds=R release_p50_ms= release_p99_ms= release_max_ms=
//     release_first_p50_ms= settled_rounds=R settled_p50_ms= settled_p99_ms= settled_max_ms=
//     settled_first_p50_ms= start_first_ms= start_spread_ms= register_s= job= errors= ...
//   barrierbench: round=G kind=burst|settled latency_ms= first_reply_ms= ...   (each round)
//   barrierbench: cpu kind=burst|settled coord_run_ms= coord_main_ms= coord_wait_ms= sim_run_ms=
//     sim_wait_ms=   (threads' run and runqueue-wait time per round; main = the event loop)
// Every wait has a deadline (--step-timeout); exit 1 when a figure could not be measured.
//
// Single-threaded: Run() drives the SimFleet loop; everything below is called from it.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "round_stats.hpp"
#include "sim_fleet.hpp"

namespace labmesh::bench {

struct Options {
  int participants = 100;
  int rounds = 20;
  int settled_rounds = 20;
  std::string coordinator = "tcp://127.0.0.1:7710";
  std::string coordinator_key;
  std::string api = "tcp://127.0.0.1:7711";
  std::string token;  // an admin's API token
  std::string label = "barrier-bench";
  std::string prefix = "bar-";
  int ramp_batch = 100;
  int64_t ramp_every_ms = 100;
  int64_t step_timeout_ms = 60'000;  // registration, the start, each round, the end
  int64_t round_gap_ms = 20;
  int io_threads = 2;
  int watch_pid = 0;
};

// What one simulated agent has said and been told.
struct Participant {
  enum class State { kIdle, kHelloSent, kRegistered };
  State state = State::kIdle;
  uint64_t request_id = 0;
  uint64_t hello_request_id = 0;
  int64_t hello_sent_us = 0;
  uint64_t heartbeat_sequence = 0;
  bool start_seen = false;       // its StartEntry arrived (counted in the start spread)
  uint64_t entry_id = 0;         // from StartEntry; 0 = not started
  int64_t started_us = 0;        // wall clock, as an agent reports it
  uint64_t report_sequence = 0;  // of the last EntryReport sent
  uint64_t sync_request_id = 0;  // the arrival waiting for its SyncReply; 0 = none
};

class BarrierBench {
 public:
  BarrierBench(const Options& options, std::string coordinator_key);
  // Draws the participants' keys and sets up the fleet.
  Status Init();
  // Connects, registers, starts the group, runs the rounds and ends the job; returns when done,
  // failed or out of time (Report says which).
  Status Run();

  // The lines the scripts grep; returns whether every figure was measured.
  bool Report() const;

 private:
  enum class Phase {
    kRegistering,  // connecting, hellos
    kStarting,     // work asked for, job created; waiting for every start and "running" ack
    kGap,          // between rounds
    kSettling,     // settled round: N-1 arrived, polling `job show`
    kReleasing,    // every arrival sent, waiting for the replies
    kFinishing,    // "exited" and "uploaded" reports
    kChecking,     // waiting for the job to be final
    kDone,
    kFailed,
  };

  void Fail(const std::string& why);
  void Error(const std::string& what);
  void Enter(Phase phase, int64_t now);

  // ---- timers ----

  void OnTimers(int64_t now);
  int64_t BeatDueUs(uint64_t slot) const;

  // What the step that ran out of time was waiting for.
  std::string Stuck() const;
  void Poll();

  // ---- what the agents send ----

  void SendHello(size_t index, int64_t now);
  void SendHeartbeat(size_t index, int64_t now);
  void SendReport(size_t index, const std::string& phase);
  void Arrive(size_t index);

  // ---- the steps ----

  void StartJob(int64_t now);
  void StartRound(int64_t now);
  void Finish(int64_t now);
  void SendApi(const std::string& frame);
  void SendShow();

  // ---- what arrives ----

  void HandleAgent(size_t index, std::string_view frame, int64_t now);
  void HandleHeldStarts(int64_t now);
  void OnStart(size_t index, const protocol::Envelope& envelope, int64_t now);
  void GroupRunning(int64_t now);
  void OnSyncReply(size_t index, const protocol::Envelope& envelope, int64_t now);
  void HandleApi(std::string_view frame, int64_t now);

  const Options options_;
  const std::string coordinator_key_;
  SimFleet fleet_;
  const size_t n_;
  std::vector<Participant> people_;
  size_t api_slot_ = 0;

  Phase phase_ = Phase::kRegistering;
  int64_t start_us_ = 0;
  int64_t deadline_us_ = 0;
  int64_t next_ramp_us_ = 0;
  int64_t next_hello_check_us_ = 0;
  size_t connected_ = 0;
  size_t registered_ = 0;
  int64_t registered_us_ = 0;
  int64_t beat_interval_us_ = 0;  // from the first Welcome
  int64_t beat_start_us_ = 0;
  uint64_t next_beat_ = 0;

  uint64_t api_request_id_ = 0;
  int api_in_flight_ = 0;
  uint64_t job_id_ = 0;
  std::string job_status_;
  int64_t next_show_us_ = 0;

  int64_t create_sent_us_ = 0;
  std::vector<std::pair<size_t, std::string>> held_starts_;  // (participant, frame)
  size_t starts_ = 0;
  size_t running_acks_ = 0;
  int64_t first_start_us_ = 0;
  int64_t last_start_us_ = 0;

  uint32_t generation_ = 0;
  bool settled_round_ = false;
  size_t replies_ = 0;
  size_t seen_waiting_ = 0;
  int64_t last_arrival_us_ = 0;
  int64_t first_reply_us_ = 0;
  int64_t next_round_us_ = 0;
  RoundTimes round_start_;
  RoundStats burst_{"burst"};
  RoundStats settled_{"settled"};

  size_t finished_ = 0;
  uint64_t errors_ = 0;
};

}  // namespace labmesh::bench
