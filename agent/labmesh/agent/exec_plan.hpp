#pragma once
// ExecPlan: what an agent that installed an update asks its caller to do once every socket is
// closed (docs/update.md "Agent side"): start the watchdog, then exec the new version in this
// process. The UpdateManager makes it, Agent::TakeExecPlan hands it out, ExecUpdate (update/
// exec.hpp) carries it out. A plain struct in a header of its own, so that update/ does not
// include the daemon's top header (agent.hpp) for it.

#include <cstdint>
#include <string>
#include <vector>

namespace labmesh::agent {

struct ExecPlan {
  uint64_t task_id = 0;
  std::string version;            // the new version
  std::string work_dir;           // absolute
  std::string exe;                // WORK_DIR/versions/V/labmesh-agent
  std::vector<std::string> argv;  // argv[0] = exe, then the agent's own arguments (exec_args)
  // The running binary, started as `watchdog_exe --update-watchdog FD ARGS...` before the exec.
  std::string watchdog_exe;
  std::vector<std::string> args;  // the agent's own arguments (AgentConfig::exec_args)
};

}  // namespace labmesh::agent
