#pragma once
// Test support: real processes (the labmesh binaries) started, signalled and reaped, with their
// output in a log file; and waiting for conditions with a deadline instead of sleeping.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace labmesh::testing {

// `timeout` multiplied by $LABMESH_TEST_TIME_SCALE (a number >= 1; 1 when unset), which the
// sanitizer runs set (scripts/test.sh) because instrumented code runs several times slower.
// WaitFor, Process::Wait and RunCommand apply it to their deadlines; a test waiting some other
// way (a poll with a timeout) passes its deadline through it.
std::chrono::milliseconds Scaled(std::chrono::milliseconds timeout);

// Polls `condition` every few milliseconds until it is true or `timeout` (Scaled) passes.
bool WaitFor(const std::function<bool()>& condition,
             std::chrono::milliseconds timeout = std::chrono::seconds(15));

class Process {
 public:
  // Starts `argv[0]` with the given arguments; stdout and stderr go to `log_path`.
  // `env` entries are added to (or replace) the parent's environment. With `own_group` the
  // process leads a process group of its own and the destructor kills whatever is left in it
  // too (an agent's update watchdog and the agent it brings back); without, it stays in the
  // test's group (so that it may call setsid itself).
  Process(std::vector<std::string> argv, std::string log_path,
          std::map<std::string, std::string> env = {}, bool own_group = false);
  // SIGKILLs a process still running (and, with own_group, its group). In the sanitizer runs,
  // keeps a UBSan report found in its output (process.cpp says why).
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool Running();
  void Signal(int sig);
  // Waits for the process to exit; returns its exit code (128+signal when killed), or nullopt
  // when it is still running after `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout = std::chrono::seconds(15));
  std::string Log() const;
  const std::string& log_path() const { return log_path_; }

 private:
  pid_t pid_ = -1;
  bool own_group_ = false;
  std::string program_;
  std::optional<int> exit_code_;
  std::string log_path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs a command to completion (killing it after `timeout`) and captures its output.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30),
                         const std::map<std::string, std::string>& env = {});

// A fresh directory under $TMPDIR (or /tmp), removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path);

// A TCP port on 127.0.0.1 that nothing listens on now, below the kernel's ephemeral range
// (ip_local_port_range starts at 32768), for a server that must be given its port before it
// starts (a standby's endpoints, Prometheus): the other tests' `tcp://127.0.0.1:*` and port-0
// binds take ports from that range, so none of them can take this one first. 0 when none.
int FreeLoopbackPort();

}  // namespace labmesh::testing
