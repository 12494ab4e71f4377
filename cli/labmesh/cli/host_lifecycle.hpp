#pragma once
// The pure parts of the host lifecycle commands (`host verify|repair|history|mod`) and of the
// lifecycle fields `host list|show` print: protection levels as typed, and the texts for tasks
// and a host's history. No flags, no sockets, no clock: "now" is passed in.

#include <cstdint>
#include <string>
#include <vector>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/messages.hpp"

namespace labmesh::cli {

// "none, repair-software-only, do-not-repair, do-not-verify": every level, for messages.
std::string ProtectionLevelList();

// A protection level as typed (case-insensitive) in its canonical spelling, or InvalidArgument
// "unknown protection level 'X' (none, repair-software-only, do-not-repair, do-not-verify)".
Result<std::string> ParseProtectionLevel(const std::string& text);

// What `host verify|repair` print: "queued Verify task 12 on lab-1 (Queued)".
std::string FormatTaskQueued(const protocol::TaskInfo& task);

// The LAST TASK column of `host list`: "Verify Failed", or "-" when the host never had a task
// (id 0).
std::string FormatLastTaskColumn(const protocol::TaskInfo& task);

// The "last task" line of `host show`: "none", or kind and status, the task id, when it reached
// that status (finished, else started, else queued) and the reason when there is one:
// "Verify Failed (task 12, finished 3m0s ago): verify.d/disk failed: exit status 1".
std::string FormatLastTask(const protocol::TaskInfo& task, int64_t now_ms);

// The names of a task's checks that did not pass, in the order they ran.
std::vector<std::string> FailedCheckNames(const std::vector<protocol::TaskCheck>& checks);

// The table of `host history`, newest first as the coordinator sends it: WHEN (queued, ISO-8601
// UTC as `job show` and `results list` print times), TYPE (task/entry), ID, JOB ("-" for none),
// NAME (the task's kind or the job's name), STATUS, REASON (one line, cut). Under a task that has
// failed checks, one indented line names them: "    failed checks: verify.d/disk, free-space".
// "no history for HOST" when there are no items.
std::string FormatHostHistory(const std::string& hostname,
                              const std::vector<protocol::HistoryItem>& items);

}  // namespace labmesh::cli
