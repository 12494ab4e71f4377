#pragma once
// MeshFetch: the fetching half of the package mesh on the agent (docs/mesh.md), used by the
// UpdateManager. It keeps a package's chunk SHA-256s (PackageChunks, over the agent's Curve link
// to the coordinator) and fetches one chunk at a time from the peer the coordinator named: a
// DEALER, Curve client with a key pair of its own, that trusts exactly the server key the
// coordinator vouched for. An answer is checked (package, index, size, SHA-256) before it is
// given back; a wrong, refused or late one becomes the PeerBadReport the caller sends.
//
// Event-loop thread only; nothing blocks (the caller polls AppendPollItems()).

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "labmesh/protocol/messages.hpp"

namespace labmesh::agent {

class MeshFetch {
 public:
  MeshFetch(zmq::context_t* context, std::string hostname, int64_t timeout_ms);
  ~MeshFetch();

  // The chunk SHA-256s of the package being fetched; false (and nothing kept) when they do not
  // fit it.
  bool SetChunks(const protocol::PackageChunks& chunks, const std::string& sha256,
                 uint64_t total_bytes);
  bool has_chunks() const { return !chunks_.empty(); }
  // "" when `data` is chunk `index` as the coordinator's SHA-256s say, else what is wrong.
  std::string Check(uint32_t index, std::string_view data) const;
  // The size chunk `index` must have.
  uint64_t ChunkSize(uint32_t index) const;

  // Asks `peer` for chunk `index` (one fetch at a time: an earlier one is dropped).
  void Start(const protocol::PeerSource& peer, uint32_t index, int64_t now_ms);
  bool busy() const { return busy_; }

  void AppendPollItems(std::vector<zmq_pollitem_t>* items) const;
  struct Outcome {
    bool ok = false;
    uint32_t index = 0;
    std::vector<char> data;       // ok: the checked chunk
    protocol::PeerBadReport bad;  // !ok: what to tell the coordinator
  };
  // After a poll (`items`: exactly what AppendPollItems added) or a timer: the outcome of the
  // fetch once it has one, else nullopt.
  std::optional<Outcome> Poll(std::span<const zmq_pollitem_t> items, int64_t now_ms);
  int64_t NextDeadlineMs() const;

  // A peer whose connection is not up this long after the fetch started is given up ("refused":
  // cannot connect), without waiting for the whole timeout: a peer that is down costs a second.
  static constexpr int64_t kConnectMs = 1'000;

 private:
  Outcome Bad(const std::string& problem, const std::string& detail);
  // Sends the request if the connection is up (ZMQ_IMMEDIATE: nothing is queued before).
  bool TrySend();

  zmq::context_t* context_;
  std::string hostname_;
  int64_t timeout_ms_;
  std::string sha256_;
  uint64_t total_bytes_ = 0;
  std::vector<std::string> chunks_;
  std::unique_ptr<zmq::socket_t> socket_;
  std::string socket_peer_;  // endpoint + key the socket is connected to
  protocol::PeerSource peer_;
  uint32_t index_ = 0;
  uint64_t request_id_ = 0;
  int64_t started_ms_ = 0;
  bool busy_ = false;
  bool sent_ = false;     // the request went out (else it waits for the connection)
  int64_t retry_ms_ = 0;  // while not sent: when to try again
};

}  // namespace labmesh::agent
