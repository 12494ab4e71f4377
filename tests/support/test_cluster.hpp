#pragma once
// TestCluster: an in-process labmesh built from the production classes - one
// coordinator::Coordinator and N agent::Agent, each running its Run() loop on its own thread,
// talking over real ZeroMQ sockets on tcp://127.0.0.1:* (ports chosen by the kernel and read
// back from endpoints()). Every process-to-be gets its own temporary directory.
//
// Threads: the cluster's methods are called by the test thread only. Each daemon's Run() owns
// its sockets on its own thread; the cluster reaches a daemon only through Stop() and the
// thread-safe accessors (Agent::state(), Coordinator::endpoints()).
//
// Time: the daemons share one Clock (the real one unless the options say otherwise). Sockets
// and their reconnection timers are real, so cluster tests wait for conditions with deadlines;
// tests that want a fake clock drive AgentService / ApiService directly instead.
//
// LMDB allows one open environment per directory per process: RestartCoordinator() destroys
// the running coordinator (closing its store) before it starts the next one on the same data
// directory and the same ports.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "labmesh/agent/agent.hpp"
#include "labmesh/agent/config.hpp"
#include "labmesh/client/api_client.hpp"
#include "labmesh/common/clock.hpp"
#include "labmesh/common/status.hpp"
#include "labmesh/coordinator/config.hpp"
#include "labmesh/coordinator/coordinator.hpp"
#include "labmesh/protocol/messages.hpp"
#include "process.hpp"

namespace labmesh::testing {

// Every log line of the process (spdlog's default logger), kept so that a test can wait for
// an event that shows only in the logs (an agent giving up on a hello, a refused handshake).
// Installed once per process, before any daemon thread starts; never removed, so no thread can
// ever log into a sink that is going away.
class CapturedLogs {
 public:
  static CapturedLogs& Get();
  // True when some line captured since the last Clear() contains `text`.
  bool Contains(std::string_view text) const;
  // How many lines captured since the last Clear() contain `text`.
  size_t Count(std::string_view text) const;
  // The captured lines that contain `text`, oldest first.
  std::vector<std::string> Lines(std::string_view text) const;
  void Clear();
  // Called by the sink.
  void Append(std::string line);

 private:
  CapturedLogs() = default;
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

struct TestClusterOptions {
  size_t agents = 3;
  // Enrollment policy of the coordinator.
  bool auto_accept = true;
  std::string enroll_token;
  // Fast timings: Dead detection and reconnects within a test's deadline.
  int64_t heartbeat_interval_ms = 100;
  int64_t dead_after_ms = 1'000;
  int64_t restart_grace_ms = 0;
  int64_t heartbeat_flush_ms = 200;
  // Agents: the first hello deadline and the reconnect backoff, kept short.
  int64_t hello_timeout_ms = 1'000;
  int64_t reconnect_initial_ms = 50;
  int64_t reconnect_max_ms = 500;
  // The web server is off unless asked for (then it listens on 127.0.0.1:0).
  bool http = false;
  const Clock* clock = SystemClock::Default();
};

class TestCluster {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{15'000};

  // Clears CapturedLogs: what a test finds there comes from its own cluster.
  explicit TestCluster(TestClusterOptions options = {});
  // Stops every agent, then the coordinator, and joins their threads.
  ~TestCluster();
  TestCluster(const TestCluster&) = delete;
  TestCluster& operator=(const TestCluster&) = delete;

  // Starts the coordinator and then options.agents agents (lab-0 .. lab-N-1).
  Status Start();

  // ---- the coordinator ----
  // Starts it on the ports of its previous run (tcp://127.0.0.1:* the first time).
  Status StartCoordinator();
  // Stop(), join the loop thread, destroy it (closes the store). Returns what Run() returned.
  Status StopCoordinator();
  // StopCoordinator() + StartCoordinator(): same data directory, same ports, agents untouched.
  Status RestartCoordinator();
  coordinator::Coordinator* coordinator() { return coordinator_.get(); }
  const coordinator::CoordinatorConfig& coordinator_config() const { return coordinator_config_; }
  coordinator::CoordinatorConfig& mutable_coordinator_config() { return coordinator_config_; }
  const std::string& agent_endpoint() const { return agent_endpoint_; }
  const std::string& api_endpoint() const { return api_endpoint_; }
  const std::string& http_endpoint() const { return http_endpoint_; }
  const std::string& coordinator_key() const { return coordinator_key_; }
  const std::string& data_dir() const { return coordinator_config_.data_dir; }

  // ---- agents ----
  // Adds agent number size() with hostname "lab-<i>" (unless `tweak` changes it) and its own
  // work dir, lets `tweak` edit its config, and starts it. Returns its index.
  Result<size_t> AddAgent(const std::function<void(agent::AgentConfig&)>& tweak = {});
  // Starts agent i again after StopAgent(i): same work dir (same key), new incarnation.
  Status StartAgent(size_t i);
  // Stop(), join, destroy. The host then falls silent (and turns Dead after dead_after_ms).
  void StopAgent(size_t i);
  size_t agent_count() const { return agents_.size(); }
  agent::Agent* agent(size_t i) { return agents_.at(i)->agent.get(); }
  agent::AgentConfig& agent_config(size_t i) { return agents_.at(i)->config; }
  const std::string& hostname(size_t i) const { return agents_.at(i)->config.hostname; }
  // Waits until agent i is in `state`.
  bool WaitForAgentState(size_t i, agent::AgentState state,
                         std::chrono::milliseconds timeout = kDefaultTimeout);

  // ---- the API, as the CLI sees it ----
  client::ApiClient& api() { return *api_; }
  // `host list` (accepted hosts), optionally filtered by status.
  Result<std::vector<protocol::HostInfo>> Hosts(const std::string& status = "");
  Result<std::vector<protocol::HostInfo>> PendingHosts();
  Result<protocol::HostInfo> Host(const std::string& hostname);
  Status HostAction(const std::string& hostname, const std::string& action,
                    const std::string& reason = "");

  enum class Link { kAny, kConnected, kDisconnected };
  // Waits until exactly `n` hosts are listed with `status` (and, unless kAny, with that
  // connection state). After a coordinator restart the loaded hosts keep their stored status
  // but are not connected until their agent registers again: ask for kConnected then.
  bool WaitForHosts(size_t n, const std::string& status = "Ready", Link link = Link::kAny,
                    std::chrono::milliseconds timeout = kDefaultTimeout);
  // Waits until host `hostname` has `status` (and the given connection state).
  bool WaitForHostStatus(const std::string& hostname, const std::string& status,
                         Link link = Link::kAny,
                         std::chrono::milliseconds timeout = kDefaultTimeout);

  const std::string& root() const { return tmp_.path(); }

 private:
  struct AgentSlot {
    agent::AgentConfig config;
    std::unique_ptr<agent::Agent> agent;
    std::thread thread;
    Status run_status;
  };

  agent::AgentConfig DefaultAgentConfig(size_t i) const;

  TestClusterOptions options_;
  TempDir tmp_;
  coordinator::CoordinatorConfig coordinator_config_;
  std::unique_ptr<coordinator::Coordinator> coordinator_;
  std::thread coordinator_thread_;
  Status coordinator_run_status_;
  std::string agent_endpoint_;
  std::string api_endpoint_;
  std::string http_endpoint_;
  std::string coordinator_key_;
  std::vector<std::unique_ptr<AgentSlot>> agents_;
  zmq::context_t api_context_;
  std::unique_ptr<client::ApiClient> api_;
};

std::string_view LinkName(TestCluster::Link link);

}  // namespace labmesh::testing
