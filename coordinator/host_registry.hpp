#pragma once
// HostRegistry: the coordinator's in-memory view of every host, backed by the store.
//
// Owned and called only by the event-loop thread. Every change except heartbeats is committed
// to the store first and applied to memory only when the commit succeeded. Heartbeats (health,
// last_heartbeat) change memory at once and are persisted in batches by FlushHeartbeats().
// Status changes go through SetStatus(), the one writer of a host's status, which checks the
// transition table and logs `from -> to (reason)`.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "labmesh/common/clock.hpp"
#include "labmesh/common/status.hpp"
#include "labmesh/protocol/messages.hpp"
#include "labmesh/store/store.hpp"

namespace labmesh::coordinator {

// Whether `from -> to` is an allowed host status move.
bool CanTransition(protocol::HostStatus from, protocol::HostStatus to);

// The one place a host record's status changes: checks the transition table and sets status,
// reason and time on `record` (not committed: the caller commits it and then logs the move).
Status MoveStatus(store::Host& record, protocol::HostStatus to, const std::string& reason,
                  int64_t now_wall_ms);

struct HostState {
  store::Host record;       // committed state; heartbeat fields may be newer than the store's
  std::string routing_id;   // the agent's current connection on the agent socket; "" = none
  int64_t last_seen_steady_ms = 0;
  bool heartbeat_dirty = false;  // health/last_heartbeat not yet persisted
  // Recent health for the web page's host view, oldest first; memory only (kHealthHistory*).
  std::deque<protocol::HealthSample> health_history;
};

// Health history: a heartbeat is kept when the newest kept one is at least this old...
inline constexpr int64_t kHealthHistoryEveryMs = 30'000;
// ...and at most this many are (one hour at one per 30 s).
inline constexpr size_t kHealthHistorySamples = 120;

class HostRegistry {
 public:
  HostRegistry(store::Store* store, const Clock* clock);

  // Loads hosts, admin labels and revoked keys. Every host counts as seen now, which gives
  // agents a grace period to come back after a coordinator restart.
  Status Load();

  const std::map<std::string, HostState>& hosts() const { return hosts_; }
  HostState* Find(const std::string& hostname);
  // The host registered with this Curve key, or nullptr.
  HostState* FindByKey(const std::string& public_key);
  HostState* FindByRoutingId(const std::string& routing_id);
  const std::set<std::string>& admin_labels() const { return admin_labels_; }
  bool IsKeyRevoked(const std::string& public_key) const {
    return revoked_keys_.count(public_key) > 0;
  }

  // Commits `host` (new or changed; status changes must go through SetStatus) and then applies it.
  Status Put(const store::Host& host);
  // Moves a host to `to`, committing the change. Refuses moves the table does not allow.
  Status SetStatus(const std::string& hostname, protocol::HostStatus to, const std::string& reason);
  // For changes committed together with other records (the job service's batches): the host's
  // record moved to `to` (checked against the table), not committed and not applied. After the
  // batch committed, AdoptStatus() applies the status fields of that record to memory, and the
  // lifecycle fields the job service owns (last_task_id, last_verified_ms, repairs_ms,
  // repair_on_return, last_known_good, update_failed_version).
  Result<store::Host> PrepareStatus(const std::string& hostname, protocol::HostStatus to,
                                    const std::string& reason) const;
  void AdoptStatus(const store::Host& committed);
  // Removes a host and revokes its key in one commit.
  Status DeleteAndRevoke(const std::string& hostname, const std::string& reason);
  // Creates or deletes an admin label; deleting removes it from every host in the same commit.
  Status CreateAdminLabel(const std::string& name, const std::string& user);
  Status DeleteAdminLabel(const std::string& name);
  // Commits the changed hosts of one admin-label change (e.g. `label create` stripping agent
  // labels that collide with the new name) in one transaction.
  // `batch` holds other records to commit with them (ACL changes: the users' records).
  Status PutMany(const std::vector<store::Host>& hosts, const std::vector<store::Label>& labels,
                 store::WriteBatch batch = {});

  void SetConnection(const std::string& hostname, const std::string& routing_id);
  void DropConnection(const std::string& hostname);
  // Records a heartbeat in memory only.
  void RecordHeartbeat(const std::string& hostname, const protocol::HostHealth& health);
  // Persists every host whose heartbeat changed since the last flush, in one transaction
  // without an fsync of its own (heartbeats are soft state).
  Status FlushHeartbeats();

  // Accepted hosts that are not Dead and have been silent for longer than `dead_after_ms`
  // (connected or not: a host whose agent never came back after a restart goes Dead too).
  std::vector<std::string> SilentHosts(int64_t dead_after_ms) const;

  protocol::HostInfo ToInfo(const HostState& state) const;

 private:
  store::Store* store_;
  const Clock* clock_;
  std::map<std::string, HostState> hosts_;
  std::map<std::string, std::string> routing_to_host_;
  std::map<std::string, std::string> key_to_host_;  // Curve public key -> hostname
  std::set<std::string> admin_labels_;
  std::set<std::string> revoked_keys_;
};

}  // namespace labmesh::coordinator
