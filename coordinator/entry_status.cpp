#include "entry_status.hpp"

namespace labmesh::coordinator {

using protocol::EntryStatus;

bool CanTransition(EntryStatus from, EntryStatus to) {
  using S = EntryStatus;
  if (from == to || protocol::IsFinal(from)) return false;
  // Any live entry can be aborted or fail (host lost, job timeout, upload refused).
  if (to == S::kAborted || to == S::kFailed) return true;
  switch (from) {
    case S::kQueued:
      return to == S::kStarting || to == S::kVerifying || to == S::kPending;
    case S::kStarting:
      // Back to Queued when the agent never got the start (it reconnected without it).
      return to == S::kRunning || to == S::kQueued || to == S::kGathering;
    case S::kVerifying:
      return to == S::kPending || to == S::kStarting || to == S::kQueued;
    case S::kPending:
      return to == S::kStarting || to == S::kQueued;
    // Running or Gathering back to Queued: its host was lost and the job's --retry allows
    // another try.
    case S::kRunning:
      return to == S::kGathering || to == S::kStopped || to == S::kQueued || to == S::kRebooting;
    // The host booted again (Running) or the control ended while it rebooted (Gathering: the
    // reboot command failed); back to Queued when it rebooted unexpectedly and may be retried.
    case S::kRebooting:
      return to == S::kRunning || to == S::kGathering || to == S::kQueued;
    case S::kGathering:
      return to == S::kParsing || to == S::kQueued;
    case S::kParsing:
      return to == S::kCompleted;
    default:
      return false;
  }
}

Status MoveEntry(store::Entry& entry, EntryStatus to, const std::string& reason, int64_t now_us) {
  if (!CanTransition(entry.status, to)) {
    return Status::FailedPrecondition(
        "entry " + std::to_string(entry.id) + " cannot go from " +
        std::string(protocol::EntryStatusName(entry.status)) + " to " +
        std::string(protocol::EntryStatusName(to)));
  }
  entry.status = to;
  entry.status_reason = reason;
  entry.history.push_back(store::StatusChange{to, now_us, reason});
  if (protocol::IsFinal(to)) entry.finished_us = now_us;
  return Status::Ok();
}

}  // namespace labmesh::coordinator
