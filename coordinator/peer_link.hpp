#pragma once
// The peer link between a standby that relays and the coordinator that holds the store
// (docs/scale-out.md, PROTOCOL.md "Peer link"). One CurveZMQ connection per standby (a DEALER
// to the active coordinator's peer ROUTER, both ends with the lab's one key pair) carries
// every agent frame and API request the standby's sockets receive, and their answers back.
//
// Messages are multi-frame; the first frame names the kind:
//   standby -> active  [A][agent route][agent's Curve key][frame]
//                      [Q][api route][client address][request]
//                      [H]                                  (every second: are you there?)
//   active -> standby  [A][agent route][frame]
//                      [Q][api route][reply]
//                      [H]                                  (the answer)
// The agent route is the standby's routing id of the agent's connection; the api route is the
// standby's API socket tag (socket_util.hpp) and its routing id of the client. Both are opaque
// to the active coordinator, which names a relayed connection by `RelayedRoute`.
//
// Used by coordinator.cpp (the active end) and relay.cpp (the standby end) only.

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "socket_util.hpp"

namespace labmesh::coordinator::peer {

inline constexpr std::string_view kAgent = "A";
inline constexpr std::string_view kApi = "Q";
inline constexpr std::string_view kPing = "H";

// How the active coordinator's services name a connection that reaches them through a link:
// a marker byte no ZeroMQ routing id starts with (agents: kAgentMark; API clients: kApiMark, which
// is also the API socket tag SendToApi dispatches on), the link's routing id's length (one
// byte) and the link's routing id, then the route the standby gave.
inline constexpr char kAgentMark = '\x01';
inline constexpr char kApiMark = 'r';
std::string RelayedRoute(char mark, std::string_view link, std::string_view route);
// Splits a RelayedRoute (marker included); false when `relayed` is not one.
bool SplitRelayedRoute(std::string_view relayed, std::string_view* link, std::string_view* route);

// Reads one whole message without blocking; false when none was waiting.
bool ReadFrames(zmq::socket_t& socket, std::vector<zmq::message_t>* frames);
// Sends the frames as one message without blocking; false when it could not be queued (no
// peer, or its queue is full): the caller drops it, as the agent and API sockets do.
bool SendFrames(zmq::socket_t& socket, std::initializer_list<std::string_view> frames);

// The active end: the peer ROUTER socket and the links on it.
class PeerHub {
 public:
  struct Handlers {
    // A relayed agent frame: `route` names the connection as RelayedRoute does.
    std::function<void(const std::string& route, const std::string& curve_key,
                       std::string_view frame)>
        agent;
    // A relayed API request, as it came in on the standby's socket `api`.
    std::function<void(const std::string& route, const ApiSocket& api,
                       const std::string& address, zmq::message_t& request)>
        api;
  };
  PeerHub(zmq::socket_t socket, Handlers handlers)
      : socket_(std::move(socket)), handlers_(std::move(handlers)) {}

  zmq::socket_t& socket() { return socket_; }
  // Handles up to `max` messages; returns how many were agent frames.
  int Drain(int max);
  // Sends to a connection named by a RelayedRoute (dropped when its link is gone).
  void SendToAgent(std::string_view relayed, std::string_view frame);
  void SendToApi(std::string_view relayed, std::string_view reply);

 private:
  void Send(std::string_view kind, std::string_view relayed, std::string_view frame);

  zmq::socket_t socket_;
  Handlers handlers_;
  std::vector<zmq::message_t> frames_;
};

}  // namespace labmesh::coordinator::peer
