#pragma once
// PeerServer: the agent's peer socket of the package mesh (docs/mesh.md). A ROUTER, CurveZMQ
// server with a key pair drawn at every start, on --peer-listen (7712 by default). It serves
// PeerChunkRequest of other agents: one chunk of a package this agent holds (a whole package in
// WORK_DIR/update/cache/, or the chunks of the download in progress), when the request's ticket
// is the one the coordinator made for that fetcher and package with this agent's peer secret.
//
// Limits: at most max_fetchers requests waiting (more: ErrorReply "busy"), answers paced to
// upload_rate bytes per second (0 = no cap). The hello carries the endpoint other agents reach
// (the listen address, or --peer-advertise / the host's address when it listens on all), the
// key, the secret and the packages held whole.
//
// Event-loop thread only (a Manager: its socket is in the loop's poll); reading a chunk is one
// pread of at most 1 MiB.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "labmesh/common/clock.hpp"
#include "labmesh/common/status.hpp"
#include "manager.hpp"

namespace labmesh::agent {

struct PeerServerConfig {
  std::string listen;     // "" = no peer socket
  std::string advertise;  // the host other agents reach this one at
  uint64_t upload_rate = 0;  // bytes per second, 0 = no cap
  uint32_t max_fetchers = 8;
  std::string cache_dir;  // WORK_DIR/update/cache
};

// Where the bytes of a package are: `path` holds [0, have) of `total` bytes.
struct HeldPackage {
  std::string path;
  uint64_t have = 0;
  uint64_t total = 0;
};

class PeerServer final : public Manager {
 public:
  // `partial(sha256)`: the download in progress of that package, if any.
  PeerServer(PeerServerConfig config, zmq::context_t* context, const Clock* clock,
             std::string hostname,
             std::function<std::optional<HeldPackage>(const std::string&)> partial);
  ~PeerServer() override;

  // Binds the socket; on failure the agent serves no chunks (and says so in its hello).
  Status Bind();
  const std::string& endpoint() const { return endpoint_; }  // "" = not serving
  uint64_t served_chunks() const { return served_; }

  void AppendPollItems(std::vector<zmq_pollitem_t>* items) const override;
  void OnPolled(std::span<const zmq_pollitem_t> items) override;
  void Service() override;
  int64_t NextDeadlineMs() const override;
  void OnWelcome() override {}
  void OnDisconnected() override {}
  bool Handle(const protocol::Envelope&) override { return false; }
  void FillHello(protocol::AgentHello* hello) const override;

 private:
  struct Pending {
    std::string routing_id;
    uint64_t request_id = 0;
    std::string sha256;
    uint32_t index = 0;
  };

  void Receive();
  void Answer(const Pending& pending);
  void Send(const std::string& routing_id, const std::string& frame);
  std::optional<HeldPackage> Find(const std::string& sha256) const;

  PeerServerConfig config_;
  zmq::context_t* context_;
  const Clock* clock_;
  std::string hostname_;
  std::function<std::optional<HeldPackage>(const std::string&)> partial_;
  std::unique_ptr<zmq::socket_t> socket_;
  std::string endpoint_;
  std::string public_z85_;
  std::string secret_;  // the peer secret tickets are made with
  std::deque<Pending> queue_;
  int64_t next_send_ms_ = 0;  // pacing to upload_rate
  uint64_t served_ = 0;
};

}  // namespace labmesh::agent
