#pragma once
// The built-in checks and actions of special tasks (docs/lifecycle-agent.md) and the small
// helpers around them: byte sizes as people type them, finding the processes an earlier job
// left behind, listing a task directory's scripts and cutting a script's output down to what a
// TaskCheck may carry. Pure functions over the file system and /proc; they keep no state. Called
// by the TaskManager on the agent's event loop thread (each returns within milliseconds).

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "labmesh/common/byte_size.hpp"  // FormatBytes
#include "labmesh/common/status.hpp"
#include "labmesh/protocol/task_messages.hpp"

namespace labmesh::agent {

// "256MiB", "1G", "512K", "1048576" (bytes), "10 GiB". K/M/G and KiB/MiB/GiB (and a trailing
// "B" on the short forms, "KB") all mean powers of 1024. InvalidArgument names the bad text.
Result<uint64_t> ParseByteSize(std::string_view text);
// `text` with A-Z made a-z.
std::string AsciiLower(std::string_view text);

// free-space: available bytes (for an unprivileged user) of the file system holding `dir`.
protocol::TaskCheck CheckFreeSpace(const std::string& dir, uint64_t min_free_bytes);
// spool-writable: creates, writes, fsyncs and removes a small file in `spool_dir`.
protocol::TaskCheck CheckSpoolWritable(const std::string& spool_dir);
// clock-skew: |agent_ms - coordinator_ms| <= max_skew_ms. coordinator_ms 0 (unknown) passes.
protocol::TaskCheck CheckClockSkew(int64_t agent_ms, int64_t coordinator_ms, int64_t max_skew_ms);

// A process an earlier job left behind.
struct Leftover {
  pid_t pid = 0;
  pid_t pgid = 0;
  std::string comm;  // /proc/PID/comm
};

// Processes whose environment holds LABMESH_RESULTS_DIR=SPOOL_DIR/<entry>/... (what
// ControlEnvironment gives every control, inherited by what it starts), with `spool_dir`
// absolute and without a trailing '/'. Skipped: this process, processes whose environment
// cannot be read (another user's, unless we are root), zombies, and those of entries for which
// `entry_alive(entry_id)` is true (a control still running or being stopped). Sorted by pid.
std::vector<Leftover> FindLeftovers(const std::string& spool_dir,
                                    const std::function<bool(uint64_t)>& entry_alive,
                                    const std::string& proc_dir = "/proc");
// leftover-processes: passes when `leftovers` is empty, else lists "pid (comm)".
protocol::TaskCheck CheckLeftovers(const std::vector<Leftover>& leftovers);
// True while `pid` exists and is not a zombie.
bool ProcessAlive(pid_t pid);

// The scripts of a task directory: executable regular files (symlinks followed), dotfiles
// skipped, by name (byte order). A missing directory holds none; one that cannot be read is an
// error.
Result<std::vector<std::string>> ListScripts(const std::string& dir);

// What a TaskCheck shows of a script: the tail of its log (valid UTF-8, invalid bytes become
// '?', a character cut at the start dropped) and `final_line`, at most kMaxTaskOutputBytes in all.
std::string OutputTail(const std::string& log_path, const std::string& final_line);
// `text` as valid UTF-8: each byte that is not part of a well-formed sequence becomes '?'.
std::string SanitizeUtf8(std::string_view text);

}  // namespace labmesh::agent
