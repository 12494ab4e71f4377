#pragma once
// AgentService: everything that arrives on the agent socket - registration (enrollment policy,
// labels, key checks) and heartbeats - plus the periodic dead-host check. Work messages go to
// the Core.
//
// Called only by the event-loop thread. Host records change only through the HostRegistry,
// staged into the loop turn's Batch; registration replies leave after its commit. Replies that
// need no commit go out at once through the Outbox the loop provides.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "host_registry.hpp"
#include "labmesh/common/clock.hpp"
#include "labmesh/coordinator/config.hpp"
#include "labmesh/protocol/envelope.hpp"

namespace labmesh::coordinator {

class Batch;
class Core;
class Metrics;
class PackageService;

// Sends one frame to the agent connection `routing_id` (dropped when it is gone).
using AgentOutbox = std::function<void(const std::string& routing_id, std::string frame)>;

class AgentService {
 public:
  // `core` (may be null in tests of registration alone) takes the work messages and hears of
  // registrations and dead hosts. Changes are staged into `batch`.
  AgentService(const CoordinatorConfig& config, const Clock* clock, HostRegistry* registry,
               Batch* batch, AgentOutbox outbox, Core* core = nullptr);

  // One frame from an agent connection. `curve_key` is the Z85 public key the Curve handshake
  // authenticated (the ZAP User-Id). Malformed frames get an Error reply and change nothing.
  // Hellos are staged, not answered: FinishRegistrations() stages them for the turn's commit.
  void HandleFrame(const std::string& routing_id, const std::string& curve_key,
                   std::string_view frame);

  // Stages every hello of this turn into the batch and queues its answer (after the commit:
  // a lab-wide restart of a thousand agents is a handful of commits, not a thousand), and tells
  // the core of each registered host. The loop calls it at the end of each turn, before the
  // core commits the batch.
  void FinishRegistrations();

  // Declares silent hosts Dead. Called by the loop's timer.
  void CheckDeadHosts();
  // Declares one host lost now (Dead, its connection dropped, the core told), as a silence
  // does: a panic on its console that its agent did not outlive (docs/power-console.md).
  void MarkLost(const std::string& hostname, const std::string& reason);

  // Welcome to an accepted host's live connection, after the commit (an admin accepted it).
  void QueueWelcome(const std::string& hostname, uint64_t request_id = 0);
  // Tells a connection it is refused for good (rejected or deleted host), after the commit.
  void QueueReject(const std::string& routing_id, const std::string& reason);

  // Serves PackageChunkRequest from registered agents (none served without it).
  void set_packages(PackageService* packages) { packages_ = packages; }

  // Heartbeats are counted there with the gap since the agent's previous one (nullptr: not).
  void set_metrics(Metrics* metrics) { metrics_ = metrics; }

  uint64_t heartbeats_received() const { return heartbeats_received_; }

 private:
  // A registration decided but not yet committed.
  struct StagedHello {
    std::string routing_id;
    uint64_t request_id = 0;
    store::Host host;  // as staged in the registry (the last hello of the turn wins)
    bool is_new = false;
    bool came_back = false;  // Dead -> Ready
    std::vector<protocol::HeldEntry> held;  // entries the agent holds
    protocol::TaskReport update_report;     // the Update it rolled back from (task_id 0: none)
  };

  void HandleHello(const std::string& routing_id, const std::string& curve_key,
                   const protocol::Envelope& envelope);
  StagedHello* FindStaged(const std::string& hostname);
  void HandleHeartbeat(const std::string& routing_id, const protocol::Envelope& envelope);
  void SendError(const std::string& routing_id, uint64_t request_id, const Status& status);
  std::string WelcomeFor(const store::Host& host, uint64_t request_id) const;
  bool TokenMatches(const std::string& token) const;

  const CoordinatorConfig& config_;
  const Clock* clock_;
  HostRegistry* registry_;
  Batch* batch_;
  AgentOutbox outbox_;
  Core* core_;
  PackageService* packages_ = nullptr;
  Metrics* metrics_ = nullptr;
  protocol::DecodeLimits limits_;
  std::vector<StagedHello> staged_;
  // Indexes into staged_ (a turn may stage hundreds of hellos; a scan per hello was quadratic).
  std::unordered_map<std::string, size_t> staged_by_host_;
  std::unordered_map<std::string, size_t> staged_by_key_;
  uint64_t heartbeats_received_ = 0;
  int64_t last_bad_frame_log_ms_ = 0;
};

}  // namespace labmesh::coordinator
