#pragma once
// The agent's update bookkeeping on disk (docs/update.md "Agent side"):
//   WORK_DIR/update/state.json   UpdateState below (JSON, rewritten atomically)
//   WORK_DIR/versions/V/         an unpacked, checked package
//   WORK_DIR/current             symlink to versions/V (relative), replaced atomically
// and the pure decisions built on them: which binary a watchdog rolls back to, whether a
// starting agent must hop to `current`. No sockets; callable from any thread, but one process
// at a time writes state.json (the agent, or the watchdog while the agent is on trial).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "labmesh/common/status.hpp"

namespace labmesh::agent {

// Environment variables between an updating agent, its watchdog and the new process.
// The write end of the trial pipe: set only for the new process of an update trial.
inline constexpr const char* kTrialFdEnv = "LABMESH_UPDATE_TRIAL_FD";
// Set when an agent exec'd WORK_DIR/current/labmesh-agent at start, so that one never hops again.
inline constexpr const char* kHoppedEnv = "LABMESH_UPDATE_HOPPED";
// Bytes on the trial pipe: the new process registered / was stopped gracefully before it did.
inline constexpr char kTrialPassed = 'W';
inline constexpr char kTrialStopped = 'S';

struct UpdateState {
  // The version that last ran an entry to completion, and its executable (absolute).
  std::string last_good_version;
  std::string last_good_exe;
  // The version confirmed by a passed trial (what `current` should point at), "" = none.
  std::string current_version;
  // The version and path of the binary the agent was last started from when that binary is
  // not one of versions/ (the agent as installed, say by the .deb): a start from a binary of
  // another version means a new package was installed, and the package wins over `current`
  // (DecideStartup).
  std::string installed_version;
  std::string installed_exe;
  struct Trial {  // task_id 0 = no trial
    uint64_t task_id = 0;
    std::string from_version;
    std::string from_exe;  // the executable that ran before the update
    std::string to_version;
    std::string to_exe;
    int64_t deadline_wall_ms = 0;
    int64_t pid = 0;  // the process on trial (same PID before and after the exec)
  } trial;
  struct Failure {  // task_id 0 = nothing to report
    uint64_t task_id = 0;
    std::string version;
    std::string reason;
  } failure;
};

std::string StatePath(const std::string& work_dir);    // WORK_DIR/update/state.json
std::string VersionDir(const std::string& work_dir, const std::string& version);
std::string CurrentLink(const std::string& work_dir);  // WORK_DIR/current

// A missing file is an empty state; an unreadable one is Corruption (callers log it and go on
// with an empty state: losing the bookkeeping must not stop the agent).
Result<UpdateState> LoadUpdateState(const std::string& work_dir);
// Writes state.json.tmp, fsyncs and renames it over state.json.
Status SaveUpdateState(const std::string& work_dir, const UpdateState& state);

// Points WORK_DIR/current at versions/`version` (a relative link, written beside and renamed
// over the old one, so a reader sees the old or the new link, never none). `version` "" removes
// the link.
Status SwitchCurrent(const std::string& work_dir, const std::string& version);
// The version `current` points at ("" when there is no link or it points elsewhere).
std::string CurrentVersion(const std::string& work_dir);

// realpath of /proc/self/exe ("" when unknown).
std::string SelfExe();

// What a watchdog saw on the trial pipe; kRestarted: no watchdog saw anything, a fresh start
// (service restart, reboot) found the trial unconfirmed in state.json.
enum class TrialEvent { kPassed, kStopped, kExited, kTimedOut, kRestarted };

// What the watchdog does about it: nothing (passed), or roll `current` back to `link_version`
// ("" = remove the link: the binary before the update is not one of versions/), record
// `failure` and, when `exec` is set, exec `exe` with the original arguments.
struct RollbackPlan {
  bool rollback = false;
  std::string link_version;
  std::string exe;
  bool exec = false;
  UpdateState::Failure failure;
};
// Pure: the last known good when one is recorded (and its binary exists per `exists`), else
// the executable that ran before the update. `trial_ms` names the deadline in reasons.
RollbackPlan DecideRollback(TrialEvent event, const UpdateState& state,
                            const std::string& work_dir, int64_t trial_ms,
                            bool (*exists)(const std::string& path));

// The executable a starting agent must exec instead of itself: WORK_DIR/current/labmesh-agent
// when `current` resolves to another binary than `self_exe`, nullopt when it is this one or
// there is no usable link.
std::optional<std::string> HopTarget(const std::string& work_dir, const std::string& self_exe);

// What a fresh start does to the update bookkeeping before it runs (or hops to `current`).
// A fresh start is one that is neither the process on trial (it has the trial pipe) nor an
// agent exec'd by the start-up hop or a watchdog (LABMESH_UPDATE_HOPPED). Two rules, in order:
//  1. An unconfirmed trial in state.json failed: the process on trial died without its
//     watchdog finishing (systemd kills the whole service when its main PID dies) or the
//     machine rebooted during the trial. It is rolled back like the watchdog does
//     (DecideRollback with kRestarted): `current` follows the binary to go back to, the
//     failure is recorded and reported at registration.
//  2. Started from a binary outside versions/ (the installed agent) whose version differs from
//     `installed_version`: a new package was installed, and it wins. `current` is removed (so
//     no hop), `current_version` cleared, a last known good that is not this binary forgotten
//     (a rollback then returns to this binary), and the new installed version recorded.
// Then the caller applies `link_version` (when `relink`) and saves `state` (when `save`), and
// the start-up hop follows `current` as before.
struct StartupPlan {
  bool save = false;
  UpdateState state;
  bool relink = false;
  std::string link_version;  // "" = remove `current`
  bool trial_failed = false;
  bool package_changed = false;
};
StartupPlan DecideStartup(const UpdateState& state, const std::string& work_dir,
                          const std::string& self_exe, const std::string& self_version,
                          int64_t trial_ms, bool (*exists)(const std::string& path));

// Version directories to remove after a confirmed update: everything in versions/ but `keep`
// (and leftovers V.tmp are removed too).
std::vector<std::string> VersionsToPrune(const std::string& work_dir,
                                         const std::vector<std::string>& keep);

}  // namespace labmesh::agent
