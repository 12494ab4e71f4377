#include "socket_util.hpp"

#include <filesystem>
#include <fstream>
#include <system_error>

namespace labmesh::coordinator {

Status WriteEndpointsFile(const std::string& data_dir, const BoundEndpoints& endpoints,
                          const std::string& public_key) {
  std::string path = data_dir + "/coordinator.endpoints";
  std::ofstream out(path + ".tmp", std::ios::trunc);
  out << "agent=" << endpoints.agent << "\napi=" << endpoints.api
      << "\napi_curve=" << endpoints.api_curve << "\nhttp=" << endpoints.http
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

std::string FromOf(const ApiSocket& api, zmq::message_t& payload,
                   const protocol::Credentials& credentials) {
  if (api.origin == ApiOrigin::kWeb) {
    return "web " + (credentials.from.empty() ? std::string("?") : credentials.from);
  }
  std::string address;
  try {
    const char* peer = payload.gets("Peer-Address");
    if (peer != nullptr) address = peer;
  } catch (const zmq::error_t&) {
  }
  if (address.empty()) address = "local";
  return api.origin == ApiOrigin::kCurve ? "curve " + address : address;
}

}  // namespace labmesh::coordinator
