#pragma once
// The helpers' side of the agent's local sync socket (LABMESH_SYNC): labmesh-sync's barriers and
// values, labmesh-test's reboot. One SyncRequest over a DEALER, one SyncReply back.

#include <cstdint>
#include <string>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/sync_messages.hpp"

namespace labmesh::agent {

// The agent's endpoint (LABMESH_SYNC, an ipc:// socket that exists) and this control's entry id
// (LABMESH_ENTRY_ID), or why not: outside a control, or the agent's socket is missing.
struct LocalAgent {
  std::string endpoint;
  uint64_t entry_id = 0;
};
Result<LocalAgent> FindLocalAgent();

// Sends `request` (its entry_id set) to the agent and waits at most `guard_ms` (0 = no limit)
// for its SyncReply. An error when no answer came, the reply did not decode, or the socket
// failed; a reply with ok=false is returned as it is.
Result<protocol::SyncReply> AskAgent(const std::string& endpoint,
                                     const protocol::SyncRequest& request, int64_t guard_ms);

}  // namespace labmesh::agent
