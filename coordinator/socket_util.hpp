#pragma once
// The coordinator's socket plumbing that needs none of its state: reading one message off a
// ROUTER socket, which API socket a request came in on and from where, the endpoints file, and
// the checks on endpoints and directories made at start. Used by coordinator.cpp only.

#include <string>

#include <zmq.hpp>

#include "auth_service.hpp"
#include "labmesh/coordinator/coordinator.hpp"
#include "labmesh/common/status.hpp"
#include "labmesh/protocol/envelope.hpp"

namespace labmesh::coordinator {

// True for an endpoint only this machine reaches (loopback TCP, ipc://, inproc://).
bool IsLoopbackEndpoint(const std::string& endpoint);

// Writes DATA_DIR/coordinator.endpoints (agent=, api=, api_curve=, http=, relay=, public_key=
// lines)
// through a temporary file and a rename, so a reader never sees half of it.
Status WriteEndpointsFile(const std::string& data_dir, const BoundEndpoints& endpoints,
                          const std::string& public_key);

// The relay endpoint standbys are told to connect to: --relay-advertise, else `bound` with a
// wildcard address (0.0.0.0, [::]) replaced by this machine's host name; "" when `bound` is.
std::string AdvertisedRelay(const CoordinatorConfig& config, const std::string& bound);

// Creates `path` and its parents; an error names the path.
Status MakeDirs(const std::string& path);

enum class RouterRead { kNone, kMessage, kMultiFrame };

// Reads one [routing id, payload] message from a ROUTER socket without blocking. A message with
// more than one payload frame is read to its end and reported as kMultiFrame.
RouterRead ReadRouterMessage(zmq::socket_t& socket, zmq::message_t& id, zmq::message_t& payload);

// The Error frame a multi-frame message gets.
std::string MultiFrameError();

// The three API sockets: replies find theirs by the first byte of the routing id the services
// are given (the socket's own routing id follows it).
struct ApiSocket {
  char tag;
  ApiOrigin origin;
};
inline constexpr ApiSocket kPlainApi{'p', ApiOrigin::kLocal};
inline constexpr ApiSocket kCurveApi{'c', ApiOrigin::kCurve};
inline constexpr ApiSocket kWebApi{'w', ApiOrigin::kWeb};

// The client address ZeroMQ gives a message (its "Peer-Address"); "" when none (ipc, inproc).
std::string PeerAddressOf(zmq::message_t& payload);

// Where a request came from, for the audit log and the logs: "web 10.0.0.5", "curve
// 10.0.0.7", the peer `address` of a plain socket, or "local".
std::string FromOf(const ApiSocket& api, const std::string& address,
                   const protocol::Credentials& credentials);

// The ApiSocket whose tag is `tag`; nullptr for none.
const ApiSocket* ApiSocketByTag(char tag);

// ZMQ_MAXMSGSIZE for a socket taking frames of at most `max_frame_bytes`: twice that (a frame
// over the limit is still read and answered TooLarge; only one beyond this is dropped unread).
int64_t ReadCapFor(uint64_t max_frame_bytes);

// A ROUTER socket's options, set before it binds.
struct RouterOptions {
  std::string curve_secret;     // non-empty: a CurveZMQ server with this secret key (Z85)
  const char* zap_domain = nullptr;
  int64_t max_message_bytes = -1;  // ZMQ_MAXMSGSIZE; -1 = none
  int high_water_mark = 0;         // 0 = ZeroMQ's default
  int backlog = 0;                 // 0 = ZeroMQ's default
  int64_t handshake_timeout_ms = -1;  // ZMQ_HANDSHAKE_IVL; -1 = ZeroMQ's default (30 s), 0 = none
};

// The agent socket's options, the same on an active coordinator and a relaying standby: Curve
// with `secret_z85` in the agents' ZAP domain, a deep queue, a backlog for a fleet that
// reconnects at once, and --handshake-timeout.
RouterOptions AgentRouterOptions(const CoordinatorConfig& config, const std::string& secret_z85);

// Creates a ROUTER socket with `options` and binds it; `bound` gets the endpoint it bound
// (port 0 resolved). Throws zmq::error_t as the binding does.
zmq::socket_t BindRouter(zmq::context_t& context, const std::string& endpoint,
                         const RouterOptions& options, std::string* bound);

}  // namespace labmesh::coordinator
