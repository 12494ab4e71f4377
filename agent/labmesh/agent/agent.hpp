#pragma once
// The agent daemon as a library: main.cpp and the tests build one from a config and run it.
//
// State machine (one writer, Agent::SetState, logging every move):
//   Disconnected --connect+hello--> Connecting --Welcome--> Registered
//   Connecting --PendingApproval--> Pending --Welcome (admin accepted)--> Registered
//   any --Reject / silence / Reregister--> Disconnected (backoff) or Connecting (hello again)
// Threads: Run() is the only thread touching the socket; Stop() may be called from any thread.
//
// Structure: Run() is the event loop. It owns the coordinator socket, the state machine above,
// the hello and the heartbeats, and drives the agent's managers - work (entries), update,
// tasks (special tasks) and the sync relay - through one interface (agent/manager.hpp), in one
// fixed order: poll, the coordinator's messages (each offered to one manager after the other
// until one takes it), OnPolled, Service, then its own timers.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "labmesh/agent/config.hpp"
#include "labmesh/agent/exec_plan.hpp"
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
  // After Run() returned: the update to exec, once (nullopt = none; Run() ended by Stop()).
  virtual std::optional<ExecPlan> TakeExecPlan() = 0;
};

// For main(): Create + Run, with SIGTERM/SIGINT stopping the loop; writes WORK_DIR/agent.pid.
// When the agent installed an update, closes everything and execs it (ExecUpdate): returns
// only when that failed.
Status RunAgent(const AgentConfig& config);

}  // namespace labmesh::agent
