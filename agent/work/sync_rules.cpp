// SyncRequest rules; see sync_rules.hpp.

#include "work/sync_rules.hpp"

namespace labmesh::agent {

Status ValidateSyncRequest(const protocol::SyncRequest& request) {
  if (request.op != "barrier" && request.op != "send" && request.op != "wait") {
    return Status::InvalidArgument("unknown sync op '" + request.op + "' (barrier, send or wait)");
  }
  const std::string what = request.op == "barrier" ? "barrier name" : "key";
  if (request.name.empty() || request.name.size() > protocol::kMaxSyncNameBytes) {
    return Status::InvalidArgument(DescribeSyncRequest(request) + ": the " + what + " must be 1.." +
                                   std::to_string(protocol::kMaxSyncNameBytes) + " bytes, not " +
                                   std::to_string(request.name.size()));
  }
  if (request.op == "send" && request.value.size() > protocol::kMaxSyncValueBytes) {
    return Status::InvalidArgument(DescribeSyncRequest(request) + ": the value of " +
                                   std::to_string(request.value.size()) + " bytes is larger than " +
                                   std::to_string(protocol::kMaxSyncValueBytes));
  }
  if (request.timeout_ms < 0) {
    return Status::InvalidArgument(DescribeSyncRequest(request) + ": negative timeout");
  }
  return Status::Ok();
}

std::string DescribeSyncRequest(const protocol::SyncRequest& request) {
  // A name too long for the rules is cut here, so that a refusal stays readable.
  constexpr size_t kShown = 64;
  std::string name =
      request.name.size() > kShown ? request.name.substr(0, kShown) + "..." : request.name;
  std::string text = (request.op.empty() ? std::string("sync") : request.op) + " '" + name + "'";
  if (request.op == "barrier" && request.generation > 0) {
    text += " (use " + std::to_string(request.generation) + ")";
  }
  if (request.op == "wait" && !request.from_host.empty()) text += " from " + request.from_host;
  return text;
}

}  // namespace labmesh::agent
