#include "socket_util.hpp"

#include <filesystem>
#include <system_error>

namespace labmesh::coordinator {

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
