#include "package_service.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "labmesh/common/hash.hpp"
#include "package_rules.hpp"

namespace labmesh::coordinator {

using protocol::MessageType;

namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// Writes all of `data` at `offset` of `path` (created when missing; emptied first when
// `truncate`).
Status WriteAt(const std::string& path, uint64_t offset, const std::vector<char>& data,
               bool truncate) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0644);
  if (fd < 0) return Status::Internal(Errno("cannot open " + path));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done,
                         static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = Status::Internal(Errno("cannot write " + path));
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return Status::Internal(Errno("cannot write " + path));
  return Status::Ok();
}

// Fills all of `*data` from `offset` of `path`.
Status ReadAt(const std::string& path, uint64_t offset, std::vector<char>* data) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Internal(Errno("cannot open " + path));
  size_t done = 0;
  while (done < data->size()) {
    ssize_t n = ::pread(fd, data->data() + done, data->size() - done,
                        static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (done < data->size()) return Status::Internal("package file " + path + " is short");
  return Status::Ok();
}

Status SyncFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Internal(Errno("cannot open " + path));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status::Internal(Errno("cannot sync " + path));
  return Status::Ok();
}

}  // namespace

// One upload in progress: its copy in incoming/ holds [0, received), and `sha` has hashed
// exactly those bytes, so the last chunk needs no second read of the file.
struct PackageService::Upload {
  std::string path;
  uint64_t total = 0;
  uint64_t received = 0;
  Sha256Hasher sha;
  int64_t touched_ms = 0;  // steady
};

PackageService::PackageService(std::string packages_dir, const Clock* clock, store::Store* store,
                               HostRegistry* registry, UpdateScheduler* updates, FrameOutbox to_api)
    : dir_(std::move(packages_dir)),
      incoming_(dir_ + "/incoming"),
      clock_(clock),
      store_(store),
      registry_(registry),
      updates_(updates),
      to_api_(std::move(to_api)) {}

PackageService::~PackageService() = default;

Status PackageService::Load() {
  std::error_code ec;
  std::filesystem::create_directories(incoming_, ec);
  if (ec) return Status::Internal("cannot create " + incoming_ + ": " + ec.message());
  // Uploads do not survive a restart (their hash state was in memory): their copies go.
  for (const auto& item : std::filesystem::directory_iterator(incoming_, ec)) {
    std::error_code ignored;
    std::filesystem::remove_all(item.path(), ignored);
  }
  uploads_.clear();
  sizes_.clear();
  auto packages = store_->ListPackages();
  if (!packages.ok()) return packages.status();
  for (const store::Package& package : *packages) {
    sizes_[package.sha256] = package.bytes;
    if (!std::filesystem::exists(PackagePath(package.sha256), ec)) {
      spdlog::error("package {} ({}) has no file {}: agents cannot fetch it", package.version,
                    package.sha256, PackagePath(package.sha256));
    }
  }
  return Status::Ok();
}

std::string PackageService::PackagePath(const std::string& sha256) const {
  return dir_ + "/" + sha256 + ".tar.gz";
}

void PackageService::HandleApi(const std::string& routing_id, const protocol::Envelope& e,
                               const Principal& who) {
  auto reply_with = [&](const auto& result) {
    to_api_(routing_id, result.ok() ? protocol::Encode(*result, e.request_id)
                                    : protocol::ErrorFrame(e.request_id, result.status()));
  };
  switch (e.type) {
    case MessageType::kPackageUploadRequest: {
      auto request = protocol::DecodeBody<protocol::PackageUploadRequest>(e);
      if (!request.ok()) return to_api_(routing_id, protocol::ErrorFrame(e.request_id, request.status()));
      auto reply = Receive(*request, who);
      if (!reply.ok()) {
        spdlog::info("package upload of {} by {} refused: {}", request->version.substr(0, 64),
                     who.user, reply.status().message());
      }
      return reply_with(reply);
    }
    case MessageType::kPackageListRequest: {
      auto request = protocol::DecodeBody<protocol::PackageListRequest>(e);
      if (!request.ok()) return to_api_(routing_id, protocol::ErrorFrame(e.request_id, request.status()));
      return reply_with(List(request->version, nullptr));
    }
    case MessageType::kPackageDesireRequest:
      return Desire(routing_id, e, who);
    default:
      to_api_(routing_id,
              protocol::ErrorFrame(e.request_id, Status::Unsupported("not a package request")));
  }
}

// ---- uploads ----

Result<protocol::PackageUploadReply> PackageService::Receive(
    const protocol::PackageUploadRequest& r, const Principal& who) {
  LABMESH_RETURN_IF_ERROR(ValidateUploadChunk(r));
  auto stored = store_->GetPackage(r.version);
  if (!stored.ok()) return stored.status();
  if (stored->has_value()) {
    const store::Package& package = **stored;
    if (package.sha256 != r.sha256 || package.bytes != r.total_bytes) {
      return Status::AlreadyExists("version " + r.version +
                                   " is already stored with another package (sha256 " +
                                   package.sha256 +
                                   "); a version never changes: give this package a new version");
    }
    // The same file again: nothing to do, whichever chunk this is.
    Drop(r.version + " " + r.sha256);
    return protocol::PackageUploadReply{package.bytes, true, package};
  }
  auto upload = UploadFor(r);
  if (!upload.ok()) return upload.status();
  Upload& u = **upload;
  const std::string key = r.version + " " + r.sha256;
  if (Status s = WriteAt(u.path, r.offset, r.data, r.offset == 0); !s.ok()) {
    spdlog::error("package upload of {}: {}", r.version, s.message());
    Drop(key);
    return s;
  }
  u.sha.Update(std::string_view(r.data.data(), r.data.size()));
  u.received += r.data.size();
  u.touched_ms = clock_->SteadyMs();
  if (u.received < u.total) return protocol::PackageUploadReply{u.received, false, {}};
  auto package = Finish(key, r, who);
  if (!package.ok()) return package.status();
  return protocol::PackageUploadReply{package->bytes, true, *package};
}

Result<PackageService::Upload*> PackageService::UploadFor(const protocol::PackageUploadRequest& r) {
  const std::string key = r.version + " " + r.sha256;
  auto it = uploads_.find(key);
  if (r.offset == 0) {
    if (it == uploads_.end()) {
      if (uploads_.size() >= kMaxUploads) {
        auto stalest = std::min_element(uploads_.begin(), uploads_.end(), [](const auto& a, const auto& b) {
          return a.second->touched_ms < b.second->touched_ms;
        });
        spdlog::info("package upload {} dropped: left alone the longest of {} uploads",
                     stalest->first, uploads_.size());
        Drop(stalest->first);
      }
      auto upload = std::make_unique<Upload>();
      upload->path = incoming_ + "/" + r.version + "-" + r.sha256 + ".part";
      it = uploads_.emplace(key, std::move(upload)).first;
    }
    Upload& u = *it->second;  // offset 0 starts it (over)
    u.total = r.total_bytes;
    u.received = 0;
    u.sha = Sha256Hasher();
    return &u;
  }
  if (it == uploads_.end()) {
    return Status::FailedPrecondition("no upload of version " + r.version +
                                      " with this sha256 is in progress: expected offset 0");
  }
  Upload& u = *it->second;
  if (u.total != r.total_bytes) {
    return Status::InvalidArgument("total_bytes " + std::to_string(r.total_bytes) +
                                   " differs from the upload's " + std::to_string(u.total) +
                                   ": start over at offset 0");
  }
  if (r.offset != u.received) {
    return Status::FailedPrecondition("upload of version " + r.version + ": expected offset " +
                                      std::to_string(u.received) + ", got " +
                                      std::to_string(r.offset));
  }
  return &u;
}

void PackageService::Drop(const std::string& key) {
  auto it = uploads_.find(key);
  if (it == uploads_.end()) return;
  std::error_code ignored;
  std::filesystem::remove(it->second->path, ignored);
  uploads_.erase(it);
}

Result<protocol::PackageInfo> PackageService::Finish(const std::string& key,
                                                     const protocol::PackageUploadRequest& r,
                                                     const Principal& who) {
  Upload& u = *uploads_.at(key);
  const std::string hex = u.sha.Hex();
  if (r.sha256 != hex) {
    Drop(key);
    return Status::InvalidArgument("SHA-256 mismatch: the " + std::to_string(r.total_bytes) +
                                   " bytes received hash to " + hex + ", not " + r.sha256 +
                                   "; the upload was dropped");
  }
  std::string path = PackagePath(r.sha256);
  Status moved = SyncFile(u.path);
  std::error_code ec;
  if (moved.ok()) std::filesystem::rename(u.path, path, ec);
  if (moved.ok() && ec) moved = Status::Internal("cannot move the package to " + path + ": " + ec.message());
  if (!moved.ok()) {
    spdlog::error("package upload of {}: {}", r.version, moved.message());
    Drop(key);
    return moved;
  }
  uploads_.erase(key);
  store::Package package{r.version, r.sha256, r.total_bytes, who.user, clock_->WallMs()};
  store::WriteBatch batch;
  batch.PutPackage(package);
  // On failure the file stays (its name is its hash, so a retry writes the same bytes there).
  LABMESH_RETURN_IF_ERROR(store_->Apply(batch));
  sizes_[package.sha256] = package.bytes;
  spdlog::info("package {} stored: sha256={} bytes={} by {}", package.version, package.sha256,
               package.bytes, package.uploaded_by);
  return package;
}

// ---- list and desire ----

Result<protocol::PackageListReply> PackageService::List(
    const std::string& version, const store::DesiredVersion* desired) const {
  protocol::PackageListReply reply;
  auto packages = store_->ListPackages();
  if (!packages.ok()) return packages.status();
  for (store::Package& package : *packages) {
    if (version.empty() || package.version == version) reply.packages.push_back(std::move(package));
  }
  if (!version.empty() && reply.packages.empty()) {
    return Status::NotFound("no package of version " + version);
  }
  std::stable_sort(reply.packages.begin(), reply.packages.end(),
                   [](const protocol::PackageInfo& a, const protocol::PackageInfo& b) {
                     return a.uploaded_ms < b.uploaded_ms;
                   });
  if (desired != nullptr) {
    reply.desired = *desired;
  } else if (updates_ != nullptr) {
    reply.desired = updates_->desired_version();
  } else {
    auto stored = store_->GetDesiredVersion();
    if (!stored.ok()) return stored.status();
    reply.desired = std::move(*stored);
  }
  for (const auto& [name, host] : registry_->hosts()) {
    if (host.record.enrollment != store::Enrollment::kAccepted) continue;
    ++reply.host_versions[host.record.agent_version];
  }
  return reply;
}

void PackageService::Desire(const std::string& routing_id, const protocol::Envelope& e,
                            const Principal& who) {
  auto refuse = [&](const Status& status) {
    spdlog::info("package desire by {} refused: {}", who.user, status.message());
    to_api_(routing_id, protocol::ErrorFrame(e.request_id, status));
  };
  auto request = protocol::DecodeBody<protocol::PackageDesireRequest>(e);
  if (!request.ok()) return refuse(request.status());
  if (Status s = ValidateDesire(*request); !s.ok()) return refuse(s);
  if (updates_ == nullptr) return refuse(Status::Unsupported("no scheduler to desire a version of"));
  auto package = store_->GetPackage(request->version);
  if (!package.ok()) return refuse(package.status());
  if (!package->has_value()) {
    return refuse(Status::NotFound("no package of version " + request->version +
                                   "; upload it first (labmesh package upload FILE --version " +
                                   request->version + ")"));
  }
  store::DesiredVersion desired{request->version, request->canary_percent, who.user,
                                clock_->WallMs()};
  auto reply = List("", &desired);
  if (!reply.ok()) return refuse(reply.status());
  updates_->SetDesiredVersion(desired, **package, routing_id, protocol::Encode(*reply, e.request_id),
                           e.request_id);
}

// ---- agents ----

std::string PackageService::ServeChunk(const std::string& hostname,
                                       const protocol::Envelope& e) {
  auto request = protocol::DecodeBody<protocol::PackageChunkRequest>(e);
  if (!request.ok()) return protocol::ErrorFrame(e.request_id, request.status());
  if (!IsHexDigest(request->sha256)) {
    return protocol::ErrorFrame(e.request_id, Status::InvalidArgument(
                                                  "bad sha256: 64 lower-case hex digits expected"));
  }
  auto known = sizes_.find(request->sha256);
  if (known == sizes_.end()) {
    return protocol::ErrorFrame(e.request_id,
                                Status::NotFound("no package with sha256 " + request->sha256));
  }
  uint64_t total = known->second;
  if (request->offset > total) {
    return protocol::ErrorFrame(
        e.request_id, Status::InvalidArgument("offset " + std::to_string(request->offset) +
                                              " is past the end of package " + request->sha256 +
                                              " (" + std::to_string(total) + " bytes)"));
  }
  size_t want = request->max_bytes == 0 ? protocol::kMaxPackageChunkBytes
                                        : std::min<size_t>(request->max_bytes,
                                                           protocol::kMaxPackageChunkBytes);
  protocol::PackageChunk chunk;
  chunk.sha256 = request->sha256;
  chunk.offset = request->offset;
  chunk.total_bytes = total;
  if (request->mesh) {
    if (request->offset % protocol::kMeshChunkBytes != 0 || request->offset == total) {
      return protocol::ErrorFrame(
          e.request_id, Status::InvalidArgument("a mesh request's offset must start a chunk (a "
                                                "multiple of " +
                                                std::to_string(protocol::kMeshChunkBytes) + ")"));
    }
    want = protocol::kMeshChunkBytes;  // one whole chunk, as the chunk SHA-256s cut it
    if (mesh_ != nullptr) {
      auto answer = mesh_->Route(hostname, request->sha256,
                                 static_cast<uint32_t>(request->offset / protocol::kMeshChunkBytes),
                                 ChunkCount(request->sha256), clock_->SteadyMs());
      if (answer.kind != MeshTracker::Answer::Kind::kDirect) {
        chunk.peer = std::move(answer.peer);
        chunk.retry_after_ms = answer.retry_after_ms;
        return protocol::Encode(chunk, e.request_id);
      }
    }
  }
  want = static_cast<size_t>(std::min<uint64_t>(want, total - request->offset));
  chunk.data.resize(want);
  Status read = ReadAt(PackagePath(request->sha256), request->offset, &chunk.data);
  if (!read.ok()) {
    spdlog::error("host={} package {}: {}", hostname, request->sha256, read.message());
    return protocol::ErrorFrame(e.request_id, read);
  }
  return protocol::Encode(chunk, e.request_id);
}

// ---- the mesh ----

MeshConfig MeshConfigOf(const CoordinatorConfig& config) {
  MeshConfig mesh;
  mesh.enabled = config.mesh;
  mesh.uploads_per_peer = config.mesh_uploads;
  mesh.seeds = config.mesh_seeds;
  mesh.locality_prefix = config.mesh_locality_prefix;
  return mesh;
}

void PackageService::EnableMesh(MeshConfig config) {
  mesh_ = std::make_unique<MeshTracker>(
      std::move(config), [this](const std::string& host) { return registry_->Usable(host); });
  registry_->set_info_filler([this](const std::string& host, protocol::HostInfo* info) {
    FillHostInfo(host, info);
  });
}

uint32_t PackageService::ChunkCount(const std::string& sha256) const {
  auto known = sizes_.find(sha256);
  if (known == sizes_.end()) return 0;
  return static_cast<uint32_t>((known->second + protocol::kMeshChunkBytes - 1) /
                               protocol::kMeshChunkBytes);
}

Result<const std::vector<std::string>*> PackageService::ChunkHashes(const std::string& sha256) {
  if (auto cached = chunk_hashes_.find(sha256); cached != chunk_hashes_.end()) {
    return &cached->second;
  }
  auto known = sizes_.find(sha256);
  if (known == sizes_.end()) return Status::NotFound("no package with sha256 " + sha256);
  // Blocking, once per package: a few tens of MiB hash in well under a second.
  std::vector<std::string> hashes;
  std::vector<char> buffer;
  for (uint64_t offset = 0; offset < known->second; offset += protocol::kMeshChunkBytes) {
    buffer.resize(static_cast<size_t>(
        std::min<uint64_t>(protocol::kMeshChunkBytes, known->second - offset)));
    LABMESH_RETURN_IF_ERROR(ReadAt(PackagePath(sha256), offset, &buffer));
    hashes.push_back(Sha256Hex(std::string_view(buffer.data(), buffer.size())));
  }
  return &chunk_hashes_.emplace(sha256, std::move(hashes)).first->second;
}

std::string PackageService::HandleMesh(const std::string& hostname, const protocol::Envelope& e) {
  if (e.type == MessageType::kPeerBadReport) {
    auto report = protocol::DecodeBody<protocol::PeerBadReport>(e);
    if (!report.ok()) return protocol::ErrorFrame(e.request_id, report.status());
    spdlog::info("mesh: host={} reports peer {} ({} chunk {} of {}): {}", hostname,
                 report->peer.substr(0, 80), report->problem.substr(0, 20), report->index,
                 report->sha256.substr(0, 64), report->detail.substr(0, 200));
    if (mesh_ != nullptr) mesh_->OnBad(hostname, *report, clock_->SteadyMs());
    return "";
  }
  auto request = protocol::DecodeBody<protocol::PackageChunksRequest>(e);
  if (!request.ok()) return protocol::ErrorFrame(e.request_id, request.status());
  auto hashes = ChunkHashes(request->sha256);
  if (!hashes.ok()) return protocol::ErrorFrame(e.request_id, hashes.status());
  protocol::PackageChunks reply;
  reply.sha256 = request->sha256;
  reply.total_bytes = sizes_.at(request->sha256);
  reply.chunk_bytes = protocol::kMeshChunkBytes;
  reply.chunk_sha256s = **hashes;
  return protocol::Encode(reply, e.request_id);
}

void PackageService::OnAgentHello(const std::string& hostname, const protocol::AgentHello& hello,
                                  const std::vector<std::string>& labels) {
  if (mesh_ == nullptr) return;
  mesh_->OnHello(hostname, hello, labels,
                 [this](const std::string& sha256) { return ChunkCount(sha256); });
}

void PackageService::OnAgentGone(const std::string& hostname) {
  if (mesh_ != nullptr) mesh_->OnGone(hostname);
}

void PackageService::FillHostInfo(const std::string& hostname, protocol::HostInfo* info) const {
  if (mesh_ != nullptr) mesh_->Fill(hostname, clock_->SteadyMs(), info);
}

}  // namespace labmesh::coordinator
