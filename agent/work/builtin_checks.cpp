// Built-in checks and actions of special tasks; see builtin_checks.hpp.

#include "work/builtin_checks.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "labmesh/common/byte_size.hpp"
#include "labmesh/common/duration.hpp"

namespace labmesh::agent {

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

namespace {

std::string ReadSmallFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string out;
  char buf[4096];
  while (out.size() < (1u << 20)) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

// The state letter and process group from /proc/PID/stat ("pid (comm) S ppid pgrp ...").
bool ReadStat(const std::string& proc_dir, pid_t pid, char* state, pid_t* pgid) {
  std::string stat = ReadSmallFile(proc_dir + "/" + std::to_string(pid) + "/stat");
  size_t close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return false;
  std::istringstream in(stat.substr(close_paren + 1));
  long ppid = 0, pgrp = 0;
  if (!(in >> *state >> ppid >> pgrp)) return false;
  *pgid = static_cast<pid_t>(pgrp);
  return true;
}

protocol::TaskCheck Check(std::string name, bool passed, std::string output) {
  protocol::TaskCheck check;
  check.name = std::move(name);
  check.passed = passed;
  check.output = std::move(output);
  return check;
}

}  // namespace

Result<uint64_t> ParseByteSize(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a size (e.g. 1048576, 512K, 256MiB, 2G)");
  };
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  std::string_view t = text.substr(begin, end - begin);
  size_t digits = 0;
  while (digits < t.size() &&
         (std::isdigit(static_cast<unsigned char>(t[digits])) || t[digits] == '.')) {
    ++digits;
  }
  if (digits == 0) return bad();
  double number = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + digits, number);
  if (ec != std::errc() || ptr != t.data() + digits || !std::isfinite(number)) return bad();
  std::string_view rest = t.substr(digits);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  const std::string unit = AsciiLower(rest);
  double scale = 0;
  if (unit.empty() || unit == "b") {
    scale = 1;
  } else if (unit == "k" || unit == "kb" || unit == "kib") {
    scale = 1024.0;
  } else if (unit == "m" || unit == "mb" || unit == "mib") {
    scale = 1024.0 * 1024;
  } else if (unit == "g" || unit == "gb" || unit == "gib") {
    scale = 1024.0 * 1024 * 1024;
  } else if (unit == "t" || unit == "tb" || unit == "tib") {
    scale = 1024.0 * 1024 * 1024 * 1024;
  } else {
    return bad();
  }
  double bytes = std::floor(number * scale);
  if (bytes >= 18446744073709551615.0) return bad();
  return static_cast<uint64_t>(bytes);
}

protocol::TaskCheck CheckFreeSpace(const std::string& dir, uint64_t min_free_bytes) {
  struct statvfs st {};
  if (statvfs(dir.c_str(), &st) != 0) {
    return Check("free-space", false, "statvfs " + dir + ": " + std::strerror(errno));
  }
  uint64_t free_bytes = static_cast<uint64_t>(st.f_bavail) * static_cast<uint64_t>(st.f_frsize);
  return Check(
      "free-space", free_bytes >= min_free_bytes,
      FormatBytes(free_bytes) + " free, at least " + FormatBytes(min_free_bytes) + " wanted");
}

protocol::TaskCheck CheckSpoolWritable(const std::string& spool_dir) {
  // A dotted name: WorkManager's spool loader only looks at directories, and remove-old-spool
  // removes such a file should the agent die between create and unlink.
  const std::string path = spool_dir + "/.task-check-" + std::to_string(getpid());
  auto fail = [&](const std::string& what) {
    std::string message = what + " " + path + ": " + std::strerror(errno);
    unlink(path.c_str());
    return Check("spool-writable", false, message);
  };
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail("cannot create");
  static const char kData[] = "labmesh spool-writable check\n";
  size_t off = 0;
  while (off < sizeof kData - 1) {
    ssize_t n = write(fd, kData + off, sizeof kData - 1 - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = ENOSPC;
      int saved = errno;
      close(fd);
      errno = saved;
      return fail("cannot write");
    }
    off += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return fail("cannot fsync");
  }
  if (close(fd) != 0) return fail("cannot close");
  if (unlink(path.c_str()) != 0) return fail("cannot remove");
  return Check("spool-writable", true, "created, wrote, synced and removed a file in " + spool_dir);
}

protocol::TaskCheck CheckClockSkew(int64_t agent_ms, int64_t coordinator_ms, int64_t max_skew_ms) {
  if (coordinator_ms <= 0) {
    return Check("clock-skew", true, "the coordinator sent no time; not checked");
  }
  int64_t skew = agent_ms - coordinator_ms;
  int64_t abs_skew = skew < 0 ? -skew : skew;
  std::string output = "agent clock " + FormatDurationMs(abs_skew) +
                       (skew < 0 ? " behind" : " ahead of") + " the coordinator's, at most " +
                       FormatDurationMs(max_skew_ms) + " allowed";
  return Check("clock-skew", abs_skew <= max_skew_ms, output);
}

std::vector<Leftover> FindLeftovers(const std::string& spool_dir,
                                    const std::function<bool(uint64_t)>& entry_alive,
                                    const std::string& proc_dir) {
  std::vector<Leftover> found;
  const std::string needle = "LABMESH_RESULTS_DIR=" + spool_dir + "/";
  const pid_t self = getpid();
  DIR* dir = opendir(proc_dir.c_str());
  if (!dir) return found;
  while (dirent* d = readdir(dir)) {
    pid_t pid = 0;
    const char* name = d->d_name;
    auto [end, ec] = std::from_chars(name, name + std::strlen(name), pid);
    if (ec != std::errc() || *end != '\0' || pid <= 0 || pid == self) continue;
    const std::string base = proc_dir + "/" + name;
    std::string environ = ReadSmallFile(base + "/environ");
    if (environ.empty()) continue;  // a kernel thread, a zombie, or not ours to read
    size_t pos = 0;
    bool match = false;
    uint64_t entry_id = 0;
    bool has_entry = false;
    while (pos < environ.size()) {
      size_t nul = environ.find('\0', pos);
      if (nul == std::string::npos) nul = environ.size();
      std::string_view var(environ.data() + pos, nul - pos);
      if (var.substr(0, needle.size()) == needle) {
        match = true;
        std::string_view rest = var.substr(needle.size());
        auto [id_end, id_ec] = std::from_chars(rest.data(), rest.data() + rest.size(), entry_id);
        has_entry = id_ec == std::errc() && (id_end == rest.data() + rest.size() || *id_end == '/');
        break;
      }
      pos = nul + 1;
    }
    if (!match) continue;
    if (has_entry && entry_alive && entry_alive(entry_id)) continue;
    Leftover leftover;
    leftover.pid = pid;
    char state = '?';
    if (!ReadStat(proc_dir, pid, &state, &leftover.pgid)) continue;  // gone meanwhile
    if (state == 'Z' || state == 'X') continue;
    leftover.comm = ReadSmallFile(base + "/comm");
    while (!leftover.comm.empty() && leftover.comm.back() == '\n') leftover.comm.pop_back();
    found.push_back(std::move(leftover));
  }
  closedir(dir);
  std::sort(found.begin(), found.end(),
            [](const Leftover& a, const Leftover& b) { return a.pid < b.pid; });
  return found;
}

protocol::TaskCheck CheckLeftovers(const std::vector<Leftover>& leftovers) {
  if (leftovers.empty()) {
    return Check("leftover-processes", true, "no process left from an earlier job");
  }
  std::string list;
  for (const Leftover& l : leftovers) {
    list += (list.empty() ? "" : ", ") + std::to_string(l.pid) + " (" + l.comm + ")";
  }
  return Check("leftover-processes", false,
               std::to_string(leftovers.size()) + " process" + (leftovers.size() == 1 ? "" : "es") +
                   " left from an earlier job: " + list);
}

bool ProcessAlive(pid_t pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) return false;
  char state = '?';
  pid_t pgid = 0;
  if (!ReadStat("/proc", pid, &state, &pgid)) return false;
  return state != 'Z' && state != 'X';
}

Result<std::vector<std::string>> ListScripts(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return names;
    return Status::Internal("cannot list " + dir + ": " + std::strerror(errno));
  }
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.empty() || name[0] == '.') continue;
    const std::string path = dir + "/" + name;
    struct stat st {};
    if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (access(path.c_str(), X_OK) != 0) continue;
    names.push_back(std::move(name));
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string SanitizeUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t len = 0;
    uint32_t min = 0;
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, min = 0x10000;
    }
    bool ok = len > 0 && i + len <= text.size();
    uint32_t cp = len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; ok && k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (ok && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (ok) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

std::string OutputTail(const std::string& log_path, const std::string& final_line) {
  const size_t max = protocol::kMaxTaskOutputBytes;
  std::string line = final_line.substr(0, max / 2);
  // The tail, a '\n' it may lack, the final line.
  const size_t budget = max - line.size() - 1;
  std::string tail;
  int fd = open(log_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    struct stat st {};
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
      size_t size = static_cast<size_t>(st.st_size);
      size_t want = std::min(size, budget);
      tail.resize(want);
      ssize_t n = pread(fd, tail.data(), want, static_cast<off_t>(size - want));
      tail.resize(n > 0 ? static_cast<size_t>(n) : 0);
      if (want < size) {
        // Cut inside a character: drop its continuation bytes.
        size_t skip = 0;
        while (skip < tail.size() && skip < 3 &&
               (static_cast<unsigned char>(tail[skip]) & 0xC0) == 0x80) {
          ++skip;
        }
        tail.erase(0, skip);
      }
    }
    close(fd);
  }
  std::string out = SanitizeUtf8(tail);
  if (!out.empty() && out.back() != '\n') out += '\n';
  out += SanitizeUtf8(line);
  return out;
}

}  // namespace labmesh::agent
