#include "host_registry.hpp"

#include <spdlog/spdlog.h>

#include <array>

#include "job_view.hpp"
#include "labels.hpp"

namespace labmesh::coordinator {

using protocol::HostStatus;

bool CanTransition(HostStatus from, HostStatus to) {
  using S = HostStatus;
  if (from == to) return false;
  if (to == S::kDead) return true;  // heartbeat loss can strike in any state
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
    case S::kDead:
      return to == S::kReady || to == S::kVerifying || to == S::kRepairing;
  }
  return false;
}

Status MoveStatus(store::Host& record, HostStatus to, const std::string& reason,
                  int64_t now_wall_ms) {
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

Status HostRegistry::Put(const store::Host& host) { return PutMany({host}, {}); }

Status HostRegistry::PutMany(const std::vector<store::Host>& hosts,
                             const std::vector<store::Label>& labels, store::WriteBatch batch) {
  for (const auto& host : hosts) batch.PutHost(host);
  for (const auto& label : labels) batch.PutLabel(label);
  LABMESH_RETURN_IF_ERROR(store_->Apply(batch));
  for (const auto& host : hosts) {
    auto [it, inserted] = hosts_.try_emplace(host.hostname);
    if (inserted) it->second.last_seen_steady_ms = clock_->SteadyMs();
    if (!inserted && it->second.record.public_key != host.public_key) {
      key_to_host_.erase(it->second.record.public_key);
    }
    if (!host.public_key.empty()) key_to_host_[host.public_key] = host.hostname;
    it->second.record = host;
    it->second.heartbeat_dirty = false;
  }
  for (const auto& label : labels) admin_labels_.insert(label.name);
  return Status::Ok();
}

Status HostRegistry::SetStatus(const std::string& hostname, HostStatus to,
                               const std::string& reason) {
  HostState* state = Find(hostname);
  if (state == nullptr) return Status::NotFound("host " + hostname + " not found");
  HostStatus from = state->record.status;
  store::Host updated = state->record;
  LABMESH_RETURN_IF_ERROR(MoveStatus(updated, to, reason, clock_->WallMs()));
  LABMESH_RETURN_IF_ERROR(Put(updated));
  spdlog::info("host={} status {} -> {} ({})", hostname, protocol::HostStatusName(from),
               protocol::HostStatusName(to), reason);
  return Status::Ok();
}

Result<store::Host> HostRegistry::PrepareStatus(const std::string& hostname, HostStatus to,
                                                const std::string& reason) const {
  auto it = hosts_.find(hostname);
  if (it == hosts_.end()) return Status::NotFound("host " + hostname + " not found");
  store::Host updated = it->second.record;
  LABMESH_RETURN_IF_ERROR(MoveStatus(updated, to, reason, clock_->WallMs()));
  return updated;
}

void HostRegistry::AdoptStatus(const store::Host& committed) {
  HostState* state = Find(committed.hostname);
  if (state == nullptr) return;
  HostStatus from = state->record.status;
  state->record.status = committed.status;
  state->record.status_reason = committed.status_reason;
  state->record.status_changed_ms = committed.status_changed_ms;
  state->record.last_task_id = committed.last_task_id;
  state->record.last_verified_ms = committed.last_verified_ms;
  state->record.repairs_ms = committed.repairs_ms;
  state->record.repair_on_return = committed.repair_on_return;
  state->record.last_known_good = committed.last_known_good;
  state->record.update_failed_version = committed.update_failed_version;
  spdlog::debug("host={} status {} -> {} ({})", committed.hostname, protocol::HostStatusName(from),
                protocol::HostStatusName(committed.status), committed.status_reason);
}

Status HostRegistry::DeleteAndRevoke(const std::string& hostname, const std::string& reason) {
  HostState* state = Find(hostname);
  if (state == nullptr) return Status::NotFound("host " + hostname + " not found");
  store::WriteBatch batch;
  batch.DeleteHost(hostname);
  std::string key = state->record.public_key;
  if (!key.empty()) {
    batch.RevokeKey(store::RevokedKey{key, hostname, reason, clock_->WallMs()});
  }
  LABMESH_RETURN_IF_ERROR(store_->Apply(batch));
  if (!state->routing_id.empty()) routing_to_host_.erase(state->routing_id);
  hosts_.erase(hostname);
  if (!key.empty()) {
    key_to_host_.erase(key);
    revoked_keys_.insert(key);
  }
  return Status::Ok();
}

Status HostRegistry::CreateAdminLabel(const std::string& name, const std::string& user) {
  if (admin_labels_.count(name) > 0) {
    return Status::AlreadyExists("label " + name + " already exists");
  }
  // Agents that claimed this name lose it: from now on only admins hand it out.
  std::vector<store::Host> changed;
  for (const auto& [hostname, state] : hosts_) {
    const auto& labels = state.record.agent_labels;
    if (std::find(labels.begin(), labels.end(), name) != labels.end()) {
      store::Host host = state.record;
      std::erase(host.agent_labels, name);
      changed.push_back(std::move(host));
    }
  }
  return PutMany(changed, {store::Label{name, user, clock_->WallMs()}});
}

Status HostRegistry::DeleteAdminLabel(const std::string& name) {
  if (admin_labels_.count(name) == 0) {
    return Status::NotFound("label " + name + " is not an admin label");
  }
  store::WriteBatch batch;
  std::vector<store::Host> changed;
  for (const auto& [hostname, state] : hosts_) {
    const auto& labels = state.record.admin_labels;
    if (std::find(labels.begin(), labels.end(), name) != labels.end()) {
      store::Host host = state.record;
      std::erase(host.admin_labels, name);
      batch.PutHost(host);
      changed.push_back(std::move(host));
    }
  }
  batch.DeleteLabel(name);
  LABMESH_RETURN_IF_ERROR(store_->Apply(batch));
  for (auto& host : changed) hosts_[host.hostname].record = std::move(host);
  admin_labels_.erase(name);
  return Status::Ok();
}

void HostRegistry::SetConnection(const std::string& hostname, const std::string& routing_id) {
  HostState* state = Find(hostname);
  if (state == nullptr) return;
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
}

Status HostRegistry::FlushHeartbeats() {
  store::WriteBatch batch;
  std::vector<HostState*> flushed;
  for (auto& [name, state] : hosts_) {
    if (!state.heartbeat_dirty) continue;
    batch.PutHost(state.record);
    flushed.push_back(&state);
  }
  if (batch.empty()) return Status::Ok();
  LABMESH_RETURN_IF_ERROR(store_->Apply(batch, store::Store::Durability::kLazy));
  for (HostState* state : flushed) state->heartbeat_dirty = false;
  return Status::Ok();
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

protocol::HostInfo HostRegistry::ToInfo(const HostState& state) const {
  const store::Host& h = state.record;
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
  if (h.last_task_id != 0) {
    auto task = store_->GetTask(h.last_task_id);
    if (task.ok() && task->has_value()) info.last_task = ToTaskInfo(**task, /*with_checks=*/false);
  }
  return info;
}

}  // namespace labmesh::coordinator
