#pragma once
// What makes a SyncRequest acceptable, and how one is named in messages. Pure functions, used
// by the agent's SyncRelay (before forwarding) and by labmesh-sync (before sending), so that
// both refuse the same requests with the same words. docs/sync.md.

#include <string>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/sync_messages.hpp"

namespace labmesh::agent {

// op is "barrier", "send" or "wait"; name is 1..kMaxSyncNameBytes bytes; a send's value is at
// most kMaxSyncValueBytes; timeout_ms is not negative. InvalidArgument says which rule failed.
Status ValidateSyncRequest(const protocol::SyncRequest& request);

// "barrier 'setup' (use 2)", "barrier 'setup'" (generation 0), "send 'port'",
// "wait 'port' from lab-3": how errors start, so a log names the call that failed.
std::string DescribeSyncRequest(const protocol::SyncRequest& request);

}  // namespace labmesh::agent
