#pragma once
// The ZAP handler (ZeroMQ RFC 27) of the coordinator's context: decides which Curve clients may
// finish their handshake on the agent socket, and names each connection by its client key
// (the "User-Id" every message from it carries).
//
// Lives on the event-loop thread: it binds inproc://zeromq.zap.01 in the coordinator's context,
// and the loop calls HandleReady() when its socket is readable. Revoked keys (deleted or
// rejected hosts) never complete a handshake.

#include <functional>
#include <string>

#include <zmq.hpp>

namespace labmesh::coordinator {

class ZapHandler {
 public:
  using KeyCheck = std::function<bool(const std::string& public_key_z85)>;

  // Binds the ZAP endpoint; must happen before any Curve server socket binds.
  ZapHandler(zmq::context_t& context, KeyCheck allowed);

  zmq::socket_t& socket() { return socket_; }
  // Answers every pending ZAP request.
  void HandleReady();

 private:
  zmq::socket_t socket_;
  KeyCheck allowed_;
};

}  // namespace labmesh::coordinator
