#pragma once
// Runner: one spawned process - the agent's control, the coordinator's power and console
// commands (docs/power-console.md). The process runs in a new session (its own process group), its
// stdout+stderr go to one pipe whose bytes the Runner appends to a log file (debug/control.log).
// The leader's exit is seen through a pidfd (pollable) where the kernel has pidfd_open, else
// by waitpid(WNOHANG) at every Service(). When the leader has exited, whatever is left in its
// process group is killed and the pipe is drained; then the Runner is finished.
//
// Threads: owned and called by one event loop thread only (the agent's through WorkManager, the
// coordinator's through PowerService). No call blocks; one Service() reads at most 1 MiB.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "labmesh/common/status.hpp"

namespace labmesh {

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] is a path (no PATH search)
  std::vector<std::string> env;   // the complete environment, "KEY=VALUE"
  std::string cwd;
  std::string log_path;  // output is appended here (created, with its directory)
  // The kernel SIGKILLs the process when the thread that started it ends, the daemon killed
  // without cleaning up included (the coordinator's console readers and power commands must not
  // outlive it: a restarted coordinator starts its own). Run through `setpriv --pdeathsig
  // KILL` (util-linux). Never for an agent's controls: they outlive an agent's restart.
  bool die_with_parent = false;
};

class Runner {
 public:
  // Spawns the process. Fails (without leaving a process behind) when the log cannot be
  // opened or the program cannot be executed.
  static Result<std::unique_ptr<Runner>> Start(const SpawnSpec& spec);
  // A Runner destroyed before it finished SIGKILLs the group and reaps the leader (blocking at
  // most for the kernel to deliver the KILL), so that it leaves no zombie or stray process.
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  pid_t pgid() const { return pid_; }
  // Descriptors to watch for readability: the output pipe while open, the pidfd until reaped.
  void PollFds(std::vector<int>* fds) const;
  // Reads what the pipe holds into the log, reaps the leader when it has exited (then kills the
  // rest of its group) and ends the drain at EOF or at the drain deadline. Never blocks.
  void Service(int64_t now_ms);
  // The next time Service() must run although no descriptor became readable, or INT64_MAX.
  int64_t NextDeadlineMs(int64_t now_ms) const;
  // Output goes on to `path` from now on (the caller renamed the old log away: rotation).
  Status ReopenLog(const std::string& path);
  // Sends `sig` to the whole process group (no-op once the group is gone).
  void Signal(int sig);

  bool exited() const { return exited_; }      // the leader was reaped
  bool finished() const { return finished_; }  // exited and the output drained
  int exit_code() const { return exit_code_; }  // -1 when killed by a signal
  int term_signal() const { return term_signal_; }
  uint64_t log_size() const { return log_size_; }  // bytes in the log file so far

 private:
  Runner() = default;
  void ReadPipe();
  void Reap(int64_t now_ms);

  pid_t pid_ = -1;
  int pidfd_ = -1;
  int pipe_fd_ = -1;
  int log_fd_ = -1;
  uint64_t log_size_ = 0;
  bool exited_ = false;
  bool finished_ = false;
  int exit_code_ = -1;
  int term_signal_ = 0;
  int64_t drain_deadline_ms_ = 0;
};

}  // namespace labmesh
