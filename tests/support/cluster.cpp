#include "cluster.hpp"

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace labmesh::testing {

std::string CoordinatorBinary() { return LABMESH_COORDINATOR_BIN; }
std::string AgentBinary() { return LABMESH_AGENT_BIN; }
std::string CliBinary() { return LABMESH_CLI_BIN; }

namespace {

std::map<std::string, std::string> ParseEndpoints(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

}  // namespace

E2eCluster::E2eCluster(std::vector<std::string> coordinator_flags)
    : data_dir_(tmp_.path() + "/coordinator"), coordinator_flags_(std::move(coordinator_flags)) {
  if (PgMode()) database_ = std::make_unique<TestDatabase>();
}

E2eCluster::~E2eCluster() {
  for (auto& [name, agent] : agents_) agent->Signal(SIGKILL);
  if (coordinator_) coordinator_->Signal(SIGKILL);
}

void E2eCluster::StartCoordinator() {
  std::string endpoints_file = data_dir_ + "/coordinator.endpoints";
  std::filesystem::remove(endpoints_file);
  std::vector<std::string> argv = {CoordinatorBinary(),
                                   "--data-dir", data_dir_,
                                   "--agent-listen", agent_endpoint_,
                                   "--api-listen", api_endpoint_,
                                   "--http-listen", http_endpoint_,
                                   "--heartbeat-interval", kHeartbeat,
                                   "--dead-after", kDeadAfter,
                                   "--heartbeat-flush", "200ms"};
  if (database_) argv.insert(argv.end(), {"--store", database_->url()});
  argv.insert(argv.end(), coordinator_flags_.begin(), coordinator_flags_.end());
  ++coordinator_runs_;
  coordinator_ = std::make_unique<Process>(
      argv, tmp_.path() + "/coordinator-" + std::to_string(coordinator_runs_) + ".log");
  bool bound = WaitFor([&] {
    return std::filesystem::exists(endpoints_file) || !coordinator_->Running();
  });
  if (!bound || !coordinator_->Running()) {
    throw std::runtime_error("coordinator did not start:\n" + coordinator_->Log());
  }
  auto endpoints = ParseEndpoints(ReadFile(endpoints_file));
  // Later starts reuse the ports the kernel gave the first one.
  agent_endpoint_ = endpoints["agent"];
  api_endpoint_ = endpoints["api"];
  http_endpoint_ = endpoints["http"];
}

std::optional<int> E2eCluster::StopCoordinator(int sig) {
  coordinator_->Signal(sig);
  return coordinator_->Wait();
}

std::string E2eCluster::AgentWorkDir(const std::string& hostname) const {
  return tmp_.path() + "/agent-" + hostname;
}

std::string E2eCluster::public_key() const {
  std::string key = ReadFile(key_path());
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  return key;
}

Process& E2eCluster::StartAgent(const std::string& hostname, std::vector<std::string> extra_flags) {
  return StartAgentWrapped(hostname, {}, std::move(extra_flags));
}

Process& E2eCluster::StartAgentWrapped(const std::string& hostname,
                                       std::vector<std::string> wrapper,
                                       std::vector<std::string> extra_flags) {
  // Defaults, each replaced when the test passes the same flag.
  std::vector<std::pair<std::string, std::string>> defaults = {
      {"--coordinator", agent_endpoint_},     {"--coordinator-key", key_path()},
      {"--hostname", hostname},               {"--work-dir", AgentWorkDir(hostname)},
      {"--heartbeat-interval", kHeartbeat},   {"--address", "127.0.0.1"},
      {"--peer-listen", "tcp://127.0.0.1:0"},
      {"--verify-dir", ScriptDir(hostname, "verify")},
      {"--repair-dir", ScriptDir(hostname, "repair")},
      {"--cleanup-dir", ScriptDir(hostname, "cleanup")}};
  std::vector<std::string> argv = std::move(wrapper);
  argv.push_back(AgentBinary());
  for (const auto& [flag, value] : defaults) {
    if (std::find(extra_flags.begin(), extra_flags.end(), flag) == extra_flags.end()) {
      argv.push_back(flag);
      argv.push_back(value);
    }
  }
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  auto& slot = agents_[hostname];
  if (slot) slot->Signal(SIGKILL), slot->Wait();
  // In a process group of its own: a rollback's agent (started by the update watchdog) dies
  // with it at the end of the test.
  slot = std::make_unique<Process>(argv, tmp_.path() + "/agent-" + hostname + ".log",
                                   std::map<std::string, std::string>{}, /*own_group=*/true);
  return *slot;
}

std::string E2eCluster::ScriptDir(const std::string& hostname, const std::string& kind) const {
  return tmp_.path() + "/scripts-" + hostname + "/" + kind + ".d";
}

void E2eCluster::KillAgent(const std::string& hostname, int sig) {
  auto& agent = agents_.at(hostname);
  agent->Signal(sig);
  agent->Wait();
}

std::string E2eCluster::AdminToken() const {
  std::ifstream in(data_dir_ + "/keys/admin.token");
  std::string token;
  std::getline(in, token);
  return token;
}

CommandResult E2eCluster::CliAs(const std::string& token, std::vector<std::string> args) {
  std::vector<std::string> argv = {CliBinary(), "--api", api_endpoint_};
  if (!token.empty()) {
    argv.push_back("--token");
    argv.push_back(token);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  std::string home = tmp_.path() + "/cli-home";
  std::filesystem::create_directories(home);
  // Long enough for the longest `job wait --timeout` a test gives (JobsE2e::Wait, 60 s): this
  // only stops a client that hangs.
  return RunCommand(argv, std::chrono::seconds(90),
                    {{"HOME", home},
                     {"XDG_CONFIG_HOME", ""},
                     {"LABMESH_USER", ""},
                     {"LABMESH_TOKEN", ""},
                     {"LABMESH_CREDENTIALS", "none"},
                     {"LABMESH_SERVER_KEY", ""}});
}

std::string E2eCluster::AddUser(const std::string& name, bool admin) {
  std::vector<std::string> args = {"--json", "user", "create", name};
  if (admin) args.push_back("--admin");
  auto created = CliAs(AdminToken(), args);
  auto parsed = nlohmann::json::parse(created.out, nullptr, false);
  if (created.exit_code != 0 || !parsed.is_object() || !parsed.contains("token")) return "";
  std::string token = parsed["token"].get<std::string>();
  tokens_[name] = token;
  return token;
}

CommandResult E2eCluster::Cli(std::vector<std::string> args) {
  if (std::find(args.begin(), args.end(), "--token") != args.end()) return CliAs("", args);
  auto user = std::find(args.begin(), args.end(), "--user");
  if (user == args.end() || user + 1 == args.end() || *(user + 1) == "admin") {
    return CliAs(AdminToken(), args);
  }
  auto known = tokens_.find(*(user + 1));
  std::string token = known != tokens_.end() ? known->second : AddUser(*(user + 1), true);
  return CliAs(token, args);
}

nlohmann::json E2eCluster::Hosts() {
  auto result = Cli({"--json", "host", "list"});
  if (result.exit_code != 0) return nlohmann::json::array();
  auto parsed = nlohmann::json::parse(result.out, nullptr, false);
  return parsed.is_array() ? parsed : nlohmann::json::array();
}

std::optional<nlohmann::json> E2eCluster::Host(const std::string& hostname) {
  auto result = Cli({"--json", "host", "show", hostname});
  if (result.exit_code != 0) return std::nullopt;
  auto parsed = nlohmann::json::parse(result.out, nullptr, false);
  if (!parsed.is_object()) return std::nullopt;
  return parsed;
}

bool E2eCluster::WaitForStatus(const std::string& hostname, const std::string& status,
                               std::chrono::milliseconds timeout) {
  return WaitFor(
      [&] {
        auto host = Host(hostname);
        return host && (*host)["status"] == status;
      },
      timeout);
}

}  // namespace labmesh::testing
