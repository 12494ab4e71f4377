#include "labmesh/common/dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>
#include <thread>

namespace labmesh {
namespace {

constexpr int64_t kRetryMs = 20;

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// The pid the holder wrote, or "" when the file holds none (yet).
std::string HolderPid(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "";
  std::string_view text(buf, static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) return "";
  return std::string(text);
}

}  // namespace

Result<std::unique_ptr<DirLock>> DirLock::Acquire(const std::string& dir, const std::string& what,
                                                  int64_t wait_ms) {
  std::string path = dir + "/" + kFileName;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    return Status::FailedPrecondition(Errno("cannot open the lock file " + path));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) {
      Status failed = Status::FailedPrecondition(Errno("cannot lock " + path));
      ::close(fd);
      return failed;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string pid = HolderPid(fd);
      ::close(fd);
      return Status::FailedPrecondition(
          dir + " is in use by another " + what +
          (pid.empty() ? std::string() : " (pid " + pid + ")") +
          ": one " + what + " per directory (lock " + path + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kRetryMs));
  }
  // Ours now: say who holds it. Failing to write the pid only costs the message its pid.
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, pid.data(), pid.size(), 0);
  return std::unique_ptr<DirLock>(new DirLock(fd, std::move(path)));
}

DirLock::~DirLock() {
  // LOCK_UN releases the lock of the open file description, also when a child forked but not
  // yet exec'd still shares it; close alone would leave it held until that child's exec.
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
}

}  // namespace labmesh
