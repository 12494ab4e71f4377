// Runner: spawning and watching one process and its output; see runner.hpp.

#include "labmesh/common/runner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>

namespace labmesh {
namespace {

// After the leader exited and its group was killed, the pipe closes as soon as the last writer
// dies. A process that left the group (setsid of its own) may hold it open forever: stop
// waiting for EOF after this long.
constexpr int64_t kDrainMs = 2'000;
// Without pidfd_open, how often the leader is checked with waitpid(WNOHANG).
constexpr int64_t kReapPollMs = 5;

int PidfdOpen(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  errno = ENOSYS;
  return -1;
#endif
}

constexpr const char* kSetpriv = "/usr/bin/setpriv";  // util-linux: on every Debian machine

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

Result<std::unique_ptr<Runner>> Runner::Start(const SpawnSpec& spec) {
  if (spec.argv.empty()) return Status::InvalidArgument("nothing to run");
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(spec.log_path).parent_path(), ec);
  std::unique_ptr<Runner> runner(new Runner());
  runner->log_fd_ = open(spec.log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (runner->log_fd_ < 0) {
    return Status::Internal("cannot open " + spec.log_path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (fstat(runner->log_fd_, &st) == 0) runner->log_size_ = static_cast<uint64_t>(st.st_size);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return Status::Internal(std::string("pipe: ") + std::strerror(errno));
  }
  // The write end must block in the child like any stdout would.
  fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) & ~O_NONBLOCK);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (null_fd >= 0) posix_spawn_file_actions_adddup2(&actions, null_fd, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  // Nothing of the agent's (sockets, other entries' pipes) leaks into the control.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawn_file_actions_addchdir_np(&actions, spec.cwd.c_str());

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // The agent blocks TERM/INT (StopSignals) and ignores PIPE; the control must start with the
  // defaults or it could not be stopped with TERM.
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int sig : {SIGTERM, SIGINT, SIGPIPE, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> args = spec.argv;
  if (spec.die_with_parent) {
    args.insert(args.begin(), {std::string(kSetpriv), "--pdeathsig", "KILL", "--"});
  }
  std::vector<char*> argv = CStrings(args);
  std::vector<char*> envp = CStrings(spec.env);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(fds[1]);
  if (null_fd >= 0) close(null_fd);
  if (rc != 0) {
    close(fds[0]);
    return Status::Internal("cannot run " + args[0] + ": " + std::strerror(rc));
  }
  runner->pid_ = pid;
  runner->pipe_fd_ = fds[0];
  runner->pidfd_ = PidfdOpen(pid);  // -1: fall back to waitpid polling
  return runner;
}

Runner::~Runner() {
  if (!exited_ && pid_ > 0) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  } else if (!finished_ && pid_ > 0) {
    kill(-pid_, SIGKILL);
  }
  for (int fd : {pidfd_, pipe_fd_, log_fd_}) {
    if (fd >= 0) close(fd);
  }
}

void Runner::PollFds(std::vector<int>* fds) const {
  if (pipe_fd_ >= 0) fds->push_back(pipe_fd_);
  if (pidfd_ >= 0 && !exited_) fds->push_back(pidfd_);
}

int64_t Runner::NextDeadlineMs(int64_t now_ms) const {
  if (finished_) return INT64_MAX;
  if (exited_) return drain_deadline_ms_;
  return pidfd_ >= 0 ? INT64_MAX : now_ms + kReapPollMs;
}

void Runner::Signal(int sig) {
  if (pid_ > 0 && !finished_) kill(-pid_, sig);
}

Status Runner::ReopenLog(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Internal("cannot open " + path + ": " + std::strerror(errno));
  close(log_fd_);
  log_fd_ = fd;
  struct stat st {};
  log_size_ = fstat(log_fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  return Status::Ok();
}

void Runner::ReadPipe() {
  if (pipe_fd_ < 0) return;
  char buf[65536];
  // At most this much per call: a process that floods its output cannot hold the caller's
  // loop (the pipe stays readable, the next turn reads on).
  constexpr uint64_t kMaxReadPerCall = 1u << 20;
  uint64_t read_now = 0;
  while (read_now < kMaxReadPerCall) {
    ssize_t n = read(pipe_fd_, buf, sizeof buf);
    if (n > 0) {
      // The log is a regular file: a short write means a full disk; the bytes are lost but
      // the control goes on (it must not block on a pipe nobody reads).
      ssize_t w = write(log_fd_, buf, static_cast<size_t>(n));
      if (w > 0) log_size_ += static_cast<uint64_t>(w);
      read_now += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    close(pipe_fd_);  // EOF (every writer is gone) or a read error
    pipe_fd_ = -1;
    return;
  }
}

void Runner::Reap(int64_t now_ms) {
  if (exited_) return;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0 || (r < 0 && errno == EINTR)) return;
  exited_ = true;
  if (r == pid_ && WIFEXITED(status)) {
    exit_code_ = WEXITSTATUS(status);
  } else if (r == pid_ && WIFSIGNALED(status)) {
    term_signal_ = WTERMSIG(status);
  }
  // Whatever the control left behind in its group dies with it (docs/jobs.md, step 4).
  kill(-pid_, SIGKILL);
  drain_deadline_ms_ = now_ms + kDrainMs;
  if (pidfd_ >= 0) {
    close(pidfd_);
    pidfd_ = -1;
  }
}

void Runner::Service(int64_t now_ms) {
  if (finished_) return;
  ReadPipe();
  Reap(now_ms);
  if (exited_) {
    ReadPipe();
    if (pipe_fd_ < 0 || now_ms >= drain_deadline_ms_) {
      if (pipe_fd_ >= 0) {
        close(pipe_fd_);
        pipe_fd_ = -1;
      }
      finished_ = true;
    }
  }
}

}  // namespace labmesh
