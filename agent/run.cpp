#include <spdlog/spdlog.h>

#include <optional>

#include "labmesh/agent/agent.hpp"
#include "labmesh/common/stop_signals.hpp"
#include "update/exec.hpp"

namespace labmesh::agent {

Status RunAgent(const AgentConfig& config) {
  std::optional<ExecPlan> plan;
  {
    StopSignals signals;  // before ZeroMQ starts its threads
    auto agent = Agent::Create(config, SystemClock::Default());
    if (!agent.ok()) return agent.status();
    if (Status s = WritePidFile(config.work_dir); !s.ok()) spdlog::warn("{}", s.ToString());
    signals.OnStop([&] { (*agent)->Stop(); });
    Status status = (*agent)->Run();
    signals.Cancel();  // no stop() on a destroyed agent
    if (!status.ok()) return status;
    plan = (*agent)->TakeExecPlan();
  }  // the agent is gone: sockets closed, the ZeroMQ context and its threads ended
  if (!plan) return Status::Ok();
  return ExecUpdate(*plan);
}

}  // namespace labmesh::agent
