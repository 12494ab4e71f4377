#pragma once
// Batch: one loop turn's unit of work. Every service of the coordinator stages what a turn
// changes into the one Batch the coordinator owns: the records to write (a store::WriteBatch),
// the frames to send once they are durable, and what to do after the commit or after a failed
// one. At the end of the turn the coordinator commits it once (registrations, jobs, entries,
// tasks, host records, audit records and, when due, heartbeats together) and only then sends:
// nothing is announced before it is durable (docs/architecture.md).
//
// Owned by the coordinator's event-loop thread; services keep a pointer to it.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "labmesh/common/status.hpp"
#include "labmesh/store/store.hpp"

namespace labmesh::coordinator {

class Batch {
 public:
  // The records of this turn.
  store::WriteBatch& writes() { return writes_; }

  // Frames sent after the commit, in the order they were staged. To an agent by hostname (the
  // connection it has then; dropped when it has none), to an agent connection by routing id
  // (registration replies), to an API caller by routing id (on a failed commit the caller gets
  // an error naming the failure instead, with `request_id`).
  void ToAgent(std::string hostname, std::string frame);
  void ToConnection(std::string routing_id, std::string frame);
  void ToApi(std::string routing_id, std::string frame, uint64_t request_id);

  // Called as an API frame is staged (the audit log records the reply's outcome then, so that
  // the record commits with the change it describes).
  void set_on_api(std::function<void(const std::string& routing_id, const std::string& frame)> fn) {
    on_api_ = std::move(fn);
  }

  // Runs after a successful commit, before the frames are sent.
  void AfterCommit(std::function<void()> fn) { after_commit_.push_back(std::move(fn)); }
  // Runs after a failed commit (the staged records are lost; reload or keep for the next try).
  void OnFailure(std::function<void(const Status&)> fn) { on_failure_.push_back(std::move(fn)); }

  // Something in this batch must survive a crash (fsync); heartbeats alone need not.
  void MarkDurable() { durable_ = true; }
  bool durable() const { return durable_; }

  bool empty() const {
    return writes_.empty() && frames_.empty() && after_commit_.empty() && on_failure_.empty();
  }

  // How frames leave: set by the owner.
  struct Senders {
    std::function<void(const std::string& hostname, std::string frame)> agent_by_host;
    std::function<void(const std::string& routing_id, std::string frame)> agent_connection;
    std::function<void(const std::string& routing_id, std::string frame)> api;
  };
  // Commits the writes with `store`; then `adopt` (memory takes the committed records), the
  // AfterCommit callbacks and the frames; or, when it failed, `discard`, the OnFailure callbacks
  // and an error to every API caller. Empties the batch for the next turn and returns the
  // commit's status.
  Status Commit(store::Store* store, const Senders& senders, const std::function<void()>& adopt,
                const std::function<void()>& discard);

 private:
  enum class To { kAgentHost, kAgentConnection, kApi };
  struct Frame {
    To to;
    std::string target;
    std::string frame;
    uint64_t request_id;
  };

  store::WriteBatch writes_;
  std::vector<Frame> frames_;
  std::vector<std::function<void()>> after_commit_;
  std::vector<std::function<void(const Status&)>> on_failure_;
  bool durable_ = false;
  std::function<void(const std::string&, const std::string&)> on_api_;
  // Failed commits are logged once per kind of failure and then every 10 s (a full disk fails
  // one every turn until there is room).
  std::string last_failure_;
  int64_t last_failure_log_ms_ = 0;
  uint64_t failures_unlogged_ = 0;
};

}  // namespace labmesh::coordinator
