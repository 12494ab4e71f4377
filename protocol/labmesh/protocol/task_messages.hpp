#pragma once
// Special tasks (Verify, Repair, Cleanup) and host protection levels. docs/lifecycle.md tells
// the whole flow; PROTOCOL.md the wire format.
//
// Agent side: the coordinator sends RunTask when a host must be verified, repaired or cleaned
// (the host's status is then Verifying, Repairing or Cleaning); the agent runs the task's
// built-in checks/actions and the executables of its verify/repair/cleanup directory and
// answers with one TaskReport carrying the same task id. RunTask is safe to repeat: an agent
// that is running that task ignores the repeat, one that finished it sends its report again.
// After a reconnect the coordinator sends RunTask again for the task it still waits for.
//
// API side: `host verify|repair NAME` queue a task (HostTaskRequest), `host history NAME` lists
// the host's tasks and job entries (HostHistoryRequest), `host mod NAME --protection LEVEL`
// changes the protection level (HostModRequest).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "labmesh/protocol/types.hpp"

namespace labmesh::protocol {

// What the lifecycle may do to a host.
enum class Protection : uint8_t {
  kNone = 0,                // verify, repair with built-in actions and repair scripts
  kRepairSoftwareOnly = 1,  // repair with built-in actions only (no repair scripts)
  kDoNotRepair = 2,         // never repair: a failed verify leaves the host Repair Failed
  kDoNotVerify = 3,  // never verify: a Verify task is Completed at once with a check "skipped"
};
std::string_view ProtectionName(Protection protection);  // "none", "repair-software-only", ...
std::optional<Protection> ParseProtection(std::string_view text);

// Task kinds and statuses, spelled as in DESIGN.md.
// kPower: a power operation the coordinator ran through the host's power method
// (docs/power-console.md). It is recorded as a finished task (history, audit) and is never a
// host's open task: it needs no agent and does not hold the host.
enum class TaskKind : uint8_t { kVerify = 0, kRepair = 1, kCleanup = 2, kUpdate = 3, kPower = 4 };
std::string_view TaskKindName(TaskKind kind);  // "Verify", "Repair", "Cleanup", "Update", "Power"
// Case-insensitive.
std::optional<TaskKind> ParseTaskKind(std::string_view text);

enum class TaskStatus : uint8_t {
  kQueued = 0,
  kRunning = 1,
  kCompleted = 2,  // passed
  kFailed = 3,
  kAborted = 4,  // the host was lost or deleted before the task ended
};
std::string_view TaskStatusName(TaskStatus status);
bool IsFinal(TaskStatus status);

inline constexpr size_t kMaxTaskOutputBytes = 4096;  // of one check's output (its tail)
inline constexpr size_t kMaxTaskChecks = 256;

// One built-in check or action, or one script, and how it went.
struct TaskCheck {
  // Built-ins: "free-space", "spool-writable", "clock-skew", "leftover-processes" (checks),
  // "kill-leftovers", "remove-old-spool" (actions). Scripts: "verify.d/NAME", "repair.d/NAME",
  // "cleanup.d/NAME".
  std::string name;
  bool passed = false;
  std::string output;  // what it said (the tail, at most kMaxTaskOutputBytes)
  int64_t duration_ms = 0;
};

// A task as the API shows it.
struct TaskInfo {
  uint64_t id = 0;
  std::string hostname;
  std::string kind;    // TaskKindName
  std::string status;  // TaskStatusName
  std::string reason;  // why it was queued ("requested by alice", "verify failed", ...) or
                       // how it ended ("verify.d/disk failed: exit status 1")
  std::string requested_by;  // a user, or "labmesh" for the coordinator's own tasks
  uint64_t job_id = 0;       // the entry it was run for (run-verify, cleanup), 0 = none
  uint64_t entry_id = 0;
  int64_t queued_ms = 0;  // wall clock, ms since epoch
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
  std::vector<TaskCheck> checks;
};

// ---- agent socket ----

struct RunTask {
  static constexpr MessageType kType = MessageType::kRunTask;
  uint64_t task_id = 0;
  std::string kind;  // "Verify", "Repair", "Cleanup" or "Update"
  // Repair: run the repair directory's executables after the built-in actions (false for
  // protection repair-software-only), and verify afterwards (false for do-not-verify).
  bool repair_scripts = true;
  bool verify_after = true;
  int64_t coordinator_ms = 0;  // the coordinator's wall clock when sent (the clock-skew check)
  // Update only (package_messages.hpp): the version to install and its package.
  std::string version;
  std::string package_sha256;
  uint64_t package_bytes = 0;
};

struct TaskReport {
  static constexpr MessageType kType = MessageType::kTaskReport;
  uint64_t task_id = 0;
  std::string kind;
  bool passed = false;
  std::string reason;  // "" when passed; else the first failure in words
  std::vector<TaskCheck> checks;  // in the order they ran
};

// ---- API socket ----

struct HostTaskRequest {
  static constexpr MessageType kType = MessageType::kHostTaskRequest;
  std::string hostname;
  std::string kind;  // "verify" or "repair" (case-insensitive)
  std::string user;
};

struct HostTaskReply {
  static constexpr MessageType kType = MessageType::kHostTaskReply;
  TaskInfo task;  // as queued
};

struct HostHistoryRequest {
  static constexpr MessageType kType = MessageType::kHostHistoryRequest;
  std::string hostname;
  uint32_t limit = 0;  // newest first; 0 = 100
};

// One line of a host's history: a special task or a job entry that ran there.
struct HistoryItem {
  std::string type;    // "task" or "entry"
  uint64_t id = 0;     // task id or entry id
  uint64_t job_id = 0;  // entries: their job; tasks: the entry's job they ran for (0 = none)
  std::string name;    // tasks: the kind ("Verify"); entries: the job's name
  std::string status;  // TaskStatusName or EntryStatusName
  std::string reason;
  std::string requested_by;  // tasks: who asked; entries: the job's owner
  int64_t queued_ms = 0;
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
  std::vector<TaskCheck> checks;  // tasks only
  bool crash = false;              // entries only: EntryInfo::crash
  std::string crash_line;          // entries only: EntryInfo::crash_line
};

struct HostHistoryReply {
  static constexpr MessageType kType = MessageType::kHostHistoryReply;
  std::vector<HistoryItem> items;  // newest first (by queued time)
};

struct HostModRequest {
  static constexpr MessageType kType = MessageType::kHostModRequest;
  std::string hostname;
  std::string protection;  // ProtectionName spelling; "" = unchanged
  std::string user;
};
// Reply: HostShowReply with the changed host.

}  // namespace labmesh::protocol
