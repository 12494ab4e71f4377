// labmesh-test: the helper a control calls inside a running job (shared/CLI.md "Inside a
// running job"). Single-threaded process of its own; it writes below $LABMESH_RESULTS_DIR.
//   labmesh-test run NAME -- CMD [ARGS...]   one named test: START/GOOD|FAIL/END lines in
//       status.log, output in RESULTS/NAME/output.log (and on our stdout, so the agent's
//       control.log stream shows it), exit status of CMD (128+signal when it was killed)
//   labmesh-test keyval NAME KEY=VALUE...    appends KEY=VALUE lines to RESULTS/NAME/keyval
//   labmesh-test reboot [--timeout D]        reboots the machine through the agent; the control
//       runs again from the top after the boot, where this call (and `run` of a test that
//       finished before it) returns at once (docs/kernel-lab.md)
//   labmesh-test crashinfo --results DIR ...  (the agent's) crash collection into DIR/crashinfo/
//   labmesh-test local CONTROL [--results DIR] [--name NAME]  runs a control on this machine
//       without a coordinator, with a job's environment and results layout, and summarises it
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
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "crashinfo.hpp"
#include "labmesh/common/duration.hpp"
#include "labmesh/parsers/parsers.hpp"
#include "sync_client.hpp"
#include "work/control.hpp"
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

// LABMESH_BOOT_COUNT: reboots of this control that happened (0 outside a job or before any).
uint64_t BootCount() {
  const char* env = std::getenv("LABMESH_BOOT_COUNT");
  return env == nullptr ? 0 : std::strtoull(env, nullptr, 10);
}

// After a reboot the control runs again from the top: a test that finished before the reboot
// (its END in status.log) is not run again; its recorded exit status is returned. -1 = none.
int RecordedExit(const std::string& results, const std::string& name) {
  std::ifstream in(results + "/status.log", std::ios::binary);
  if (!in) return -1;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  labmesh::parsers::ParseOutput parsed;
  labmesh::parsers::ParseStatusLog(text, "status.log", &parsed);
  for (auto it = parsed.results.rbegin(); it != parsed.results.rend(); ++it) {
    if (it->test != name || it->status == labmesh::parsers::kAbort) continue;
    if (it->status == labmesh::parsers::kGood) return 0;
    int value = 0;
    if (std::sscanf(it->reason.c_str(), "exit status %d", &value) == 1) return value;
    if (std::sscanf(it->reason.c_str(), "killed by signal %d", &value) == 1) return 128 + value;
    return 1;
  }
  return -1;
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
  if (uint64_t boots = BootCount(); boots > 0) {
    if (int code = RecordedExit(results, name); code >= 0) {
      std::cout << "labmesh-test: " << name << " finished before reboot " << boots << " (exit "
                << code << "); not run again\n";
      return code;
    }
  }
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

int Reboot(int64_t timeout_ms) {
  auto agent = labmesh::agent::FindLocalAgent();
  if (!agent.ok()) return Fail(agent.status().message(), 1);
  labmesh::protocol::SyncRequest request;
  request.entry_id = agent->entry_id;
  request.op = "reboot";
  request.name = "reboot";
  request.timeout_ms = timeout_ms;
  auto reply = labmesh::agent::AskAgent(agent->endpoint, request, 60'000);
  if (!reply.ok()) return Fail(reply.status().message(), 1);
  if (!reply->ok) return Fail(reply->error, 1);
  std::string answer(reply->value.begin(), reply->value.end());
  if (answer == "done") {
    std::cout << "labmesh-test: reboot done; this is boot " << BootCount() << "\n";
    return 0;
  }
  std::cout << "labmesh-test: rebooting; the control runs again from the top after the boot"
            << std::endl;
  // The reboot ends this process. Should the machine stay up, the coordinator fails the entry
  // at the timeout; this helper gives up a minute later.
  const int64_t wait_ms = (timeout_ms > 0 ? timeout_ms : 10 * 60'000) + 60'000;
  timespec left{static_cast<time_t>(wait_ms / 1000), static_cast<long>(wait_ms % 1000) * 1'000'000};
  while (nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
  return Fail("the machine did not reboot within " + labmesh::FormatDurationMs(wait_ms), 1);
}

// `labmesh-test local`: the control on this machine without any coordinator.
int Local(const std::string& control, std::string results, std::string name) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(control, ec)) return Fail("no control file " + control);
  if (name.empty()) name = std::filesystem::path(control).filename().string();
  if (results.empty()) {
    char stamp[32];
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
    results = "results-" + name + "-" + stamp;
  }
  results = std::filesystem::absolute(results, ec).lexically_normal().string();
  std::filesystem::create_directories(results + "/debug", ec);
  if (ec) return Fail("cannot create " + results + ": " + ec.message(), 1);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  // The job's environment as the agent gives it (work/control.cpp), for a job of one host;
  // LABMESH_SYNC names no agent socket: labmesh-sync and reboot say there is no agent.
  labmesh::protocol::StartEntry start;
  start.job_name = name;
  start.hostname = host;
  start.hosts = {host};
  labmesh::agent::SpoolPaths paths;
  paths.results = results;
  std::string self_dir;
  if (auto exe = std::filesystem::read_symlink("/proc/self/exe", ec); !ec) {
    self_dir = exe.parent_path().string();
  }
  labmesh::agent::ControlContext context{host, results + "/debug", self_dir, 0};
  std::vector<std::string> env_strings =
      labmesh::agent::ControlEnvironment(start, paths, context, environ);
  std::vector<char*> env;
  for (std::string& kv : env_strings) env.push_back(kv.data());
  env.push_back(nullptr);
  std::ifstream script(control, std::ios::binary);
  std::string first(2, '\0');
  script.read(first.data(), 2);
  std::vector<std::string> argv;
  std::string path = std::filesystem::absolute(control, ec).string();
  if (first == "#!" && access(path.c_str(), X_OK) == 0) {
    argv = {path};
  } else {
    argv = {"/bin/sh", path};
  }
  std::string log_path = results + "/debug/control.log";
  int log_fd = open(log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (log_fd < 0) return Fail("cannot open " + log_path + ": " + std::strerror(errno), 1);
  std::time_t started = std::time(nullptr);
  std::string error;
  char** saved = environ;
  environ = env.data();
  int status = RunTee(argv, results, log_fd, &error);
  environ = saved;
  close(log_fd);
  std::time_t ended = std::time(nullptr);
  bool passed = status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  std::string reason = status < 0               ? error
                       : WIFSIGNALED(status)    ? "killed by signal " + std::to_string(WTERMSIG(status))
                       : WEXITSTATUS(status) != 0 ? "exit status " + std::to_string(WEXITSTATUS(status))
                                                  : "";
  // As the agent does for a control that wrote no status.log of its own.
  std::string status_log = results + "/status.log";
  if (!std::filesystem::exists(status_log, ec) || std::filesystem::file_size(status_log, ec) == 0) {
    (void)labmesh::agent::WriteDefaultStatusLog(status_log, name, started, ended, passed, reason);
  }
  labmesh::parsers::ParseOutput parsed = labmesh::parsers::ParseResultsDir(results);
  std::map<std::string, int> counts;
  std::vector<std::string> bad;
  for (const auto& r : parsed.results) {
    counts[r.status]++;
    if (r.status == labmesh::parsers::kFail || r.status == labmesh::parsers::kError ||
        r.status == labmesh::parsers::kAbort) {
      bad.push_back(r.test + " " + r.status + (r.reason.empty() ? "" : ": " + r.reason));
    }
  }
  std::cout << "\nlabmesh-test local: " << name << " " << (passed ? "passed" : "failed")
            << (reason.empty() ? "" : " (" + reason + ")") << "\n";
  std::cout << "  results: " << results << "\n  tests:  " << parsed.results.size();
  for (const auto& [s, n] : counts) std::cout << ", " << n << " " << s;
  std::cout << "\n";
  for (const std::string& line : bad) std::cout << "  " << line << "\n";
  for (const std::string& w : parsed.warnings) std::cout << "  warning: " << w << "\n";
  return passed && bad.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"labmesh-test: record named tests and key-values inside a labmesh job"};
  app.require_subcommand(1);
  std::string name;
  std::vector<std::string> rest;
  CLI::App* run = app.add_subcommand("run", "run one named test: labmesh-test run NAME -- CMD");
  run->add_option("name", name, "test name")->required();
  run->add_option("command", rest, "the command and its arguments (after --)");
  // What follows `run ... --` is the command, word for word: it never reaches CLI11, which
  // would read `[ ... "x" ]` in it as a list (`sh -c '[ ! -e "f" ]'` lost its first words).
  std::vector<std::string> command;
  if (argc > 1 && std::string_view(argv[1]) == "run") {
    for (int i = 2; i < argc; ++i) {
      if (std::string_view(argv[i]) != "--") continue;
      command.assign(argv + i + 1, argv + argc);
      argc = i;
      break;
    }
  }
  CLI::App* keyval = app.add_subcommand("keyval", "record KEY=VALUE pairs for a test");
  keyval->add_option("name", name, "test name")->required();
  keyval->add_option("pairs", rest, "KEY=VALUE...")->required();
  int64_t timeout_ms = 0;
  CLI::App* reboot = app.add_subcommand(
      "reboot", "reboot this machine; the control runs again from the top after the boot");
  reboot->add_option_function<std::string>(
      "--timeout",
      [&timeout_ms](const std::string& text) {
        auto parsed = labmesh::ParseDurationMs(text);
        if (!parsed.ok() || *parsed <= 0 || *parsed > 7 * 24 * 3600 * 1000LL) {
          throw CLI::ValidationError("--timeout", parsed.ok() ? "must be more than 0 and at most 7d"
                                                              : parsed.status().message());
        }
        timeout_ms = *parsed;
      },
      "how long the machine may take to come back (default 10m)");
  labmesh::agent::CrashSources crash;
  CLI::App* crashinfo = app.add_subcommand(
      "crashinfo", "collect crash evidence into DIR/crashinfo/ (the agent runs this)");
  crashinfo->add_option("--results", crash.results, "the entry's results directory")->required();
  crashinfo->add_option("--since-us", crash.since_us, "the entry's start (microseconds)");
  crashinfo->add_option("--pstore-dir", crash.pstore_dir, "pstore mount")
      ->default_val("/sys/fs/pstore");
  crashinfo->add_option("--crash-dir", crash.crash_dir, "crash dumps")->default_val("/var/crash");
  crashinfo->add_option("--systemd-pstore-dir", crash.systemd_pstore_dir,
                        "where systemd-pstore moved pstore's records at boot")
      ->capture_default_str();
  crashinfo->add_flag("--previous-boot", crash.previous_boot,
                      "the machine rebooted unexpectedly: keep the previous boot's kernel log");
  std::string control, results;
  CLI::App* local = app.add_subcommand(
      "local", "run a control here without a coordinator, with a job's environment and results");
  local->add_option("control", control, "the control file")->required();
  local->add_option("--results", results, "results directory (default results-NAME-TIME)");
  local->add_option("--name", name, "the job's name (default: the control's file name)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (run->parsed()) {
    if (!command.empty()) rest = std::move(command);
    if (rest.empty()) {
      std::cerr << "labmesh-test run: give the command after --: labmesh-test run NAME -- CMD\n";
      return 2;
    }
    return Run(name, rest);
  }
  if (reboot->parsed()) return Reboot(timeout_ms);
  if (crashinfo->parsed()) return labmesh::agent::CollectCrashInfo(crash);
  if (local->parsed()) return Local(control, results, name);
  return Keyval(name, rest);
}
