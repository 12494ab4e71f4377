#include "results_repository.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "job_rules.hpp"
#include "labmesh/common/disk_space.hpp"
#include "labmesh/common/hash.hpp"

namespace labmesh::coordinator {
namespace {

Status Errno(const std::string& what) {
  if (IsNoSpaceErrno(errno)) return DiskFull(what + ": " + std::strerror(errno));
  return Status::Internal(what + ": " + std::strerror(errno));
}

// Closes a file descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

ResultsRepository::ResultsRepository(std::string root) : root_(std::move(root)) {}

std::string ResultsRepository::EntryDir(uint64_t job_id, const std::string& owner,
                                        const std::string& host) {
  return std::to_string(job_id) + "-" + owner + "/" + host;
}

Status ResultsRepository::WriteChunk(const std::string& entry_dir,
                                     const protocol::ResultChunk& chunk, uint64_t* held) {
  *held = 0;
  LABMESH_RETURN_IF_ERROR(ValidateResultPath(chunk.path));
  std::string path = root_ + "/" + entry_dir + "/" + chunk.path;
  if (chunk.data.size() > protocol::kMaxResultChunkBytes) {
    // Refused before anything is created; the ack still says how much of the file is held.
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      *held = static_cast<uint64_t>(st.st_size);
    }
    return Status::TooLarge("chunk of " + std::to_string(chunk.data.size()) + " bytes of " +
                            chunk.path + " exceeds the limit of " +
                            std::to_string(protocol::kMaxResultChunkBytes) +
                            " bytes (256 KiB); nothing written");
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec && IsNoSpaceErrno(ec.value())) {
    return DiskFull("cannot create the directory of " + chunk.path + ": " + ec.message());
  }
  if (ec) return Status::Internal("cannot create the directory of " + chunk.path + ": " + ec.message());
  Fd file{::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)};
  if (file.fd < 0) return Errno("cannot open " + chunk.path);
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) return Errno("cannot stat " + chunk.path);
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(chunk.path + " is not a regular file");
  *held = static_cast<uint64_t>(st.st_size);
  if (chunk.offset > *held) {
    return Status::FailedPrecondition("chunk at " + std::to_string(chunk.offset) + " of " + chunk.path +
                              " leaves a gap: the coordinator holds " + std::to_string(*held) +
                              " bytes");
  }
  std::string_view data(chunk.data.data(), chunk.data.size());
  if (Blake2bHex(data) != chunk.hash) {
    return Status::InvalidArgument("chunk at " + std::to_string(chunk.offset) + " of " +
                                   chunk.path + ": hash mismatch");
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(file.fd, data.data() + done, data.size() - done,
                         static_cast<off_t>(chunk.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot write " + chunk.path);
    done += static_cast<size_t>(n);
  }
  *held = std::max<uint64_t>(*held, chunk.offset + data.size());
  return Status::Ok();
}

uint64_t ResultsRepository::HeldBytes(const std::string& entry_dir,
                                      const std::string& path) const {
  if (!ValidateResultPath(path).ok()) return 0;
  struct stat st {};
  std::string full = root_ + "/" + entry_dir + "/" + path;
  if (::lstat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  return static_cast<uint64_t>(st.st_size);
}

Status ResultsRepository::Verify(const std::string& entry_dir,
                                 const std::vector<protocol::FileDigest>& files,
                                 std::string* bad_path, uint64_t* held) {
  for (const protocol::FileDigest& file : files) {
    bad_path->clear();  // empty: a path no file may have (the upload can never succeed)
    LABMESH_RETURN_IF_ERROR(ValidateResultPath(file.path));
    std::string path = root_ + "/" + entry_dir + "/" + file.path;
    Result<FileHash> hash = HashFile(path);
    *bad_path = file.path;
    if (!hash.ok()) {
      *held = 0;
      return Status::Corruption(file.path + " is missing");
    }
    if (hash->size < file.size) {
      *held = hash->size;
      return Status::Corruption(file.path + " is short: " + std::to_string(hash->size) + " of " +
                              std::to_string(file.size) + " bytes");
    }
    if (hash->size != file.size || hash->hex != file.hash) {
      *held = 0;
      if (::truncate(path.c_str(), 0) != 0) return Errno("cannot truncate " + file.path);
      return Status::Corruption(file.path + " differs from the agent's file; sent again");
    }
  }
  bad_path->clear();
  *held = 0;
  return Status::Ok();
}

std::vector<std::string> ResultsRepository::Unlisted(
    const std::string& entry_dir, const std::vector<protocol::FileDigest>& files) const {
  std::set<std::string> listed;
  for (const protocol::FileDigest& file : files) listed.insert(file.path);
  std::vector<std::string> unlisted;
  const std::filesystem::path dir = root_ + "/" + entry_dir;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    std::string path = it->path().lexically_relative(dir).generic_string();
    if (listed.count(path) == 0) unlisted.push_back(std::move(path));
  }
  std::sort(unlisted.begin(), unlisted.end());
  return unlisted;
}

Result<std::string> ResultsRepository::Read(const std::string& entry_dir, const std::string& path,
                                            uint64_t offset, uint64_t max_bytes,
                                            uint64_t* size) const {
  *size = 0;
  LABMESH_RETURN_IF_ERROR(ValidateResultPath(path));
  std::string full = root_ + "/" + entry_dir + "/" + path;
  Fd file{::open(full.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
  if (file.fd < 0) {
    if (errno == ENOENT) return std::string();
    return Errno("cannot open " + path);
  }
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) return Errno("cannot stat " + path);
  *size = static_cast<uint64_t>(st.st_size);
  if (offset >= *size) return std::string();
  std::string out(std::min<uint64_t>(max_bytes, *size - offset), '\0');
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(file.fd, out.data() + done, out.size() - done,
                        static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot read " + path);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

}  // namespace labmesh::coordinator
