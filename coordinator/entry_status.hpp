#pragma once
// The host queue entry's status machine: the one table of allowed moves and the one function
// that changes an entry's status (and records the move in its history).

#include <cstdint>
#include <string>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/types.hpp"
#include "labmesh/store/store.hpp"

namespace labmesh::coordinator {

// Whether an entry may go from `from` to `to`. Final statuses go nowhere.
bool CanTransition(protocol::EntryStatus from, protocol::EntryStatus to);

// Moves `entry` to `to` when the table allows it: sets status and reason, appends the move to
// the history and, for a final status, finished_us. Not committed: the caller commits.
Status MoveEntry(store::Entry& entry, protocol::EntryStatus to, const std::string& reason,
                 int64_t now_us);

}  // namespace labmesh::coordinator
