#include "relay.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <deque>
#include <limits>
#include <vector>

#include <zmq.hpp>

#include "labmesh/protocol/envelope.hpp"
#include "labmesh/protocol/messages.hpp"
#include "peer_link.hpp"
#include "socket_util.hpp"
#include "web_bridge.hpp"
#include "zap_handler.hpp"

namespace labmesh::coordinator {
namespace {

constexpr int kMaxMessagesPerWakeup = 512;
constexpr int64_t kPollMs = 100;
constexpr int64_t kClaimEveryMs = 250;
constexpr int64_t kPeerReadEveryMs = 1'000;  // the active's endpoint, from the store
constexpr int64_t kPingEveryMs = 1'000;
constexpr int64_t kSilentAfterMs = 3'000;  // no answer to pings for this long: nobody there
constexpr int64_t kQuickMs = 250;           // reading and pinging while nobody answers
constexpr int64_t kParkMs = 5'000;          // an API request waits this long for a takeover
constexpr size_t kMaxParked = 10'000;
constexpr int64_t kNever = std::numeric_limits<int64_t>::min() / 2;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class RelayImpl final : public Relay {
 public:
  RelayImpl(const CoordinatorConfig& config, const CurveKeyPair& keys)
      : config_(config), keys_(keys), context_(1) {
    limits_.max_frame_bytes = config.max_frame_bytes;
  }
  ~RelayImpl() override { web_.reset(); }  // its threads use the context

  Status Init() {
    if (!IsLoopbackEndpoint(config_.api_listen)) {
      return Status::InvalidArgument("--api-listen " + config_.api_listen +
                                     ": the plain-text API socket may only listen on loopback");
    }
    const int64_t cap = ReadCapFor(config_.max_frame_bytes);
    try {
      // Every key may finish the handshake here; the active coordinator judges each agent's
      // key at its hello (revoked keys are refused there).
      zap_ = std::make_unique<ZapHandler>(context_, [](const std::string&) { return true; },
                                          SystemClock::Default(), ZapHandler::Limits{});
      agent_socket_ = BindRouter(context_, config_.agent_listen,
                                 AgentRouterOptions(config_, keys_.secret_z85), &endpoints_.agent);
      api_socket_ = BindRouter(context_, config_.api_listen, RouterOptions{{}, nullptr, cap},
                               &endpoints_.api);
      if (!config_.api_curve_listen.empty()) {
        api_curve_socket_ = BindRouter(context_, config_.api_curve_listen,
                                       RouterOptions{keys_.secret_z85, kApiZapDomain, cap},
                                       &endpoints_.api_curve);
      }
      std::string inproc = "inproc://labmesh-relay-api";
      web_api_socket_ = BindRouter(context_, inproc, RouterOptions{}, nullptr);
      if (!config_.http_listen.empty()) {
        auto web = WebBridge::Start(config_.http_listen, context_, inproc,
                                    WebBridge::Files{config_.data_dir + "/results",
                                                     config_.web_static_dir, config_.chartjs_file});
        if (!web.ok()) return web.status();
        web_ = std::move(*web);
        endpoints_.http = web_->listening();
      }
    } catch (const zmq::error_t& e) {
      return Status::Unavailable(std::string("cannot bind: ") + e.what());
    }
    spdlog::info("standby relaying: agents {} api {}{} http {}", endpoints_.agent, endpoints_.api,
                 endpoints_.api_curve.empty() ? "" : " api (curve) " + endpoints_.api_curve,
                 endpoints_.http.empty() ? "off" : endpoints_.http);
    return Status::Ok();
  }

  Status Run(const store::Store& store, const std::function<Status()>& try_claim,
             const std::atomic<bool>& stop) override {
    int64_t next_claim = 0, next_peer_read = 0, next_ping = 0;
    while (!stop.load()) {
      const int64_t now = NowMs();
      // Only a silent active coordinator is replaced: one that answers its pings is alive even
      // when its lock is free for a moment (the server restarted and its session with it; it
      // takes the lock again at its next claim check).
      if (now >= next_claim && !Alive()) {
        Status claimed = try_claim();
        if (claimed.ok()) return Status::Ok();
        if (claimed.code() != StatusCode::kFailedPrecondition &&
            claimed.code() != StatusCode::kUnavailable) {
          return claimed;
        }
        next_claim = now + kClaimEveryMs;
      }
      // Silent, it looks and asks more often: a takeover is under way.
      const int64_t every = Alive() ? kPeerReadEveryMs : kQuickMs;
      if (now >= next_peer_read) {
        Result<std::string> peer = store.ActiveRelay();
        if (peer.ok() && *peer != upstream_endpoint_) Connect(*peer);
        next_peer_read = now + every;
      }
      if (upstream_ && now >= next_ping) {
        if (answered_ && !Alive()) {
          spdlog::warn("standby: the active coordinator at {} has not answered for {} ms",
                       upstream_endpoint_, kSilentAfterMs);
          answered_ = false;
        }
        // Refused for want of a connection (ZMQ_IMMEDIATE): gone, sooner than silence says.
        if (!peer::SendFrames(upstream_, {peer::kPing})) last_pong_ms_ = kNever;
        next_ping = now + (Alive() ? kPingEveryMs : kQuickMs);
      }
      std::vector<zmq::pollitem_t> items = {
          {agent_socket_.handle(), 0, ZMQ_POLLIN, 0},
          {api_socket_.handle(), 0, ZMQ_POLLIN, 0},
          {web_api_socket_.handle(), 0, ZMQ_POLLIN, 0},
          {zap_->socket().handle(), 0, ZMQ_POLLIN, 0},
      };
      if (api_curve_socket_) items.push_back({api_curve_socket_.handle(), 0, ZMQ_POLLIN, 0});
      const size_t upstream_item = items.size();
      if (upstream_) items.push_back({upstream_.handle(), 0, ZMQ_POLLIN, 0});
      try {
        zmq::poll(items.data(), items.size(), std::chrono::milliseconds(kPollMs));
        if (items[3].revents & ZMQ_POLLIN) zap_->HandleReady();
        if (upstream_item < items.size() && (items[upstream_item].revents & ZMQ_POLLIN)) {
          DrainUpstream();
        }
        FlushParked();
        if (items[0].revents & ZMQ_POLLIN) DrainAgents();
        if (items[1].revents & ZMQ_POLLIN) DrainApi(api_socket_, kPlainApi);
        if (items[2].revents & ZMQ_POLLIN) DrainApi(web_api_socket_, kWebApi);
        if (api_curve_socket_ && (items[4].revents & ZMQ_POLLIN)) {
          DrainApi(api_curve_socket_, kCurveApi);
        }
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        return Status::Internal(std::string("relay: ") + e.what());
      }
    }
    return Status::Ok();
  }

  const BoundEndpoints& endpoints() const override { return endpoints_; }

 private:
  bool Alive() const { return upstream_ && NowMs() - last_pong_ms_ < kSilentAfterMs; }

  void Connect(const std::string& endpoint) {
    if (upstream_) upstream_.close();
    upstream_endpoint_ = endpoint;
    answered_ = false;
    last_pong_ms_ = kNever;
    if (endpoint.empty()) {
      spdlog::warn("standby: the active coordinator has no --relay-listen; relaying nothing");
      return;
    }
    try {
      zmq::socket_t socket(context_, zmq::socket_type::dealer);
      socket.set(zmq::sockopt::linger, 0);
      socket.set(zmq::sockopt::immediate, 1);  // nothing queued for a peer not (yet) there
      socket.set(zmq::sockopt::sndhwm, 200'000);
      socket.set(zmq::sockopt::rcvhwm, 200'000);
      socket.set(zmq::sockopt::curve_serverkey, keys_.public_z85);
      socket.set(zmq::sockopt::curve_publickey, keys_.public_z85);
      socket.set(zmq::sockopt::curve_secretkey, keys_.secret_z85);
      socket.connect(endpoint);
      upstream_ = std::move(socket);
      spdlog::info("standby: relaying to the active coordinator at {}", endpoint);
    } catch (const zmq::error_t& e) {
      spdlog::error("standby: cannot connect to the active coordinator at {}: {}", endpoint,
                    e.what());
    }
  }

  // Agents' frames go up as [A][routing id][Curve key][frame]; dropped while nobody is there.
  void DrainAgents() {
    for (int i = 0; i < kMaxMessagesPerWakeup; ++i) {
      zmq::message_t id, payload;
      RouterRead read = ReadRouterMessage(agent_socket_, id, payload);
      if (read == RouterRead::kNone) return;
      if (read == RouterRead::kMultiFrame) {
        peer::SendFrames(agent_socket_, {id.to_string_view(), MultiFrameError()});
        continue;
      }
      if (!Alive()) continue;
      const char* user = nullptr;
      try {
        user = payload.gets("User-Id");
      } catch (const zmq::error_t&) {
      }
      peer::SendFrames(upstream_, {peer::kAgent, id.to_string_view(),
                                   user == nullptr ? std::string_view() : std::string_view(user),
                                   payload.to_string_view()});
    }
  }

  // API requests go up as [Q][socket tag + routing id][client address][request]. While the
  // active coordinator cannot be reached (a takeover: the new one serves within a second or
  // two) a request waits here, up to kParkMs and kMaxParked of them, then is answered
  // Unavailable. Nothing parked was sent, so sending it later cannot run it twice.
  void DrainApi(zmq::socket_t& socket, const ApiSocket& api) {
    for (int i = 0; i < kMaxMessagesPerWakeup; ++i) {
      zmq::message_t id, payload;
      RouterRead read = ReadRouterMessage(socket, id, payload);
      if (read == RouterRead::kNone) return;
      if (read == RouterRead::kMultiFrame) {
        peer::SendFrames(socket, {id.to_string_view(), MultiFrameError()});
        continue;
      }
      Parked request{api.tag + id.to_string(), PeerAddressOf(payload), payload.to_string(),
                     NowMs() + kParkMs};
      if (parked_.empty() && SendUp(request)) continue;
      if (parked_.size() >= kMaxParked) {
        Refuse(request, "this standby cannot reach the active coordinator and holds " +
                            std::to_string(kMaxParked) + " requests already; try again");
        continue;
      }
      parked_.push_back(std::move(request));
    }
  }

  // Sends what was parked, in order, once the active coordinator answers; refuses what waited
  // too long.
  void FlushParked() {
    while (!parked_.empty() && Alive() && SendUp(parked_.front())) parked_.pop_front();
    const int64_t now = NowMs();
    while (!parked_.empty() && parked_.front().deadline_ms <= now) {
      Refuse(parked_.front(), "this standby cannot reach the active coordinator; try again");
      parked_.pop_front();
    }
  }

  struct Parked {
    std::string route;  // socket tag + routing id
    std::string address;
    std::string request;
    int64_t deadline_ms = 0;
  };

  bool SendUp(const Parked& request) {
    if (!Alive()) return false;
    if (peer::SendFrames(upstream_, {peer::kApi, request.route, request.address, request.request})) {
      return true;
    }
    // No connection under the link (ZMQ_IMMEDIATE): the active coordinator is gone, sooner
    // than its silence would say.
    last_pong_ms_ = kNever;
    return false;
  }

  void Refuse(const Parked& request, const std::string& why) {
    uint64_t request_id = protocol::PeekRequestId(request.request, limits_);
    ReplyToClient(request.route, protocol::ErrorFrame(request_id, Status::Unavailable(why)));
  }

  void ReplyToClient(std::string_view route, std::string_view frame) {
    if (route.empty()) return;
    zmq::socket_t* socket = route[0] == kPlainApi.tag ? &api_socket_
                            : route[0] == kWebApi.tag ? &web_api_socket_
                            : route[0] == kCurveApi.tag && api_curve_socket_ ? &api_curve_socket_
                                                                             : nullptr;
    if (socket != nullptr) peer::SendFrames(*socket, {route.substr(1), frame});
  }

  // Answers come down as [A][routing id][frame] and [Q][socket tag + routing id][reply].
  void DrainUpstream() {
    std::vector<zmq::message_t> frames;
    for (int i = 0; i < kMaxMessagesPerWakeup && peer::ReadFrames(upstream_, &frames); ++i) {
      std::string_view kind = frames[0].to_string_view();
      if (kind == peer::kPing) {
        if (!answered_) spdlog::info("standby: the active coordinator answers");
        answered_ = true;
        last_pong_ms_ = NowMs();
      } else if (kind == peer::kAgent && frames.size() == 3) {
        peer::SendFrames(agent_socket_, {frames[1].to_string_view(), frames[2].to_string_view()});
      } else if (kind == peer::kApi && frames.size() == 3) {
        ReplyToClient(frames[1].to_string_view(), frames[2].to_string_view());
      }
    }
  }

  CoordinatorConfig config_;
  CurveKeyPair keys_;
  protocol::DecodeLimits limits_;
  zmq::context_t context_;
  std::unique_ptr<ZapHandler> zap_;
  zmq::socket_t agent_socket_;
  zmq::socket_t api_socket_;
  zmq::socket_t api_curve_socket_;
  zmq::socket_t web_api_socket_;
  std::unique_ptr<WebBridge> web_;
  zmq::socket_t upstream_;
  std::string upstream_endpoint_;
  int64_t last_pong_ms_ = kNever;
  bool answered_ = false;
  std::deque<Parked> parked_;  // since the last "has not answered" (for the log)
  BoundEndpoints endpoints_;
};

}  // namespace

Result<std::unique_ptr<Relay>> Relay::Start(const CoordinatorConfig& config,
                                            const CurveKeyPair& keys) {
  auto relay = std::make_unique<RelayImpl>(config, keys);
  LABMESH_RETURN_IF_ERROR(relay->Init());
  return std::unique_ptr<Relay>(std::move(relay));
}

}  // namespace labmesh::coordinator
