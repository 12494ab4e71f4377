#pragma once
// Test support for end-to-end tests: the real labmesh-coordinator, labmesh-agent and labmesh
// binaries as processes over 127.0.0.1. Ports are chosen by the kernel (tcp://127.0.0.1:* and
// port 0) and read back from DATA_DIR/coordinator.endpoints, so parallel tests never collide;
// a restarted coordinator binds the same ports again.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pg_test_db.hpp"
#include "process.hpp"

namespace labmesh::testing {

std::string CoordinatorBinary();
std::string AgentBinary();
std::string CliBinary();

class E2eCluster {
 public:
  // Fast timings so that Dead detection and reconnects happen within a test's deadline.
  static constexpr const char* kHeartbeat = "200ms";
  static constexpr const char* kDeadAfter = "2s";

  explicit E2eCluster(std::vector<std::string> coordinator_flags = {"--auto-accept"});
  ~E2eCluster();

  // Starts the coordinator and waits until it has written its endpoints (bound).
  void StartCoordinator();
  // SIGTERM (clean) or SIGKILL; returns the exit code.
  std::optional<int> StopCoordinator(int sig);
  Process& coordinator() { return *coordinator_; }
  std::vector<std::string>& coordinator_flags() { return coordinator_flags_; }

  // Starts an agent named `hostname` with its own work dir; extra flags appended.
  Process& StartAgent(const std::string& hostname, std::vector<std::string> extra_flags = {});
  // The same agent command line run by `wrapper` (e.g. {"/bin/sh", "supervise.sh", ...}: the
  // agent's argv is appended to it), in the agent's slot and process group.
  Process& StartAgentWrapped(const std::string& hostname, std::vector<std::string> wrapper,
                             std::vector<std::string> extra_flags = {});
  Process& agent(const std::string& hostname) { return *agents_.at(hostname); }
  void KillAgent(const std::string& hostname, int sig);
  // Where the agent of `hostname` finds its verify/repair/cleanup executables ("verify",
  // "repair", "cleanup"); the directories do not exist until a test writes a script there.
  std::string ScriptDir(const std::string& hostname, const std::string& kind) const;
  std::string AgentWorkDir(const std::string& hostname) const;

  // Runs `labmesh --api <api> --token T args...` with a HOME of its own (no credentials file,
  // no LABMESH_* from the test's environment). T is the admin's token, or with `--user NAME` in
  // `args` that user's (made an admin on first use unless AddUser made it); `--token` in `args`
  // wins.
  CommandResult Cli(std::vector<std::string> args);
  // The same without any credentials added (for tests of authentication itself).
  CommandResult CliAs(const std::string& token, std::vector<std::string> args);
  // Creates a user through the CLI (as the admin) and returns its token ("" on failure).
  std::string AddUser(const std::string& name, bool admin);
  // The token the coordinator's first start wrote to DATA_DIR/keys/admin.token.
  std::string AdminToken() const;
  // `labmesh --json host list` parsed; empty array when it failed.
  nlohmann::json Hosts();
  // `labmesh --json host show NAME`, or nullopt when it failed.
  std::optional<nlohmann::json> Host(const std::string& hostname);
  bool WaitForStatus(const std::string& hostname, const std::string& status,
                     std::chrono::milliseconds timeout = std::chrono::seconds(20));

  const std::string& data_dir() const { return data_dir_; }
  // `labmesh-coordinator --check` of this cluster's data directory and store.
  std::vector<std::string> CheckCommand() const {
    std::vector<std::string> argv = {CoordinatorBinary(), "--check", data_dir_};
    if (database_) argv.insert(argv.end(), {"--store", database_->url()});
    return argv;
  }
  // The coordinator's --store: "" (LMDB in data_dir) or, in the PostgreSQL run, its database.
  std::string store() const { return database_ ? database_->url() : ""; }
  const std::string& agent_endpoint() const { return agent_endpoint_; }
  const std::string& api_endpoint() const { return api_endpoint_; }
  const std::string& http_endpoint() const { return http_endpoint_; }  // host:port
  // Before the first StartCoordinator: the web server's --http-listen (default 127.0.0.1:0).
  void set_http_endpoint(const std::string& listen) { http_endpoint_ = listen; }
  // Where Cli() sends its requests from now on (another coordinator of the same store).
  void set_api_endpoint(const std::string& api) { api_endpoint_ = api; }
  std::string key_path() const { return data_dir_ + "/keys/coordinator.pub"; }
  std::string public_key() const;
  const std::string& root() const { return tmp_.path(); }

 private:
  TempDir tmp_;
  // In the PostgreSQL run (pg_test_db.hpp) the coordinator keeps its store in this database.
  std::unique_ptr<TestDatabase> database_;
  std::string data_dir_;
  std::vector<std::string> coordinator_flags_;
  std::unique_ptr<Process> coordinator_;
  int coordinator_runs_ = 0;
  std::map<std::string, std::unique_ptr<Process>> agents_;
  std::map<std::string, std::string> tokens_;  // user -> token, of users the tests made
  std::string agent_endpoint_ = "tcp://127.0.0.1:*";
  std::string api_endpoint_ = "tcp://127.0.0.1:*";
  std::string http_endpoint_ = "127.0.0.1:0";
};

}  // namespace labmesh::testing
