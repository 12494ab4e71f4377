#include "test_cluster.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>

namespace labmesh::testing {
namespace {

constexpr int64_t kApiTimeoutMs = 2'000;
// A restarted coordinator binds the ports its previous run just released; give the kernel a
// moment should one still be held.
constexpr std::chrono::milliseconds kRebindTimeout{5'000};

class CaptureSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    CapturedLogs::Get().Append(fmt::to_string(formatted));
  }
  void flush_() override {}
};

}  // namespace

CapturedLogs& CapturedLogs::Get() {
  static CapturedLogs* logs = [] {
    auto* created = new CapturedLogs();
    spdlog::default_logger()->sinks().push_back(std::make_shared<CaptureSink>());
    return created;
  }();
  return *logs;
}

bool CapturedLogs::Contains(std::string_view text) const { return Count(text) > 0; }

size_t CapturedLogs::Count(std::string_view text) const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<size_t>(std::count_if(lines_.begin(), lines_.end(), [&](const auto& line) {
    return line.find(text) != std::string::npos;
  }));
}

std::vector<std::string> CapturedLogs::Lines(std::string_view text) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& line : lines_) {
    if (line.find(text) != std::string::npos) out.push_back(line);
  }
  return out;
}

void CapturedLogs::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  lines_.clear();
}

void CapturedLogs::Append(std::string line) {
  std::lock_guard<std::mutex> lock(mu_);
  lines_.push_back(std::move(line));
}

std::string_view LinkName(TestCluster::Link link) {
  switch (link) {
    case TestCluster::Link::kAny: return "any";
    case TestCluster::Link::kConnected: return "connected";
    case TestCluster::Link::kDisconnected: return "disconnected";
  }
  return "?";
}

TestCluster::TestCluster(TestClusterOptions options) : options_(std::move(options)) {
  CapturedLogs::Get().Clear();  // installed before any daemon thread logs
  coordinator_config_.data_dir = tmp_.path() + "/coordinator";
  coordinator_config_.agent_listen = "tcp://127.0.0.1:*";
  coordinator_config_.api_listen = "tcp://127.0.0.1:*";
  coordinator_config_.http_listen = options_.http ? "127.0.0.1:0" : "";
  coordinator_config_.heartbeat_interval_ms = options_.heartbeat_interval_ms;
  coordinator_config_.dead_after_ms = options_.dead_after_ms;
  coordinator_config_.restart_grace_ms = options_.restart_grace_ms;
  coordinator_config_.heartbeat_flush_ms = options_.heartbeat_flush_ms;
  coordinator_config_.enroll_token = options_.enroll_token;
  coordinator_config_.auto_accept = options_.auto_accept;
}

TestCluster::~TestCluster() {
  for (size_t i = 0; i < agents_.size(); ++i) StopAgent(i);
  (void)StopCoordinator();
}

Status TestCluster::Start() {
  LABMESH_RETURN_IF_ERROR(StartCoordinator());
  for (size_t i = 0; i < options_.agents; ++i) {
    auto added = AddAgent();
    if (!added.ok()) return added.status();
  }
  return Status::Ok();
}

Status TestCluster::StartCoordinator() {
  if (coordinator_) return Status::FailedPrecondition("the coordinator is already running");
  auto deadline = std::chrono::steady_clock::now() + kRebindTimeout;
  Result<std::unique_ptr<coordinator::Coordinator>> started =
      Status::Internal("not started");
  for (;;) {
    started = coordinator::Coordinator::Start(coordinator_config_, options_.clock);
    if (started.ok()) break;
    // Only a port still held by the previous run is worth another try.
    bool retry = started.status().code() == StatusCode::kUnavailable &&
                 !agent_endpoint_.empty() && std::chrono::steady_clock::now() < deadline;
    if (!retry) return started.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  coordinator_ = std::move(started).value();
  const coordinator::BoundEndpoints& bound = coordinator_->endpoints();
  agent_endpoint_ = bound.agent;
  api_endpoint_ = bound.api;
  http_endpoint_ = bound.http;
  coordinator_key_ = coordinator_->public_key();
  // The next start binds the very same ports, as a restarted daemon with a fixed config would.
  coordinator_config_.agent_listen = bound.agent;
  coordinator_config_.api_listen = bound.api;
  if (!bound.http.empty()) coordinator_config_.http_listen = bound.http;
  coordinator_run_status_ = Status::Ok();
  coordinator_thread_ = std::thread([this] { coordinator_run_status_ = coordinator_->Run(); });
  if (!api_) api_ = std::make_unique<client::ApiClient>(api_context_, api_endpoint_, kApiTimeoutMs);
  // As the admin the first start created (docs/security.md).
  std::ifstream token_file(coordinator_config_.data_dir + "/keys/admin.token");
  std::string token;
  std::getline(token_file, token);
  if (token.empty()) return Status::Internal("no admin token in " + coordinator_config_.data_dir);
  api_->set_credentials(protocol::Credentials{"", token, "", "", ""});
  return Status::Ok();
}

Status TestCluster::StopCoordinator() {
  if (!coordinator_) return Status::Ok();
  coordinator_->Stop();
  if (coordinator_thread_.joinable()) coordinator_thread_.join();
  coordinator_.reset();  // closes the LMDB environment before anyone opens it again
  return coordinator_run_status_;
}

Status TestCluster::RestartCoordinator() {
  LABMESH_RETURN_IF_ERROR(StopCoordinator());
  return StartCoordinator();
}

agent::AgentConfig TestCluster::DefaultAgentConfig(size_t i) const {
  agent::AgentConfig config;
  config.coordinator = agent_endpoint_;
  config.coordinator_key = coordinator_key_;
  config.hostname = "lab-" + std::to_string(i);
  config.work_dir = tmp_.path() + "/agent-" + std::to_string(i);
  config.peer_listen = "tcp://127.0.0.1:0";  // the package mesh on loopback only
  config.heartbeat_interval_ms = options_.heartbeat_interval_ms;
  config.hello_timeout_ms = options_.hello_timeout_ms;
  config.reconnect_initial_ms = options_.reconnect_initial_ms;
  config.reconnect_max_ms = options_.reconnect_max_ms;
  config.verify_dir = tmp_.path() + "/agent-" + std::to_string(i) + "/verify.d";
  config.repair_dir = tmp_.path() + "/agent-" + std::to_string(i) + "/repair.d";
  config.cleanup_dir = tmp_.path() + "/agent-" + std::to_string(i) + "/cleanup.d";
  return config;
}

Result<size_t> TestCluster::AddAgent(const std::function<void(agent::AgentConfig&)>& tweak) {
  if (agent_endpoint_.empty()) {
    return Status::FailedPrecondition("start the coordinator before adding agents");
  }
  size_t i = agents_.size();
  auto slot = std::make_unique<AgentSlot>();
  slot->config = DefaultAgentConfig(i);
  if (tweak) tweak(slot->config);
  agents_.push_back(std::move(slot));
  LABMESH_RETURN_IF_ERROR(StartAgent(i));
  return i;
}

Status TestCluster::StartAgent(size_t i) {
  AgentSlot& slot = *agents_.at(i);
  if (slot.agent) return Status::FailedPrecondition("agent " + std::to_string(i) + " is running");
  auto created = agent::Agent::Create(slot.config, options_.clock);
  if (!created.ok()) return created.status();
  slot.agent = std::move(created).value();
  slot.run_status = Status::Ok();
  slot.thread = std::thread([&slot] { slot.run_status = slot.agent->Run(); });
  return Status::Ok();
}

void TestCluster::StopAgent(size_t i) {
  AgentSlot& slot = *agents_.at(i);
  if (!slot.agent) return;
  slot.agent->Stop();
  if (slot.thread.joinable()) slot.thread.join();
  slot.agent.reset();
}

bool TestCluster::WaitForAgentState(size_t i, agent::AgentState state,
                                    std::chrono::milliseconds timeout) {
  return WaitFor([&] { return agent(i) != nullptr && agent(i)->state() == state; }, timeout);
}

Result<std::vector<protocol::HostInfo>> TestCluster::Hosts(const std::string& status) {
  if (!api_) return Status::FailedPrecondition("the coordinator was never started");
  protocol::HostListRequest request;
  request.status = status;
  auto reply = api_->Call<protocol::HostListReply>(request);
  if (!reply.ok()) return reply.status();
  return std::move(reply->hosts);
}

Result<std::vector<protocol::HostInfo>> TestCluster::PendingHosts() {
  if (!api_) return Status::FailedPrecondition("the coordinator was never started");
  auto reply = api_->Call<protocol::HostListReply>(protocol::HostPendingRequest{});
  if (!reply.ok()) return reply.status();
  return std::move(reply->hosts);
}

Result<protocol::HostInfo> TestCluster::Host(const std::string& hostname) {
  if (!api_) return Status::FailedPrecondition("the coordinator was never started");
  auto reply = api_->Call<protocol::HostShowReply>(protocol::HostShowRequest{hostname});
  if (!reply.ok()) return reply.status();
  return std::move(reply->host);
}

Status TestCluster::HostAction(const std::string& hostname, const std::string& action,
                               const std::string& reason) {
  if (!api_) return Status::FailedPrecondition("the coordinator was never started");
  protocol::HostActionRequest request;
  request.hostname = hostname;
  request.action = action;
  request.reason = reason;
  request.user = "test";
  auto reply = api_->Call<protocol::OkReply>(request);
  return reply.ok() ? Status::Ok() : reply.status();
}

namespace {

bool LinkMatches(const protocol::HostInfo& host, TestCluster::Link link) {
  switch (link) {
    case TestCluster::Link::kAny: return true;
    case TestCluster::Link::kConnected: return host.connected;
    case TestCluster::Link::kDisconnected: return !host.connected;
  }
  return false;
}

}  // namespace

bool TestCluster::WaitForHosts(size_t n, const std::string& status, Link link,
                               std::chrono::milliseconds timeout) {
  return WaitFor(
      [&] {
        auto hosts = Hosts(status);
        if (!hosts.ok()) return false;
        return static_cast<size_t>(std::count_if(hosts->begin(), hosts->end(), [&](const auto& h) {
                 return LinkMatches(h, link);
               })) == n &&
               hosts->size() == n;
      },
      timeout);
}

bool TestCluster::WaitForHostStatus(const std::string& hostname, const std::string& status,
                                    Link link, std::chrono::milliseconds timeout) {
  return WaitFor(
      [&] {
        auto host = Host(hostname);
        return host.ok() && host->status == status && LinkMatches(*host, link);
      },
      timeout);
}

}  // namespace labmesh::testing
