#include "process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace labmesh::testing {
namespace {

std::vector<std::string> MergedEnv(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : extra) env[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

pid_t Spawn(std::vector<std::string> argv, const std::string& out_path,
            const std::string& err_path, const std::map<std::string, std::string>& env,
            bool own_group = false) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // The child starts with no signal blocked, whatever the test runner blocks.
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | (own_group ? POSIX_SPAWN_SETPGROUP : 0));
  std::vector<std::string> env_strings = MergedEnv(env);
  auto args = CStrings(argv);
  auto envp = CStrings(env_strings);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("cannot spawn " + argv[0]);
  return pid;
}

// GCC links UBSan as a runtime of its own beside ASan's, and that runtime never reads
// log_path: its reports go to stderr only, which for a spawned daemon is a log file in a temp
// directory the test removes. When the sanitizer runs name a report directory
// (LABMESH_SANITIZER_REPORT_DIR, scripts/test.sh), a child's output holding a UBSan report is
// copied there, so that scripts/test.sh finds it beside the ASan, LSan and TSan reports.
void KeepSanitizerReport(const std::string& output_path, const std::string& program, pid_t pid) {
  const char* dir = std::getenv("LABMESH_SANITIZER_REPORT_DIR");
  if (dir == nullptr || *dir == '\0') return;
  std::string output = ReadFile(output_path);
  if (output.find(": runtime error: ") == std::string::npos) return;
  std::string name = std::filesystem::path(program).filename().string();
  std::ofstream(std::string(dir) + "/report." + name + "." + std::to_string(pid) + ".ubsan")
      << output;
}

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::chrono::milliseconds Scaled(std::chrono::milliseconds timeout) {
  static const double scale = [] {
    const char* text = std::getenv("LABMESH_TEST_TIME_SCALE");
    if (text == nullptr || *text == '\0') return 1.0;
    char* end = nullptr;
    double value = std::strtod(text, &end);
    if (*end != '\0' || !(value >= 1.0 && value <= 100.0)) {
      throw std::runtime_error("LABMESH_TEST_TIME_SCALE must be a number from 1 to 100, not '" +
                               std::string(text) + "'");
    }
    return value;
  }();
  return std::chrono::milliseconds(static_cast<std::int64_t>(timeout.count() * scale));
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + Scaled(timeout);
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Process::Process(std::vector<std::string> argv, std::string log_path,
                 std::map<std::string, std::string> env, bool own_group)
    : own_group_(own_group), program_(argv.at(0)), log_path_(std::move(log_path)) {
  pid_ = Spawn(std::move(argv), log_path_, log_path_, env, own_group);
}

Process::~Process() {
  if (Running()) {
    Signal(SIGKILL);
    Wait(std::chrono::seconds(10));
  }
  if (own_group_) kill(-pid_, SIGKILL);  // whatever is left of its process group
  KeepSanitizerReport(log_path_, program_, pid_);
}

bool Process::Running() {
  if (exit_code_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = DecodeWaitStatus(status);
    return false;
  }
  return r == 0;
}

void Process::Signal(int sig) {
  if (!exit_code_) kill(pid_, sig);
}

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  WaitFor([&] { return !Running(); }, timeout);
  return exit_code_;
}

int FreeLoopbackPort() {
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> pick(20000, 32767);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int port = pick(random);
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    if (bound) return port;
  }
  return 0;
}

std::string Process::Log() const { return ReadFile(log_path_); }

CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const std::map<std::string, std::string>& env) {
  TempDir dir;
  std::string out = dir.path() + "/out", err = dir.path() + "/err";
  pid_t pid = Spawn(argv, out, err, env);
  CommandResult result;
  int status = 0;
  bool done = WaitFor([&] { return waitpid(pid, &status, WNOHANG) == pid; }, timeout);
  if (!done) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    result.exit_code = -1;
  } else {
    result.exit_code = DecodeWaitStatus(status);
  }
  KeepSanitizerReport(err, argv.at(0), pid);
  result.out = ReadFile(out);
  result.err = ReadFile(err);
  return result;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  // mkdtemp replaces the six trailing X.
  std::string tmpl = std::string(base ? base : "/tmp") + "/labmesh-test-" + std::string(6, 'X');
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace labmesh::testing
