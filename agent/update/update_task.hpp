#pragma once
// UpdateManager::Task, private to agent/update/update_manager*.cpp: one Update task in progress
// (the download, then the unpack), shared by the download half (update_manager.cpp) and the
// install half (update_install.cpp).

#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>

#include "labmesh/common/hash.hpp"
#include "labmesh/common/runner.hpp"
#include "update/mesh_fetch.hpp"
#include "update/update_manager.hpp"

namespace labmesh::agent {

struct UpdateManager::Task {
  protocol::RunTask run;
  protocol::TaskReport report;
  enum class Phase { kDownload, kUnpack } phase = Phase::kDownload;
  int64_t started_ms = 0;       // of the running step
  int fd = -1;                  // the .part file, open for writing
  uint64_t have = 0;            // bytes on disk
  std::unique_ptr<Sha256Hasher> hasher;  // over [0, have)
  uint64_t request_id = 0;      // the outstanding chunk request (0 = none)
  uint64_t request_bytes = 0;   // what it asked for
  int64_t request_sent_ms = 0;
  int64_t next_request_ms = 0;  // rate limit: no request before this
  int bad_answers = 0;
  std::unique_ptr<Runner> tar;
  std::string tmp_dir;          // versions/V.tmp
  // The mesh (docs/mesh.md): fetch is set while it is on for this download; the chunk
  // SHA-256s are asked first (hashes_request_id, 0 = answered).
  std::unique_ptr<MeshFetch> fetch;
  uint64_t hashes_request_id = 0;
  int64_t hashes_sent_ms = 0;
  uint32_t peer_chunks = 0;  // chunks that came from peers (the rest: from the coordinator)

  ~Task() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace labmesh::agent
