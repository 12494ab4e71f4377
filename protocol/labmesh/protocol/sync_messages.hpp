#pragma once
// Multi-host sync: barriers and small values passed between the hosts of a job group.
// docs/sync.md tells the whole flow; PROTOCOL.md the wire format.
//
// `labmesh-sync` (inside a control) sends a SyncRequest to its own agent over the agent's local
// sync socket (LABMESH_SYNC, a ZeroMQ ipc:// endpoint); the agent fills in the barrier
// generation and forwards it to the coordinator over the agent socket with a request id of its
// own; the coordinator answers with one SyncReply carrying that request id when the barrier is
// released, the value is there, or the request failed (timeout, a host of the group gone). The
// agent hands the reply back to the helper. A request is safe to repeat (after a reconnect the
// agent sends its unanswered requests and the values it sent again).

#include <cstdint>
#include <string>
#include <vector>

#include "labmesh/protocol/types.hpp"

namespace labmesh::protocol {

inline constexpr size_t kMaxSyncValueBytes = 64 * 1024;
inline constexpr size_t kMaxSyncNameBytes = 256;

struct SyncRequest {
  static constexpr MessageType kType = MessageType::kSyncRequest;
  uint64_t entry_id = 0;
  std::string op;    // "barrier", "send" or "wait"
  std::string name;  // the barrier's name, or the value's key
  // barrier: which use of `name` by this entry this is (1 for the first, 2 for the next, ...).
  // The agent counts; the helper sends 0.
  uint32_t generation = 0;
  std::vector<char> value;  // send: the value (at most kMaxSyncValueBytes)
  std::string from_host;    // wait: only the value this host sent; "" = any host's
  int64_t timeout_ms = 0;   // barrier, wait: give up after this long; 0 = no limit
};

struct SyncReply {
  static constexpr MessageType kType = MessageType::kSyncReply;
  uint64_t entry_id = 0;
  std::string op;  // as in the request
  std::string name;
  uint32_t generation = 0;
  bool ok = false;
  // Why not ok, in words a test log can show: "barrier 'setup' (use 2) timed out after 5s
  // waiting for lab-3, lab-4", "host lab-2 of the group was lost (no heartbeat)".
  std::string error;
  std::vector<char> value;  // wait: the value
  std::string from_host;    // wait: the host that sent it
};

}  // namespace labmesh::protocol
