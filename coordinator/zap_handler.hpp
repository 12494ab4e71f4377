#pragma once
// The ZAP handler (ZeroMQ RFC 27) of the coordinator's context: decides which Curve clients may
// finish their handshake, and names each connection by its client key (the "User-Id" every
// message from it carries).
//
// Lives on the event-loop thread: it binds inproc://zeromq.zap.01 in the coordinator's context,
// and the loop calls HandleReady() when its socket is readable. Revoked keys (deleted or
// rejected hosts) never complete a handshake on the agent socket (domain "labmesh-agents").
// An address refused `max_failures` times within `window_ms` is refused outright for the rest
// of the window without a lookup, and the log says so once per window instead of once per try.
// The Curve API socket (domain "labmesh-api") takes any client key: its requests carry tokens.
// The peer socket (domain "labmesh-peers") takes only the coordinator's own key: the lab's
// other coordinators hold the same key pair (docs/scale-out.md).

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <zmq.hpp>

#include "labmesh/common/clock.hpp"

namespace labmesh::coordinator {

inline constexpr char kAgentZapDomain[] = "labmesh-agents";
inline constexpr char kApiZapDomain[] = "labmesh-api";
inline constexpr char kPeerZapDomain[] = "labmesh-peers";

class ZapHandler {
 public:
  using KeyCheck = std::function<bool(const std::string& public_key_z85)>;
  struct Limits {
    uint32_t max_failures = 5;
    int64_t window_ms = 60'000;
  };

  // Binds the ZAP endpoint; must happen before any Curve server socket binds.
  ZapHandler(zmq::context_t& context, KeyCheck allowed, const Clock* clock, Limits limits);

  zmq::socket_t& socket() { return socket_; }
  // The one client key the peer domain takes (Z85); "" = none.
  void set_peer_key(std::string key) { peer_key_ = std::move(key); }
  // Answers every pending ZAP request.
  void HandleReady();

 private:
  // Decides one CURVE handshake of the agent domain: "" = allowed, else why not.
  std::string CheckAgent(const std::string& key, const std::string& address);

  struct Failures {
    int64_t window_start_ms = 0;
    uint32_t count = 0;       // refusals in this window
    uint64_t blocked = 0;     // handshakes refused outright in this window
  };
  static constexpr size_t kMaxAddresses = 10'000;

  zmq::socket_t socket_;
  KeyCheck allowed_;
  const Clock* clock_;
  Limits limits_;
  std::string peer_key_;
  std::map<std::string, Failures> failures_;  // by peer address
};

}  // namespace labmesh::coordinator
