#pragma once
// PackageService: agent packages (docs/update.md). It owns DATA_DIR/packages/: uploads arrive
// in packages/incoming/ in order, chunk by chunk; the chunk that completes one has the whole
// file's SHA-256 checked, then the file becomes packages/<sha256>.tar.gz and a `packages`
// record. It answers the API's package upload/list/desire and the agents' PackageChunkRequest.
//
// Event-loop thread only. Package records are its own (immutable: a version never names
// another file); the desired version is the UpdateScheduler's, which schedules by it and
// commits it with the loop turn's batch; host records change only through the HostRegistry.
// Uploads in progress live in memory only: after a restart an upload starts over at offset 0.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "host_registry.hpp"
#include "job_service.hpp"
#include "update_scheduler.hpp"
#include "labmesh/common/clock.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "labmesh/protocol/package_messages.hpp"
#include "labmesh/store/store.hpp"
#include "mesh_tracker.hpp"
#include "principal.hpp"

namespace labmesh::coordinator {

// The mesh settings of the coordinator's flags.
MeshConfig MeshConfigOf(const CoordinatorConfig& config);

class PackageService {
 public:
  // Uploads held at once; a new one beyond that drops the one left alone the longest (an
  // upload whose client went away must not hold its disk space forever).
  static constexpr size_t kMaxUploads = 4;

  // `packages_dir` is DATA_DIR/packages. `updates` takes the desired version (SetDesiredVersion)
  // and may be null in tests of uploads alone (desire is then refused).
  PackageService(std::string packages_dir, const Clock* clock, store::Store* store,
                 HostRegistry* registry, UpdateScheduler* updates, FrameOutbox to_api);
  ~PackageService();

  // Creates packages/ and packages/incoming/, drops what a previous run left in incoming/ and
  // learns the stored packages.
  Status Load();

  // One admitted API request. Upload and list are answered at once; desire after the commit
  // that stored the desired version.
  void HandleApi(const std::string& routing_id, const protocol::Envelope& envelope,
                 const Principal& who);

  // The answer to a PackageChunkRequest of the agent of `hostname`: a PackageChunk, or an
  // ErrorReply with the request's id (unknown package, offset past the end). A mesh request
  // (docs/mesh.md) may be answered with a peer or a wait instead of the bytes.
  std::string ServeChunk(const std::string& hostname, const protocol::Envelope& envelope);

  // The package mesh (docs/mesh.md). Without EnableMesh every request is served directly (the
  // chunk SHA-256s are still given). It also has the registry fill the hosts' mesh fields.
  void EnableMesh(MeshConfig config);
  // PackageChunksRequest (the reply) and PeerBadReport ("": none) of the agent of `hostname`.
  std::string HandleMesh(const std::string& hostname, const protocol::Envelope& envelope);
  void OnAgentHello(const std::string& hostname, const protocol::AgentHello& hello,
                    const std::vector<std::string>& labels);
  void OnAgentGone(const std::string& hostname);
  // The host's mesh fields of HostInfo.
  void FillHostInfo(const std::string& hostname, protocol::HostInfo* info) const;
  const MeshTracker* mesh() const { return mesh_.get(); }

  size_t uploads_in_progress() const { return uploads_.size(); }
  // Where the package of `sha256` is kept.
  std::string PackagePath(const std::string& sha256) const;

 private:
  struct Upload;

  Result<protocol::PackageUploadReply> Receive(const protocol::PackageUploadRequest& request,
                                               const Principal& who);
  // The upload a chunk continues (or, at offset 0, starts over); errors name the offset
  // expected.
  Result<Upload*> UploadFor(const protocol::PackageUploadRequest& request);
  void Drop(const std::string& key);
  // Checks the hash of a complete upload, moves it into place and stores its record.
  Result<protocol::PackageInfo> Finish(const std::string& key,
                                       const protocol::PackageUploadRequest& request,
                                       const Principal& who);
  // `desired` overrides the one in force (the reply to a desire shows the new one).
  Result<protocol::PackageListReply> List(const std::string& version,
                                          const store::DesiredVersion* desired) const;
  void Desire(const std::string& routing_id, const protocol::Envelope& e, const Principal& who);
  // The chunk SHA-256s of a stored package, read and hashed once (then cached).
  Result<const std::vector<std::string>*> ChunkHashes(const std::string& sha256);
  uint32_t ChunkCount(const std::string& sha256) const;

  std::string dir_;
  std::string incoming_;
  const Clock* clock_;
  store::Store* store_;
  HostRegistry* registry_;
  UpdateScheduler* updates_;
  FrameOutbox to_api_;
  std::map<std::string, std::unique_ptr<Upload>> uploads_;  // "version sha256" -> upload
  std::map<std::string, uint64_t> sizes_;                   // stored packages: sha256 -> bytes
  std::map<std::string, std::vector<std::string>> chunk_hashes_;  // sha256 -> chunk SHA-256s
  std::unique_ptr<MeshTracker> mesh_;
};

}  // namespace labmesh::coordinator
