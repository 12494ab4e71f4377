#pragma once
// ResultsRepository: the plain directory tree DATA_DIR/results/<job_id>-<owner>/<host>/... that
// agents upload into, chunk by chunk, and that `job log` and the web page read.
//
// Only the event-loop thread writes. Paths from agents are checked with ValidateResultPath and
// files are opened with O_NOFOLLOW; directories are created by this class only, so nothing in
// the tree can point outside it. A write that finds the file system full fails with DiskFull.

#include <cstdint>
#include <string>
#include <vector>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/job_messages.hpp"

namespace labmesh::coordinator {

class ResultsRepository {
 public:
  explicit ResultsRepository(std::string root);

  // "<job_id>-<owner>/<host>": an entry's directory, relative to the root.
  static std::string EntryDir(uint64_t job_id, const std::string& owner, const std::string& host);

  // Writes chunk.data at chunk.offset into entry_dir/chunk.path when the hash matches and the
  // offset leaves no gap. Returns the file's size afterwards (what the coordinator holds) in
  // *held, also when the chunk is refused (the Status says why).
  Status WriteChunk(const std::string& entry_dir, const protocol::ResultChunk& chunk,
                    uint64_t* held);

  // The size of entry_dir/path (what the coordinator holds of it); 0 when it does not exist.
  uint64_t HeldBytes(const std::string& entry_dir, const std::string& path) const;

  // Checks that every file exists with its size and hash. On a mismatch the file is truncated
  // to what can be trusted (its size when it is short, 0 when the bytes differ) and *bad_path /
  // *held say which file and from where the agent must send it again.
  Status Verify(const std::string& entry_dir, const std::vector<protocol::FileDigest>& files,
                std::string* bad_path, uint64_t* held);

  // The regular files under entry_dir that `files` does not name (uploaded, but not vouched
  // for by the agent's "uploaded" report), relative and sorted; symlinks are not followed.
  std::vector<std::string> Unlisted(const std::string& entry_dir,
                                    const std::vector<protocol::FileDigest>& files) const;

  // Up to max_bytes of entry_dir/path from offset; *size receives the file's size (0 when it
  // does not exist yet, which is not an error).
  Result<std::string> Read(const std::string& entry_dir, const std::string& path, uint64_t offset,
                           uint64_t max_bytes, uint64_t* size) const;

  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

}  // namespace labmesh::coordinator
