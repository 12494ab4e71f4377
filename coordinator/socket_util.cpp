#include "socket_util.hpp"

#include "zap_handler.hpp"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <fstream>
#include <system_error>

#include <unistd.h>

namespace labmesh::coordinator {

Status WriteEndpointsFile(const std::string& data_dir, const BoundEndpoints& endpoints,
                          const std::string& public_key) {
  std::string path = data_dir + "/coordinator.endpoints";
  std::ofstream out(path + ".tmp", std::ios::trunc);
  out << "agent=" << endpoints.agent << "\napi=" << endpoints.api
      << "\napi_curve=" << endpoints.api_curve << "\nhttp=" << endpoints.http
      << "\nrelay=" << endpoints.relay
      << "\npublic_key=" << public_key << "\n";
  out.close();
  if (!out) return Status::Internal("cannot write " + path);
  std::error_code ec;
  std::filesystem::rename(path + ".tmp", path, ec);
  if (ec) return Status::Internal("cannot write " + path + ": " + ec.message());
  return Status::Ok();
}

bool IsLoopbackEndpoint(const std::string& endpoint) {
  return endpoint.rfind("tcp://127.", 0) == 0 || endpoint.rfind("tcp://localhost:", 0) == 0 ||
         endpoint.rfind("tcp://[::1]:", 0) == 0 || endpoint.rfind("ipc://", 0) == 0 ||
         endpoint.rfind("inproc://", 0) == 0;
}

std::string AdvertisedRelay(const CoordinatorConfig& config, const std::string& bound) {
  if (!config.relay_advertise.empty()) return config.relay_advertise;
  for (std::string_view wildcard : {"tcp://0.0.0.0:", "tcp://[::]:"}) {
    if (bound.starts_with(wildcard)) {
      char host[256] = {};
      if (gethostname(host, sizeof(host) - 1) != 0) break;
      return "tcp://" + std::string(host) + ":" + bound.substr(wildcard.size());
    }
  }
  return bound;
}

Status MakeDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Status::Internal("cannot create " + path + ": " + ec.message());
  return Status::Ok();
}

RouterRead ReadRouterMessage(zmq::socket_t& socket, zmq::message_t& id, zmq::message_t& payload) {
  if (!socket.recv(id, zmq::recv_flags::dontwait)) return RouterRead::kNone;
  if (!id.more()) return RouterRead::kMultiFrame;  // no payload at all
  (void)socket.recv(payload, zmq::recv_flags::none);
  bool more = payload.more();
  RouterRead read = more ? RouterRead::kMultiFrame : RouterRead::kMessage;
  while (more) {
    zmq::message_t rest;
    (void)socket.recv(rest, zmq::recv_flags::none);
    more = rest.more();
  }
  return read;
}

std::string MultiFrameError() {
  return protocol::Encode(
      protocol::ErrorReply::FromStatus(Status::InvalidArgument("one message is one frame")));
}

std::string PeerAddressOf(zmq::message_t& payload) {
  try {
    const char* peer = payload.gets("Peer-Address");
    if (peer != nullptr) return peer;
  } catch (const zmq::error_t&) {
  }
  return "";
}

std::string FromOf(const ApiSocket& api, const std::string& address,
                   const protocol::Credentials& credentials) {
  if (api.origin == ApiOrigin::kWeb) {
    return "web " + (credentials.from.empty() ? std::string("?") : credentials.from);
  }
  std::string from = address.empty() ? std::string("local") : address;
  return api.origin == ApiOrigin::kCurve ? "curve " + from : from;
}

const ApiSocket* ApiSocketByTag(char tag) {
  for (const ApiSocket* api : {&kPlainApi, &kCurveApi, &kWebApi}) {
    if (api->tag == tag) return api;
  }
  return nullptr;
}

int64_t ReadCapFor(uint64_t max_frame_bytes) {
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / 2);
  return 2 * static_cast<int64_t>(std::min(max_frame_bytes, kMax));
}

RouterOptions AgentRouterOptions(const CoordinatorConfig& config, const std::string& secret_z85) {
  RouterOptions options{secret_z85, kAgentZapDomain, ReadCapFor(config.max_frame_bytes), 10'000,
                        4096};
  options.handshake_timeout_ms = config.handshake_timeout_ms;
  return options;
}

zmq::socket_t BindRouter(zmq::context_t& context, const std::string& endpoint,
                         const RouterOptions& options, std::string* bound) {
  zmq::socket_t socket(context, zmq::socket_type::router);
  socket.set(zmq::sockopt::linger, 0);
  if (!options.curve_secret.empty()) {
    socket.set(zmq::sockopt::curve_server, 1);
    socket.set(zmq::sockopt::curve_secretkey, options.curve_secret);
  }
  if (options.zap_domain != nullptr) socket.set(zmq::sockopt::zap_domain, options.zap_domain);
  if (options.max_message_bytes >= 0) socket.set(zmq::sockopt::maxmsgsize, options.max_message_bytes);
  if (options.high_water_mark > 0) {
    socket.set(zmq::sockopt::sndhwm, options.high_water_mark);
    socket.set(zmq::sockopt::rcvhwm, options.high_water_mark);
  }
  if (options.backlog > 0) socket.set(zmq::sockopt::backlog, options.backlog);
  if (options.handshake_timeout_ms >= 0) {
    const int64_t ms = std::min<int64_t>(options.handshake_timeout_ms,
                                         std::numeric_limits<int>::max());
    socket.set(zmq::sockopt::handshake_ivl, static_cast<int>(ms));
  }
  socket.bind(endpoint);
  if (bound != nullptr) *bound = socket.get(zmq::sockopt::last_endpoint);
  return socket;
}

}  // namespace labmesh::coordinator
