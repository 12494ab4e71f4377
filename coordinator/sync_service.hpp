#pragma once
// SyncService: the barriers and values of running job groups (docs/sync.md).
//
// A group is the set of entries of a job that started together (synch_count hosts; a
// client-side entry is a group of one). Its controls call `labmesh-sync`, their agents forward
// SyncRequests here, and this service answers each with one SyncReply when the barrier is
// released, the value is there, or the request failed: a timeout (naming the hosts that never
// arrived) or a host of the group that left (its control ended or its host was lost) before it
// could arrive or send.
//
// State is in memory only. After a coordinator restart agents resend their unanswered requests
// and the values they sent, which rebuilds it; an arrival at a barrier's generation G also
// releases every earlier generation of that name (the arriving host passed them, so everyone
// did).
//
// Owned and called only by the event-loop thread (the Scheduler). Replies go out at once through
// the ReplyFn: nothing here needs a commit.

#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "labmesh/common/clock.hpp"
#include "labmesh/common/status.hpp"
#include "labmesh/protocol/sync_messages.hpp"

namespace labmesh::coordinator {

// Checks a request's op, name, value size and timeout.
Status ValidateSyncRequest(const protocol::SyncRequest& request);
// A reply (not ok, no error yet) naming what it answers.
protocol::SyncReply NewReply(uint64_t entry_id, std::string op, std::string name,
                             uint32_t generation);

struct GroupKey {
  uint64_t job_id = 0;
  uint32_t group = 0;
  auto operator<=>(const GroupKey&) const = default;
};

class SyncService {
 public:
  using ReplyFn = std::function<void(const std::string& hostname, uint64_t request_id,
                                     protocol::SyncReply reply)>;
  // Limits per group, so that one test cannot fill the coordinator's memory.
  static constexpr size_t kMaxValuesPerGroup = 4096;
  static constexpr size_t kMaxValueBytesPerGroup = 32u << 20;
  static constexpr size_t kMaxWaitersPerHost = 256;

  SyncService(const Clock* clock, ReplyFn reply);

  // A group started on `hosts`. Opening an open group changes nothing.
  void Open(const GroupKey& key, std::vector<std::string> hosts);
  // The group is over: outstanding requests fail with `why`, its state is dropped.
  void Close(const GroupKey& key, const std::string& why);
  bool IsOpen(const GroupKey& key) const { return groups_.count(key) > 0; }

  // `host` left the group (its control ended, its host was lost): barriers it has not reached
  // and waits only it could answer fail now with `why`; its own requests are dropped.
  void HostLeft(const GroupKey& key, const std::string& host, const std::string& why);

  // A validated request from `host` of an open group.
  void Handle(const GroupKey& key, const std::string& host, uint64_t request_id,
              const protocol::SyncRequest& request);

  // Fails the barriers and waits whose timeout has passed (steady clock).
  void CheckTimeouts();
  // When CheckTimeouts() must run next (steady ms; INT64_MAX = never).
  int64_t NextDeadlineMs() const;

  // What `host`'s control waits for, for `job show`: "barrier setup (use 2): 3/4 arrived",
  // "wait for port from lab-2"; "" when nothing.
  std::string WaitingIn(const GroupKey& key, const std::string& host) const;

  size_t open_groups() const { return groups_.size(); }

 private:
  struct Waiter {
    uint64_t entry_id = 0;
    uint64_t request_id = 0;
    int64_t deadline_ms = 0;  // steady; 0 = none
    int64_t timeout_ms = 0;
  };
  // One generation of a barrier that is not released yet.
  struct Generation {
    std::map<std::string, Waiter> arrived;  // host -> its waiting request
  };
  struct Barrier {
    uint32_t released = 0;                     // every generation <= this is released
    std::map<uint32_t, Generation> waiting;    // generations with arrivals
    std::map<uint32_t, std::string> failed;    // generation -> why (later arrivals fail at once)
  };
  struct Value {
    std::vector<char> data;
    uint64_t order = 0;  // when its host first sent this key (the first sender answers "any")
  };
  struct ValueWait {
    std::string host;
    uint64_t entry_id = 0;
    uint64_t request_id = 0;
    std::string key;
    std::string from_host;  // "" = any
    int64_t deadline_ms = 0;
    int64_t timeout_ms = 0;
  };
  struct Group {
    std::vector<std::string> hosts;                // sorted
    std::map<std::string, std::string> left;       // host -> why it left
    std::map<std::string, Barrier> barriers;
    std::map<std::string, std::map<std::string, Value>> values;  // key -> host -> value
    size_t value_bytes = 0;
    uint64_t next_order = 0;
    std::vector<ValueWait> waits;
  };

  void Arrive(Group& group, const std::string& host, uint64_t request_id,
              const protocol::SyncRequest& request);
  void Send(Group& group, const std::string& host, uint64_t request_id,
            const protocol::SyncRequest& request);
  void Wait(Group& group, const std::string& host, uint64_t request_id,
            const protocol::SyncRequest& request);
  // Releases generation `gen` of `name` and every earlier one still waiting.
  void Release(Barrier& barrier, const std::string& name, uint32_t gen);
  void FailGeneration(Barrier& barrier, const std::string& name, uint32_t gen,
                      const std::string& why);
  // The value a wait asks for, or nullptr (with *sender set when found).
  const Value* Find(const Group& group, const std::string& key, const std::string& from_host,
                    std::string* sender) const;
  void AnswerBarrier(const std::string& host, const Waiter& waiter, const std::string& name,
                     uint32_t gen, const std::string& error);
  void AnswerWait(const ValueWait& wait, const Value* value, const std::string& sender,
                  const std::string& error);
  int64_t DeadlineOf(int64_t timeout_ms) const;

  const Clock* clock_;
  ReplyFn reply_;
  std::map<GroupKey, Group> groups_;
};

}  // namespace labmesh::coordinator
