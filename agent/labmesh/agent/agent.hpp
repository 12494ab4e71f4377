#pragma once
// The agent daemon as a library: main.cpp and the tests build one from a config and run it.
//
// State machine (one writer, Agent::SetState, logging every move):
//   Disconnected --connect+hello--> Connecting --Welcome--> Registered
//   Connecting --PendingApproval--> Pending --Welcome (admin accepted)--> Registered
//   any --Reject / silence / Reregister--> Disconnected (backoff) or Connecting (hello again)
// Threads: Run() is the only thread touching the socket; Stop() may be called from any thread.

#include <memory>
#include <string>
#include <string_view>

#include "labmesh/agent/config.hpp"
#include "labmesh/common/clock.hpp"
#include "labmesh/common/status.hpp"

namespace labmesh::agent {

enum class AgentState { kDisconnected, kConnecting, kPending, kRegistered };
std::string_view AgentStateName(AgentState state);

class Agent {
 public:
  // Creates the work directory (keys/, spool/) and the agent's Curve key pair on first start.
  static Result<std::unique_ptr<Agent>> Create(const AgentConfig& config, const Clock* clock);
  virtual ~Agent() = default;

  virtual Status Run() = 0;  // until Stop()
  virtual void Stop() = 0;
  virtual AgentState state() const = 0;
  virtual const std::string& hostname() const = 0;
  virtual const std::string& public_key() const = 0;
};

// For main(): Create + Run, with SIGTERM/SIGINT stopping the loop.
Status RunAgent(const AgentConfig& config);

}  // namespace labmesh::agent
