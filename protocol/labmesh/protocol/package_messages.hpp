#pragma once
// Agent packages and self-update (docs/update.md tells the whole flow; PROTOCOL.md the wire).
//
// A package is a .tar.gz built by scripts/package-agent.sh: labmesh-agent, labmesh-test,
// labmesh-sync and MANIFEST (see docs/update.md for its lines: the version and the SHA-256 of
// every file). The coordinator keeps it in DATA_DIR/packages/<sha256>.tar.gz, named by the
// SHA-256 (lower hex) of the whole file.
//
// API side (admins only): PackageUpload sends a file in chunks, in order; the coordinator
// checks the whole file's SHA-256 when the last byte arrives and refuses it on a mismatch.
// PackageList shows the packages, the desired version and how many hosts run each version.
// PackageDesire sets the version every agent (or a canary share of them) should run.
//
// Agent side: an agent whose version differs from its target version gets RunTask kind
// "Update" (with version, package_sha256, package_bytes) when it registers or asks for work.
// It fetches the package with PackageChunkRequest/PackageChunk, resuming at the bytes it holds,
// checks every hash, unpacks and re-executes itself; the Update task completes when the agent
// registers again reporting the new version. An agent that had to roll back (or refused the
// package) reports the failure: a TaskReport when it still runs, AgentHello.update_report after
// a rollback restarted it.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "labmesh/protocol/mesh_messages.hpp"
#include "labmesh/protocol/types.hpp"

namespace labmesh::protocol {

inline constexpr size_t kMaxPackageChunkBytes = 1024 * 1024;  // either direction
inline constexpr uint64_t kMaxPackageBytes = uint64_t{1} << 30;
inline constexpr size_t kMaxVersionBytes = 64;

// A version string: 1..64 bytes of [A-Za-z0-9._+~-], starting with an alphanumeric.
bool IsValidVersion(std::string_view version);

struct PackageInfo {
  std::string version;
  std::string sha256;  // lower hex of the whole .tar.gz
  uint64_t bytes = 0;
  std::string uploaded_by;
  int64_t uploaded_ms = 0;  // wall clock, ms since epoch
};

// The version agents should run. version "" = none desired (agents are left alone).
struct DesiredVersion {
  std::string version;
  uint32_t canary_percent = 100;  // 1..100: hosts whose stable hash falls below move to it
  std::string set_by;
  int64_t set_ms = 0;
};

// ---- API socket ----

// One chunk of an upload. The first chunk has offset 0 (and starts the upload over); each next
// one must start where the coordinator's copy ends (else FailedPrecondition naming that
// offset). The chunk that brings the copy to `total_bytes` finishes it: the SHA-256 is checked
// and the package stored, or the copy is dropped and the upload refused.
struct PackageUploadRequest {
  static constexpr MessageType kType = MessageType::kPackageUploadRequest;
  std::string version;
  std::string sha256;  // of the whole file, lower hex
  uint64_t total_bytes = 0;
  uint64_t offset = 0;
  std::vector<char> data;  // MessagePack bin, at most kMaxPackageChunkBytes
};

struct PackageUploadReply {
  static constexpr MessageType kType = MessageType::kPackageUploadReply;
  uint64_t received_bytes = 0;  // the coordinator holds [0, received_bytes)
  bool done = false;            // stored: `package` says how
  PackageInfo package;
};

struct PackageListRequest {
  static constexpr MessageType kType = MessageType::kPackageListRequest;
  std::string version;  // just this version's package; "" = all
};

struct PackageListReply {
  static constexpr MessageType kType = MessageType::kPackageListReply;
  std::vector<PackageInfo> packages;  // by upload time, oldest first
  DesiredVersion desired;
  std::map<std::string, uint32_t> host_versions;  // agent version -> hosts running it
};

// Admin only. `version` must be an uploaded package. canary_percent 100 = every host. Desiring
// a version again clears the hosts' record of having failed to update to it, so they try again.
struct PackageDesireRequest {
  static constexpr MessageType kType = MessageType::kPackageDesireRequest;
  std::string version;
  uint32_t canary_percent = 100;
};
// Reply: PackageListReply as it is after the change.

// ---- agent socket ----

// Bytes [offset, offset + max_bytes) of a package the agent was told to install.
struct PackageChunkRequest {
  static constexpr MessageType kType = MessageType::kPackageChunkRequest;
  std::string sha256;
  uint64_t offset = 0;
  uint32_t max_bytes = 0;  // capped at kMaxPackageChunkBytes
  // The agent can fetch from peers (mesh_messages.hpp): the offset must then be a chunk
  // boundary and the answer may name a peer instead of carrying the bytes.
  bool mesh = false;
};

// The answer (same request id). Errors (unknown package, offset past the end) come as
// ErrorReply with the request's id.
struct PackageChunk {
  static constexpr MessageType kType = MessageType::kPackageChunk;
  std::string sha256;
  uint64_t offset = 0;
  uint64_t total_bytes = 0;
  std::vector<char> data;  // MessagePack bin
  // Mesh requests only (data empty then): fetch the chunk from this peer (hostname set), or
  // ask again after retry_after_ms (every holder is busy).
  PeerSource peer;
  uint32_t retry_after_ms = 0;
};

}  // namespace labmesh::protocol
