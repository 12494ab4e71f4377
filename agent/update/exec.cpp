// Watchdog, re-exec and startup hop; see exec.hpp.

#include "update/exec.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <string.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "update/state.hpp"

namespace labmesh::agent {
namespace fs = std::filesystem;

namespace {

std::vector<char*> CArgs(std::vector<std::string>& args) {
  std::vector<char*> out;
  for (std::string& a : args) out.push_back(a.data());
  out.push_back(nullptr);
  return out;
}

// What an exec'd agent must not inherit from a daemon that blocked its stop signals and
// ignored SIGPIPE (StopSignals): the new image sets up its own.
void ResetSignals() {
  sigset_t all;
  sigemptyset(&all);
  sigaddset(&all, SIGTERM);
  sigaddset(&all, SIGINT);
  sigprocmask(SIG_UNBLOCK, &all, nullptr);
  signal(SIGPIPE, SIG_DFL);
}

bool FileExists(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

std::string AbsoluteWorkDir(const std::string& work_dir) {
  std::error_code ec;
  std::string dir = fs::absolute(work_dir, ec).lexically_normal().string();
  if (!dir.empty() && dir.back() == '/') dir.pop_back();
  return dir;
}

}  // namespace

Status ExecUpdate(const ExecPlan& plan) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::Internal(std::string("pipe: ") + strerror(errno));
  std::vector<std::string> watchdog = {plan.watchdog_exe, "--update-watchdog",
                                       std::to_string(fds[0])};
  watchdog.insert(watchdog.end(), plan.args.begin(), plan.args.end());
  std::vector<char*> watchdog_argv = CArgs(watchdog);
  std::vector<std::string> argv = plan.argv;
  std::vector<char*> new_argv = CArgs(argv);
  spdlog::info("task={} starting the watchdog {} and executing {} (version {})", plan.task_id,
               plan.watchdog_exe, plan.exe, plan.version);
  spdlog::default_logger()->flush();
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return Status::Internal(std::string("fork: ") + strerror(errno));
  }
  if (pid == 0) {
    ResetSignals();
    fcntl(fds[0], F_SETFD, 0);  // the watchdog keeps the read end across its exec
    unsetenv(kTrialFdEnv);
    execv(watchdog_argv[0], watchdog_argv.data());
    _exit(127);
  }
  close(fds[0]);
  fcntl(fds[1], F_SETFD, 0);  // the new version keeps the write end
  setenv(kTrialFdEnv, std::to_string(fds[1]).c_str(), 1);
  unsetenv(kHoppedEnv);
  ResetSignals();
  execv(new_argv[0], new_argv.data());
  const int err = errno;
  unsetenv(kTrialFdEnv);
  close(fds[1]);  // the watchdog sees EOF: it rolls back and starts the previous agent
  return Status::Internal("cannot execute " + plan.exe + ": " + strerror(err));
}

int RunWatchdog(int fd, const AgentConfig& config) {
  const std::string work_dir = AbsoluteWorkDir(config.work_dir);
  auto loaded = LoadUpdateState(work_dir);
  UpdateState state = loaded.ok() ? *loaded : UpdateState{};
  const pid_t agent = static_cast<pid_t>(state.trial.pid > 1 ? state.trial.pid : getppid());
  spdlog::info("watchdog: task={} waiting up to {} ms for version {} (pid {}) to register",
               state.trial.task_id, config.update_trial_ms, state.trial.to_version, agent);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(config.update_trial_ms);
  TrialEvent event = TrialEvent::kTimedOut;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) break;
    pollfd item{fd, POLLIN, 0};
    int ready = poll(&item, 1, static_cast<int>(std::min<int64_t>(left, 1'000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char byte = 0;
    ssize_t n = read(fd, &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n == 1 && byte == kTrialPassed) {
      event = TrialEvent::kPassed;
    } else if (n == 1 && byte == kTrialStopped) {
      event = TrialEvent::kStopped;
    } else {
      event = TrialEvent::kExited;
    }
    break;
  }
  close(fd);
  if (event == TrialEvent::kPassed) {
    spdlog::info("watchdog: task={} version {} registered; done", state.trial.task_id,
                 state.trial.to_version);
    return 0;
  }
  if (event == TrialEvent::kTimedOut) kill(agent, SIGKILL);
  // The agent may have written state.json meanwhile: decide on the newest copy.
  loaded = LoadUpdateState(work_dir);
  if (loaded.ok()) state = *loaded;
  RollbackPlan plan = DecideRollback(event, state, work_dir, config.update_trial_ms, FileExists);
  spdlog::error("watchdog: task={} {}; rolling back to {}", plan.failure.task_id,
                plan.failure.reason, plan.exe.empty() ? "(nothing)" : plan.exe);
  if (Status s = SwitchCurrent(work_dir, plan.link_version); !s.ok()) {
    spdlog::error("watchdog: {}", s.ToString());
  }
  state.failure = plan.failure;
  state.trial = {};
  if (Status s = SaveUpdateState(work_dir, state); !s.ok()) {
    spdlog::error("watchdog: {}", s.ToString());
  }
  if (!plan.exec) return 0;
  if (plan.exe.empty()) {
    spdlog::error("watchdog: no agent to go back to");
    return 1;
  }
  std::vector<std::string> args = {plan.exe};
  args.insert(args.end(), config.exec_args.begin(), config.exec_args.end());
  std::vector<char*> argv = CArgs(args);
  unsetenv(kTrialFdEnv);
  setenv(kHoppedEnv, "1", 1);  // it is the agent to run; it must not hop elsewhere
  spdlog::default_logger()->flush();
  ResetSignals();
  execv(argv[0], argv.data());
  spdlog::error("watchdog: cannot execute {}: {}", plan.exe, strerror(errno));
  return 1;
}

void ApplyStartupRules(const AgentConfig& config) {
  if (getenv(kHoppedEnv) != nullptr || config.update_trial_fd >= 0) return;
  const std::string work_dir = AbsoluteWorkDir(config.work_dir);
  auto loaded = LoadUpdateState(work_dir);
  if (!loaded.ok()) {
    spdlog::error("{}; start-up rules skipped", loaded.status().ToString());
    return;
  }
  const std::string self = SelfExe();
  StartupPlan plan =
      DecideStartup(*loaded, work_dir, self, config.version, config.update_trial_ms, FileExists);
  if (plan.trial_failed) {
    spdlog::error("task={} {}; rolling back (current -> {})", plan.state.failure.task_id,
                  plan.state.failure.reason,
                  plan.link_version.empty() ? "none" : "versions/" + plan.link_version);
  }
  if (plan.package_changed) {
    spdlog::warn("installed agent {} is version {} (recorded: {}): the package wins over {}", self,
                 config.version,
                 loaded->installed_version.empty() ? "none" : loaded->installed_version,
                 CurrentLink(work_dir));
  }
  // The link first, then state.json: a crash in between repeats the same decision next time.
  if (plan.relink) {
    if (Status s = SwitchCurrent(work_dir, plan.link_version); !s.ok()) {
      spdlog::error("{}", s.ToString());
    }
  }
  if (plan.save) {
    if (Status s = SaveUpdateState(work_dir, plan.state); !s.ok()) {
      spdlog::error("{}", s.ToString());
    }
  }
}

void MaybeHopToCurrent(const AgentConfig& config) {
  const bool hopped = getenv(kHoppedEnv) != nullptr;
  unsetenv(kHoppedEnv);
  if (hopped || config.update_trial_fd >= 0) return;
  const std::string work_dir = AbsoluteWorkDir(config.work_dir);
  auto target = HopTarget(work_dir, SelfExe());
  if (!target) return;
  spdlog::info("{} points at another agent; executing {}", CurrentLink(work_dir), *target);
  std::vector<std::string> args = {*target};
  args.insert(args.end(), config.exec_args.begin(), config.exec_args.end());
  std::vector<char*> argv = CArgs(args);
  setenv(kHoppedEnv, "1", 1);
  spdlog::default_logger()->flush();
  execv(argv[0], argv.data());
  unsetenv(kHoppedEnv);
  spdlog::error("cannot execute {}: {}; running this binary", *target, strerror(errno));
}

int TakeTrialFd() {
  const char* text = getenv(kTrialFdEnv);
  if (text == nullptr) return -1;
  char* end = nullptr;
  long fd = strtol(text, &end, 10);
  unsetenv(kTrialFdEnv);
  if (end == text || *end != '\0' || fd < 3 || fcntl(static_cast<int>(fd), F_GETFD) < 0) {
    return -1;
  }
  fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
  return static_cast<int>(fd);
}

Result<std::unique_ptr<DirLock>> LockWorkDir(const AgentConfig& config) {
  const std::string work_dir = AbsoluteWorkDir(config.work_dir);
  std::error_code ec;
  fs::create_directories(work_dir, ec);
  if (ec) return Status::FailedPrecondition("cannot create " + work_dir + ": " + ec.message());
  const bool successor = getenv(kHoppedEnv) != nullptr || config.update_trial_fd >= 0;
  return DirLock::Acquire(work_dir, "agent", successor ? kSuccessorLockWaitMs : 0);
}

Status WritePidFile(const std::string& work_dir) {
  const std::string path = AbsoluteWorkDir(work_dir) + "/agent.pid";
  std::ofstream out(path + ".tmp", std::ios::trunc);
  out << getpid() << "\n";
  out.close();
  if (!out || rename((path + ".tmp").c_str(), path.c_str()) != 0) {
    return Status::Internal("cannot write " + path);
  }
  return Status::Ok();
}

}  // namespace labmesh::agent
