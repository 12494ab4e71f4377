// MeshFetch: one chunk at a time from a peer; see mesh_fetch.hpp and docs/mesh.md.

#include "update/mesh_fetch.hpp"

#include <spdlog/spdlog.h>

#include "labmesh/common/hash.hpp"
#include "labmesh/protocol/envelope.hpp"

namespace labmesh::agent {

MeshFetch::MeshFetch(zmq::context_t* context, std::string hostname, int64_t timeout_ms)
    : context_(context), hostname_(std::move(hostname)), timeout_ms_(timeout_ms) {}

MeshFetch::~MeshFetch() = default;

bool MeshFetch::SetChunks(const protocol::PackageChunks& chunks, const std::string& sha256,
                          uint64_t total_bytes) {
  chunks_.clear();
  const uint64_t want = (total_bytes + protocol::kMeshChunkBytes - 1) / protocol::kMeshChunkBytes;
  if (chunks.sha256 != sha256 || chunks.total_bytes != total_bytes ||
      chunks.chunk_bytes != protocol::kMeshChunkBytes || chunks.chunk_sha256s.size() != want) {
    return false;
  }
  for (const std::string& hash : chunks.chunk_sha256s) {
    if (!IsHexDigest(hash)) return false;
  }
  sha256_ = sha256;
  total_bytes_ = total_bytes;
  chunks_ = chunks.chunk_sha256s;
  return true;
}

uint64_t MeshFetch::ChunkSize(uint32_t index) const {
  const uint64_t offset = uint64_t{index} * protocol::kMeshChunkBytes;
  if (offset >= total_bytes_) return 0;
  return std::min<uint64_t>(protocol::kMeshChunkBytes, total_bytes_ - offset);
}

std::string MeshFetch::Check(uint32_t index, std::string_view data) const {
  if (index >= chunks_.size()) return "chunk " + std::to_string(index) + " is past the end";
  if (data.size() != ChunkSize(index)) {
    return std::to_string(data.size()) + " bytes, chunk " + std::to_string(index) + " has " +
           std::to_string(ChunkSize(index));
  }
  const std::string hash = Sha256Hex(data);
  if (hash != chunks_[index]) {
    return "chunk " + std::to_string(index) + " hashes to " + hash + ", not " + chunks_[index];
  }
  return "";
}

void MeshFetch::Start(const protocol::PeerSource& peer, uint32_t index, int64_t now_ms) {
  busy_ = false;
  peer_ = peer;
  index_ = index;
  started_ms_ = now_ms;
  try {
    const std::string key = peer.endpoint + " " + peer.public_key;
    if (!socket_ || socket_peer_ != key) {
      // A new socket per peer (its Curve client keys drawn anew): answers of an earlier peer
      // can never be taken for this one's.
      char public_z85[41], secret_z85[41];
      if (zmq_curve_keypair(public_z85, secret_z85) != 0) throw zmq::error_t();
      auto socket = std::make_unique<zmq::socket_t>(*context_, zmq::socket_type::dealer);
      socket->set(zmq::sockopt::linger, 0);
      socket->set(zmq::sockopt::immediate, 1);  // no queueing before the connection is up
      socket->set(zmq::sockopt::curve_serverkey, peer.public_key);
      socket->set(zmq::sockopt::curve_publickey, std::string(public_z85));
      socket->set(zmq::sockopt::curve_secretkey, std::string(secret_z85));
      socket->set(zmq::sockopt::maxmsgsize,
                  static_cast<int64_t>(protocol::kMeshChunkBytes + 64 * 1024));
      socket->connect(peer.endpoint);
      socket_ = std::move(socket);
      socket_peer_ = key;
    }
    ++request_id_;
    busy_ = true;
    sent_ = false;
    retry_ms_ = now_ms + 10;
    TrySend();
  } catch (const zmq::error_t& e) {
    spdlog::warn("host={} peer {} ({}): {}", hostname_, peer.hostname, peer.endpoint, e.what());
    socket_.reset();
    socket_peer_.clear();
    busy_ = true;  // reported as refused at the next Poll
    started_ms_ = now_ms - timeout_ms_;
  }
}

bool MeshFetch::TrySend() {
  if (sent_ || !socket_) return sent_;
  protocol::PeerChunkRequest request{sha256_, index_, hostname_, peer_.ticket};
  try {
    sent_ = socket_->send(zmq::buffer(protocol::Encode(request, request_id_)),
                          zmq::send_flags::dontwait)
                .has_value();
  } catch (const zmq::error_t&) {
    sent_ = false;
  }
  return sent_;
}

int64_t MeshFetch::NextDeadlineMs() const {
  if (!busy_) return INT64_MAX;
  if (!sent_) return retry_ms_;  // try the send again soon
  return started_ms_ + timeout_ms_;
}

void MeshFetch::AppendPollItems(std::vector<zmq_pollitem_t>* items) const {
  if (busy_ && socket_) items->push_back(zmq_pollitem_t{socket_->handle(), 0, ZMQ_POLLIN, 0});
}

MeshFetch::Outcome MeshFetch::Bad(const std::string& problem, const std::string& detail) {
  busy_ = false;
  Outcome outcome;
  outcome.index = index_;
  outcome.bad = {peer_.hostname, sha256_, index_, problem, detail};
  spdlog::warn("host={} peer {} chunk {}: {}: {}", hostname_, peer_.hostname, index_, problem,
               detail);
  if (problem != "corrupt") {  // a peer that did not answer may answer late: start clean
    socket_.reset();
    socket_peer_.clear();
  }
  return outcome;
}

std::optional<MeshFetch::Outcome> MeshFetch::Poll(std::span<const zmq_pollitem_t> items,
                                                   int64_t now_ms) {
  if (!busy_) return std::nullopt;
  if (!TrySend()) {
    if (now_ms >= started_ms_ + std::min(kConnectMs, timeout_ms_)) {
      return Bad("refused", "cannot connect to " + peer_.endpoint + " within " +
                                std::to_string(std::min(kConnectMs, timeout_ms_)) + " ms");
    }
    retry_ms_ = now_ms + 10;
    return std::nullopt;
  }
  if (socket_ && !items.empty() && (items[0].revents & ZMQ_POLLIN) != 0) {
    for (;;) {
      zmq::message_t message;
      try {
        if (!socket_->recv(message, zmq::recv_flags::dontwait)) break;
      } catch (const zmq::error_t& e) {
        return Bad("refused", e.what());
      }
      protocol::DecodeLimits limits;
      limits.max_frame_bytes = protocol::kMeshChunkBytes + 64 * 1024;
      auto envelope = protocol::DecodeEnvelope(message.to_string_view(), limits);
      if (!envelope.ok()) return Bad("refused", "undecodable answer: " + envelope.status().message());
      if (envelope->request_id != request_id_) continue;  // an answer to an earlier request
      if (envelope->type == protocol::MessageType::kError) {
        auto error = protocol::DecodeBody<protocol::ErrorReply>(*envelope);
        return Bad("refused", error.ok() ? error->ToStatus().ToString() : "unreadable error");
      }
      auto chunk = protocol::DecodeBody<protocol::PeerChunk>(*envelope);
      if (envelope->type != protocol::MessageType::kPeerChunk || !chunk.ok()) {
        return Bad("refused", "not a PeerChunk");
      }
      if (chunk->sha256 != sha256_ || chunk->index != index_) {
        return Bad("corrupt", "a chunk of another package or index");
      }
      std::string problem = Check(index_, {chunk->data.data(), chunk->data.size()});
      if (!problem.empty()) return Bad("corrupt", problem);
      busy_ = false;
      Outcome outcome;
      outcome.ok = true;
      outcome.index = index_;
      outcome.data = std::move(chunk->data);
      return outcome;
    }
  }
  if (now_ms >= started_ms_ + timeout_ms_) {
    return Bad(socket_ ? "timeout" : "refused",
               socket_ ? "no answer within " + std::to_string(timeout_ms_) + " ms"
                       : "cannot connect to " + peer_.endpoint);
  }
  return std::nullopt;
}

}  // namespace labmesh::agent
