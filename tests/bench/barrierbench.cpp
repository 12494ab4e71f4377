// labmesh-barrierbench: barrier release latency with N simulated participants (issue 4), for
// scripts/bench-barrier.sh.
//
// One process is the whole group: N simulated agents (SimFleet: a Curve DEALER each, the real
// agent protocol) register with --label, heartbeat at the Welcome's interval and ask for work;
// one job (`true`, --label L --count N, synch_count N) is created over the API socket. The
// coordinator holds the N hosts Pending and starts them in one fan-out (the spread of the
// StartEntry arrivals, first to last, is reported). Every agent reports "running"; once every
// report is acknowledged the group goes through barrier "b", one generation per round:
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
//
// Prints one line that scripts grep:
//   barrierbench: participants=N rounds=R release_p50_ms= release_p99_ms= release_max_ms=
//   settled_rounds=R settled_p50_ms= settled_p99_ms= settled_max_ms= start_spread_ms= ...
// Every wait has a deadline (--step-timeout); exit 1 when a figure could not be measured.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "labmesh/common/curve_keys.hpp"
#include "labmesh/common/flags.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "labmesh/protocol/job_messages.hpp"
#include "labmesh/protocol/sync_messages.hpp"
#include "sim_fleet.hpp"

namespace labmesh::bench {
namespace {

struct Options {
  int participants = 100;
  int rounds = 20;
  int settled_rounds = 20;
  std::string coordinator = "tcp://127.0.0.1:7710";
  std::string coordinator_key;
  std::string api = "tcp://127.0.0.1:7711";
  std::string label = "barrier-bench";
  std::string prefix = "bar-";
  int ramp_batch = 100;
  int64_t ramp_every_ms = 100;
  int64_t hello_retry_ms = 10'000;
  int64_t step_timeout_ms = 60'000;  // registration, the start, each round, the end
  int64_t round_gap_ms = 20;
  int64_t barrier_timeout_ms = 120'000;  // SyncRequest.timeout_ms
  int io_threads = 2;
};

constexpr const char* kBarrier = "b";

int64_t WallUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Participant {
  enum class State { kIdle, kHelloSent, kRegistered };
  State state = State::kIdle;
  uint64_t request_id = 0;
  uint64_t hello_request_id = 0;
  int64_t hello_sent_us = 0;
  uint64_t heartbeat_sequence = 0;
  uint64_t entry_id = 0;          // from StartEntry; 0 = not started
  int64_t started_us = 0;         // wall clock, as an agent reports it
  uint64_t report_sequence = 0;   // of the last EntryReport sent
  uint64_t sync_request_id = 0;   // the arrival waiting for its SyncReply; 0 = none
};

class BarrierBench {
 public:
  BarrierBench(const Options& options, std::string coordinator_key)
      : options_(options),
        coordinator_key_(std::move(coordinator_key)),
        fleet_(options.participants, options.prefix, options.io_threads),
        n_(static_cast<size_t>(options.participants)) {
    fleet_.set_on_frame([this](size_t slot, std::string_view frame, int64_t now) {
      if (slot == api_slot_) {
        HandleApi(frame, now);
      } else {
        HandleAgent(slot, frame, now);
      }
    });
  }

  Status Init() {
    people_.resize(n_);
    return fleet_.Init();
  }

  Status Run() {
    start_us_ = NowUs();
    next_ramp_us_ = start_us_;
    deadline_us_ = start_us_ + options_.step_timeout_ms * 1000;
    std::printf("barrierbench: connecting %zu participants to %s\n", n_,
                options_.coordinator.c_str());
    std::fflush(stdout);
    try {
      api_slot_ = fleet_.AddPlain(options_.api);
      while (phase_ != Phase::kDone && phase_ != Phase::kFailed) {
        OnTimers(NowUs());
        fleet_.DrainTouched();
        Poll();
      }
    } catch (const zmq::error_t& e) {
      return Status::Internal(std::string("zmq: ") + e.what());
    }
    return Status::Ok();
  }

  // The line the scripts grep; returns whether every figure was measured.
  bool Report() const {
    std::printf(
        "barrierbench: participants=%zu rounds=%zu release_p50_ms=%.2f release_p99_ms=%.2f "
        "release_max_ms=%.2f release_first_p50_ms=%.2f settled_rounds=%zu settled_p50_ms=%.2f "
        "settled_p99_ms=%.2f settled_max_ms=%.2f settled_first_p50_ms=%.2f start_spread_ms=%.2f "
        "register_s=%.2f job=%s errors=%" PRIu64 " send_failures=%" PRIu64 "\n",
        n_, burst_ms_.size(), Percentile(burst_ms_, 0.5), Percentile(burst_ms_, 0.99),
        Percentile(burst_ms_, 1.0), Percentile(burst_first_ms_, 0.5), settled_ms_.size(),
        Percentile(settled_ms_, 0.5), Percentile(settled_ms_, 0.99), Percentile(settled_ms_, 1.0),
        Percentile(settled_first_ms_, 0.5),
        static_cast<double>(last_start_us_ - first_start_us_) / 1000,
        static_cast<double>(registered_us_ - start_us_) / 1e6,
        job_status_.empty() ? "unknown" : job_status_.c_str(), errors_, fleet_.send_failures());
    std::fflush(stdout);
    return phase_ == Phase::kDone && errors_ == 0 && job_status_ == "Completed" &&
           burst_ms_.size() == static_cast<size_t>(options_.rounds) &&
           settled_ms_.size() == static_cast<size_t>(options_.settled_rounds);
  }

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

  void Fail(const std::string& why) {
    std::fprintf(stderr, "barrierbench: %s\n", why.c_str());
    phase_ = Phase::kFailed;
  }

  void Error(const std::string& what) {
    if (errors_++ < 5) std::fprintf(stderr, "barrierbench: %s\n", what.c_str());
  }

  void Enter(Phase phase, int64_t now) {
    phase_ = phase;
    deadline_us_ = now + options_.step_timeout_ms * 1000;
  }

  // ---- timers ----

  void OnTimers(int64_t now) {
    while (connected_ < n_ && now >= next_ramp_us_) {
      size_t end = std::min(n_, connected_ + static_cast<size_t>(options_.ramp_batch));
      for (; connected_ < end; ++connected_) {
        fleet_.ConnectAgent(connected_, options_.coordinator, coordinator_key_);
        SendHello(connected_, now);
      }
      next_ramp_us_ += options_.ramp_every_ms * 1000;
    }
    if (now >= next_hello_check_us_) {
      // Hellos can be lost (a connection reset during the handshake); the real agent retries too.
      for (size_t i = 0; i < connected_; ++i) {
        if (people_[i].state == Participant::State::kHelloSent &&
            now - people_[i].hello_sent_us > options_.hello_retry_ms * 1000) {
          SendHello(i, now);
        }
      }
      next_hello_check_us_ = now + 500'000;
    }
    // Heartbeats: slot k belongs to participant k % N and is due at k * interval / N after the
    // first Welcome, so each beats once per interval and the beats are evenly spread.
    while (beat_interval_us_ > 0 && BeatDueUs(next_beat_) <= now) {
      if (BeatDueUs(next_beat_) < now - beat_interval_us_) {
        next_beat_ += n_;  // after a stall, skip rather than send a burst
        continue;
      }
      size_t index = next_beat_++ % n_;
      if (people_[index].state == Participant::State::kRegistered) SendHeartbeat(index);
    }
    if (now >= deadline_us_) return Fail(Stuck());
    switch (phase_) {
      case Phase::kRegistering:
        if (registered_ == n_) StartJob(now);
        break;
      case Phase::kGap:
        if (now >= next_round_us_) StartRound(now);
        break;
      case Phase::kSettling:
      case Phase::kChecking:
        if (api_in_flight_ == 0 && now >= next_show_us_) SendShow();
        break;
      default:
        break;
    }
  }

  int64_t BeatDueUs(uint64_t slot) const {
    return beat_start_us_ + static_cast<int64_t>(slot * static_cast<uint64_t>(beat_interval_us_) /
                                                 n_);
  }

  std::string Stuck() const {
    switch (phase_) {
      case Phase::kRegistering:
        return "registration incomplete: " + std::to_string(registered_) + " of " +
               std::to_string(n_) + " welcomed";
      case Phase::kStarting:
        return "start incomplete: job " + std::to_string(job_id_) + ", " +
               std::to_string(starts_) + " StartEntry and " + std::to_string(running_acks_) +
               " running acks of " + std::to_string(n_);
      case Phase::kSettling:
        return "generation " + std::to_string(generation_) + ": job show never reported " +
               std::to_string(n_ - 1) + " arrivals (last saw " + std::to_string(seen_waiting_) +
               ")";
      case Phase::kReleasing:
        return "generation " + std::to_string(generation_) + ": " + std::to_string(replies_) +
               " of " + std::to_string(n_) + " released";
      case Phase::kFinishing:
        return "end incomplete: " + std::to_string(finished_) + " of " + std::to_string(n_) +
               " entries acknowledged as done";
      case Phase::kChecking:
        return "job " + std::to_string(job_id_) + " not final (status " + job_status_ + ")";
      default:
        return "stuck";
    }
  }

  void Poll() {
    int64_t now = NowUs();
    int64_t next = deadline_us_;
    if (connected_ < n_) next = std::min(next, next_ramp_us_);
    if (beat_interval_us_ > 0) next = std::min(next, BeatDueUs(next_beat_));
    if (phase_ == Phase::kGap) next = std::min(next, next_round_us_);
    if (phase_ == Phase::kSettling || phase_ == Phase::kChecking) {
      next = std::min(next, next_show_us_);
    }
    fleet_.Poll(static_cast<int>(std::clamp<int64_t>((next - now + 999) / 1000, 0, 100)));
  }

  // ---- what the agents send ----

  void SendHello(size_t index, int64_t now) {
    Participant& p = people_[index];
    p.hello_request_id = ++p.request_id;
    p.hello_sent_us = now;
    p.state = Participant::State::kHelloSent;
    fleet_.Send(index, protocol::Encode(fleet_.Hello(index, {options_.label}), p.hello_request_id));
  }

  void SendHeartbeat(size_t index) {
    Participant& p = people_[index];
    protocol::Heartbeat heartbeat;
    heartbeat.incarnation = fleet_.identity(index).incarnation;
    heartbeat.sequence = ++p.heartbeat_sequence;
    heartbeat.health.mem_total_bytes = 8ull << 30;
    heartbeat.health.mem_available_bytes = 5ull << 30;
    fleet_.Send(index, protocol::Encode(heartbeat, ++p.request_id));
  }

  void SendReport(size_t index, const std::string& phase) {
    Participant& p = people_[index];
    protocol::EntryReport report;
    report.entry_id = p.entry_id;
    report.sequence = ++p.report_sequence;
    report.incarnation = fleet_.identity(index).incarnation;
    report.phase = phase;
    report.started_us = p.started_us;
    if (phase != "running") {
      report.ended_us = WallUs();
      report.exit_code = 0;
      report.outcome = "passed";
    }
    fleet_.Send(index, protocol::Encode(report, ++p.request_id));
  }

  void Arrive(size_t index) {
    Participant& p = people_[index];
    protocol::SyncRequest request;
    request.entry_id = p.entry_id;
    request.op = "barrier";
    request.name = kBarrier;
    request.generation = generation_;
    request.timeout_ms = options_.barrier_timeout_ms;
    p.sync_request_id = ++p.request_id;
    fleet_.Send(index, protocol::Encode(request, p.sync_request_id));
  }

  // ---- the steps ----

  void StartJob(int64_t now) {
    registered_us_ = now;
    std::printf("barrierbench: all registered participants=%zu seconds=%.2f\n", n_,
                static_cast<double>(now - start_us_) / 1e6);
    std::fflush(stdout);
    for (size_t i = 0; i < n_; ++i) {
      protocol::WorkRequest work;
      work.incarnation = fleet_.identity(i).incarnation;
      fleet_.Send(i, protocol::Encode(work, ++people_[i].request_id));
    }
    protocol::JobCreateRequest create;
    create.name = "barrier-bench";
    create.user = "bench";
    create.command = "true";
    create.meta_label = options_.label;
    create.meta_count = static_cast<uint32_t>(n_);
    create.synch_count = static_cast<uint32_t>(n_);
    SendApi(protocol::Encode(create, ++api_request_id_));
    Enter(Phase::kStarting, now);
  }

  void StartRound(int64_t now) {
    size_t round = burst_ms_.size() + settled_ms_.size();
    if (round == static_cast<size_t>(options_.rounds + options_.settled_rounds)) return Finish(now);
    settled_ = round >= static_cast<size_t>(options_.rounds);
    ++generation_;
    replies_ = 0;
    size_t early = settled_ ? n_ - 1 : n_;
    for (size_t i = 0; i < early; ++i) Arrive(i);
    if (settled_) {
      Enter(Phase::kSettling, now);
      next_show_us_ = NowUs();
      return;
    }
    last_arrival_us_ = NowUs();
    Enter(Phase::kReleasing, now);
  }

  void Finish(int64_t now) {
    Enter(Phase::kFinishing, now);
    for (size_t i = 0; i < n_; ++i) SendReport(i, "exited");
  }

  void SendApi(const std::string& frame) {
    ++api_in_flight_;
    fleet_.Send(api_slot_, frame);
  }

  void SendShow() {
    SendApi(protocol::Encode(protocol::JobShowRequest{job_id_}, ++api_request_id_));
  }

  // ---- what arrives ----

  void HandleAgent(size_t index, std::string_view frame, int64_t now) {
    Participant& p = people_[index];
    auto envelope = protocol::DecodeEnvelope(frame);
    if (!envelope.ok()) return Error("undecodable frame: " + envelope.status().ToString());
    using T = protocol::MessageType;
    switch (envelope->type) {
      case T::kSyncReply: return OnSyncReply(index, *envelope, now);
      case T::kHeartbeatAck: return;
      case T::kWelcome: {
        if (p.state != Participant::State::kHelloSent ||
            envelope->request_id != p.hello_request_id) {
          return;  // the answer to a hello we already retried
        }
        p.state = Participant::State::kRegistered;
        ++registered_;
        if (beat_interval_us_ == 0) {
          auto welcome = protocol::DecodeBody<protocol::Welcome>(*envelope);
          if (welcome.ok() && welcome->heartbeat_interval_ms > 0) {
            beat_interval_us_ = int64_t{welcome->heartbeat_interval_ms} * 1000;
            beat_start_us_ = now;
          }
        }
        return;
      }
      case T::kStartEntry: {
        auto start = protocol::DecodeBody<protocol::StartEntry>(*envelope);
        if (!start.ok()) return Error("StartEntry: " + start.status().ToString());
        if (p.entry_id == start->entry_id) return;  // sent again after a reconnect
        // The starts may be read before the reply to the create.
        if (job_id_ == 0) job_id_ = start->job_id;
        if (p.entry_id != 0 || start->job_id != job_id_ || start->synch_count != n_ ||
            start->hosts.size() != n_) {
          return Error(fleet_.identity(index).hostname + ": unexpected StartEntry entry=" +
                       std::to_string(start->entry_id) + " job=" + std::to_string(start->job_id) +
                       " synch_count=" + std::to_string(start->synch_count) +
                       " hosts=" + std::to_string(start->hosts.size()));
        }
        if (starts_++ == 0) first_start_us_ = now;
        last_start_us_ = now;
        p.entry_id = start->entry_id;
        p.started_us = WallUs();
        return SendReport(index, "running");
      }
      case T::kEntryReportAck: {
        auto ack = protocol::DecodeBody<protocol::EntryReportAck>(*envelope);
        if (!ack.ok() || ack->entry_id != p.entry_id || ack->sequence != p.report_sequence) {
          return;  // an ack of an earlier report
        }
        if (ack->sequence == 1) {
          if (++running_acks_ == n_ && phase_ == Phase::kStarting) GroupRunning(now);
        } else if (ack->sequence == 2) {
          SendReport(index, "uploaded");
        } else if (ack->sequence == 3) {
          if (!ack->done) return Error(fleet_.identity(index).hostname + ": upload not done");
          if (++finished_ == n_) {
            Enter(Phase::kChecking, now);
            next_show_us_ = now;
          }
        }
        return;
      }
      case T::kReregister:
        Error(fleet_.identity(index).hostname + ": told to register again");
        if (p.state == Participant::State::kRegistered) --registered_;
        return SendHello(index, now);
      default:
        Error(fleet_.identity(index).hostname + ": got " +
              std::string(protocol::MessageTypeName(envelope->type)));
        if (envelope->type == T::kAbortEntry) Fail("the coordinator aborted an entry");
    }
  }

  void GroupRunning(int64_t now) {
    std::printf("barrierbench: group started participants=%zu start_spread_ms=%.2f\n", n_,
                static_cast<double>(last_start_us_ - first_start_us_) / 1000);
    std::fflush(stdout);
    Enter(Phase::kGap, now);
    next_round_us_ = now + options_.round_gap_ms * 1000;
  }

  void OnSyncReply(size_t index, const protocol::Envelope& envelope, int64_t now) {
    Participant& p = people_[index];
    auto reply = protocol::DecodeBody<protocol::SyncReply>(envelope);
    if (!reply.ok()) return Error("SyncReply: " + reply.status().ToString());
    if (phase_ != Phase::kReleasing || envelope.request_id != p.sync_request_id ||
        reply->generation != generation_ || !reply->ok) {
      Error(fleet_.identity(index).hostname + ": unexpected SyncReply generation=" +
            std::to_string(reply->generation) + " ok=" + (reply->ok ? "true" : "false") +
            " error=" + reply->error);
      return Fail("barrier round " + std::to_string(generation_) + " failed");
    }
    p.sync_request_id = 0;
    if (replies_++ == 0) first_reply_us_ = now;
    if (replies_ < n_) return;
    double ms = static_cast<double>(now - last_arrival_us_) / 1000;
    (settled_ ? settled_ms_ : burst_ms_).push_back(ms);
    (settled_ ? settled_first_ms_ : burst_first_ms_)
        .push_back(static_cast<double>(first_reply_us_ - last_arrival_us_) / 1000);
    std::printf("barrierbench: round=%u kind=%s latency_ms=%.2f first_reply_ms=%.2f\n",
                generation_, settled_ ? "settled" : "burst", ms,
                static_cast<double>(first_reply_us_ - last_arrival_us_) / 1000);
    std::fflush(stdout);
    Enter(Phase::kGap, now);
    next_round_us_ = now + options_.round_gap_ms * 1000;
  }

  void HandleApi(std::string_view frame, int64_t now) {
    --api_in_flight_;
    auto envelope = protocol::DecodeEnvelope(frame);
    if (!envelope.ok()) return Fail("api: " + envelope.status().ToString());
    if (envelope->type == protocol::MessageType::kJobCreateReply) {
      auto reply = protocol::DecodeAs<protocol::JobCreateReply>(frame);
      if (!reply.ok()) return Fail("job create: " + reply.status().ToString());
      if (job_id_ != 0 && job_id_ != reply->id) {
        return Fail("started by job " + std::to_string(job_id_) + ", created job " +
                    std::to_string(reply->id));
      }
      job_id_ = reply->id;
      return;
    }
    auto shown = protocol::DecodeAs<protocol::JobShowReply>(frame);
    if (!shown.ok()) return Fail("api: " + shown.status().ToString());
    job_status_ = shown->job.status;
    next_show_us_ = now + 2'000;
    if (phase_ == Phase::kChecking) {
      if (job_status_ == "Completed" || job_status_ == "Failed" || job_status_ == "Aborted") {
        phase_ = Phase::kDone;
      }
      return;
    }
    if (phase_ != Phase::kSettling) return;
    // WaitingIn names the generation each waiting host is in (SyncService::WaitingIn).
    std::string waiting = "barrier '" + std::string(kBarrier) + "' (use " +
                          std::to_string(generation_) + ")";
    seen_waiting_ = 0;
    for (const protocol::EntryInfo& entry : shown->job.entries) {
      if (entry.waiting_in.rfind(waiting, 0) == 0) ++seen_waiting_;
    }
    if (seen_waiting_ < n_ - 1) return;
    Arrive(n_ - 1);
    last_arrival_us_ = NowUs();
    Enter(Phase::kReleasing, last_arrival_us_);
  }

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

  size_t starts_ = 0;
  size_t running_acks_ = 0;
  int64_t first_start_us_ = 0;
  int64_t last_start_us_ = 0;

  uint32_t generation_ = 0;
  bool settled_ = false;
  size_t replies_ = 0;
  size_t seen_waiting_ = 0;
  int64_t last_arrival_us_ = 0;
  int64_t first_reply_us_ = 0;
  int64_t next_round_us_ = 0;
  std::vector<double> burst_ms_;  // last arrival sent -> last reply received
  std::vector<double> settled_ms_;
  std::vector<double> burst_first_ms_;  // last arrival sent -> first reply received
  std::vector<double> settled_first_ms_;

  size_t finished_ = 0;
  uint64_t errors_ = 0;
};

}  // namespace
}  // namespace labmesh::bench

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
  flags::Add(app, "label", options.label, "the label the participants ask for and the job uses");
  flags::Add(app, "prefix", options.prefix, "hostname prefix; participant 42 is PREFIX00042");
  flags::Add(app, "ramp-batch", options.ramp_batch, "connections started at once")
      ->check(CLI::PositiveNumber);
  flags::AddDuration(app, "ramp-every", options.ramp_every_ms, "time between connection batches");
  flags::AddDuration(app, "hello-retry", options.hello_retry_ms,
                     "send the hello again when unanswered this long");
  flags::AddDuration(app, "step-timeout", options.step_timeout_ms,
                     "give up when a step (registration, start, a round, the end) takes longer");
  flags::AddDuration(app, "round-gap", options.round_gap_ms, "quiet time between rounds");
  flags::AddDuration(app, "barrier-timeout", options.barrier_timeout_ms,
                     "the timeout every arrival asks for");
  flags::Add(app, "io-threads", options.io_threads, "ZeroMQ I/O threads")
      ->check(CLI::PositiveNumber);
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
