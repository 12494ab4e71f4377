#pragma once
// AgentService: everything that arrives on the agent socket - registration (enrollment policy,
// labels, key checks) and heartbeats - plus the periodic dead-host check.
//
// Called only by the event-loop thread. Replies go out through the Outbox the loop provides.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "host_registry.hpp"
#include "labmesh/common/clock.hpp"
#include "labmesh/coordinator/config.hpp"
#include "labmesh/protocol/envelope.hpp"

namespace labmesh::coordinator {

class JobService;
class PackageService;

// Sends one frame to the agent connection `routing_id` (dropped when it is gone).
using AgentOutbox = std::function<void(const std::string& routing_id, std::string frame)>;

class AgentService {
 public:
  // `jobs` (may be null in tests of registration alone) takes the work messages and hears of
  // registrations and dead hosts.
  AgentService(const CoordinatorConfig& config, const Clock* clock, HostRegistry* registry,
               AgentOutbox outbox, JobService* jobs = nullptr);

  // One frame from an agent connection. `curve_key` is the Z85 public key the Curve handshake
  // authenticated (the ZAP User-Id). Malformed frames get an Error reply and change nothing.
  // Hellos are staged, not answered: CommitRegistrations() stores them together.
  void HandleFrame(const std::string& routing_id, const std::string& curve_key,
                   std::string_view frame);

  // Commits every staged hello in one write transaction (group commit: a lab-wide restart of a
  // thousand agents is a handful of commits, not a thousand), then answers each one. The loop
  // calls it after each batch of agent messages.
  void CommitRegistrations();

  // Declares silent hosts Dead. Called by the loop's timer.
  void CheckDeadHosts();

  // Sends Welcome to an accepted host's live connection (used when an admin accepts it).
  void SendWelcome(const HostState& host, uint64_t request_id = 0);
  // Tells a connection it is refused for good (rejected or deleted host).
  void SendReject(const std::string& routing_id, const std::string& reason);

  // Serves PackageChunkRequest from registered agents (none served without it).
  void set_packages(PackageService* packages) { packages_ = packages; }

  uint64_t heartbeats_received() const { return heartbeats_received_; }

 private:
  // A registration decided but not yet committed.
  struct StagedHello {
    std::string routing_id;
    uint64_t request_id = 0;
    store::Host host;
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
  bool TokenMatches(const std::string& token) const;

  const CoordinatorConfig& config_;
  const Clock* clock_;
  HostRegistry* registry_;
  AgentOutbox outbox_;
  JobService* jobs_;
  PackageService* packages_ = nullptr;
  protocol::DecodeLimits limits_;
  std::vector<StagedHello> staged_;
  uint64_t heartbeats_received_ = 0;
  int64_t last_bad_frame_log_ms_ = 0;
};

}  // namespace labmesh::coordinator
