#include "barrier_bench.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "labmesh/protocol/job_messages.hpp"
#include "labmesh/protocol/sync_messages.hpp"

namespace labmesh::bench {

namespace {

constexpr const char* kBarrier = "b";
constexpr int64_t kBarrierTimeoutMs = 120'000;  // what every arrival asks for
constexpr int64_t kHelloRetryUs = 10'000'000;   // as fleetsim: longer than labmesh-agent's 3 s

}  // namespace

BarrierBench::BarrierBench(const Options& options, std::string coordinator_key)
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

Status BarrierBench::Init() {
  people_.resize(n_);
  return fleet_.Init();
}

Status BarrierBench::Run() {
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

bool BarrierBench::Report() const {
  const RoundStats& b = burst_;
  const RoundStats& s = settled_;
  std::printf(
      "barrierbench: participants=%zu rounds=%zu release_p50_ms=%.2f release_p99_ms=%.2f "
      "release_max_ms=%.2f release_first_p50_ms=%.2f settled_rounds=%zu settled_p50_ms=%.2f "
      "settled_p99_ms=%.2f settled_max_ms=%.2f settled_first_p50_ms=%.2f start_first_ms=%.2f "
      "start_spread_ms=%.2f register_s=%.2f job=%s errors=%" PRIu64 " send_failures=%" PRIu64 "\n",
      n_, b.rounds(), b.last_ms(0.5), b.last_ms(0.99), b.last_ms(1.0), b.first_ms(0.5), s.rounds(),
      s.last_ms(0.5), s.last_ms(0.99), s.last_ms(1.0), s.first_ms(0.5),
      static_cast<double>(first_start_us_ - create_sent_us_) / 1000,
      static_cast<double>(last_start_us_ - first_start_us_) / 1000,
      static_cast<double>(registered_us_ - start_us_) / 1e6,
      job_status_.empty() ? "unknown" : job_status_.c_str(), errors_, fleet_.send_failures());
  b.PrintTimes();
  s.PrintTimes();
  std::fflush(stdout);
  return phase_ == Phase::kDone && errors_ == 0 && job_status_ == "Completed" &&
         b.rounds() == static_cast<size_t>(options_.rounds) &&
         s.rounds() == static_cast<size_t>(options_.settled_rounds);
}

void BarrierBench::Fail(const std::string& why) {
  std::fprintf(stderr, "barrierbench: %s\n", why.c_str());
  phase_ = Phase::kFailed;
}

void BarrierBench::Error(const std::string& what) {
  if (errors_++ < 5) std::fprintf(stderr, "barrierbench: %s\n", what.c_str());
}

void BarrierBench::Enter(Phase phase, int64_t now) {
  phase_ = phase;
  deadline_us_ = now + options_.step_timeout_ms * 1000;
}

void BarrierBench::OnTimers(int64_t now) {
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
          now - people_[i].hello_sent_us > kHelloRetryUs) {
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
    if (people_[index].state == Participant::State::kRegistered) SendHeartbeat(index, now);
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

int64_t BarrierBench::BeatDueUs(uint64_t slot) const {
  return beat_start_us_ +
         static_cast<int64_t>(slot * static_cast<uint64_t>(beat_interval_us_) / n_);
}

std::string BarrierBench::Stuck() const {
  auto of_n = [this](size_t count) { return std::to_string(count) + "/" + std::to_string(n_); };
  std::string gen = "generation " + std::to_string(generation_) + ": ";
  switch (phase_) {
    case Phase::kRegistering:
      return "registration incomplete: " + of_n(registered_) + " welcomed";
    case Phase::kStarting:
      return "start incomplete: job " + std::to_string(job_id_) + ", StartEntry " + of_n(starts_) +
             ", running acks " + of_n(running_acks_);
    case Phase::kSettling:
      return gen + "job show counted " + of_n(seen_waiting_) + " arrivals";
    case Phase::kReleasing:
      return gen + of_n(replies_) + " released";
    case Phase::kFinishing:
      return "end incomplete: " + of_n(finished_) + " entries done";
    case Phase::kChecking:
      return "job " + std::to_string(job_id_) + " not final: " + job_status_;
    default:
      return "stuck";
  }
}

void BarrierBench::Poll() {
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

void BarrierBench::SendHello(size_t index, int64_t now) {
  Participant& p = people_[index];
  p.hello_request_id = ++p.request_id;
  p.hello_sent_us = now;
  p.state = Participant::State::kHelloSent;
  fleet_.Send(index, protocol::Encode(fleet_.Hello(index, {options_.label}), p.hello_request_id));
}

void BarrierBench::SendHeartbeat(size_t index, int64_t now) {
  Participant& p = people_[index];
  uint64_t uptime_s = 86'400 + static_cast<uint64_t>((now - start_us_) / 1'000'000);
  fleet_.Send(index, protocol::Encode(fleet_.Heartbeat(index, ++p.heartbeat_sequence, uptime_s),
                                      ++p.request_id));
}

void BarrierBench::SendReport(size_t index, const std::string& phase) {
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

void BarrierBench::Arrive(size_t index) {
  Participant& p = people_[index];
  protocol::SyncRequest request;
  request.entry_id = p.entry_id;
  request.op = "barrier";
  request.name = kBarrier;
  request.generation = generation_;
  request.timeout_ms = kBarrierTimeoutMs;
  p.sync_request_id = ++p.request_id;
  fleet_.Send(index, protocol::Encode(request, p.sync_request_id));
}

void BarrierBench::StartJob(int64_t now) {
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
  SendApi(protocol::Encode(create, ++api_request_id_, {"", options_.token, "", "", ""}));
  create_sent_us_ = NowUs();
  Enter(Phase::kStarting, now);
}

void BarrierBench::StartRound(int64_t now) {
  size_t round = burst_.rounds() + settled_.rounds();
  if (round == static_cast<size_t>(options_.rounds + options_.settled_rounds)) return Finish(now);
  settled_round_ = round >= static_cast<size_t>(options_.rounds);
  ++generation_;
  replies_ = 0;
  if (!settled_round_) round_start_ = ReadRoundTimes(options_.watch_pid);
  size_t early = settled_round_ ? n_ - 1 : n_;
  for (size_t i = 0; i < early; ++i) Arrive(i);
  if (settled_round_) {
    Enter(Phase::kSettling, now);
    next_show_us_ = NowUs();
    return;
  }
  last_arrival_us_ = NowUs();
  Enter(Phase::kReleasing, now);
}

void BarrierBench::Finish(int64_t now) {
  Enter(Phase::kFinishing, now);
  for (size_t i = 0; i < n_; ++i) SendReport(i, "exited");
}

void BarrierBench::SendApi(const std::string& frame) {
  ++api_in_flight_;
  fleet_.Send(api_slot_, frame);
}

void BarrierBench::SendShow() {
  SendApi(protocol::Encode(protocol::JobShowRequest{job_id_}, ++api_request_id_,
                           {"", options_.token, "", "", ""}));
}

void BarrierBench::HandleAgent(size_t index, std::string_view frame, int64_t now) {
  Participant& p = people_[index];
  // A StartEntry names every host of the group twice (LABMESH_HOSTS, LABMESH_PEERS): with
  // 1,000 hosts decoding one takes this thread longer than receiving it. So while the group
  // starts they are only kept, with their time, and handled once all are in: the spread is
  // the coordinator's delivery, not this process's decoding. The type is peeked at: byte 2
  // of the envelope, a positive fixint as the C++ encoder writes it (anything else takes the
  // ordinary way below).
  if (phase_ == Phase::kStarting && frame.size() > 3 &&
      static_cast<uint8_t>(frame[2]) == static_cast<uint8_t>(protocol::MessageType::kStartEntry)) {
    if (!p.start_seen) {
      p.start_seen = true;
      if (starts_++ == 0) first_start_us_ = now;
      last_start_us_ = now;
    }
    held_starts_.emplace_back(index, std::string(frame));
    if (starts_ == n_) HandleHeldStarts(now);
    return;
  }
  auto envelope = protocol::DecodeEnvelope(frame);
  if (!envelope.ok()) return Error("undecodable frame: " + envelope.status().ToString());
  using T = protocol::MessageType;
  switch (envelope->type) {
    case T::kSyncReply:
      return OnSyncReply(index, *envelope, now);
    case T::kHeartbeatAck:
      return;
    case T::kWelcome: {
      if (p.state != Participant::State::kHelloSent || envelope->request_id != p.hello_request_id) {
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
    case T::kStartEntry:
      return OnStart(index, *envelope, now);
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

void BarrierBench::HandleHeldStarts(int64_t now) {
  std::vector<std::pair<size_t, std::string>> held;
  held.swap(held_starts_);
  for (const auto& [index, frame] : held) {
    auto envelope = protocol::DecodeEnvelope(frame);
    if (!envelope.ok()) return Error("StartEntry: " + envelope.status().ToString());
    OnStart(index, *envelope, now);
  }
}

void BarrierBench::OnStart(size_t index, const protocol::Envelope& envelope, int64_t now) {
  Participant& p = people_[index];
  auto start = protocol::DecodeBody<protocol::StartEntry>(envelope);
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
  if (!p.start_seen) {
    p.start_seen = true;
    if (starts_++ == 0) first_start_us_ = now;
    last_start_us_ = now;
  }
  p.entry_id = start->entry_id;
  p.started_us = WallUs();
  SendReport(index, "running");
  if (starts_ == n_ && !held_starts_.empty()) HandleHeldStarts(now);
}

void BarrierBench::GroupRunning(int64_t now) {
  std::printf(
      "barrierbench: group started participants=%zu start_first_ms=%.2f start_spread_ms=%.2f\n", n_,
      static_cast<double>(first_start_us_ - create_sent_us_) / 1000,
      static_cast<double>(last_start_us_ - first_start_us_) / 1000);
  std::fflush(stdout);
  Enter(Phase::kGap, now);
  next_round_us_ = now + options_.round_gap_ms * 1000;
}

void BarrierBench::OnSyncReply(size_t index, const protocol::Envelope& envelope, int64_t now) {
  Participant& p = people_[index];
  auto reply = protocol::DecodeBody<protocol::SyncReply>(envelope);
  if (!reply.ok()) return Error("SyncReply: " + reply.status().ToString());
  if (phase_ != Phase::kReleasing || envelope.request_id != p.sync_request_id ||
      reply->generation != generation_ || !reply->ok) {
    Error(fleet_.identity(index).hostname +
          ": unexpected SyncReply generation=" + std::to_string(reply->generation) +
          " ok=" + (reply->ok ? "true" : "false") + " error=" + reply->error);
    return Fail("barrier round " + std::to_string(generation_) + " failed");
  }
  p.sync_request_id = 0;
  if (replies_++ == 0) first_reply_us_ = now;
  if (replies_ < n_) return;
  (settled_round_ ? settled_ : burst_)
      .Add(generation_, static_cast<double>(now - last_arrival_us_) / 1000,
           static_cast<double>(first_reply_us_ - last_arrival_us_) / 1000, round_start_,
           ReadRoundTimes(options_.watch_pid));
  Enter(Phase::kGap, now);
  next_round_us_ = now + options_.round_gap_ms * 1000;
}

void BarrierBench::HandleApi(std::string_view frame, int64_t now) {
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
  std::string waiting =
      "barrier '" + std::string(kBarrier) + "' (use " + std::to_string(generation_) + ")";
  seen_waiting_ = 0;
  for (const protocol::EntryInfo& entry : shown->job.entries) {
    if (entry.waiting_in.rfind(waiting, 0) == 0) ++seen_waiting_;
  }
  if (seen_waiting_ < n_ - 1) return;
  round_start_ = ReadRoundTimes(options_.watch_pid);
  Arrive(n_ - 1);
  last_arrival_us_ = NowUs();
  Enter(Phase::kReleasing, last_arrival_us_);
}

}  // namespace labmesh::bench
