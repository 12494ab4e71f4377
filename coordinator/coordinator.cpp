#include "labmesh/coordinator/coordinator.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <zmq.hpp>

#include "agent_service.hpp"
#include "api_bindings.hpp"
#include "api_routes.hpp"
#include "api_service.hpp"
#include "reservations.hpp"
#include "health_service.hpp"
#include "audit_log.hpp"
#include "auth_service.hpp"
#include "core.hpp"
#include "disk_guard.hpp"
#include "peer_link.hpp"
#include "socket_util.hpp"
#include "host_registry.hpp"
#include "metrics.hpp"
#include "metrics_service.hpp"
#include "package_service.hpp"
#include "power_service.hpp"
#include "query_pool.hpp"
#include "results_intake.hpp"
#include "results_repository.hpp"
#include "results_service.hpp"
#include "retention.hpp"
#include "retention_worker.hpp"
#include "schedule_service.hpp"
#include "notify_sender.hpp"
#include "notify_service.hpp"
#include "labmesh/common/curve_keys.hpp"
#include "labmesh/common/dir_lock.hpp"
#include "labmesh/common/disk_space.hpp"
#include "labmesh/store/results_index.hpp"
#include "labmesh/store/store.hpp"
#include "web_bridge.hpp"
#include "turn_pacer.hpp"
#include "zap_handler.hpp"

namespace labmesh::coordinator {
namespace {

constexpr int kMaxMessagesPerWakeup = 512;  // per socket, so one busy socket cannot starve another
constexpr int64_t kMaxPollMs = 100;         // how quickly Stop() is noticed

class CoordinatorImpl final : public Coordinator {
 public:
  CoordinatorImpl(const CoordinatorConfig& config, const Clock* clock,
                  std::unique_ptr<store::Store> store)
      : config_(config),
        clock_(clock),
        store_(std::move(store)),
        context_(std::max(1, config.io_threads)) {}

  ~CoordinatorImpl() override {
    web_.reset();  // its threads use the context: stop them before the sockets go
  }

  Status Init() {
    api_limits_.max_frame_bytes = config_.max_frame_bytes;
    if (!IsLoopbackEndpoint(config_.api_listen)) {
      return Status::InvalidArgument(
          "--api-listen " + config_.api_listen +
          ": the plain-text API socket may only listen on loopback or ipc://; to serve the API "
          "on other addresses use --api-curve-listen (CurveZMQ)");
    }
    if (config_.heartbeat_interval_ms <= 0 || config_.dead_after_ms <= 0) {
      return Status::InvalidArgument("heartbeat interval and dead-after must be positive");
    }
    if (!config_.relay_listen.empty() && !store::IsPostgresSpec(config_.store)) {
      return Status::InvalidArgument(
          "--relay-listen needs a PostgreSQL --store: standbys relay only to a coordinator whose "
          "store they share");
    }
    // One coordinator per data directory, taken before anything in it is touched.
    LABMESH_RETURN_IF_ERROR(MakeDirs(config_.data_dir));
    auto lock = DirLock::Acquire(config_.data_dir, "coordinator");
    if (!lock.ok()) return lock.status();
    lock_ = std::move(*lock);
    for (const char* sub : {"/db", "/results", "/packages", "/keys"}) {
      LABMESH_RETURN_IF_ERROR(MakeDirs(config_.data_dir + sub));
    }
    auto keys = LoadOrCreateCurveKeys(config_.data_dir + "/keys", "coordinator");
    if (!keys.ok()) return keys.status();
    keys_ = *keys;

    if (!store_) {
      auto store = OpenStore(config_);
      if (!store.ok()) return store.status();
      store_ = std::move(*store);
      LABMESH_RETURN_IF_ERROR(store_->ClaimWriter());
    }
    registry_ = std::make_unique<HostRegistry>(store_.get(), clock_);
    LABMESH_RETURN_IF_ERROR(registry_->Load());

    catalog_ = std::make_unique<TestCatalog>(store_.get(), clock_);
    results_ = std::make_unique<ResultsRepository>(config_.data_dir + "/results");
    core_ = std::make_unique<Core>(
        config_, clock_, store_.get(), registry_.get(), catalog_.get(), results_.get(),
        [this](const std::string& routing_id, std::string frame) {
          SendToAgent(routing_id, std::move(frame));
        },
        [this](const std::string& routing_id, std::string frame) {
          SendToApi(routing_id, frame);
        });
    LABMESH_RETURN_IF_ERROR(core_->Load());
    disk_ = std::make_unique<DiskGuard>(config_.data_dir, config_.min_free_bytes, clock_);
    core_->set_disk_guard(disk_.get());
    core_->set_metrics(&metrics_);

    // The analysis backend: its own index environment and worker thread (docs/results.md).
    auto index = store::ResultsIndex::Open(config_.data_dir + "/results-index");
    if (!index.ok()) return index.status();
    results_index_ = std::move(*index);
    intake_ = std::make_unique<ResultsIntake>(results_->root(), results_index_.get());
    LABMESH_RETURN_IF_ERROR(intake_->Start());
    core_->jobs().set_parser([this](ParseWork work) { intake_->Submit(std::move(work)); });
    results_service_ = std::make_unique<ResultsService>(
        config_, clock_, store_.get(), results_index_.get(), intake_.get(), registry_.get(),
        [this](const std::string& routing_id, std::string frame) {
          SendToApi(routing_id, frame);
        },
        [this](const ParseDone& done) { core_->jobs().OnParsed(done); });
    // Retention: the sweeper on the loop, removals on the worker (docs/retention.md).
    retention_worker_ = std::make_unique<RetentionWorker>(results_->root(), results_index_.get(),
                                                          store_.get());
    retention_worker_->Start();
    retention_ = std::make_unique<RetentionSweeper>(
        config_, clock_, store_.get(), &core_->batch(), retention_worker_.get(),
        [this](const std::string& routing_id, std::string frame) { SendToApi(routing_id, frame); });
    retention_->set_busy([this](uint64_t job_id) {
      return core_->jobs().FindJob(job_id) != nullptr || results_service_->Reparsing(job_id);
    });
    retention_->set_disk_guard(disk_.get());
    // Notifications of job ends: the outbox rows commit with the job, the sender's thread
    // delivers them (docs/notifications.md).
    auto notify_key = LoadOrCreateNotifyKey(config_.data_dir + "/keys");
    if (!notify_key.ok()) return notify_key.status();
    notify_sender_ = std::make_unique<NotifySender>(config_, *notify_key, store_.get(), clock_);
    LABMESH_RETURN_IF_ERROR(notify_sender_->Start());
    notify_ = std::make_unique<NotifyService>(config_, clock_, &core_->batch(), notify_sender_.get());
    core_->jobs().set_on_job_end([this](const store::Job& job, const std::vector<store::Entry>& entries) {
      notify_->OnJobEnd(job, entries);
      if (health_ != nullptr) health_->OnJobEnd(job, entries);  // probe jobs
    });
    core_->jobs().set_on_host_reserved([this](const store::Job& job, const store::Entry& entry,
                                              const store::Host& host, uint32_t first_index) {
      return notify_->OnHostReserved(job, entry, host, first_index);
    });
    // Templates and the schedules that make jobs from them (docs/schedules.md).
    schedules_ = std::make_unique<ScheduleService>(clock_, store_.get(), &core_->batch(),
                                                   &core_->jobs());
    LABMESH_RETURN_IF_ERROR(schedules_->Load());
    agents_ = std::make_unique<AgentService>(
        config_, clock_, registry_.get(), &core_->batch(),
        [this](const std::string& routing_id, std::string frame) {
          SendToAgent(routing_id, std::move(frame));
        },
        core_.get());
    packages_ = std::make_unique<PackageService>(
        config_.data_dir + "/packages", clock_, store_.get(), registry_.get(), &core_->updates(),
        [this](const std::string& routing_id, std::string frame) {
          SendToApi(routing_id, frame);
        });
    LABMESH_RETURN_IF_ERROR(packages_->Load());
    packages_->EnableMesh(MeshConfigOf(config_));  // also fills the hosts' mesh fields
    agents_->set_packages(packages_.get());
    agents_->set_metrics(&metrics_);
    api_ = std::make_unique<ApiService>(clock_, registry_.get(), agents_.get(), catalog_.get());
    reservations_ = std::make_unique<ReservationService>(clock_, store_.get(), registry_.get());
    auth_ = std::make_unique<AuthService>(config_, clock_, store_.get(), registry_.get());
    LABMESH_RETURN_IF_ERROR(auth_->Load());
    audit_ = std::make_unique<AuditLog>(store_.get(), clock_);
    LABMESH_RETURN_IF_ERROR(audit_->Load());
    core_->set_audit(audit_.get());
    // Host health scores (worker thread) and quarantine (docs/quarantine.md).
    health_ = std::make_unique<HealthService>(config_, clock_, store_.get(), results_index_.get(),
                                              registry_.get(), core_.get(), audit_.get());
    LABMESH_RETURN_IF_ERROR(health_->Start());
    // Replies to audited requests are recorded as they are staged, so that their audit records
    // commit in the same turn as the change they describe.
    core_->batch().set_on_api([this](const std::string& routing_id, const std::string& frame) {
      audit_->OnReply(routing_id, frame);
    });
    // Out-of-band power and consoles (docs/power-console.md).
    power_ = std::make_unique<PowerService>(config_, clock_, registry_.get(), core_.get(),
                                            results_->root());
    power_->set_mark_lost([this](const std::string& host, const std::string& reason) {
      agents_->MarkLost(host, reason);
    });
    core_->set_power_hooks([this](const std::string& host) { power_->OnHostDead(host); },
                           [this](const std::string& host) { power_->OnAgentRegistered(host); });
    LABMESH_RETURN_IF_ERROR(power_->Start());
    api_->set_on_host_deleted([this](const std::string& host) {
      core_->OnHostDeleted(host);
      power_->OnHostDeleted(host);
    });
    metrics_service_ = std::make_unique<MetricsService>(
        config_, clock_,
        MetricsService::Sources{&metrics_, registry_.get(), &core_->jobs(), store_.get(),
                                results_index_.get(), disk_.get(), &retention_->stats(),
                                packages_->mesh()});
    queries_ = std::make_unique<QueryPool>(static_cast<size_t>(config_.query_threads));
    LABMESH_RETURN_IF_ERROR(queries_->Start());
    BindRoutes();

    try {
      // The ZAP handler must exist before the Curve socket binds.
      zap_ = std::make_unique<ZapHandler>(
          context_, [this](const std::string& key) { return !registry_->IsKeyRevoked(key); },
          clock_, ZapHandler::Limits{config_.handshake_failures, config_.handshake_window_ms});

      zap_->set_peer_key(keys_.public_z85);
      agent_socket_ = BindRouter(context_, config_.agent_listen,
                                 AgentRouterOptions(config_, keys_.secret_z85), &endpoints_.agent);
      api_socket_ = BindRouter(context_, config_.api_listen, RouterOptions{{}, nullptr, ReadCap()},
                               &endpoints_.api);
      if (!config_.api_curve_listen.empty()) {
        api_curve_socket_ = BindRouter(context_, config_.api_curve_listen,
                                       RouterOptions{keys_.secret_z85, kApiZapDomain, ReadCap()},
                                       &endpoints_.api_curve);
      }
      if (!config_.relay_listen.empty()) {
        // A standby relays a whole fleet's agents through one link: a deep queue.
        peer_ = std::make_unique<peer::PeerHub>(
            BindRouter(context_, config_.relay_listen,
                       RouterOptions{keys_.secret_z85, kPeerZapDomain, ReadCap(), 200'000},
                       &endpoints_.relay),
            peer::PeerHub::Handlers{
                [this](const std::string& route, const std::string& key, std::string_view frame) {
                  agents_->HandleFrame(route, key, frame);
                },
                [this](const std::string& route, const ApiSocket& api, const std::string& address,
                       zmq::message_t& request) {
                  HandleApiRequest(route, api, address, request);
                }});
      }
      // The web server's own socket: only code in this process can reach an inproc endpoint,
      // so it alone may present web sessions and say where its clients are.
      web_api_socket_ = zmq::socket_t(context_, zmq::socket_type::router);
      web_api_socket_.set(zmq::sockopt::linger, 0);
      inproc_api_ = "inproc://labmesh-api-" + std::to_string(reinterpret_cast<uintptr_t>(this));
      web_api_socket_.bind(inproc_api_);
    } catch (const zmq::error_t& e) {
      return Status::Unavailable(std::string("cannot bind: ") + e.what());
    }

    if (!config_.http_listen.empty()) {
      auto web = WebBridge::Start(
          config_.http_listen, context_, inproc_api_,
          WebBridge::Files{results_->root(), config_.web_static_dir, config_.chartjs_file});
      if (!web.ok()) return web.status();
      web_ = std::move(*web);
      endpoints_.http = web_->listening();
    }
    if (store::IsPostgresSpec(config_.store)) {
      // Standbys relay to the endpoint written here; "" tells them there is none.
      LABMESH_RETURN_IF_ERROR(store_->SetActiveRelay(AdvertisedRelay(config_, endpoints_.relay)));
    }
    if (Status written = WriteEndpointsFile(config_.data_dir, endpoints_, keys_.public_z85);
        !written.ok()) {
      // A start on a full disk must not fail (a service manager would restart it in a loop).
      auto room = AvailableBytes(config_.data_dir);
      if (!room.ok() || *room >= (1u << 20)) return written;
      spdlog::error("disk full: {}; the file is not up to date", written.ToString());
    }
    spdlog::info("coordinator listening: agents {} api {}{} http {}{} (data {})", endpoints_.agent,
                 endpoints_.api,
                 endpoints_.api_curve.empty() ? "" : " api (curve) " + endpoints_.api_curve,
                 endpoints_.http.empty() ? "off" : endpoints_.http,
                 endpoints_.relay.empty() ? "" : " relay " + endpoints_.relay, config_.data_dir);
    return Status::Ok();
  }

  Status Run() override {
    int64_t grace = config_.restart_grace_ms > 0 ? config_.restart_grace_ms : config_.dead_after_ms;
    // Silent hosts are judged only after the grace period: agents need time to come back.
    int64_t next_dead_check = clock_->SteadyMs() + std::max<int64_t>(0, grace - config_.dead_after_ms);
    int64_t next_flush = clock_->SteadyMs() + config_.heartbeat_flush_ms;
    int64_t dead_check_every = std::clamp<int64_t>(config_.dead_after_ms / 10, 50, 1000);
    std::vector<zmq::pollitem_t> items = {
        {agent_socket_.handle(), 0, ZMQ_POLLIN, 0},
        {api_socket_.handle(), 0, ZMQ_POLLIN, 0},
        {zap_->socket().handle(), 0, ZMQ_POLLIN, 0},
        {nullptr, intake_->fd(), ZMQ_POLLIN, 0},
        {web_api_socket_.handle(), 0, ZMQ_POLLIN, 0},
        {nullptr, queries_->fd(), ZMQ_POLLIN, 0},
    };
    const size_t curve_item = api_curve_socket_ ? items.size() : SIZE_MAX;
    if (api_curve_socket_) items.push_back({api_curve_socket_.handle(), 0, ZMQ_POLLIN, 0});
    const size_t peer_item = peer_ ? items.size() : SIZE_MAX;
    if (peer_) items.push_back({peer_->socket().handle(), 0, ZMQ_POLLIN, 0});
    const size_t item_count = items.size();
    std::vector<zmq::pollitem_t> polled;  // the sockets, then the power and console pipes
    std::vector<int> power_fds;
    auto ready = [&](size_t i) { return i < item_count && (polled[i].revents & ZMQ_POLLIN); };
    while (!stop_.load()) {
      int64_t now = clock_->SteadyMs();
      int64_t next_timer = std::min(
          {next_dead_check, next_flush, core_->NextDeadlineMs(), retention_->NextDeadlineMs(),
           schedules_->NextDeadlineMs(), health_->NextDeadlineMs(),
           power_->NextDeadlineMs()});
      int64_t wait = std::clamp<int64_t>(next_timer - now, 0, kMaxPollMs);
      if (core_->FlushPending()) wait = std::min<int64_t>(wait, 1);  // the rest of a heartbeat round
      int events = 0;
      bool api = false;
      const uint64_t heartbeats_before = agents_->heartbeats_received();
      agent_messages_ = 0;
      try {
        power_fds.clear();
        power_->PollFds(&power_fds);
        polled = items;
        for (int fd : power_fds) polled.push_back({nullptr, fd, ZMQ_POLLIN, 0});
        events = zmq::poll(polled.data(), polled.size(), std::chrono::milliseconds(wait));
        if (ready(3)) results_service_->OnIntakeReady();
        if (ready(5)) queries_->DeliverDone();
        if (ready(2)) zap_->HandleReady();
        if (ready(0)) DrainAgentSocket();
        if (ready(peer_item)) agent_messages_ += peer_->Drain(kMaxMessagesPerWakeup);
        // Hellos are finished (staged, connections set, answers queued) right after the drain,
        // before the turn's one commit: the dead-host check later in the turn must see an agent
        // that just said hello as heard from.
        if (ready(0) || ready(peer_item)) agents_->FinishRegistrations();
        if (ready(1)) api = DrainApiSocket(api_socket_, kPlainApi) || api;
        if (ready(4)) api = DrainApiSocket(web_api_socket_, kWebApi) || api;
        if (ready(curve_item)) api = DrainApiSocket(api_curve_socket_, kCurveApi) || api;
        if (api || ready(peer_item)) core_->RequestSchedule();  // a lock, accept or label change may free a host
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        spdlog::error("event loop: {}", e.what());
        return Status::Internal(std::string("event loop: ") + e.what());
      }
      const auto turn_begin = std::chrono::steady_clock::now();  // after the poll's wait
      now = clock_->SteadyMs();
      bool busy = events > 0;
      if (now >= next_dead_check) {
        busy = true;
        agents_->CheckDeadHosts();
        core_->CheckTimeouts();
        next_dead_check = now + dead_check_every;
      }
      if (now >= core_->NextDeadlineMs()) core_->OnTimer();
      disk_->Check();
      power_->Step();      // power commands and consoles: their ends commit with the turn's
      retention_->Step();  // a few ms at most; its changes commit with the turn's
      schedules_->Step();  // the jobs of the schedules that are due, committed with the turn's
      health_->Step();     // scores computed off the loop, acted on here; probe jobs
      // The turn's one commit: registrations, jobs, entries, tasks, host records, audit records
      // and (every heartbeat-flush interval) heartbeats. A failure is logged and handled there.
      bool heartbeats = now >= next_flush;
      if (Status claim = heartbeats ? store_->CheckClaim() : Status::Ok(); store::IsClaimLost(claim)) {
        spdlog::critical("{}: fenced, stopping; that coordinator serves from now on", claim.message());
        return claim;
      }
      (void)core_->Flush(heartbeats);
      if (!core_->fatal().ok()) return core_->fatal();
      if (heartbeats) next_flush = now + config_.heartbeat_flush_ms;
      if (busy || heartbeats) {
        metrics_.LoopTurn(std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                        turn_begin).count());
      }
      // A busy fleet's heartbeat-only turns are held apart (turn_pacer.hpp).
      uint64_t turn_heartbeats = agents_->heartbeats_received() - heartbeats_before;
      pacer_.Hold(turn_begin, turn_heartbeats, api || agent_messages_ > turn_heartbeats);
    }
    web_.reset();
    agents_->FinishRegistrations();
    Status flushed = core_->Flush(/*heartbeats=*/true);
    while (flushed.ok() && core_->FlushPending()) flushed = core_->Flush();
    spdlog::info("coordinator stopped");
    return flushed;
  }

  void Stop() override { stop_.store(true); }
  const BoundEndpoints& endpoints() const override { return endpoints_; }
  const std::string& public_key() const override { return keys_.public_z85; }
  RetentionStats retention_stats() const override { return retention_->Snapshot(); }

 private:
  // ZeroMQ's ZMQ_MAXMSGSIZE on the sockets: twice the frame limit. A frame over the limit but
  // under this cap is read and answered with Error TooLarge (PROTOCOL.md §4), the connection
  // and its other requests kept; only a frame beyond the cap makes ZeroMQ drop the connection
  // without reading it (so nobody makes the coordinator buffer gigabytes).
  int64_t ReadCap() const { return ReadCapFor(config_.max_frame_bytes); }

  void SendToAgent(const std::string& routing_id, std::string frame) {
    if (routing_id.empty()) return;
    if (routing_id[0] == peer::kAgentMark) {
      if (peer_) peer_->SendToAgent(routing_id, frame);
      return;
    }
    try {
      agent_socket_.send(zmq::buffer(routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      agent_socket_.send(zmq::buffer(frame), zmq::send_flags::dontwait);
    } catch (const zmq::error_t& e) {
      spdlog::warn("send to agent failed: {}", e.what());
    }
  }

  // Handles [routing id, payload] messages; the payload's "User-Id" is the Curve key the ZAP
  // handler approved.
  void DrainAgentSocket() {
    for (int i = 0; i < kMaxMessagesPerWakeup; ++i) {
      zmq::message_t id, payload;
      RouterRead read = ReadRouterMessage(agent_socket_, id, payload);
      if (read == RouterRead::kNone) return;
      std::string routing_id = id.to_string();
      if (read == RouterRead::kMultiFrame) {
        SendToAgent(routing_id, MultiFrameError());
        continue;
      }
      std::string key;
      try {
        const char* user = payload.gets("User-Id");
        if (user != nullptr) key = user;
      } catch (const zmq::error_t&) {
      }
      ++agent_messages_;
      agents_->HandleFrame(routing_id, key, payload.to_string_view());
    }
  }

  // Reads what one API socket holds; true when it held anything.
  bool DrainApiSocket(zmq::socket_t& socket, const ApiSocket& api) {
    int i = 0;
    for (; i < kMaxMessagesPerWakeup; ++i) {
      zmq::message_t id, payload;
      RouterRead read = ReadRouterMessage(socket, id, payload);
      if (read == RouterRead::kNone) break;
      std::string routing_id = api.tag + id.to_string();
      if (read == RouterRead::kMultiFrame) {
        SendToApi(routing_id, MultiFrameError());
        continue;
      }
      HandleApiRequest(routing_id, api, PeerAddressOf(payload), payload);
    }
    return i > 0;
  }

  // Every API request passes here: decoded, admitted (authentication, then the CSRF and admin
  // rules, in AuthService), audited when it changes something (refused or not, with the user it
  // authenticated as), then handed to the service that owns it.
  // `address`: the client's (PeerAddressOf), as the socket it came in on or its relay saw it.
  void HandleApiRequest(const std::string& routing_id, const ApiSocket& api,
                        const std::string& address, zmq::message_t& payload) {
    auto envelope = protocol::DecodeEnvelope(payload.to_string_view(), api_limits_);
    if (!envelope.ok()) {
      uint64_t request_id = protocol::PeekRequestId(payload.to_string_view(), api_limits_);
      SendToApi(routing_id, protocol::Encode(protocol::ErrorReply::FromStatus(envelope.status()),
                                             request_id));
      return;
    }
    std::string from = FromOf(api, address, envelope->credentials);
    const ApiRouteFlags* route = FindApiRoute(envelope->type);
    if (route == nullptr) {
      SendToApi(routing_id,
                protocol::ErrorFrame(envelope->request_id,
                                     Status::Unsupported(
                                         std::string(protocol::MessageTypeName(envelope->type)) +
                                         " is not a request the API socket takes")));
      return;
    }
    auto who = auth_->Authenticate(*envelope, api.origin);
    Status allowed = who.ok() ? auth_->Authorize(*who, *envelope, *route) : who.status();
    if (route->mutating) {
      audit_->Begin(routing_id, *envelope, AuditUser(*envelope, who), from);
    }
    if (allowed.ok() && NeedsRoom(envelope->type)) allowed = disk_->Admit();
    if (!allowed.ok()) {
      if (envelope->type == protocol::MessageType::kMetricsRequest) {
        metrics_service_->NoteRefused(from, allowed);  // a scraper retries forever: rate-limited
      } else {
        spdlog::info("api {} from {} refused: {}", protocol::MessageTypeName(envelope->type),
                     from, allowed.ToString());
      }
      SendToApi(routing_id, protocol::Encode(protocol::ErrorReply::FromStatus(allowed),
                                             envelope->request_id));
      return;
    }
    routes_.Dispatch(*route, routing_id, *envelope, *who, from,
                     [&](std::string frame) { SendToApi(routing_id, frame); });
  }

  // The route table's handlers (api_bindings.hpp).
  void BindRoutes() {
    BindApiRoutes(&routes_,
                  ApiServices{api_.get(), reservations_.get(), health_.get(), power_.get(),
                              core_.get(), results_service_.get(), retention_.get(),
                              packages_.get(), metrics_service_.get(), notify_.get(),
                              schedules_.get(), auth_.get(), store_.get(),
                              [this](const std::string& routing_id, uint64_t request_id,
                                     QueryPool::Work work) {
                                RunQuery(routing_id, request_id, std::move(work));
                              }});
  }

  // A read-only query on the reader threads; its reply is sent when it is done (DeliverDone).
  void RunQuery(const std::string& routing_id, uint64_t request_id, QueryPool::Work work) {
    bool queued = queries_->Submit(std::move(work), [this, routing_id](std::string frame) {
      SendToApi(routing_id, frame);
    });
    if (!queued) {
      SendToApi(routing_id,
                protocol::ErrorFrame(request_id,
                                     Status::Unavailable(
                                         "the coordinator has " +
                                         std::to_string(QueryPool::kMaxQueued) +
                                         " queries waiting; try again")));
    }
  }

  void SendToApi(const std::string& routing_id, const std::string& reply) {
    if (routing_id.empty()) return;
    audit_->OnReply(routing_id, reply);
    if (routing_id[0] == peer::kApiMark) {
      if (peer_) peer_->SendToApi(routing_id, reply);
      return;
    }
    zmq::socket_t& socket = routing_id[0] == kWebApi.tag     ? web_api_socket_
                            : routing_id[0] == kCurveApi.tag ? api_curve_socket_
                                                             : api_socket_;
    try {
      socket.send(zmq::buffer(routing_id.data() + 1, routing_id.size() - 1),
                  zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      socket.send(zmq::buffer(reply), zmq::send_flags::dontwait);
    } catch (const zmq::error_t& e) {
      spdlog::warn("api reply failed: {}", e.what());
    }
  }

  CoordinatorConfig config_;
  const Clock* clock_;
  std::unique_ptr<DirLock> lock_;  // first member: released after everything else closed
  CurveKeyPair keys_;
  std::unique_ptr<store::Store> store_;
  Metrics metrics_;  // before everything that counts into it
  std::unique_ptr<HostRegistry> registry_;
  std::unique_ptr<AgentService> agents_;
  std::unique_ptr<TestCatalog> catalog_;
  std::unique_ptr<ResultsRepository> results_;
  std::unique_ptr<Core> core_;
  std::unique_ptr<DiskGuard> disk_;
  std::unique_ptr<store::ResultsIndex> results_index_;
  std::unique_ptr<ResultsIntake> intake_;  // after the index: its worker stops first
  std::unique_ptr<ResultsService> results_service_;
  std::unique_ptr<RetentionWorker> retention_worker_;  // after the index: it stops first
  std::unique_ptr<RetentionSweeper> retention_;
  std::unique_ptr<NotifySender> notify_sender_;  // after the store: its worker stops first
  std::unique_ptr<NotifyService> notify_;
  std::unique_ptr<ScheduleService> schedules_;
  std::unique_ptr<PackageService> packages_;
  protocol::DecodeLimits api_limits_;
  std::unique_ptr<ApiService> api_;
  std::unique_ptr<ReservationService> reservations_;
  std::unique_ptr<HealthService> health_;
  std::unique_ptr<PowerService> power_;
  std::unique_ptr<AuthService> auth_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<MetricsService> metrics_service_;
  // After every service and store its queries read: its readers stop first.
  std::unique_ptr<QueryPool> queries_;
  ApiRoutes routes_;
  zmq::context_t context_;
  std::unique_ptr<ZapHandler> zap_;
  std::unique_ptr<peer::PeerHub> peer_;  // with --relay-listen
  TurnPacer pacer_{config_.turn_pacing_ms * 1000};
  uint64_t agent_messages_ = 0;  // read from the agent socket in this turn
  zmq::socket_t agent_socket_;
  zmq::socket_t api_socket_;
  zmq::socket_t api_curve_socket_;
  zmq::socket_t web_api_socket_;
  std::string inproc_api_;
  std::unique_ptr<WebBridge> web_;
  BoundEndpoints endpoints_;
  std::atomic<bool> stop_{false};
};

}  // namespace

Result<std::unique_ptr<Coordinator>> Coordinator::Start(const CoordinatorConfig& config,
                                                        const Clock* clock,
                                                        std::unique_ptr<store::Store> store) {
  auto coordinator = std::make_unique<CoordinatorImpl>(config, clock, std::move(store));
  LABMESH_RETURN_IF_ERROR(coordinator->Init());
  return std::unique_ptr<Coordinator>(std::move(coordinator));
}

}  // namespace labmesh::coordinator
