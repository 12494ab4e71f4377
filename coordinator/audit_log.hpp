#pragma once
// AuditLog: every mutating API request (who, what, when, from where, and how it ended) is
// stored in the audit table (docs/security.md), refused ones included.
//
// A request's record is opened when it arrives and completed by the reply the coordinator sends
// for it (replies may come later: jobs are answered after their commit), so the result is what
// the client was told. Completed records are written in one batch per event-loop turn (Flush).
// Event-loop thread only.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "labmesh/common/clock.hpp"
#include "labmesh/common/status.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "labmesh/store/store.hpp"

namespace labmesh::coordinator {

class Batch;

// A record's `target` is protocol::DescribeBody(request) (envelope.hpp): the body's fields with
// secrets replaced by "***", at most 512 bytes.
class AuditLog {
 public:
  AuditLog(store::Store* store, const Clock* clock);
  Status Load();  // continues the record ids after the stored ones

  // A mutating request arrived on `routing_id`: its record waits for the reply. `user` is who
  // it authenticated as ("" when it did not).
  void Begin(const std::string& routing_id, const protocol::Envelope& request,
             const std::string& user, const std::string& from);
  // Every reply sent to the API: completes the record of the request it answers, if any.
  void OnReply(const std::string& routing_id, std::string_view reply_frame);
  // The coordinator's own action (user "labmesh", from "coordinator"): recorded as done, with
  // the turn's batch.
  void Record(const std::string& action, const std::string& target);
  // Puts the completed records into the loop turn's batch. When its commit fails they are kept
  // for the next turn.
  void Stage(Batch& batch);
  // Writes the completed records at once (outside a loop turn). A failed write keeps them.
  Status Flush();

  size_t pending() const { return open_count_; }

 private:
  static constexpr size_t kMaxOpen = 100'000;  // requests awaiting a reply (then the oldest go)

  store::Store* store_;
  const Clock* clock_;
  uint64_t next_id_ = 1;
  // routing id -> request id -> record: a reply is decoded only when its connection has one.
  std::map<std::string, std::map<uint64_t, store::AuditRecord>> open_;
  size_t open_count_ = 0;
  std::vector<store::AuditRecord> done_;
};

}  // namespace labmesh::coordinator
