#pragma once
// The host lifecycle's decisions (docs/lifecycle.md), as pure functions: what a special task
// runs under a protection level, which task a returning host gets, whether a job's entry needs
// a Cleanup, and whether a host may be repaired again automatically. HostTasks (host_tasks.cpp)
// and the UpdateScheduler act on them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/task_messages.hpp"

namespace labmesh::coordinator {

// Who the coordinator's own tasks are requested by.
inline constexpr char kCoordinatorUser[] = "labmesh";

// What an agent reports, kept within the limits a TaskReport has on the wire (the first
// kMaxTaskChecks checks, the tail of each output).
std::vector<protocol::TaskCheck> CappedChecks(std::vector<protocol::TaskCheck> checks);

// The RunTask for a task of `kind` on a host with `protection` (task_id and clock left 0).
protocol::RunTask RunTaskFor(protocol::TaskKind kind, protocol::Protection protection);

// Verify tasks do not run on do-not-verify hosts: they pass at once, recorded as skipped.
bool SkipsVerify(protocol::Protection protection);
// do-not-repair hosts are never repaired: what would need a Repair leaves them Repair Failed.
bool RefusesRepair(protocol::Protection protection);

// What a host that comes back after it was lost (Dead) runs before it is Ready: a Repair, or a
// Verify when repairs are not allowed; nullopt when nothing may run (it is Ready at once).
std::optional<protocol::TaskKind> TaskOnReturn(protocol::Protection protection);

// Job cleanup policies: "never", "always", "on-failure".
bool IsCleanupPolicy(std::string_view policy);
// Whether an entry whose control ended with `outcome` ("passed", "failed", "aborted", "error")
// gets a Cleanup under `policy`.
bool NeedsCleanup(std::string_view policy, std::string_view outcome);

// Drops the repair times older than `window_ms` before `now_ms` from `repairs_ms` and says
// whether another automatic repair is allowed (fewer than `limit` remain).
bool MayRepairAgain(std::vector<int64_t>& repairs_ms, int64_t now_ms, uint32_t limit,
                    int64_t window_ms);

// The HostTaskRequest kinds a person may queue: "verify" or "repair" (case-insensitive).
Result<protocol::TaskKind> ParseRequestedKind(std::string_view kind);

}  // namespace labmesh::coordinator
