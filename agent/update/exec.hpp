#pragma once
// The process side of self-update (docs/update.md "Agent side"): what RunAgent and main() do
// with process images, never the in-process tests.
//
//   ExecUpdate        fork+exec the watchdog (this binary), then execv the new version
//   RunWatchdog       `labmesh-agent --update-watchdog FD ARGS...`: waits for the trial's
//                     outcome on FD and rolls back (DecideRollback) when it failed
//   ApplyStartupRules a fresh start settles an unconfirmed trial and a newly installed package
//                     (DecideStartup) before the hop
//   MaybeHopToCurrent an agent started from another binary execs WORK_DIR/current/labmesh-agent
//
// All of them run on the main thread with no other threads and no sockets left (ExecUpdate
// after the agent is destroyed, the others before it is created). Nothing here calls setsid or
// setpgid: the watchdog and the agents stay in the caller's process group, so whoever stops the
// group stops them all.

#include <string>
#include <vector>

#include <memory>

#include "labmesh/agent/config.hpp"
#include "labmesh/common/dir_lock.hpp"
#include "labmesh/agent/exec_plan.hpp"
#include "labmesh/common/status.hpp"

namespace labmesh::agent {

// Starts the watchdog with the read end of a new pipe, puts the write end in
// LABMESH_UPDATE_TRIAL_FD and execs plan.exe. Returns only when something failed; the
// watchdog, if it started, then sees EOF and brings the previous version back.
Status ExecUpdate(const ExecPlan& plan);

// The watchdog's main: returns the exit code when it does not exec another agent.
int RunWatchdog(int fd, const AgentConfig& config);

// On a fresh start (no trial pipe, not LABMESH_UPDATE_HOPPED): applies DecideStartup to
// state.json and `current` (logged). Call before MaybeHopToCurrent. Failures are logged; the
// agent starts anyway.
void ApplyStartupRules(const AgentConfig& config);

// Execs WORK_DIR/current/labmesh-agent with config.exec_args when `current` resolves to
// another binary than this one and this process is neither on trial nor itself a hop
// (LABMESH_UPDATE_HOPPED). Returns when there is nothing to do or the exec failed (logged).
void MaybeHopToCurrent(const AgentConfig& config);

// Reads and clears LABMESH_UPDATE_TRIAL_FD: the pipe's write end (close-on-exec from now on,
// so no control inherits it), or -1.
int TakeTrialFd();

// Creates WORK_DIR and takes its DirLock (one agent per work directory). A successor (a new
// version on trial, an agent a hop or the watchdog exec'd) waits up to kSuccessorLockWaitMs
// for the process it replaces to be gone; any other start fails at once when it is held.
inline constexpr int64_t kSuccessorLockWaitMs = 10'000;
Result<std::unique_ptr<DirLock>> LockWorkDir(const AgentConfig& config);

// WORK_DIR/agent.pid with this process's id (operators and tests find the agent by it).
Status WritePidFile(const std::string& work_dir);

}  // namespace labmesh::agent
