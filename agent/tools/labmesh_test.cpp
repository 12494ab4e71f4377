// labmesh-test: the helper a control calls inside a running job (shared/CLI.md "Inside a
// running job"). Single-threaded process of its own; it writes below $LABMESH_RESULTS_DIR.
//   labmesh-test run NAME -- CMD [ARGS...]   one named test: START/GOOD|FAIL/END lines in
//       status.log, output in RESULTS/NAME/output.log (and on our stdout, so the agent's
//       control.log stream shows it), exit status of CMD (128+signal when it was killed)
//   labmesh-test keyval NAME KEY=VALUE...    appends KEY=VALUE lines to RESULTS/NAME/keyval
// Usage errors exit 2.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "work/status_log.hpp"

extern char** environ;

namespace {

using labmesh::agent::AppendToFile;
using labmesh::agent::IsValidTestName;

int Fail(const std::string& message, int code = 2) {
  std::cerr << "labmesh-test: " << message << "\n";
  return code;
}

// Where results go, or an error exit when we are not inside a job.
bool ResultsDir(std::string* dir) {
  const char* env = std::getenv("LABMESH_RESULTS_DIR");
  if (env == nullptr || *env == '\0') return false;
  *dir = env;
  return true;
}

void WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // our stdout is gone: output.log still gets everything
    data += w;
    n -= static_cast<size_t>(w);
  }
}

// Runs `cmd` in `cwd` with stdout+stderr into a pipe copied to `log_fd` and our stdout.
// Returns the wait status, or -1 with `error` set when it could not be started.
int RunTee(const std::vector<std::string>& cmd, const std::string& cwd, int log_fd,
           std::string* error) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return -1;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv;
  for (const std::string& a : cmd) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    *error = "cannot run " + cmd[0] + ": " + std::strerror(rc);
    return -1;
  }
  char buf[65536];
  while (true) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    WriteAll(log_fd, buf, static_cast<size_t>(n));
    WriteAll(1, buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 0;
  }
  return status;
}

int Run(const std::string& name, const std::vector<std::string>& cmd) {
  std::string results;
  if (!ResultsDir(&results)) {
    return Fail("LABMESH_RESULTS_DIR is not set: run this inside a labmesh job");
  }
  if (!IsValidTestName(name)) {
    return Fail("bad test name '" + name +
                "': letters, digits, '.', '_', '-', no leading '.', at most 100 characters");
  }
  if (cmd.empty()) return Fail("no command given (labmesh-test run NAME -- CMD [ARGS...])");
  std::string dir = results + "/" + name;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Fail("cannot create " + dir + ": " + ec.message(), 1);
  std::string status_log = results + "/status.log";
  if (auto s = AppendToFile(status_log, labmesh::agent::StatusStartLine(name, std::time(nullptr)));
      !s.ok()) {
    return Fail(s.message(), 1);
  }
  std::string log_path = dir + "/output.log";
  int log_fd = open(log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (log_fd < 0) return Fail("cannot open " + log_path + ": " + std::strerror(errno), 1);
  signal(SIGPIPE, SIG_IGN);
  std::string error;
  int status = RunTee(cmd, dir, log_fd, &error);
  int code;
  std::string reason;
  if (status < 0) {
    std::string line = "labmesh-test: " + error + "\n";
    WriteAll(log_fd, line.data(), line.size());
    WriteAll(2, line.data(), line.size());
    code = 127;
    reason = error;
  } else if (WIFSIGNALED(status)) {
    code = 128 + WTERMSIG(status);
    reason = "killed by signal " + std::to_string(WTERMSIG(status));
  } else {
    code = WEXITSTATUS(status);
    reason = "exit status " + std::to_string(code);
  }
  close(log_fd);
  std::time_t now = std::time(nullptr);
  bool good = code == 0;
  if (auto s = AppendToFile(status_log, labmesh::agent::StatusResultLine(good, name, now, reason) +
                                            labmesh::agent::StatusEndLine(good, name, now));
      !s.ok()) {
    std::cerr << "labmesh-test: " << s.message() << "\n";
  }
  return code;
}

int Keyval(const std::string& name, const std::vector<std::string>& pairs) {
  std::string results;
  if (!ResultsDir(&results)) {
    return Fail("LABMESH_RESULTS_DIR is not set: run this inside a labmesh job");
  }
  if (!IsValidTestName(name)) return Fail("bad test name '" + name + "'");
  std::string text;
  for (const std::string& kv : pairs) {
    size_t eq = kv.find('=');
    bool ok = eq != std::string::npos && eq > 0 && kv.find('\n') == std::string::npos;
    for (size_t i = 0; ok && i < eq; ++i) {
      char c = kv[i];
      ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
           c == '/' || c == '{' || c == '}';
    }
    if (!ok) return Fail("bad KEY=VALUE '" + kv + "'");
    text += kv + "\n";
  }
  std::string dir = results + "/" + name;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Fail("cannot create " + dir + ": " + ec.message(), 1);
  if (auto s = AppendToFile(dir + "/keyval", text); !s.ok()) return Fail(s.message(), 1);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"labmesh-test: record named tests and key-values inside a labmesh job"};
  app.require_subcommand(1);
  std::string name;
  std::vector<std::string> rest;
  CLI::App* run = app.add_subcommand("run", "run one named test: labmesh-test run NAME -- CMD");
  run->add_option("name", name, "test name")->required();
  run->add_option("command", rest, "the command and its arguments (after --)")->required();
  CLI::App* keyval = app.add_subcommand("keyval", "record KEY=VALUE pairs for a test");
  keyval->add_option("name", name, "test name")->required();
  keyval->add_option("pairs", rest, "KEY=VALUE...")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (run->parsed()) return Run(name, rest);
  return Keyval(name, rest);
}
