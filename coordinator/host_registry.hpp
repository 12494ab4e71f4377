#pragma once
// HostRegistry: the coordinator's in-memory view of every host, backed by the store.
//
// Owned and called only by the event-loop thread. It is the only writer of host records: every
// other service (registration, the API, the job side) asks it. Every change except heartbeats
// is staged and committed with the loop turn's batch, and applied to memory only when that
// commit succeeded. Heartbeats (health, last_heartbeat) change memory at once and are
// persisted with the turn's batch every heartbeat-flush interval. Status changes go through
// Transition(), which checks the transition table and logs `from -> to (reason)`.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "labmesh/common/clock.hpp"
#include "labmesh/common/status.hpp"
#include "labmesh/protocol/messages.hpp"
#include "health_rules.hpp"
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
  // Whether `name` is an admin label after this turn's commit.
  bool IsAdminLabel(const std::string& name) const;
  bool IsKeyRevoked(const std::string& public_key) const {
    return revoked_keys_.count(public_key) > 0;
  }

  // ---- changes ----
  // The registry is the only writer of host records. Changes are staged: the loop turn's
  // batch commits them together with everything else of the turn (WriteTo, then Adopt after
  // the commit or Discard after a failed one), and memory (hosts(), Find()) changes only
  // after the commit. Staged() shows a host as it will be after the commit; every writer builds
  // its change from it, so two writers of one turn never undo each other.
  const store::Host* Staged(const std::string& hostname) const;
  // The staged status; kDead for a host that does not exist (or is being deleted).
  protocol::HostStatus StagedStatus(const std::string& hostname) const;
  // The staged copy of a host to change fields other than status on (lock, labels, protection,
  // lifecycle fields); nullptr when there is no such host. Status moves go through Transition.
  store::Host* Stage(const std::string& hostname);
  // Moves a host to `to` through the transition table (the one place a host's status changes)
  // and logs `from -> to (reason)`. Refuses moves the table does not allow and changes nothing.
  Status Transition(const std::string& hostname, protocol::HostStatus to,
                    const std::string& reason);
  // An admin accepts a host waiting for approval: enrolled, Ready.
  Status Accept(const std::string& hostname, const std::string& reason);
  // A registration's record (new or known host), built from Staged() by the hello handling;
  // its status moves were checked with MoveStatus.
  // `durable` false: only soft state changed (a known host's hello again: incarnation, facts,
  // labels, version), which needs no fsync before the Welcome (WriteTo).
  void StageRegistration(store::Host host, bool durable = true);
  // Replaces staged records (built from Staged()), with admin labels to create.
  void StageMany(const std::vector<store::Host>& hosts, const std::vector<store::Label>& labels);
  // Removes a host and revokes its key (staged, one commit).
  Status DeleteAndRevoke(const std::string& hostname, const std::string& reason);
  // Creates or deletes an admin label; deleting removes it from every host in the same commit.
  Status CreateAdminLabel(const std::string& name, const std::string& user);
  Status DeleteAdminLabel(const std::string& name);
  // Commits `hosts` (built from Staged()) with `batch` at once, outside the turn's batch: for
  // the ACL changes AuthService commits together with its users' records. A host's staged copy
  // takes the committed record, so the turn's own commit repeats, never undoes, it.
  Status CommitNow(const std::vector<store::Host>& hosts, store::WriteBatch batch);

  // Puts every staged change into `batch`, and, while a heartbeat round is open, the records of
  // at most `max_heartbeats` hosts whose heartbeat changed, resuming after the last host the
  // round reached: 8,000 changed hosts took one 40 ms turn, a stall every agent's ack waited
  // behind; now they take several short ones. Returns whether anything needs a durable commit
  // (heartbeats alone do not).
  bool WriteTo(store::WriteBatch& batch, size_t max_heartbeats);
  // Opens a round over every host (one is open already: it goes on where it was).
  void StartHeartbeatRound() { heartbeat_round_open_ = true; }
  bool HeartbeatRoundOpen() const { return heartbeat_round_open_; }
  // The batch of the last WriteTo committed: staged changes become the hosts' records.
  void Adopt();
  // It failed: staged changes are dropped (heartbeats stay dirty for the next try).
  void Discard();
  // WriteTo + Apply + Adopt/Discard, for callers outside the loop turn (tests, shutdown).
  Status Commit(store::Store::Durability durability = store::Store::Durability::kSync);

  void SetConnection(const std::string& hostname, const std::string& routing_id);
  void DropConnection(const std::string& hostname);
  // Records a heartbeat in memory only.
  void RecordHeartbeat(const std::string& hostname, const protocol::HostHealth& health);
  // Persists every host whose heartbeat changed since the last flush (and anything staged),
  // in one transaction without an fsync of its own (heartbeats are soft state).
  Status FlushHeartbeats() { return Commit(store::Store::Durability::kLazy); }

  // Accepted hosts that are not Dead and have been silent for longer than `dead_after_ms`
  // (connected or not: a host whose agent never came back after a restart goes Dead too).
  std::vector<std::string> SilentHosts(int64_t dead_after_ms) const;

  protocol::HostInfo ToInfo(const HostState& state) const { return ToInfo(state, state.record); }
  // The same with `record` (e.g. a staged one) for the record's fields.
  protocol::HostInfo ToInfo(const HostState& state, const store::Host& record) const;

  // The latest health scores (HealthService), shown in ToInfo and read by results queries.
  void set_health(std::shared_ptr<const HealthView> view) { health_ = std::move(view); }
  // Adds what other services know of a host to its HostInfo (the package mesh's fields).
  void set_info_filler(std::function<void(const std::string&, protocol::HostInfo*)> filler) {
    info_filler_ = std::move(filler);
  }
  // Accepted, connected now and not Dead.
  bool Usable(const std::string& hostname) const;
  // Shared, so that a query on a reader thread (QueryPool) keeps the one it started with.
  std::shared_ptr<const HealthView> health() const { return health_; }

 private:
  store::Store* store_;
  const Clock* clock_;
  std::shared_ptr<const HealthView> health_;
  std::function<void(const std::string&, protocol::HostInfo*)> info_filler_;
  std::map<std::string, HostState> hosts_;
  std::map<std::string, std::string> routing_to_host_;
  std::map<std::string, std::string> key_to_host_;  // Curve public key -> hostname
  std::set<std::string> admin_labels_;
  std::set<std::string> revoked_keys_;

  // Staged for the turn's commit.
  std::map<std::string, store::Host> staged_;  // changed or new hosts
  std::map<std::string, std::string> staged_connections_;  // new hosts: routing id at Adopt
  std::set<std::string> staged_deleted_;
  std::vector<store::RevokedKey> staged_revoked_;
  std::vector<store::Label> staged_labels_;            // admin labels created
  std::set<std::string> staged_labels_deleted_;
  std::vector<std::string> written_heartbeats_;  // hosts whose heartbeat the last WriteTo wrote
  std::set<std::string> soft_staged_;  // staged_ names whose change is soft (StageRegistration)
  // Something staged is more than soft (WriteTo's answer).
  bool NeedsDurableCommit() const;
  bool heartbeat_round_open_ = false;
  std::string heartbeat_round_after_;  // the last host the open round looked at
};

}  // namespace labmesh::coordinator
