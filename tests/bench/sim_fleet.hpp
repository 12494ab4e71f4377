#pragma once
// SimFleet: the connection half of a simulated fleet, shared by labmesh-fleetsim and
// labmesh-barrierbench. Each simulated agent is what labmesh-agent is on the wire: its own
// DEALER socket with its own Curve key pair. All sockets share one ZeroMQ context and are driven
// by the one thread that owns the SimFleet; what the agents say is up to the program using it.
//
// Polling: zmq_poller is a DRAFT API that Debian's libzmq 4.3 does not export, and zmq_poll()
// reads ZMQ_EVENTS of every socket on every call (1,000 of them per wakeup). So each socket's
// ZMQ_FD goes into one epoll set and only sockets that signalled are serviced. ZMQ_FD only says
// "look at me": any send or recv may consume its signal, so a socket is always drained to EAGAIN
// after the loop touched it (Drain, DrainTouched).
//
// Slots: agents are slots 0..agents()-1; AddPlain adds further plain (non-Curve) sockets, such
// as a connection to the API socket, as the next slots.
//
// Errors: zmq::error_t from socket setup and epoll failures propagate (errno set); the programs
// turn them into a Status at their one loop.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "labmesh/common/curve_keys.hpp"
#include "labmesh/common/status.hpp"
#include "labmesh/protocol/messages.hpp"

namespace labmesh::bench {

// Microseconds on the steady clock. labmesh::Clock has milliseconds only, too coarse for the
// sub-millisecond latencies the benchmarks measure.
int64_t NowUs();
// Microseconds since the Unix epoch, as agents report times (EntryReport.started_us).
int64_t WallUs();

// Every simulated agent is two descriptors (its TCP connection and its mailbox).
void RaiseFileLimit();

// The value at rank floor(q * (n - 1)) of `values`; 0 when empty.
double Percentile(std::vector<double> values, double q);

struct SimIdentity {
  std::string hostname;  // PREFIX00042 for agent 42
  CurveKeyPair keys;
  uint64_t incarnation = 0;  // random, drawn once per run
  int reconnect_ivl_ms = 200;  // ZeroMQ's first reconnect interval (AgentReconnectIntervalMs)
};

class SimFleet {
 public:
  // Called for every frame received on `slot`, with the time it was read.
  using FrameFn = std::function<void(size_t slot, std::string_view frame, int64_t now_us)>;

  // `extra_sockets`: sockets beyond one per agent the program will open (AddRouter,
  // AddCurveDealer).
  SimFleet(int agents, std::string prefix, int io_threads, int extra_sockets = 0);
  ~SimFleet();
  SimFleet(const SimFleet&) = delete;
  SimFleet& operator=(const SimFleet&) = delete;

  // Draws the identities, creates the context and the epoll set.
  Status Init();
  void set_on_frame(FrameFn on_frame) { on_frame_ = std::move(on_frame); }

  size_t agents() const { return identities_.size(); }
  const SimIdentity& identity(size_t index) const { return identities_[index]; }

  // Opens agent `index`'s Curve DEALER to the coordinator's agent socket and watches it.
  void ConnectAgent(size_t index, const std::string& endpoint, const std::string& server_key);
  // A plain DEALER to `endpoint` (the API socket), watched like the agents; returns its slot.
  size_t AddPlain(const std::string& endpoint);
  // A Curve server ROUTER bound to `endpoint` with `secret_z85`; its frames go to on_routed.
  // Returns its slot; `*bound` is the endpoint it listens on (port 0 resolved).
  size_t AddRouter(const std::string& endpoint, const std::string& secret_z85, std::string* bound);
  // A Curve client DEALER of agent `index`'s keys to a server of `server_key`, with
  // ZMQ_IMMEDIATE (a send fails until the connection is up: see TrySend).
  size_t AddCurveDealer(size_t index, const std::string& endpoint, const std::string& server_key);
  // Send without counting a refusal as a failure (a connection that is not up yet).
  bool TrySend(size_t slot, const std::string& frame);
  // Closes the socket of a slot (the slot number is not reused).
  void Close(size_t slot);
  // A frame to `routing_id` on a router slot; false (and counted) when it could not be queued.
  bool SendTo(size_t slot, const std::string& routing_id, const std::string& frame);
  using RoutedFn = std::function<void(size_t slot, const std::string& routing_id,
                                      std::string_view frame, int64_t now_us)>;
  void set_on_routed(RoutedFn on_routed) { on_routed_ = std::move(on_routed); }

  // The hello labmesh-agent would send for agent `index`, asking for `labels`.
  protocol::AgentHello Hello(size_t index, std::vector<std::string> labels) const;
  // Heartbeat number `sequence` of agent `index`, with a plausible health sample so that the
  // coordinator decodes and stores as much as for a real agent.
  protocol::Heartbeat Heartbeat(size_t index, uint64_t sequence, uint64_t uptime_s) const;

  // Sends without blocking; false (and counted) when the socket's queue is full.
  bool Send(size_t slot, const std::string& frame);
  // Drains the sockets sent on outside a drain: a send may have swallowed a ZMQ_FD signal.
  void DrainTouched();
  // Waits up to `timeout_ms` for sockets to signal and drains those that did.
  void Poll(int timeout_ms);

  uint64_t send_failures() const { return send_failures_; }

 private:
  struct Slot {
    zmq::socket_t socket;
    bool drain_pending = false;  // touched since its last drain
    bool router = false;
  };

  void Watch(size_t slot);
  // Marks a slot sent on outside a drain, for DrainTouched.
  void Touch(size_t slot);
  // A Curve client DEALER with agent `index`'s keys, connected.
  zmq::socket_t CurveDealer(size_t index, const std::string& endpoint,
                            const std::string& server_key, bool immediate = false);
  // Reads until EAGAIN: only then has ZeroMQ processed the socket's pending commands, so that
  // its ZMQ_FD signals again when more arrives.
  void Drain(size_t slot);

  static constexpr size_t kNone = static_cast<size_t>(-1);

  const std::string prefix_;
  const int io_threads_;
  const int extra_sockets_;
  std::vector<SimIdentity> identities_;
  zmq::context_t context_{0};  // replaced in Init(); declared before the sockets it outlives
  std::vector<Slot> slots_;
  int epoll_fd_ = -1;
  std::vector<size_t> touched_;
  size_t draining_ = kNone;
  FrameFn on_frame_;
  RoutedFn on_routed_;
  uint64_t send_failures_ = 0;
};

}  // namespace labmesh::bench
