#pragma once
// The package mesh (issue 25, docs/mesh.md): agents fetch the chunks of a package from each other
// on their peer port (7712, CurveZMQ) and the coordinator is the tracker.
//
// A mesh package is cut in kMeshChunkBytes chunks (the last one shorter). Agent side, over the
// agent's Curve link to the coordinator:
//   PackageChunksRequest -> PackageChunks: the SHA-256 of every chunk. A chunk from a peer is
//     checked against it before it is written; the whole file's SHA-256 is checked as before.
//   PackageChunkRequest with mesh=true, offset on a chunk boundary -> PackageChunk carrying
//     either the bytes (the coordinator serves them), or `peer` (fetch that chunk from it), or
//     neither and retry_after_ms (every holder is busy: ask again then). A mesh request at
//     offset o also tells the tracker the agent holds [0, o), checked chunk by chunk.
//   PeerBadReport: a peer that served a corrupt chunk, timed out or refused. The tracker avoids
//     it (a corrupt one for every fetcher of that package) and `host show` tells.
// Peer side, on the serving agent's peer socket (a ROUTER; the fetcher is a DEALER that knows the
// server key only because the coordinator vouched for it in PackageChunk.peer):
//   PeerChunkRequest -> PeerChunk or ErrorReply. The request carries the ticket the coordinator
//     made with the serving agent's peer secret (AgentHello.peer_secret), so an agent serves only
//     fetchers the coordinator sent, and only chunks of packages it holds.

#include <cstdint>
#include <string>
#include <vector>

#include "labmesh/common/hash.hpp"
#include "labmesh/protocol/types.hpp"

namespace labmesh::protocol {

inline constexpr uint64_t kMeshChunkBytes = 1024 * 1024;
inline constexpr size_t kPeerSecretBytes = 32;
inline constexpr size_t kMeshTicketBytes = 32;

// The ticket that lets `fetcher` fetch chunks of package `sha256` from the agent whose peer
// secret is `peer_secret`: HMAC-SHA-256(peer_secret, sha256 "\n" fetcher), 32 raw bytes.
inline std::string MeshTicket(std::string_view peer_secret, std::string_view sha256,
                              std::string_view fetcher) {
  return HmacSha256(peer_secret, std::string(sha256) + "\n" + std::string(fetcher));
}

// A peer to fetch one chunk from, vouched for by the coordinator.
struct PeerSource {
  std::string hostname;
  std::string endpoint;    // tcp://ADDRESS:PORT of its peer socket
  std::string public_key;  // Z85 Curve server key of that socket
  std::vector<char> ticket;  // MessagePack bin: MeshTicket(peer secret, sha256, fetcher)
};

struct PackageChunksRequest {
  static constexpr MessageType kType = MessageType::kPackageChunksRequest;
  std::string sha256;
};

struct PackageChunks {
  static constexpr MessageType kType = MessageType::kPackageChunks;
  std::string sha256;
  uint64_t total_bytes = 0;
  uint64_t chunk_bytes = 0;  // kMeshChunkBytes
  std::vector<std::string> chunk_sha256s;  // lower hex, chunk 0 first
};

// Agent -> coordinator, no reply. problem: "corrupt" (the bytes did not hash to the chunk's
// SHA-256), "timeout" (no answer within the agent's --peer-timeout), "refused" (an ErrorReply, an
// undecodable or wrong answer); detail says more.
struct PeerBadReport {
  static constexpr MessageType kType = MessageType::kPeerBadReport;
  std::string peer;  // hostname
  std::string sha256;
  uint32_t index = 0;
  std::string problem;
  std::string detail;
};

struct PeerChunkRequest {
  static constexpr MessageType kType = MessageType::kPeerChunkRequest;
  std::string sha256;
  uint32_t index = 0;
  std::string fetcher;       // the fetching agent's hostname, as the ticket names it
  std::vector<char> ticket;  // PeerSource.ticket
};

struct PeerChunk {
  static constexpr MessageType kType = MessageType::kPeerChunk;
  std::string sha256;
  uint32_t index = 0;
  std::vector<char> data;  // MessagePack bin
};

}  // namespace labmesh::protocol
