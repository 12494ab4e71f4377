#include "labmesh/agent/agent.hpp"
#include "labmesh/common/stop_signals.hpp"

namespace labmesh::agent {

Status RunAgent(const AgentConfig& config) {
  StopSignals signals;  // before ZeroMQ starts its threads
  auto agent = Agent::Create(config, SystemClock::Default());
  if (!agent.ok()) return agent.status();
  signals.OnStop([&] { (*agent)->Stop(); });
  Status status = (*agent)->Run();
  signals.Cancel();  // no stop() on a destroyed agent
  return status;
}

}  // namespace labmesh::agent
