#pragma once
// Safe lookup inside the results repository for the read-only /results/ pages: from the request
// path as sent to an open file or directory that is certainly inside the results root.
//
// Two steps, both refusing rather than repairing anything odd:
//  - ParseResultsTarget decodes each path segment exactly once and refuses ".", "..", empty
//    segments, and any segment that after decoding holds '/', '\', NUL or another control byte
//    ("%2e%2e", "..%2f", "%00" are refused; "%252e" is the literal name "%2e").
//  - OpenBeneath walks from the root one component at a time with openat(O_NOFOLLOW), refusing
//    every symlink (inside or outside the tree: the repository never creates one) and anything
//    that is neither a directory nor a regular file, so no name can lead outside the root.
//
// No state; every function may be called from any thread.

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "labmesh/common/status.hpp"
#include "labmesh/webui/http_types.hpp"

namespace labmesh::webui {

// The URL prefix the results repository is served under.
inline constexpr std::string_view kResultsPrefix = "/results";

// True for "/results" and "/results/...": the paths ResultsFiles answers.
bool IsResultsPath(std::string_view path);

// What a request path under /results names, relative to the results root.
struct ResultsTarget {
  std::vector<std::string> segments;  // decoded and checked; empty for the root
  bool trailing_slash = false;        // the path ended in '/' (asks for a directory)
};

// Parses a request path still percent-encoded ("/results/12-ann/lab-1/status.log").
// NotFound when it is not under /results; InvalidArgument for a malformed escape;
// PermissionDenied for every form of climbing out or smuggling a separator: "." or ".." (also
// encoded), an empty segment ("//"), a backslash, and a decoded '/', NUL or control byte.
Result<ResultsTarget> ParseResultsTarget(std::string_view path);

enum class NodeType { kDirectory, kFile };

struct OpenedNode {
  UniqueFd fd;  // O_RDONLY; a directory fd for kDirectory
  NodeType type = NodeType::kFile;
  struct stat st {};
};

// Opens root/segments[0]/.../segments[n-1] (the root itself when `segments` is empty). The root
// is opened as configured (it may itself be a symlink, chosen by the operator); below it every
// component is looked up with fstatat(AT_SYMLINK_NOFOLLOW) and opened with openat(O_NOFOLLOW)
// relative to its parent's fd, and the opened inode must be the one looked at.
// NotFound for a missing component or one walked through that is not a directory;
// PermissionDenied for a symlink, a special file (fifo, device, socket) or EACCES;
// Unavailable when the root cannot be opened. Segments must come from ParseResultsTarget.
Result<OpenedNode> OpenBeneath(const std::string& root, const std::vector<std::string>& segments);

struct DirEntry {
  std::string name;
  NodeType type = NodeType::kFile;
  uint64_t size = 0;  // bytes for files, 0 for directories
  int64_t mtime_ms = 0;
};

// The entries of an open directory (the fd is not consumed): directories first, then files,
// each group sorted by name bytewise. Symlinks and special files are left out, since they are
// never served. At most `max_entries`; *truncated says whether some were left out.
Result<std::vector<DirEntry>> ReadDirectory(int dir_fd, size_t max_entries, bool* truncated);

}  // namespace labmesh::webui
