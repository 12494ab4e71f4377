#include "labmesh/agent/agent.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <random>
#include <span>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "fault_filter.hpp"
#include "health.hpp"
#include "labmesh/common/backoff.hpp"
#include "labmesh/common/curve_keys.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "manager.hpp"
#include "update/update_manager.hpp"
#include "work/sync_relay.hpp"
#include "work/task_manager.hpp"
#include "work/work_manager.hpp"

namespace labmesh::agent {

std::string_view AgentStateName(AgentState state) {
  switch (state) {
    case AgentState::kDisconnected: return "Disconnected";
    case AgentState::kConnecting: return "Connecting";
    case AgentState::kPending: return "Pending";
    case AgentState::kRegistered: return "Registered";
  }
  return "Unknown";
}

namespace {

// The longest the loop sleeps. Every timer gives its deadline (NextDeadline, the managers'
// NextDeadlineMs) and Stop() wakes the poll, so this only bounds how late a timer that forgot
// to say so can be; an idle agent wakes once a second for it (scripts/bench-agent.sh).
constexpr int64_t kMaxPollMs = 1'000;
constexpr int64_t kHelloRetryMs = 20;  // while the connection is not up yet
// After a Reject the agent keeps knocking, slowly: an admin may delete the host to let it
// enrol again with a new key, and a restart of the agent must not be needed for that.
constexpr int64_t kRejectedRetryMs = 60'000;

// "A,B,C" -> {A, B, C} (blanks around each dropped, empty ones skipped); never empty.
std::vector<std::string> SplitEndpoints(const std::string& list) {
  std::vector<std::string> endpoints;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = std::min(list.find(',', start), list.size());
    std::string one = list.substr(start, comma - start);
    one.erase(0, one.find_first_not_of(" \t"));
    one.erase(one.find_last_not_of(" \t") + 1);
    if (!one.empty()) endpoints.push_back(std::move(one));
    start = comma + 1;
  }
  if (endpoints.empty()) endpoints.push_back(list);
  return endpoints;
}

uint64_t RandomU64() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

class AgentImpl final : public Agent {
 public:
  AgentImpl(const AgentConfig& config, const Clock* clock)
      : config_(config),
        clock_(clock),
        incarnation_(RandomU64()),
        backoff_(config.reconnect_initial_ms, config.reconnect_max_ms, RandomU64()),
        heartbeat_interval_ms_(config.heartbeat_interval_ms) {
    limits_.max_frame_bytes = config.max_frame_bytes;
  }
  ~AgentImpl() override {
    if (wake_fd_ >= 0) close(wake_fd_);
  }
  AgentImpl(const AgentImpl&) = delete;
  AgentImpl& operator=(const AgentImpl&) = delete;

  Status Init() {
    if (config_.coordinator_key.empty() || !IsZ85Key(config_.coordinator_key)) {
      return Status::InvalidArgument("the coordinator's public key (40-character Z85) is needed");
    }
    hostname_ = config_.hostname;
    if (hostname_.empty()) {
      char buf[256] = {};
      if (gethostname(buf, sizeof buf - 1) != 0) return Status::Internal("gethostname failed");
      hostname_ = buf;
    }
    std::error_code ec;
    for (const char* sub : {"", "/spool"}) {
      std::filesystem::create_directories(config_.work_dir + sub, ec);
      if (ec) return Status::Internal("cannot create " + config_.work_dir + sub + ": " + ec.message());
    }
    auto keys = LoadOrCreateCurveKeys(config_.work_dir + "/keys", "agent");
    if (!keys.ok()) return keys.status();
    keys_ = *keys;
    facts_ = CollectFacts();
    auto faults = FaultFilter::Parse(config_.fault_filter);
    if (!faults.ok()) return faults.status();
    faults_ = std::move(*faults);
    if (faults_.active()) {
        spdlog::warn("host={} fault filter (tests only): {}", hostname_, config_.fault_filter);
    }
    if (!config_.address.empty()) {
      if (!IsValidAgentAddress(config_.address)) {
        return Status::InvalidArgument("--address '" + config_.address +
                                       "': no ',', '=', spaces or control characters");
      }
      facts_.address = config_.address;
    }
    work_ = std::make_unique<WorkManager>(config_, clock_, hostname_, incarnation_,
                                          [this](const std::string& frame) { return Send(frame); });
    // LABMESH_SYNC of every control (control.cpp) names this socket.
    std::error_code abs_ec;
    std::string work_dir =
        std::filesystem::absolute(config_.work_dir, abs_ec).lexically_normal().string();
    if (!work_dir.empty() && work_dir.back() == '/') work_dir.pop_back();
    sync_ = std::make_unique<SyncRelay>(
        context_, clock_, hostname_, work_dir + "/sync.sock",
        [this](const std::string& frame) { return Send(frame); },
        [this](uint64_t entry_id) { return work_->ControlRunning(entry_id); },
        [this] { return ++request_id_; });
    if (Status s = sync_->Bind(); !s.ok()) {
      // Everything but multi-host sync still works: labmesh-sync says the socket is missing.
      spdlog::error("host={} labmesh-sync will not work: {}", hostname_, s.ToString());
    }
    work_->SetControlEndedHook([this](uint64_t entry_id, const std::string& why) {
      sync_->EntryEnded(entry_id, why);
    });
    sync_->SetRebootHook([this](uint64_t entry_id, int64_t timeout_ms) {
      return work_->RequestReboot(entry_id, timeout_ms);
    });
    LABMESH_RETURN_IF_ERROR(work_->Load());
    TaskManager::Hooks hooks;
    hooks.entry_alive = [this](uint64_t entry_id) { return work_->ControlAlive(entry_id); };
    hooks.entry_held = [this](uint64_t entry_id) { return work_->Holds(entry_id); };
    hooks.drop_free_slots = [this] { return work_->DropFreeSlots(); };
    tasks_ = std::make_unique<TaskManager>(
        config_, clock_, hostname_, [this](const std::string& frame) { return Send(frame); },
        std::move(hooks));
    // The package mesh (docs/mesh.md): bound before the UpdateManager is made, which fetches
    // from peers only when this agent serves them too.
    PeerServerConfig peer_config{config_.peer_listen,
                                 config_.peer_advertise.empty() ? facts_.address
                                                                : config_.peer_advertise,
                                 config_.peer_upload_rate, config_.peer_max_fetchers,
                                 work_dir + "/update/cache"};
    peers_ = std::make_unique<PeerServer>(
        peer_config, &context_, clock_, hostname_,
        [this](const std::string& sha256) { return updates_->Partial(sha256); });
    if (Status s = peers_->Bind(); !s.ok()) {
      spdlog::error("host={} serves no package chunks to peers and fetches from the coordinator "
                    "only: {}", hostname_, s.ToString());
      config_.peer_listen.clear();
    }
    UpdateManager::Hooks update_hooks;
    update_hooks.context = &context_;
    update_hooks.entry_held = [this] { return work_->entry_count() > 0; };
    update_hooks.next_request_id = [this] { return ++request_id_; };
    update_hooks.ready_to_exec = [this] { Stop(); };
    updates_ = std::make_unique<UpdateManager>(
        config_, clock_, hostname_, [this](const std::string& frame) { return Send(frame); },
        std::move(update_hooks));
    updates_->Load();
    work_->SetEntryDoneHook([this](uint64_t) { updates_->OnEntryDone(); });
    // The order the loop offers the managers everything: the poll, each coordinator message
    // (Handle, until one takes it), OnPolled, Service, OnWelcome, OnDisconnected, FillHello.
    // It matters for Handle: the UpdateManager comes before the TaskManager, which takes every
    // RunTask (the Update ones are the UpdateManager's). An Error answers a request of the
    // UpdateManager or of the SyncRelay (request ids come from one counter: never both); the
    // others decline it. The SyncRelay stays after the WorkManager, as it always was: a control
    // that ends in the WorkManager's Service() has its helpers answered (EntryEnded) before the
    // relay's Service() retries their requests. Otherwise the managers do not depend on their
    // order: they reach each other only through the hooks wired above.
    managers_ = {work_.get(), updates_.get(), tasks_.get(), sync_.get(), peers_.get()};
    spdlog::info("agent host={} key={} incarnation={} coordinator={}", hostname_, keys_.public_z85,
                 incarnation_, config_.coordinator);
    return Status::Ok();
  }

  Status Run() override {
    // Jitter before the very first attempt too: a lab-wide power-on must not stampede.
    next_attempt_ms_ = clock_->SteadyMs() + backoff_.NextDelayMs();
    while (!stop_.load()) {
      int64_t now = clock_->SteadyMs();
      int64_t deadline = NextDeadline();
      for (const Manager* manager : managers_) {
        deadline = std::min(deadline, manager->NextDeadlineMs());
      }
      int64_t wait = std::clamp<int64_t>(deadline - now, 0, kMaxPollMs);
      try {
        // The coordinator socket and every manager's items (the local sync socket, the entries'
        // and tasks' output pipes and pidfds) in one poll, so that a control's exit or output
        // or a helper's request is handled at once and the loop never sleeps on work.
        poll_items_.clear();
        if (socket_) poll_items_.push_back({socket_->handle(), 0, ZMQ_POLLIN, 0});
        if (wake_fd_ >= 0) poll_items_.push_back({nullptr, wake_fd_, ZMQ_POLLIN, 0});
        poll_ranges_.clear();
        for (const Manager* manager : managers_) {
          const size_t begin = poll_items_.size();
          manager->AppendPollItems(&poll_items_);
          poll_ranges_.emplace_back(begin, poll_items_.size() - begin);
        }
        zmq::poll(poll_items_, std::chrono::milliseconds(wait));
        // The coordinator's messages first, then what the managers' own sockets hold, then
        // every manager's pipes and timers, then the agent's timers (manager.hpp).
        if (socket_ && (poll_items_[0].revents & ZMQ_POLLIN)) Drain();
        const std::span<const zmq::pollitem_t> polled(poll_items_);
        for (size_t i = 0; i < managers_.size(); ++i) {
          managers_[i]->OnPolled(polled.subspan(poll_ranges_[i].first, poll_ranges_[i].second));
        }
        for (Manager* manager : managers_) manager->Service();
        OnTimers();
        if (!delayed_.empty()) ReleaseDelayed();
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        spdlog::warn("connection error: {}; reconnecting", e.what());
        Disconnect(backoff_.NextDelayMs());
      }
    }
    socket_.reset();
    return Status::Ok();
  }

  // From any thread (the signal waiter's): the flag, then a wakeup of the loop's poll.
  void Stop() override {
    stop_.store(true);
    if (wake_fd_ >= 0) {
      const uint64_t one = 1;
      (void)!write(wake_fd_, &one, sizeof one);
    }
  }
  AgentState state() const override { return state_.load(); }
  const std::string& hostname() const override { return hostname_; }
  const std::string& public_key() const override { return keys_.public_z85; }
  std::optional<ExecPlan> TakeExecPlan() override { return updates_->TakeExecPlan(); }

 private:
  void SetState(AgentState to, std::string_view reason) {
    AgentState from = state_.load();
    if (from == to) return;
    state_.store(to);
    spdlog::info("host={} agent {} -> {} ({})", hostname_, AgentStateName(from),
                 AgentStateName(to), reason);
  }

  int64_t NextDeadline() const {
    int64_t deadline = StateDeadline();
    for (const Delayed& d : delayed_) deadline = std::min(deadline, d.due_ms);
    return deadline;
  }

  int64_t StateDeadline() const {
    switch (state_.load()) {
      case AgentState::kDisconnected: return next_attempt_ms_;
      case AgentState::kConnecting:
        return hello_unsent_ ? clock_->SteadyMs() + kHelloRetryMs : hello_deadline_ms_;
      case AgentState::kPending:
        return std::min(next_hello_ms_, last_contact_ms_ + config_.missed_acks_before_reconnect *
                                                               heartbeat_interval_ms_ +
                                            config_.hello_timeout_ms + 1);
      case AgentState::kRegistered:  // the next heartbeat, or the coordinator counts as silent
        return std::min(next_heartbeat_ms_, last_contact_ms_ + config_.missed_acks_before_reconnect *
                                                                   heartbeat_interval_ms_ + 1);
    }
    return clock_->SteadyMs() + kMaxPollMs;
  }

  void Connect() {
    socket_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
    socket_->set(zmq::sockopt::linger, 0);
    socket_->set(zmq::sockopt::curve_serverkey, config_.coordinator_key);
    socket_->set(zmq::sockopt::curve_publickey, keys_.public_z85);
    socket_->set(zmq::sockopt::curve_secretkey, keys_.secret_z85);
    socket_->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(config_.max_frame_bytes));
    socket_->set(zmq::sockopt::reconnect_ivl, static_cast<int>(reconnect_ivl_ms_));
    socket_->set(zmq::sockopt::reconnect_ivl_max, static_cast<int>(kAgentReconnectMaxMs));
    // Queue nothing until the Curve handshake is done: a hello queued on a connection that never
    // came up would be lost silently; instead OnTimers() retries it until it is taken.
    socket_->set(zmq::sockopt::immediate, 1);
    socket_->connect(endpoints_[endpoint_]);
    hello_deadline_ms_ = clock_->SteadyMs() + config_.hello_timeout_ms;
    SetState(AgentState::kConnecting, "connecting to " + endpoints_[endpoint_]);
    hello_unsent_ = !SendHello();
  }

  // Returns false when no connection could take it yet.
  bool SendHello() {
    protocol::AgentHello hello;
    hello.hostname = hostname_;
    hello.agent_version = config_.version;
    hello.incarnation = incarnation_;
    hello.public_key = keys_.public_z85;
    hello.enroll_token = config_.enroll_token;
    hello.labels = config_.labels;
    hello.facts = facts_;
    for (const Manager* manager : managers_) manager->FillHello(&hello);  // entries, update report
    return Send(protocol::Encode(hello, ++request_id_));
  }

  bool Send(const std::string& frame) {
    if (!socket_) return false;
    if (faults_.active()) {
      switch (Judge(FaultDirection::kOut, frame)) {
        case FaultVerdict::Action::kDrop: return true;  // "sent", and lost on the way
        case FaultVerdict::Action::kDelay: return true;
        case FaultVerdict::Action::kDuplicate: SendNow(frame); break;
        case FaultVerdict::Action::kPass: break;
      }
    }
    return SendNow(frame);
  }

  bool SendNow(const std::string& frame) {
    if (!socket_) return false;
    // Never block the loop: a full queue (or no connection yet) is noticed by the missing
    // answers, which make us retry or reconnect.
    return socket_->send(zmq::buffer(frame), zmq::send_flags::dontwait).has_value();
  }

  // The fault filter's verdict on a frame (fault_filter.hpp); a delayed frame is kept until
  // ReleaseDelayed() hands it on.
  FaultVerdict::Action Judge(FaultDirection direction, std::string_view frame) {
    auto envelope = protocol::DecodeEnvelope(frame, limits_);
    std::string_view type = envelope.ok() ? protocol::MessageTypeName(envelope->type) : "?";
    FaultVerdict verdict = faults_.Judge(direction, type, clock_->SteadyMs());
    if (verdict.action == FaultVerdict::Action::kPass) return verdict.action;
    spdlog::warn("host={} fault filter: {} {} {} ({})", hostname_,
                 verdict.action == FaultVerdict::Action::kDrop        ? "dropped"
                 : verdict.action == FaultVerdict::Action::kDuplicate ? "duplicated"
                                                                      : "delayed",
                 direction == FaultDirection::kIn ? "incoming" : "outgoing", type, verdict.rule);
    if (verdict.action == FaultVerdict::Action::kDelay) {
      delayed_.push_back({clock_->SteadyMs() + verdict.delay_ms, direction, std::string(frame)});
    }
    return verdict.action;
  }

  void ReleaseDelayed() {
    int64_t now = clock_->SteadyMs();
    std::vector<Delayed> due;
    std::erase_if(delayed_, [&](Delayed& d) {
      if (d.due_ms > now) return false;
      due.push_back(std::move(d));
      return true;
    });
    for (const Delayed& d : due) {
      if (d.direction == FaultDirection::kOut) {
        SendNow(d.frame);
      } else {
        Handle(d.frame);
      }
    }
  }

  // Gives up the connection. With several coordinators (--coordinator A,B,C: an active one and
  // standbys, docs/scale-out.md) the next is tried after this agent's reconnect interval, and
  // the backoff's delay applies once per round of the list.
  void Disconnect(int64_t retry_in_ms) {
    for (Manager* manager : managers_) manager->OnDisconnected();
    socket_.reset();
    if (endpoints_.size() > 1) {
      endpoint_ = (endpoint_ + 1) % endpoints_.size();
      if (endpoint_ != 0) retry_in_ms = std::min(retry_in_ms, reconnect_ivl_ms_);
    }
    next_attempt_ms_ = clock_->SteadyMs() + retry_in_ms;
    SetState(AgentState::kDisconnected, "retry in " + std::to_string(retry_in_ms) + " ms");
  }

  void OnTimers() {
    int64_t now = clock_->SteadyMs();
    switch (state_.load()) {
      case AgentState::kDisconnected:
        if (now >= next_attempt_ms_) Connect();
        break;
      case AgentState::kConnecting:
        if (hello_unsent_ && now < hello_deadline_ms_) {
          hello_unsent_ = !SendHello();
        } else if (now >= hello_deadline_ms_) {
          spdlog::warn("host={} no answer from {} within {} ms", hostname_,
                       endpoints_[endpoint_], config_.hello_timeout_ms);
          Disconnect(backoff_.NextDelayMs());
        }
        break;
      case AgentState::kPending:
        if (now - last_contact_ms_ > config_.missed_acks_before_reconnect * heartbeat_interval_ms_ +
                                         config_.hello_timeout_ms) {
          Disconnect(backoff_.NextDelayMs());
        } else if (now >= next_hello_ms_) {
          SendHello();  // asks again whether an admin has accepted us, and shows we are alive
          next_hello_ms_ = now + heartbeat_interval_ms_;
        }
        break;
      case AgentState::kRegistered:
        if (now - last_contact_ms_ > config_.missed_acks_before_reconnect * heartbeat_interval_ms_) {
          spdlog::warn("host={} coordinator silent for {} ms; reconnecting", hostname_,
                       now - last_contact_ms_);
          Disconnect(backoff_.NextDelayMs());
        } else if (now >= next_heartbeat_ms_) {
          protocol::Heartbeat heartbeat;
          heartbeat.incarnation = incarnation_;
          heartbeat.sequence = ++heartbeat_sequence_;
          heartbeat.health = CollectHealth(config_.work_dir);
          Send(protocol::Encode(heartbeat, ++request_id_));
          next_heartbeat_ms_ = now + heartbeat_interval_ms_;
        }
        break;
    }
  }

  void Drain() {
    for (int i = 0; i < 64 && socket_; ++i) {
      zmq::message_t message;
      if (!socket_->recv(message, zmq::recv_flags::dontwait)) return;
      if (faults_.active()) {
        switch (Judge(FaultDirection::kIn, message.to_string_view())) {
          case FaultVerdict::Action::kDrop:
          case FaultVerdict::Action::kDelay: continue;
          case FaultVerdict::Action::kDuplicate: Handle(message.to_string_view()); break;
          case FaultVerdict::Action::kPass: break;
        }
      }
      Handle(message.to_string_view());
    }
  }

  void Handle(std::string_view frame) {
    auto envelope = protocol::DecodeEnvelope(frame, limits_);
    if (!envelope.ok()) {
      spdlog::warn("host={} undecodable message from the coordinator: {}", hostname_,
                   envelope.status().ToString());
      return;
    }
    int64_t now = clock_->SteadyMs();
    last_contact_ms_ = now;
    using T = protocol::MessageType;
    switch (envelope->type) {
      case T::kWelcome: {
        auto welcome = protocol::DecodeBody<protocol::Welcome>(*envelope);
        if (!welcome.ok()) return;
        if (welcome->heartbeat_interval_ms > 0) {
          heartbeat_interval_ms_ = welcome->heartbeat_interval_ms;
        }
        backoff_.Reset();
        next_heartbeat_ms_ = now;  // first heartbeat at once: the coordinator sees health now
        SetState(AgentState::kRegistered, "welcome, " + std::to_string(welcome->labels.size()) +
                                              " labels, heartbeat every " +
                                              std::to_string(heartbeat_interval_ms_) + " ms");
        // Work: resend reports, resume uploads, ask for work when idle. Update: pass a trial,
        // clear a reported rollback, resume a download. Tasks: send a report that could not be
        // sent. Sync: resend stored values and unanswered requests.
        for (Manager* manager : managers_) manager->OnWelcome();
        break;
      }
      case T::kPendingApproval: {
        if (state_.load() != AgentState::kPending) {
          auto pending = protocol::DecodeBody<protocol::PendingApproval>(*envelope);
          spdlog::warn("host={} waiting for approval: {}", hostname_,
                       pending.ok() ? pending->message : "");
          next_hello_ms_ = now + heartbeat_interval_ms_;
        }
        SetState(AgentState::kPending, "enrollment waits for an admin");
        break;
      }
      case T::kReject: {
        auto reject = protocol::DecodeBody<protocol::Reject>(*envelope);
        spdlog::error("host={} refused by the coordinator: {}", hostname_,
                      reject.ok() ? reject->reason : "(unreadable reason)");
        Disconnect(kRejectedRetryMs);
        break;
      }
      case T::kReregister:
        for (Manager* manager : managers_) manager->OnDisconnected();  // until the next Welcome
        hello_deadline_ms_ = now + config_.hello_timeout_ms;
        SetState(AgentState::kConnecting, "coordinator asked for a new hello");
        hello_unsent_ = !SendHello();
        break;
      case T::kHeartbeatAck:
        break;
      case T::kError: {
        // The answer to one of the relay's requests, or to a package chunk request.
        if (Offer(*envelope)) break;
        auto error = protocol::DecodeBody<protocol::ErrorReply>(*envelope);
        spdlog::warn("host={} coordinator error: {}", hostname_,
                     error.ok() ? error->ToStatus().ToString() : "(unreadable)");
        break;
      }
      default:
        // RunTask of kind Update goes to the UpdateManager, the other kinds to the TaskManager
        // (the order of managers_).
        if (Offer(*envelope)) break;
        spdlog::warn("host={} unexpected {} from the coordinator", hostname_,
                     protocol::MessageTypeName(envelope->type));
    }
  }

  // A coordinator message to each manager in turn until one takes it; false when none did.
  bool Offer(const protocol::Envelope& envelope) {
    for (Manager* manager : managers_) {
      if (manager->Handle(envelope)) return true;
    }
    return false;
  }

  AgentConfig config_;
  const Clock* clock_;
  std::string hostname_;
  CurveKeyPair keys_;
  protocol::HostFacts facts_;
  uint64_t incarnation_;
  Backoff backoff_;
  const int64_t reconnect_ivl_ms_ = AgentReconnectIntervalMs(RandomU64());  // backoff.hpp
  // --coordinator's endpoints, in order, and the one connected to (or tried next).
  const std::vector<std::string> endpoints_ = SplitEndpoints(config_.coordinator);
  size_t endpoint_ = 0;
  protocol::DecodeLimits limits_;
  zmq::context_t context_;
  std::unique_ptr<zmq::socket_t> socket_;
  // Declared before work_: the WorkManager (destroyed first) calls into the relay.
  std::unique_ptr<SyncRelay> sync_;
  std::unique_ptr<WorkManager> work_;
  // Declared after work_ (destroyed first): its hooks call into the WorkManager.
  std::unique_ptr<TaskManager> tasks_;
  // Declared last (destroyed first): its hooks call into the WorkManager.
  std::unique_ptr<UpdateManager> updates_;
  std::unique_ptr<PeerServer> peers_;
  // The four above, as the loop sees them, in the order set in Init() (not owned).
  std::vector<Manager*> managers_;
  std::vector<zmq::pollitem_t> poll_items_;
  // Per manager (same index): where its items start in poll_items_, and how many.
  std::vector<std::pair<size_t, size_t>> poll_ranges_;
  std::atomic<AgentState> state_{AgentState::kDisconnected};
  std::atomic<bool> stop_{false};
  // Written by Stop() so that the poll returns at once; -1 if eventfd failed (then the loop
  // notices the flag within kMaxPollMs).
  int wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int64_t heartbeat_interval_ms_;
  int64_t next_attempt_ms_ = 0;
  int64_t hello_deadline_ms_ = 0;
  int64_t next_hello_ms_ = 0;
  int64_t next_heartbeat_ms_ = 0;
  int64_t last_contact_ms_ = 0;
  uint64_t request_id_ = 0;
  bool hello_unsent_ = false;
  uint64_t heartbeat_sequence_ = 0;
  // Tests only (--fault-filter): the rules, and the frames they hold back.
  FaultFilter faults_;
  struct Delayed {
    int64_t due_ms;
    FaultDirection direction;
    std::string frame;
  };
  std::vector<Delayed> delayed_;
};

}  // namespace

Result<std::unique_ptr<Agent>> Agent::Create(const AgentConfig& config, const Clock* clock) {
  auto agent = std::make_unique<AgentImpl>(config, clock);
  LABMESH_RETURN_IF_ERROR(agent->Init());
  return std::unique_ptr<Agent>(std::move(agent));
}

}  // namespace labmesh::agent
