#include "host_registry.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <limits>

#include "job_view.hpp"
#include "labels.hpp"
#include "reservation_rules.hpp"

namespace labmesh::coordinator {

using protocol::HostStatus;

bool CanTransition(HostStatus from, HostStatus to) {
  using S = HostStatus;
  if (from == to) return false;
  if (to == S::kDead) return true;  // heartbeat loss can strike in any state
  // Quarantined (docs/quarantine.md): where a quarantined host would go Ready (MoveStatus), and
  // from Ready when it is quarantined idle.
  if (to == S::kQuarantined) return from == S::kReady || CanTransition(from, S::kReady);
  switch (from) {
    case S::kReady:
      return to == S::kPending || to == S::kRunning || to == S::kVerifying ||
             to == S::kRepairing || to == S::kCleaning || to == S::kUpdating;
    case S::kPending:
      return to == S::kReady || to == S::kRunning || to == S::kVerifying;
    case S::kRunning:
      return to == S::kReady || to == S::kCleaning || to == S::kVerifying ||
             to == S::kRepairing;
    // Verifying or Cleaning straight to Repair Failed: it failed and no repair may run
    // (protection do-not-repair, or the repair limit was reached).
    case S::kVerifying:
      return to == S::kReady || to == S::kPending || to == S::kRunning || to == S::kRepairing ||
             to == S::kRepairFailed;
    case S::kRepairing:
      return to == S::kReady || to == S::kVerifying || to == S::kRepairFailed;
    case S::kCleaning:
      return to == S::kReady || to == S::kRepairing || to == S::kVerifying ||
             to == S::kRepairFailed;
    case S::kUpdating:
      return to == S::kReady || to == S::kVerifying || to == S::kRepairing;
    case S::kRepairFailed:
      return to == S::kRepairing || to == S::kVerifying || to == S::kReady;
    // Dead straight to Repair Failed: it was power cycled as often as --power-cycle-limit
    // allows and did not come back (docs/power-console.md).
    case S::kDead:
      return to == S::kReady || to == S::kVerifying || to == S::kRepairing ||
             to == S::kRepairFailed;
    // Its repair or verify, its probe jobs and their cleanups, or its release.
    case S::kQuarantined:
      return to == S::kReady || to == S::kRunning || to == S::kVerifying || to == S::kRepairing ||
             to == S::kCleaning;
  }
  return false;
}

Status MoveStatus(store::Host& record, HostStatus to, const std::string& reason,
                  int64_t now_wall_ms) {
  // A quarantined host goes Quarantined wherever it would go Ready: after its repair, its probe
  // jobs, a restart. Only its release (which clears quarantined_ms first) makes it Ready.
  if (to == HostStatus::kReady && record.quarantined_ms != 0) to = HostStatus::kQuarantined;
  if (!CanTransition(record.status, to)) {
    return Status::FailedPrecondition("host " + record.hostname + " cannot go from " +
                                      std::string(protocol::HostStatusName(record.status)) +
                                      " to " + std::string(protocol::HostStatusName(to)));
  }
  record.status = to;
  record.status_reason = reason;
  record.status_changed_ms = now_wall_ms;
  return Status::Ok();
}

HostRegistry::HostRegistry(store::Store* store, const Clock* clock)
    : store_(store), clock_(clock) {}

Status HostRegistry::Load() {
  auto hosts = store_->ListHosts();
  if (!hosts.ok()) return hosts.status();
  auto labels = store_->ListLabels();
  if (!labels.ok()) return labels.status();
  auto revoked = store_->ListRevokedKeys();
  if (!revoked.ok()) return revoked.status();
  int64_t now = clock_->SteadyMs();
  hosts_.clear();
  routing_to_host_.clear();
  key_to_host_.clear();
  for (auto& host : *hosts) {
    if (!host.public_key.empty()) key_to_host_[host.public_key] = host.hostname;
    HostState state;
    state.last_seen_steady_ms = now;
    std::string name = host.hostname;
    state.record = std::move(host);
    hosts_.emplace(name, std::move(state));
  }
  admin_labels_.clear();
  for (const auto& label : *labels) admin_labels_.insert(label.name);
  revoked_keys_.clear();
  for (const auto& key : *revoked) revoked_keys_.insert(key.public_key);
  return Status::Ok();
}

HostState* HostRegistry::Find(const std::string& hostname) {
  auto it = hosts_.find(hostname);
  return it == hosts_.end() ? nullptr : &it->second;
}

HostState* HostRegistry::FindByKey(const std::string& public_key) {
  auto it = key_to_host_.find(public_key);
  return it == key_to_host_.end() ? nullptr : Find(it->second);
}

HostState* HostRegistry::FindByRoutingId(const std::string& routing_id) {
  auto it = routing_to_host_.find(routing_id);
  return it == routing_to_host_.end() ? nullptr : Find(it->second);
}

const store::Host* HostRegistry::Staged(const std::string& hostname) const {
  if (staged_deleted_.count(hostname) > 0) return nullptr;
  auto staged = staged_.find(hostname);
  if (staged != staged_.end()) return &staged->second;
  auto it = hosts_.find(hostname);
  return it == hosts_.end() ? nullptr : &it->second.record;
}

HostStatus HostRegistry::StagedStatus(const std::string& hostname) const {
  const store::Host* host = Staged(hostname);
  return host != nullptr ? host->status : HostStatus::kDead;
}

store::Host* HostRegistry::Stage(const std::string& hostname) {
  if (staged_deleted_.count(hostname) > 0) return nullptr;
  soft_staged_.erase(hostname);  // whatever the caller changes is not soft
  auto staged = staged_.find(hostname);
  if (staged != staged_.end()) return &staged->second;
  auto it = hosts_.find(hostname);
  if (it == hosts_.end()) return nullptr;
  return &staged_.emplace(hostname, it->second.record).first->second;
}

Status HostRegistry::Transition(const std::string& hostname, HostStatus to,
                                const std::string& reason) {
  const store::Host* current = Staged(hostname);
  if (current == nullptr) return Status::NotFound("host " + hostname + " not found");
  HostStatus from = current->status;
  store::Host moved = *current;
  LABMESH_RETURN_IF_ERROR(MoveStatus(moved, to, reason, clock_->WallMs()));
  *Stage(hostname) = std::move(moved);
  // Every entry moves its host Ready -> Running -> Ready (groups through Pending): that churn is
  // debug; everything else (Dead, tasks, Repair Failed) is worth a line at info.
  auto churn = [](HostStatus s) {
    return s == HostStatus::kReady || s == HostStatus::kRunning || s == HostStatus::kPending;
  };
  to = Staged(hostname)->status;  // Quarantined where Ready was asked (MoveStatus)
  spdlog::log(churn(from) && churn(to) ? spdlog::level::debug : spdlog::level::info,
              "host={} status {} -> {} ({})", hostname, protocol::HostStatusName(from),
              protocol::HostStatusName(to), reason);
  return Status::Ok();
}

Status HostRegistry::Accept(const std::string& hostname, const std::string& reason) {
  store::Host* host = Stage(hostname);
  if (host == nullptr) return Status::NotFound("host " + hostname + " not found");
  if (host->enrollment != store::Enrollment::kPending) {
    return Status::FailedPrecondition("host " + hostname + " is not waiting for approval");
  }
  // A host waiting for approval was never scheduled: its status is the Ready it registered
  // with, and enrolment does not move it.
  host->enrollment = store::Enrollment::kAccepted;
  host->status_reason = reason;
  host->status_changed_ms = clock_->WallMs();
  spdlog::info("host={} accepted ({})", hostname, reason);
  return Status::Ok();
}

void HostRegistry::StageRegistration(store::Host host, bool durable) {
  std::string name = host.hostname;
  staged_deleted_.erase(name);
  if (durable) {
    soft_staged_.erase(name);
  } else if (staged_.count(name) == 0) {
    soft_staged_.insert(name);  // soft unless something else of this host is staged
  }
  staged_[name] = std::move(host);
}

void HostRegistry::StageMany(const std::vector<store::Host>& hosts,
                             const std::vector<store::Label>& labels) {
  for (const auto& host : hosts) {
    staged_deleted_.erase(host.hostname);
    soft_staged_.erase(host.hostname);
    staged_[host.hostname] = host;
  }
  for (const auto& label : labels) {
    staged_labels_deleted_.erase(label.name);
    staged_labels_.push_back(label);
  }
}

Status HostRegistry::CommitNow(const std::vector<store::Host>& hosts, store::WriteBatch batch) {
  for (const auto& host : hosts) batch.PutHost(host);
  LABMESH_RETURN_IF_ERROR(store_->Apply(batch));
  for (const auto& host : hosts) {
    auto it = hosts_.find(host.hostname);
    if (it == hosts_.end()) continue;
    it->second.record = host;
    it->second.heartbeat_dirty = false;
    auto staged = staged_.find(host.hostname);
    if (staged != staged_.end()) staged->second = host;
  }
  return Status::Ok();
}

bool HostRegistry::NeedsDurableCommit() const {
  return !staged_deleted_.empty() || !staged_revoked_.empty() || !staged_labels_.empty() ||
         !staged_labels_deleted_.empty() ||
         std::any_of(staged_.begin(), staged_.end(),
                     [this](const auto& staged) { return soft_staged_.count(staged.first) == 0; });
}

bool HostRegistry::WriteTo(store::WriteBatch& batch, size_t max_heartbeats) {
  written_heartbeats_.clear();
  for (const std::string& name : staged_deleted_) batch.DeleteHost(name);
  for (const auto& key : staged_revoked_) batch.RevokeKey(key);
  for (const auto& label : staged_labels_) batch.PutLabel(label);
  for (const std::string& name : staged_labels_deleted_) batch.DeleteLabel(name);
  for (const auto& [name, host] : staged_) {
    if (staged_deleted_.count(name) == 0) batch.PutHost(host);
  }
  if (heartbeat_round_open_ && max_heartbeats > 0) {
    auto it = hosts_.upper_bound(heartbeat_round_after_);
    for (; it != hosts_.end() && written_heartbeats_.size() < max_heartbeats; ++it) {
      const auto& [name, state] = *it;
      if (!state.heartbeat_dirty) continue;
      written_heartbeats_.push_back(name);
      if (staged_.count(name) == 0 && staged_deleted_.count(name) == 0) {
        batch.PutHost(state.record);
      }
    }
    if (it == hosts_.end()) {
      heartbeat_round_open_ = false;
      heartbeat_round_after_.clear();
    } else {
      heartbeat_round_after_ = std::prev(it)->first;
    }
  }
  return NeedsDurableCommit();
}

void HostRegistry::Adopt() {
  for (const std::string& name : written_heartbeats_) {
    if (HostState* state = Find(name)) state->heartbeat_dirty = false;
  }
  written_heartbeats_.clear();
  for (const std::string& name : staged_deleted_) {
    auto it = hosts_.find(name);
    if (it == hosts_.end()) continue;
    if (!it->second.routing_id.empty()) routing_to_host_.erase(it->second.routing_id);
    key_to_host_.erase(it->second.record.public_key);
    hosts_.erase(it);
  }
  for (const auto& key : staged_revoked_) revoked_keys_.insert(key.public_key);
  for (auto& [name, host] : staged_) {
    if (staged_deleted_.count(name) > 0) continue;
    auto [it, inserted] = hosts_.try_emplace(name);
    HostState& state = it->second;
    if (inserted) state.last_seen_steady_ms = clock_->SteadyMs();
    if (!inserted && state.record.public_key != host.public_key) {
      key_to_host_.erase(state.record.public_key);
    }
    if (!host.public_key.empty()) key_to_host_[host.public_key] = name;
    // Heartbeats that arrived after the change was staged are newer than its copy of them.
    if (!inserted) {
      host.health = state.record.health;
      host.last_heartbeat_ms = std::max(host.last_heartbeat_ms, state.record.last_heartbeat_ms);
    }
    state.record = std::move(host);
    state.heartbeat_dirty = false;
  }
  for (const auto& label : staged_labels_) admin_labels_.insert(label.name);
  for (const std::string& name : staged_labels_deleted_) admin_labels_.erase(name);
  std::map<std::string, std::string> connections;
  connections.swap(staged_connections_);
  staged_.clear();
  soft_staged_.clear();
  staged_deleted_.clear();
  staged_revoked_.clear();
  staged_labels_.clear();
  staged_labels_deleted_.clear();
  for (const auto& [name, routing_id] : connections) SetConnection(name, routing_id);
}

void HostRegistry::Discard() {
  written_heartbeats_.clear();
  staged_.clear();
  soft_staged_.clear();
  staged_connections_.clear();
  staged_deleted_.clear();
  staged_revoked_.clear();
  staged_labels_.clear();
  staged_labels_deleted_.clear();
}

Status HostRegistry::Commit(store::Store::Durability durability) {
  store::WriteBatch batch;
  StartHeartbeatRound();
  bool durable = WriteTo(batch, std::numeric_limits<size_t>::max());
  if (batch.empty()) return Status::Ok();
  Status s = store_->Apply(batch, durable ? durability : store::Store::Durability::kLazy);
  if (s.ok()) {
    Adopt();
  } else {
    Discard();
  }
  return s;
}

Status HostRegistry::DeleteAndRevoke(const std::string& hostname, const std::string& reason) {
  const store::Host* host = Staged(hostname);
  if (host == nullptr) return Status::NotFound("host " + hostname + " not found");
  if (!host->public_key.empty()) {
    staged_revoked_.push_back(store::RevokedKey{host->public_key, hostname, reason, clock_->WallMs()});
  }
  staged_.erase(hostname);
  staged_connections_.erase(hostname);
  staged_deleted_.insert(hostname);
  return Status::Ok();
}

bool HostRegistry::IsAdminLabel(const std::string& name) const {
  if (staged_labels_deleted_.count(name) > 0) return false;
  for (const auto& label : staged_labels_) {
    if (label.name == name) return true;
  }
  return admin_labels_.count(name) > 0;
}

Status HostRegistry::CreateAdminLabel(const std::string& name, const std::string& user) {
  if (IsAdminLabel(name)) return Status::AlreadyExists("label " + name + " already exists");
  // Agents that claimed this name lose it: from now on only admins hand it out.
  for (const auto& [hostname, state] : hosts_) {
    const store::Host* host = Staged(hostname);
    if (host == nullptr) continue;
    const auto& labels = host->agent_labels;
    if (std::find(labels.begin(), labels.end(), name) != labels.end()) {
      std::erase(Stage(hostname)->agent_labels, name);
    }
  }
  staged_labels_deleted_.erase(name);
  staged_labels_.push_back(store::Label{name, user, clock_->WallMs()});
  return Status::Ok();
}

Status HostRegistry::DeleteAdminLabel(const std::string& name) {
  if (!IsAdminLabel(name)) return Status::NotFound("label " + name + " is not an admin label");
  for (const auto& [hostname, state] : hosts_) {
    const store::Host* host = Staged(hostname);
    if (host == nullptr) continue;
    const auto& labels = host->admin_labels;
    if (std::find(labels.begin(), labels.end(), name) != labels.end()) {
      std::erase(Stage(hostname)->admin_labels, name);
    }
  }
  std::erase_if(staged_labels_, [&](const store::Label& l) { return l.name == name; });
  staged_labels_deleted_.insert(name);
  return Status::Ok();
}

void HostRegistry::SetConnection(const std::string& hostname, const std::string& routing_id) {
  HostState* state = Find(hostname);
  if (state == nullptr) {
    // A host registering for the first time exists once its record is committed.
    if (staged_.count(hostname) > 0) staged_connections_[hostname] = routing_id;
    return;
  }
  if (!state->routing_id.empty()) routing_to_host_.erase(state->routing_id);
  // Another host's stale mapping for the same connection cannot exist: routing ids are unique.
  state->routing_id = routing_id;
  state->last_seen_steady_ms = clock_->SteadyMs();
  if (!routing_id.empty()) routing_to_host_[routing_id] = hostname;
}

void HostRegistry::DropConnection(const std::string& hostname) { SetConnection(hostname, ""); }

void HostRegistry::RecordHeartbeat(const std::string& hostname,
                                   const protocol::HostHealth& health) {
  HostState* state = Find(hostname);
  if (state == nullptr) return;
  state->record.health = health;
  state->record.last_heartbeat_ms = clock_->WallMs();
  auto& history = state->health_history;
  if (history.empty() ||
      state->record.last_heartbeat_ms - history.back().time_ms >= kHealthHistoryEveryMs) {
    history.push_back(protocol::HealthSample{state->record.last_heartbeat_ms, health});
    if (history.size() > kHealthHistorySamples) history.pop_front();
  }
  state->last_seen_steady_ms = clock_->SteadyMs();
  state->heartbeat_dirty = true;
  auto staged = staged_.find(hostname);
  if (staged != staged_.end()) {
    staged->second.health = health;
    staged->second.last_heartbeat_ms = state->record.last_heartbeat_ms;
  }
}

std::vector<std::string> HostRegistry::SilentHosts(int64_t dead_after_ms) const {
  std::vector<std::string> silent;
  int64_t now = clock_->SteadyMs();
  for (const auto& [name, state] : hosts_) {
    if (state.record.enrollment != store::Enrollment::kAccepted) continue;
    if (state.record.status == HostStatus::kDead) continue;
    if (now - state.last_seen_steady_ms > dead_after_ms) silent.push_back(name);
  }
  return silent;
}

protocol::HostInfo HostRegistry::ToInfo(const HostState& state, const store::Host& h) const {
  protocol::HostInfo info;
  info.hostname = h.hostname;
  info.status = h.enrollment == store::Enrollment::kPending
                    ? "Pending Approval"
                    : std::string(protocol::HostStatusName(h.status));
  info.status_reason = h.status_reason;
  info.locked = h.locked;
  info.locked_by = h.locked_by;
  info.lock_reason = h.lock_reason;
  info.agent_labels = h.agent_labels;
  info.admin_labels = h.admin_labels;
  info.labels = EffectiveLabels(h.agent_labels, h.admin_labels);
  info.acl_groups = h.acl_groups;
  info.agent_version = h.agent_version;
  info.last_heartbeat_ms = h.last_heartbeat_ms;
  info.registered_ms = h.registered_ms;
  info.incarnation = h.incarnation;
  info.connected = !state.routing_id.empty();
  info.public_key = h.public_key;
  info.facts = h.facts;
  info.health = h.health;
  info.protection = std::string(protocol::ProtectionName(h.protection));
  info.last_known_good = h.last_known_good;
  info.update_failed_version = h.update_failed_version;
  if (ReservationActive(h, clock_->WallMs())) {  // an expired one is no longer shown
    info.reserved_by = h.reserved_by;
    info.reserve_reason = h.reserve_reason;
    info.reserved_ms = h.reserved_ms;
    info.reserved_until_ms = h.reserved_until_ms;
  }
  info.quarantine_reason = h.quarantine_reason;
  info.quarantined_by = h.quarantined_by;
  info.quarantined_ms = h.quarantined_ms;
  info.probes_passed = h.probes_passed;
  if (health_ != nullptr) {
    auto score = health_->hosts.find(h.hostname);
    if (score != health_->hosts.end()) {
      info.health_score = score->second.score;
      info.suspect = score->second.suspect;
    }
  }
  info.power = !h.power_cycle.empty();
  info.console = !h.console_command.empty();
  if (info_filler_) info_filler_(h.hostname, &info);
  if (h.last_task_id != 0) {
    auto task = store_->GetTask(h.last_task_id);
    if (task.ok() && task->has_value()) info.last_task = ToTaskInfo(**task, /*with_checks=*/false);
  }
  return info;
}

bool HostRegistry::Usable(const std::string& hostname) const {
  auto it = hosts_.find(hostname);
  if (it == hosts_.end()) return false;
  const HostState& state = it->second;
  return !state.routing_id.empty() && state.record.enrollment == store::Enrollment::kAccepted &&
         state.record.status != protocol::HostStatus::kDead;
}

}  // namespace labmesh::coordinator
