// labmesh-fleetsim: one process that is a whole fleet of agents, for scripts/bench.sh.
//
// Each simulated agent is what labmesh-agent is on the wire: its own DEALER socket with its own
// Curve key pair, an AgentHello, then Heartbeats that the coordinator answers with
// HeartbeatAcks (or Reregister, answered with a new hello). All agents share one ZeroMQ context
// and are driven by one thread, so the simulator stays cheap next to the coordinator it measures.
//
// Modes:
//   steady  every agent sends one heartbeat per --interval (not the Welcome's interval: the
//           benchmark sets the load); the agents' send slots are spread evenly over the
//           interval so the load is smooth. Reports ack latency and, with
//           --watch-pid, the CPU and memory the coordinator used during the measured window.
//   flood   every agent keeps --window heartbeats in flight and sends a new one per ack: the ack
//           rate is the most heartbeats per second the coordinator absorbs.
// With --await-restart, after the window (and its summary line) the agents go on beating and
// the simulator waits for SIGUSR1, which says "the coordinator is being restarted now"
// (scripts/bench-fleet.sh sends it as it starts the new one). From then on it times how long
// until every agent was welcomed again and counts the hellos it had to retry: the restart storm.
// Connections are started in batches (--ramp-batch every --ramp-every), and only the window
// after every agent registered is measured; registration (Curve handshakes, one store
// transaction per new host) is timed on its own.
//
// The connections and their polling are SimFleet's (sim_fleet.hpp).

#include <CLI/CLI.hpp>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <deque>
#include <iostream>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "labmesh/common/curve_keys.hpp"
#include "labmesh/common/flags.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "proc_stats.hpp"
#include "sim_fleet.hpp"

namespace labmesh::bench {
namespace {

// When SIGUSR1 came (steady clock, microseconds); 0 = not yet. Written by the handler only.
std::atomic<int64_t> g_restart_signal_us{0};

void OnRestartSignal(int) {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);  // async-signal-safe; the clock NowUs() reads
  g_restart_signal_us.store(int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000);
}

struct Options {
  std::string mode = "steady";  // "steady" or "flood"
  int agents = 1000;
  int64_t interval_ms = 1000;
  int64_t duration_ms = 30'000;
  int window = 16;  // flood: heartbeats in flight per agent
  std::string coordinator = "tcp://127.0.0.1:7710";
  std::string coordinator_key;
  std::string prefix = "sim-";
  int ramp_batch = 100;
  int64_t ramp_every_ms = 100;
  int64_t register_timeout_ms = 60'000;
  // Longer than labmesh-agent's 3 s hello timeout: a coordinator that is slow to register a
  // burst should be measured, not buried in duplicate hellos. Retries are counted.
  int64_t hello_retry_ms = 10'000;
  int64_t drain_ms = 5'000;  // after the window: how long to wait for the last acks
  int64_t settle_ms = 0;     // after every agent registered, beat this long before the window
  int64_t await_restart_ms = 0;  // > 0: then wait this long for a restart and re-registration
  int io_threads = 2;
  int watch_pid = 0;
};

struct InFlight {
  uint64_t request_id = 0;
  int64_t sent_us = 0;
  bool measured = false;  // sent inside the window: its ack counts
};

struct SimAgent {
  enum class State { kIdle, kHelloSent, kRegistered };

  State state = State::kIdle;
  bool welcomed_since_restart = false;
  int64_t hello_sent_us = 0;
  uint64_t hello_request_id = 0;
  uint64_t request_id = 0;
  uint64_t sequence = 0;
  std::deque<InFlight> in_flight;  // in send order: one connection keeps replies in order
};

class Fleet {
 public:
  Fleet(const Options& options, std::string coordinator_key)
      : options_(options),
        flood_(options.mode == "flood"),
        coordinator_key_(std::move(coordinator_key)),
        fleet_(options.agents, options.prefix, options.io_threads) {
    fleet_.set_on_frame(
        [this](size_t index, std::string_view frame, int64_t now) { Handle(index, frame, now); });
  }

  Status Init() {
    agents_.resize(static_cast<size_t>(options_.agents));
    return fleet_.Init();
  }

  // Connects, registers, measures one window and waits for its last acks.
  Status Run() {
    start_us_ = NowUs();
    next_ramp_us_ = start_us_;
    phase_deadline_us_ = start_us_ + options_.register_timeout_ms * 1000;
    std::printf("fleetsim: mode=%s connecting %d agents to %s (%d every %lld ms)\n",
                options_.mode.c_str(), options_.agents, options_.coordinator.c_str(),
                options_.ramp_batch, static_cast<long long>(options_.ramp_every_ms));
    std::fflush(stdout);
    try {
      while (phase_ != Phase::kDone) {
        OnTimers(NowUs());
        fleet_.DrainTouched();
        Poll();
      }
    } catch (const zmq::error_t& e) {
      return Status::Internal(std::string("zmq: ") + e.what());
    }
    return Status::Ok();
  }

  // The restart line (with --await-restart); returns whether the run measured what it should.
  bool Report() {
    if (!window_printed_) PrintWindow();
    if (options_.await_restart_ms > 0) {
      double seconds = rewelcome_s_.empty() ? -1 : Percentile(rewelcome_s_, 1.0);  // the last
      // When agents came back (p50, p90: seconds after the signal) and how long a hello waited
      // for its Welcome then (p50, p99, max in ms): a queue at the coordinator shows in the
      // second, a late reconnect in the first.
      std::printf("fleetsim: restart agents=%d rewelcomed=%d seconds=%.2f hello_retries=%" PRIu64
                  " reregisters=%" PRIu64 " back_p50_s=%.2f back_p90_s=%.2f hello_p50_ms=%.1f"
                  " hello_p99_ms=%.1f hello_max_ms=%.1f\n",
                  options_.agents, Rewelcomed(), seconds, hello_retries_ - retries_before_restart_,
                  reregisters_ - reregisters_before_restart_, Percentile(rewelcome_s_, 0.5),
                  Percentile(rewelcome_s_, 0.9), Percentile(rewelcome_hello_ms_, 0.5),
                  Percentile(rewelcome_hello_ms_, 0.99), Percentile(rewelcome_hello_ms_, 1.0));
      std::fflush(stdout);
    }
    bool all_acked = flood_ ? acked_ > 0 : (sent_ > 0 && acked_ == sent_);
    bool restarted = options_.await_restart_ms <= 0 || Rewelcomed() == options_.agents;
    return steady_registered_ == options_.agents && all_acked && restarted;
  }

 private:
  enum class Phase { kRegistering, kMeasuring, kDraining, kAwaitRestart, kDone };

  // The line scripts/bench.sh greps, once the window's last acks are in.
  void PrintWindow() {
    double window_s = static_cast<double>(window_end_us_ - window_start_us_) / 1e6;
    double register_s =
        last_welcome_us_ > 0 ? static_cast<double>(last_welcome_us_ - start_us_) / 1e6 : -1;
    // Flood: every ack received while the window was open (the absorbed rate). Steady: the acks
    // of the window's own heartbeats, so beats sent just before it do not inflate the rate.
    uint64_t rate_acks = flood_ ? acked_in_window_ : acked_;
    std::printf("fleetsim: agents=%d registered=%d sent=%" PRIu64 " acked=%" PRIu64
                " rate=%.1f/s p50_ms=%.2f p99_ms=%.2f mode=%s window_s=%.1f register_s=%.2f"
                " hello_retries=%" PRIu64 " reregisters=%" PRIu64 " errors=%" PRIu64
                " send_failures=%" PRIu64 " lost=%" PRIu64 " sim_cpu_pct=%.1f\n",
                options_.agents, registered_, sent_, acked_,
                window_s > 0 ? static_cast<double>(rate_acks) / window_s : 0.0,
                Percentile(latency_ms_, 0.50), Percentile(latency_ms_, 0.99), options_.mode.c_str(),
                window_s, register_s, hello_retries_, reregisters_, errors_, fleet_.send_failures(),
                lost_, window_s > 0 ? 100 * sim_cpu_s_ / window_s : 0.0);
    std::fflush(stdout);
    steady_registered_ = registered_;
    window_printed_ = true;
  }

  // Agents welcomed again since the restart signal.
  int Rewelcomed() const { return static_cast<int>(rewelcome_s_.size()); }

  // Steady heartbeats: slot k is due at start + k * interval / agents and belongs to agent
  // k % agents, so every agent beats once per interval and the fleet's beats are evenly spaced.
  int64_t SlotDueUs(uint64_t slot) const {
    return start_us_ + static_cast<int64_t>(slot * static_cast<uint64_t>(options_.interval_ms) *
                                            1000 / agents_.size());
  }
  bool SlotsRunning() const {
    return phase_ == Phase::kRegistering || phase_ == Phase::kAwaitRestart ||
           (phase_ == Phase::kMeasuring && !flood_);
  }

  void OnTimers(int64_t now) {
    while (started_ < agents_.size() && now >= next_ramp_us_) {
      size_t end = std::min(agents_.size(), started_ + static_cast<size_t>(options_.ramp_batch));
      for (; started_ < end; ++started_) Connect(started_, now);
      next_ramp_us_ += options_.ramp_every_ms * 1000;
    }
    if (now >= next_hello_check_us_) {
      // Hellos can be lost (a connection reset during the handshake); the real agent retries too.
      for (size_t i = 0; i < started_; ++i) {
        SimAgent& agent = agents_[i];
        if (agent.state == SimAgent::State::kHelloSent &&
            now - agent.hello_sent_us > options_.hello_retry_ms * 1000) {
          ++hello_retries_;
          SendHello(i, now);
        }
      }
      next_hello_check_us_ = now + 500'000;
    }
    if (SlotsRunning()) {
      // After a stall, skip beats older than one interval rather than sending them in a burst.
      uint64_t per_interval = agents_.size();
      while (next_slot_ > per_interval &&
             SlotDueUs(next_slot_) < now - options_.interval_ms * 1000) {
        next_slot_ += per_interval;
      }
      for (; SlotDueUs(next_slot_) <= now; ++next_slot_) {
        size_t index = next_slot_ % agents_.size();
        if (agents_[index].state == SimAgent::State::kRegistered) SendHeartbeat(index, now);
      }
    }
    switch (phase_) {
      case Phase::kRegistering:
        if (registered_ == options_.agents && settle_until_us_ == 0) {
          std::printf("fleetsim: all registered agents=%d seconds=%.2f\n", registered_,
                      static_cast<double>(last_welcome_us_ - start_us_) / 1e6);
          std::fflush(stdout);
          settle_until_us_ = now + options_.settle_ms * 1000;
          phase_deadline_us_ = settle_until_us_;
        }
        if (settle_until_us_ > 0 && now >= settle_until_us_) {
          OpenWindow(now);
        } else if (now >= phase_deadline_us_) {
          std::printf("fleetsim: registration incomplete registered=%d of %d after %lld ms\n",
                      registered_, options_.agents,
                      static_cast<long long>(options_.register_timeout_ms));
          std::fflush(stdout);
          if (registered_ > 0) {
            OpenWindow(now);
          } else {
            phase_ = Phase::kDone;
          }
        }
        break;
      case Phase::kMeasuring:
        if (now >= phase_deadline_us_) CloseWindow(now);
        break;
      case Phase::kDraining:
        if (measured_in_flight_ == 0 || now >= phase_deadline_us_) {
          PrintWindow();
          if (options_.await_restart_ms > 0) {
            phase_ = Phase::kAwaitRestart;
            phase_deadline_us_ = now + options_.await_restart_ms * 1000;
            std::printf("fleetsim: awaiting restart seconds=%.1f\n",
                        static_cast<double>(options_.await_restart_ms) / 1000);
            std::fflush(stdout);
          } else {
            phase_ = Phase::kDone;
          }
        }
        break;
      case Phase::kAwaitRestart:
        if (restart_us_ == 0 && g_restart_signal_us.load() != 0) {
          restart_us_ = g_restart_signal_us.load();
          retries_before_restart_ = hello_retries_;
          reregisters_before_restart_ = reregisters_;
          for (SimAgent& agent : agents_) agent.welcomed_since_restart = false;
          std::printf("fleetsim: restart signalled\n");
          std::fflush(stdout);
        }
        if ((restart_us_ > 0 && Rewelcomed() == options_.agents) || now >= phase_deadline_us_) {
          phase_ = Phase::kDone;
        }
        break;
      case Phase::kDone:
        break;
    }
  }

  void OpenWindow(int64_t now) {
    phase_ = Phase::kMeasuring;
    window_start_us_ = now;
    phase_deadline_us_ = now + options_.duration_ms * 1000;
    sim_cpu_s_ = -SelfCpuSeconds();
    if (options_.watch_pid > 0) watch_start_ = ReadProc(options_.watch_pid);
    std::printf("fleetsim: window open seconds=%.1f\n",
                static_cast<double>(options_.duration_ms) / 1000);
    std::fflush(stdout);
    if (flood_) {
      for (size_t i = 0; i < agents_.size(); ++i) FillWindow(i, now);
    }
  }

  void CloseWindow(int64_t now) {
    phase_ = Phase::kDraining;
    window_end_us_ = now;
    phase_deadline_us_ = now + options_.drain_ms * 1000;
    sim_cpu_s_ += SelfCpuSeconds();
    if (options_.watch_pid <= 0) return;
    ProcSample end = ReadProc(options_.watch_pid);
    if (!watch_start_.ok || !end.ok) {
      std::printf("fleetsim: watch pid=%d unreadable\n", options_.watch_pid);
      return;
    }
    double window_s = static_cast<double>(window_end_us_ - window_start_us_) / 1e6;
    std::printf(
        "fleetsim: watch pid=%d cpu_pct=%.2f cpu_s=%.2f window_s=%.2f rss_mib=%.1f "
        "hwm_mib=%.1f\n",
        options_.watch_pid, 100 * (end.cpu_s - watch_start_.cpu_s) / window_s,
        end.cpu_s - watch_start_.cpu_s, window_s, end.rss_mib, end.hwm_mib);
    std::fflush(stdout);
  }

  void Connect(size_t index, int64_t now) {
    fleet_.ConnectAgent(index, options_.coordinator, coordinator_key_);
    SendHello(index, now);
  }

  void SendHello(size_t index, int64_t now) {
    SimAgent& agent = agents_[index];
    agent.hello_request_id = ++agent.request_id;
    agent.hello_sent_us = now;
    agent.state = SimAgent::State::kHelloSent;
    fleet_.Send(index, protocol::Encode(fleet_.Hello(index, {}), agent.hello_request_id));
  }

  void SendHeartbeat(size_t index, int64_t now) {
    SimAgent& agent = agents_[index];
    protocol::Heartbeat heartbeat = fleet_.Heartbeat(
        index, ++agent.sequence, 86'400 + static_cast<uint64_t>((now - start_us_) / 1'000'000));
    uint64_t request_id = ++agent.request_id;
    if (!fleet_.Send(index, protocol::Encode(heartbeat, request_id))) return;
    bool measured = phase_ == Phase::kMeasuring;
    agent.in_flight.push_back({request_id, now, measured});
    if (measured) {
      ++sent_;
      ++measured_in_flight_;
    }
  }

  void FillWindow(size_t index, int64_t now) {
    SimAgent& agent = agents_[index];
    while (agent.state == SimAgent::State::kRegistered &&
           agent.in_flight.size() < static_cast<size_t>(options_.window)) {
      size_t before = agent.in_flight.size();
      SendHeartbeat(index, now);
      if (agent.in_flight.size() == before) return;  // the send queue is full
    }
  }

  // Removes the request a reply answers; earlier requests of that agent were lost.
  std::optional<InFlight> TakeInFlight(SimAgent& agent, uint64_t request_id) {
    while (!agent.in_flight.empty() && agent.in_flight.front().request_id < request_id) {
      if (agent.in_flight.front().measured) {
        ++lost_;
        --measured_in_flight_;
      }
      agent.in_flight.pop_front();
    }
    if (agent.in_flight.empty() || agent.in_flight.front().request_id != request_id) {
      return std::nullopt;
    }
    InFlight taken = agent.in_flight.front();
    agent.in_flight.pop_front();
    if (taken.measured) --measured_in_flight_;
    return taken;
  }

  void Handle(size_t index, std::string_view frame, int64_t now) {
    SimAgent& agent = agents_[index];
    auto envelope = protocol::DecodeEnvelope(frame);
    if (!envelope.ok()) {
      ++errors_;
      return;
    }
    using T = protocol::MessageType;
    switch (envelope->type) {
      case T::kHeartbeatAck: {
        std::optional<InFlight> request = TakeInFlight(agent, envelope->request_id);
        if (phase_ == Phase::kMeasuring) ++acked_in_window_;
        if (request && request->measured) {
          ++acked_;
          latency_ms_.push_back(static_cast<double>(now - request->sent_us) / 1000);
        }
        if (flood_ && phase_ == Phase::kMeasuring) FillWindow(index, now);
        break;
      }
      case T::kWelcome:
        if (agent.state != SimAgent::State::kHelloSent ||
            envelope->request_id != agent.hello_request_id) {
          break;  // the answer to a hello we already retried
        }
        agent.state = SimAgent::State::kRegistered;
        ++registered_;
        if (phase_ == Phase::kRegistering) last_welcome_us_ = now;  // re-registrations later
        if (restart_us_ > 0 && !agent.welcomed_since_restart) {
          agent.welcomed_since_restart = true;
          rewelcome_s_.push_back(static_cast<double>(now - restart_us_) / 1e6);
          rewelcome_hello_ms_.push_back(static_cast<double>(now - agent.hello_sent_us) / 1e3);
        }
        if (flood_ && phase_ == Phase::kMeasuring) FillWindow(index, now);
        break;
      case T::kReregister:
        (void)TakeInFlight(agent, envelope->request_id);
        ++reregisters_;
        if (agent.state == SimAgent::State::kRegistered) {
          --registered_;
          SendHello(index, now);
        }
        break;
      case T::kPendingApproval:
      case T::kReject:
      case T::kError:
      default:
        // The coordinator must run with --auto-accept; anything else is a failed message.
        (void)TakeInFlight(agent, envelope->request_id);
        if (errors_++ == 0) {
          std::fprintf(stderr, "fleetsim: host=%s got %s from the coordinator\n",
                       fleet_.identity(index).hostname.c_str(),
                       std::string(protocol::MessageTypeName(envelope->type)).c_str());
        }
    }
  }

  void Poll() {
    int64_t now = NowUs();
    int64_t next = phase_deadline_us_;
    if (started_ < agents_.size()) next = std::min(next, next_ramp_us_);
    if (SlotsRunning()) next = std::min(next, SlotDueUs(next_slot_));
    int timeout_ms = static_cast<int>(std::clamp<int64_t>((next - now + 999) / 1000, 0, 100));
    fleet_.Poll(timeout_ms);
  }

  const Options options_;
  const bool flood_;
  const std::string coordinator_key_;
  SimFleet fleet_;
  std::vector<SimAgent> agents_;

  Phase phase_ = Phase::kRegistering;
  int64_t start_us_ = 0;
  int64_t phase_deadline_us_ = 0;
  int64_t next_ramp_us_ = 0;
  int64_t next_hello_check_us_ = 0;
  size_t started_ = 0;
  uint64_t next_slot_ = 0;
  int registered_ = 0;
  int64_t last_welcome_us_ = 0;
  int64_t settle_until_us_ = 0;  // set once every agent registered

  int64_t window_start_us_ = 0;
  int64_t window_end_us_ = 0;
  uint64_t sent_ = 0;   // heartbeats sent inside the window
  uint64_t acked_ = 0;  // acks of those
  uint64_t measured_in_flight_ = 0;
  uint64_t acked_in_window_ = 0;  // acks of any heartbeat, received inside the window
  uint64_t reregisters_ = 0;
  uint64_t hello_retries_ = 0;
  uint64_t errors_ = 0;
  uint64_t lost_ = 0;
  std::vector<double> latency_ms_;
  double sim_cpu_s_ = 0;
  ProcSample watch_start_;
  bool window_printed_ = false;
  int steady_registered_ = 0;  // registered when the window's line was printed

  // --await-restart
  int64_t restart_us_ = 0;  // when SIGUSR1 came; 0 = not yet
  std::vector<double> rewelcome_s_;         // per agent: seconds from the signal to its Welcome
  std::vector<double> rewelcome_hello_ms_;  // per agent: its last hello to that Welcome
  uint64_t retries_before_restart_ = 0;
  uint64_t reregisters_before_restart_ = 0;
};

}  // namespace
}  // namespace labmesh::bench

int main(int argc, char** argv) {
  namespace flags = labmesh::flags;
  labmesh::bench::Options options;
  CLI::App app{"labmesh-fleetsim: many simulated agents in one process, for benchmarks"};
  flags::Add(app, "mode", options.mode, "steady (heartbeat every interval) or flood (max rate)")
      ->check(CLI::IsMember({"steady", "flood"}));
  flags::Add(app, "agents", options.agents, "simulated agents")->check(CLI::PositiveNumber);
  flags::AddDuration(app, "interval", options.interval_ms, "steady: heartbeat interval per agent");
  flags::AddDuration(app, "duration", options.duration_ms, "length of the measured window");
  flags::Add(app, "window", options.window, "flood: heartbeats in flight per agent")
      ->check(CLI::PositiveNumber);
  flags::Add(app, "coordinator", options.coordinator, "the coordinator's agent endpoint");
  flags::Add(app, "coordinator-key", options.coordinator_key,
             "the coordinator's public key (Z85) or the file holding it")
      ->required();
  flags::Add(app, "prefix", options.prefix, "hostname prefix; agent 42 is PREFIX00042");
  flags::Add(app, "ramp-batch", options.ramp_batch, "connections started at once")
      ->check(CLI::PositiveNumber);
  flags::AddDuration(app, "ramp-every", options.ramp_every_ms, "time between connection batches");
  flags::AddDuration(app, "register-timeout", options.register_timeout_ms,
                     "measure anyway when not every agent registered by then");
  flags::AddDuration(app, "hello-retry", options.hello_retry_ms,
                     "send the hello again when unanswered this long");
  flags::AddDuration(app, "drain", options.drain_ms, "after the window, wait this long for acks");
  flags::AddDuration(app, "settle", options.settle_ms,
                     "after every agent registered, beat this long before the window opens "
                     "(other simulators of the same fleet may still be registering)");
  flags::AddDuration(app, "await-restart", options.await_restart_ms,
                     "after the window, wait this long for SIGUSR1 (a coordinator restart) and "
                     "time the re-registration (0 = stop after the window)");
  flags::Add(app, "io-threads", options.io_threads, "ZeroMQ I/O threads")
      ->check(CLI::PositiveNumber);
  flags::Add(app, "watch-pid", options.watch_pid,
             "report this process's CPU and memory over the measured window (the coordinator)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return flags::ExitForParseError(app, e);
  }
  if (options.interval_ms <= 0 || options.duration_ms <= 0) {
    std::cerr << "labmesh-fleetsim: --interval and --duration must be positive\n";
    return 2;
  }
  auto key = labmesh::ResolveCurveKey(options.coordinator_key);
  if (!key.ok()) {
    std::cerr << "labmesh-fleetsim: --coordinator-key: " << key.status().ToString() << "\n";
    return 2;
  }
  labmesh::bench::RaiseFileLimit();
  struct sigaction action{};
  action.sa_handler = labmesh::bench::OnRestartSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &action, nullptr);
  labmesh::bench::Fleet fleet(options, *key);
  labmesh::Status status = fleet.Init();
  if (status.ok()) status = fleet.Run();
  if (!status.ok()) {
    std::cerr << "labmesh-fleetsim: " << status.ToString() << "\n";
    return 1;
  }
  return fleet.Report() ? 0 : 1;
}
