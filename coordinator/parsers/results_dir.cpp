// ParseResultsDir: finds the recognised files below an entry's results directory, parses each,
// and attaches keyval files to their results. See parsers.hpp.
//
// The walk never follows a symbolic link: every directory and file is opened with openat() and
// O_NOFOLLOW relative to its parent's descriptor, so a link (or a directory swapped for a link
// while we walk) cannot lead outside `dir`.

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "labmesh/common/status.hpp"
#include "labmesh/parsers/parsers.hpp"
#include "parse_util.hpp"

namespace labmesh::parsers {
namespace {

using internal::BaseName;
using internal::DirName;
using internal::JoinPath;

enum class FileKind { kNone, kStatusLog, kKeyval, kXml, kTap };

FileKind KindOf(const std::string& rel) {
  std::string_view base = BaseName(rel);
  auto ends_with = [&](std::string_view suffix) {
    return base.size() > suffix.size() && base.substr(base.size() - suffix.size()) == suffix;
  };
  if (base == "status.log") return FileKind::kStatusLog;
  if (base == "keyval") return DirName(rel).empty() ? FileKind::kNone : FileKind::kKeyval;
  if (ends_with(".xml")) return FileKind::kXml;
  if (ends_with(".tap")) return FileKind::kTap;
  return FileKind::kNone;
}

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

std::string Errno(int err) { return std::strerror(err); }

// Collects the relative paths of recognised regular files below the directory `dir_fd`, at most
// kMaxDirEntries names in all (`*seen` counts them over the whole walk).
void Walk(int dir_fd, const std::string& rel, int depth, std::vector<std::string>* files,
          std::vector<std::string>* warnings, size_t* seen) {
  int list_fd = dup(dir_fd);
  DIR* d = list_fd < 0 ? nullptr : fdopendir(list_fd);
  if (d == nullptr) {
    if (list_fd >= 0) close(list_fd);
    warnings->push_back((rel.empty() ? "." : rel) + ": cannot list: " + Errno(errno));
    return;
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    if (*seen >= kMaxDirEntries) {
      if (*seen == kMaxDirEntries) {
        warnings->push_back((rel.empty() ? "." : rel) + ": more than " +
                            std::to_string(kMaxDirEntries) +
                            " files and directories in the results; the rest is not read");
        ++*seen;  // warn once
      }
      break;
    }
    ++*seen;
    names.emplace_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    std::string path = JoinPath(rel, name);
    struct stat st;
    if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone
    if (S_ISLNK(st.st_mode)) {
      warnings->push_back(path + ": symbolic link not followed");
    } else if (S_ISDIR(st.st_mode)) {
      if (depth + 1 > kMaxNesting) {
        warnings->push_back(path + ": directory nested too deep, not read");
        continue;
      }
      int sub = openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) {
        warnings->push_back(path + ": cannot open: " + Errno(errno));
        continue;
      }
      FdCloser closer(sub);
      Walk(sub, path, depth + 1, files, warnings, seen);
    } else if (KindOf(path) != FileKind::kNone) {
      if (S_ISREG(st.st_mode)) {
        files->push_back(path);
      } else {  // a FIFO, socket or device named like a result file: never opened
        warnings->push_back(path + ": not a regular file, not read");
      }
    }
  }
}

// Reads `rel` below `root_fd`, opening every component with O_NOFOLLOW.
Result<std::string> ReadBelow(int root_fd, const std::string& rel) {
  int dir_fd = dup(root_fd);
  if (dir_fd < 0) return Status::Internal("dup: " + Errno(errno));
  size_t pos = 0;
  while (true) {
    size_t slash = rel.find('/', pos);
    std::string part = rel.substr(pos, slash == std::string::npos ? slash : slash - pos);
    // O_NONBLOCK: a file swapped for a FIFO since the walk must not hang the open.
    int flags =
        O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (slash == std::string::npos ? O_NONBLOCK : O_DIRECTORY);
    int fd = openat(dir_fd, part.c_str(), flags);
    int err = errno;
    close(dir_fd);
    if (fd < 0) return Status::NotFound("cannot open: " + Errno(err));
    dir_fd = fd;
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  FdCloser closer(dir_fd);
  struct stat st;
  if (fstat(dir_fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::InvalidArgument("not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxFileBytes) {
    return Status::TooLarge("skipped: " + std::to_string(st.st_size) + " bytes is more than " +
                            std::to_string(kMaxFileBytes >> 20) + " MiB");
  }
  std::string text;
  text.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (true) {
    if (got == text.size()) {
      if (text.size() >= kMaxFileBytes) break;  // a file that grows while we read it
      text.resize(std::min<size_t>(text.size() + 65536, kMaxFileBytes));
    }
    ssize_t n = read(dir_fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Internal("read: " + Errno(errno));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  return text;
}

// The results a keyval file at `dir`/keyval attaches to (see parsers.hpp for the rules).
std::vector<size_t> KeyvalTargets(const std::vector<TestResult>& results, const std::string& dir) {
  std::vector<size_t> by_subdir, by_name, by_last;
  for (size_t i = 0; i < results.size(); ++i) {
    const TestResult& r = results[i];
    std::string_view file_dir = DirName(r.file);
    if (!r.subdir.empty() && JoinPath(file_dir, r.subdir) == dir) by_subdir.push_back(i);
    if (JoinPath(file_dir, r.test) == dir) by_name.push_back(i);
    if (BaseName(r.test) == BaseName(dir)) by_last.push_back(i);
  }
  if (!by_subdir.empty()) return by_subdir;
  if (!by_name.empty()) return by_name;
  if (by_last.size() == 1) return by_last;
  return {};
}

void AttachKeyval(const std::string& rel, std::string_view text, ParseOutput* out) {
  Keyvals kv = ParseKeyval(text, rel, &out->warnings);
  std::string dir(DirName(rel));
  std::vector<size_t> targets = KeyvalTargets(out->results, dir);
  if (targets.empty()) {
    if (internal::ResultRoom(*out) == 0) {
      out->warnings.push_back(internal::ValidUtf8(rel) + ": " + internal::ResultsCutWarning());
      return;
    }
    TestResult r;
    r.test = internal::CleanName(dir);
    r.status = std::string(kTestNa);
    r.reason = "keyvals only: no test result named " + r.test;
    r.file = internal::ValidUtf8(rel);
    r.keyvals = std::move(kv.keyvals);
    r.perf = std::move(kv.perf);
    out->results.push_back(std::move(r));
    return;
  }
  for (size_t i : targets) {
    TestResult& r = out->results[i];
    for (const auto& [k, v] : kv.keyvals) r.keyvals[k] = v;
    for (const auto& [k, v] : kv.perf) r.perf[k] = v;
  }
}

}  // namespace

ParseOutput ParseResultsDir(const std::string& dir) {
  ParseOutput out;
  int root = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    out.warnings.push_back(internal::ValidUtf8(dir) + ": cannot open: " + Errno(errno));
    return out;
  }
  FdCloser closer(root);
  std::vector<std::string> files, walk_warnings;
  size_t seen = 0;
  Walk(root, "", 0, &files, &walk_warnings, &seen);
  for (const std::string& w : walk_warnings) out.warnings.push_back(internal::ValidUtf8(w));
  std::sort(files.begin(), files.end());

  std::vector<std::pair<std::string, std::string>> keyvals;  // after every result is known
  size_t not_parsed = 0;  // files left once the results are full
  for (const std::string& rel : files) {
    if (internal::ResultRoom(out) == 0 && KindOf(rel) != FileKind::kKeyval) {
      ++not_parsed;
      continue;
    }
    Result<std::string> text = ReadBelow(root, rel);
    if (!text.ok()) {
      out.warnings.push_back(internal::ValidUtf8(rel) + ": " + text.status().message());
      continue;
    }
    switch (KindOf(rel)) {
      case FileKind::kStatusLog:
        ParseStatusLog(*text, rel, &out);
        break;
      case FileKind::kXml:
        (void)ParseJUnit(*text, rel, &out);
        break;
      case FileKind::kTap:
        ParseTap(*text, rel, &out);
        break;
      case FileKind::kKeyval:
        keyvals.emplace_back(rel, std::move(*text));
        break;
      case FileKind::kNone:
        break;
    }
  }
  if (not_parsed > 0) {
    out.warnings.push_back(std::to_string(not_parsed) + " files not parsed: more than " +
                           std::to_string(kMaxResults) + " results for this directory");
  }
  for (const auto& [rel, text] : keyvals) AttachKeyval(rel, text, &out);
  // Keyval-only results belong at their file's place in the path order.
  std::stable_sort(out.results.begin(), out.results.end(),
                   [](const TestResult& a, const TestResult& b) { return a.file < b.file; });
  return out;
}

}  // namespace labmesh::parsers
