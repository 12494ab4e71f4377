#include "labmesh/webui/results_path.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "labmesh/webui/url.hpp"

namespace labmesh::webui {
namespace {

// Checks one decoded segment. The raw segment is checked for a backslash before decoding too
// (by the caller), so "\" and "%5C" are both refused.
Status CheckSegment(const std::string& segment) {
  if (segment == "." || segment == "..") {
    return Status::PermissionDenied("path refused: '.' and '..' segments are not allowed");
  }
  for (char c : segment) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '/') return Status::PermissionDenied("path refused: encoded '/' in a segment");
    if (c == '\\') return Status::PermissionDenied("path refused: backslash in a segment");
    if (byte < 0x20 || byte == 0x7f) {
      return Status::PermissionDenied("path refused: control byte in a segment");
    }
  }
  return Status::Ok();
}

Status ErrnoStatus(int err, const std::string& what) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return Status::NotFound("not found");
    case ELOOP:
      return Status::PermissionDenied("symlinks are not served");
    case EACCES:
    case EPERM:
      return Status::PermissionDenied("permission denied");
    case ENAMETOOLONG:
      return Status::InvalidArgument("name too long");
    default:
      return Status::Internal(what + ": " + std::strerror(err));
  }
}

bool IsServable(const struct stat& st) { return S_ISDIR(st.st_mode) || S_ISREG(st.st_mode); }

int64_t MtimeMs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

}  // namespace

bool IsResultsPath(std::string_view path) {
  if (path.substr(0, kResultsPrefix.size()) != kResultsPrefix) return false;
  return path.size() == kResultsPrefix.size() || path[kResultsPrefix.size()] == '/';
}

Result<ResultsTarget> ParseResultsTarget(std::string_view path) {
  if (!IsResultsPath(path)) return Status::NotFound("not under " + std::string(kResultsPrefix));
  std::string_view rest = path.substr(kResultsPrefix.size());  // "" or "/..."
  ResultsTarget target;
  if (rest.empty() || rest == "/") {
    target.trailing_slash = !rest.empty();
    return target;
  }
  rest.remove_prefix(1);
  if (rest.back() == '/') {
    target.trailing_slash = true;
    rest.remove_suffix(1);
  }
  size_t start = 0;
  while (start <= rest.size()) {
    size_t end = std::min(rest.find('/', start), rest.size());
    std::string_view raw = rest.substr(start, end - start);
    start = end + 1;
    if (raw.empty()) return Status::PermissionDenied("path refused: empty segment ('//')");
    if (raw.find('\\') != std::string_view::npos) {
      return Status::PermissionDenied("path refused: backslash in a segment");
    }
    // Decoded exactly once: whatever the decoded text looks like ("%2e" from "%252e") is a
    // literal name from here on.
    auto decoded = PercentDecode(raw, /*plus_is_space=*/false);
    if (!decoded.ok()) {
      // PercentDecode refuses "%00" as well; it is a smuggling attempt, not a typo.
      if (raw.find("%00") != std::string_view::npos) {
        return Status::PermissionDenied("path refused: NUL byte in a segment");
      }
      return Status::InvalidArgument("bad path: " + decoded.status().message());
    }
    LABMESH_RETURN_IF_ERROR(CheckSegment(*decoded));
    target.segments.push_back(std::move(decoded).value());
  }
  return target;
}

Result<OpenedNode> OpenBeneath(const std::string& root, const std::vector<std::string>& segments) {
  OpenedNode node;
  node.fd = UniqueFd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!node.fd.valid() || ::fstat(node.fd.get(), &node.st) != 0) {
    return Status::Unavailable("the results repository cannot be opened: " +
                               std::string(std::strerror(errno)));
  }
  node.type = NodeType::kDirectory;
  for (const std::string& name : segments) {
    if (node.type != NodeType::kDirectory) return Status::NotFound("not found");
    // Look first, so that a fifo or device is never opened (opening one can block or act).
    struct stat seen {};
    if (::fstatat(node.fd.get(), name.c_str(), &seen, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoStatus(errno, "stat");
    }
    if (S_ISLNK(seen.st_mode)) return Status::PermissionDenied("symlinks are not served");
    if (!IsServable(seen)) return Status::PermissionDenied("only files and directories are served");
    int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
    if (S_ISDIR(seen.st_mode)) flags |= O_DIRECTORY;
    UniqueFd next(::openat(node.fd.get(), name.c_str(), flags));
    if (!next.valid()) return ErrnoStatus(errno, "open");
    struct stat opened {};
    if (::fstat(next.get(), &opened) != 0) return ErrnoStatus(errno, "fstat");
    // Swapped between the look and the open (the repository renames nothing, but be sure).
    if (opened.st_dev != seen.st_dev || opened.st_ino != seen.st_ino || !IsServable(opened)) {
      return Status::NotFound("not found");
    }
    node.fd = std::move(next);
    node.st = opened;
    node.type = S_ISDIR(opened.st_mode) ? NodeType::kDirectory : NodeType::kFile;
  }
  return node;
}

Result<std::vector<DirEntry>> ReadDirectory(int dir_fd, size_t max_entries, bool* truncated) {
  *truncated = false;
  // fdopendir takes ownership of its fd: give it a duplicate (which shares the position, so
  // rewind first; a fresh openat fd starts at 0, this is for a reused one).
  int copy = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return ErrnoStatus(errno, "dup");
  DIR* dir = ::fdopendir(copy);
  if (dir == nullptr) {
    int err = errno;
    ::close(copy);
    return ErrnoStatus(err, "opendir");
  }
  ::rewinddir(dir);
  std::vector<DirEntry> entries;
  Status status = Status::Ok();
  for (;;) {
    errno = 0;
    dirent* item = ::readdir(dir);
    if (item == nullptr) {
      if (errno != 0) status = ErrnoStatus(errno, "readdir");
      break;
    }
    std::string_view name = item->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(dir_fd, item->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // just gone
    if (!IsServable(st)) continue;
    if (entries.size() == max_entries) {
      *truncated = true;
      break;
    }
    DirEntry entry;
    entry.name = std::string(name);
    entry.type = S_ISDIR(st.st_mode) ? NodeType::kDirectory : NodeType::kFile;
    entry.size = entry.type == NodeType::kFile ? static_cast<uint64_t>(st.st_size) : 0;
    entry.mtime_ms = MtimeMs(st);
    entries.push_back(std::move(entry));
  }
  ::closedir(dir);
  if (!status.ok()) return status;
  std::sort(entries.begin(), entries.end(), [](const DirEntry& a, const DirEntry& b) {
    if (a.type != b.type) return a.type == NodeType::kDirectory;
    return a.name < b.name;
  });
  return entries;
}

}  // namespace labmesh::webui
