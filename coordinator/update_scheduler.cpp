// UpdateScheduler (docs/update.md): the desired version, Update tasks for idle hosts whose agent
// runs another version than its target, how they end, and the hosts' last_known_good /
// update_failed_version. See update_scheduler.hpp.
//
// Host records change only through the HostRegistry's staged copy (committed with the turn's
// batch, like every other host field), never by a write of their own.

#include <spdlog/spdlog.h>

#include "update_scheduler.hpp"

#include "host_tasks.hpp"
#include "lifecycle_rules.hpp"
#include "package_rules.hpp"
#include "scheduler.hpp"

namespace labmesh::coordinator {

using protocol::HostStatus;
using protocol::TaskKind;
using protocol::TaskStatus;


UpdateScheduler::UpdateScheduler(store::Store* store, HostRegistry* registry, Batch* batch)
    : store_(store), registry_(registry), batch_(batch) {}

void UpdateScheduler::Wire(HostTasks* tasks, Scheduler* scheduler) {
  tasks_ = tasks;
  scheduler_ = scheduler;
}

void UpdateScheduler::Stage(store::WriteBatch& writes) {
  if (desired_dirty_) writes.SetDesiredVersion(desired_);
  desired_dirty_ = false;  // on failure Load() reads the stored one back
}

void UpdateScheduler::OnAgentRegistered(const std::string& hostname) {
  // It runs the version it once failed to install (an Update lost with its host that went
  // through after all): that is no failure any more.
  const store::Host* host = registry_->Staged(hostname);
  if (host == nullptr) return;
  if (!host->update_failed_version.empty() && host->update_failed_version == host->agent_version) {
    registry_->Stage(hostname)->update_failed_version.clear();
  }
}

Status UpdateScheduler::Load() {
  desired_dirty_ = false;
  desired_package_.reset();
  update_targets_.clear();
  auto desired = store_->GetDesiredVersion();
  if (!desired.ok()) return desired.status();
  desired_ = std::move(*desired);
  if (!desired_.version.empty()) {
    auto package = store_->GetPackage(desired_.version);
    if (!package.ok()) return package.status();
    desired_package_ = std::move(*package);
    if (!desired_package_) {
      spdlog::error("desired version {} has no package: no host is updated",
                    desired_.version);
    }
  }
  // Open Update tasks keep the target they were queued for, even when the desired version
  // changed since: the agent may be installing it right now.
  for (const auto& [name, host] : registry_->hosts()) {
    const store::SpecialTask* open = tasks_->OpenTask(name);
    if (open == nullptr || open->kind != TaskKind::kUpdate) continue;
    const store::SpecialTask& task = *open;
    std::optional<std::string> target = ParseUpdateTarget(task.reason);
    std::optional<store::Package> package;
    if (target) {
      auto read = store_->GetPackage(*target);
      if (!read.ok()) return read.status();
      package = std::move(*read);
    }
    if (!package) {
      spdlog::error("host={} task={} Update names no stored package ({})", name, task.id,
                    task.reason);
      continue;  // its RunTask carries no package: the agent refuses it and reports failure
    }
    update_targets_[name] = std::move(*package);
  }
  return Status::Ok();
}

void UpdateScheduler::SetDesiredVersion(const store::DesiredVersion& desired,
                                   const store::Package& package, const std::string& routing_id,
                                   std::string reply, uint64_t request_id) {
  desired_ = desired;
  desired_package_ = package;
  desired_dirty_ = true;
  // Desiring a version again is how a person says "try again" on the hosts it failed on.
  for (const auto& [name, state] : registry_->hosts()) {
    const store::Host* host = registry_->Staged(name);
    if (host != nullptr && host->update_failed_version == desired.version) {
      registry_->Stage(name)->update_failed_version.clear();
    }
  }
  spdlog::info("desired agent version {} (canary {}%) set by {}", desired.version,
               desired.canary_percent, desired.set_by);
  scheduler_->RequestSchedule();
  batch_->ToApi(routing_id, std::move(reply), request_id);
}

std::optional<store::Package> UpdateScheduler::UpdateTargetOf(const store::Host& host) const {
  std::string target = TargetVersion(desired_, host.hostname, host.update_failed_version,
                                     desired_package_.has_value());
  if (target.empty()) return std::nullopt;
  return desired_package_;
}

void UpdateScheduler::ScheduleUpdates() {
  if (desired_.version.empty() || !desired_package_) return;
  // A copy: starting a task takes the host out of the idle set.
  std::vector<std::string> idle(scheduler_->idle().begin(), scheduler_->idle().end());
  for (const std::string& name : idle) {
    if (tasks_->HasOpenTask(name) || scheduler_->IsBusy(name)) continue;
    const HostState* state = registry_->Find(name);
    const store::Host* host = registry_->Staged(name);
    if (state == nullptr || host == nullptr || state->routing_id.empty() ||
        host->enrollment != store::Enrollment::kAccepted || host->status != HostStatus::kReady) {
      continue;
    }
    std::optional<store::Package> target = UpdateTargetOf(*host);
    if (!target || host->agent_version == target->version) continue;
    update_targets_[name] = *target;  // before StartTask: SendTask reads it
    std::string reason = UpdateTaskReason(host->agent_version, target->version);
    tasks_->StartTask(tasks_->QueueTask(name, TaskKind::kUpdate, reason, kCoordinatorUser));
  }
}

void UpdateScheduler::FillUpdate(const store::SpecialTask& task, protocol::RunTask& run) const {
  auto it = update_targets_.find(task.hostname);
  if (it == update_targets_.end()) {
    spdlog::error("host={} task={} Update has no package to send", task.hostname, task.id);
    return;
  }
  run.version = it->second.version;
  run.package_sha256 = it->second.sha256;
  run.package_bytes = it->second.bytes;
}

void UpdateScheduler::OnUpdaterRegistered(const std::string& name,
                                          const protocol::TaskReport& update_report) {
  const store::Host& host = *registry_->Staged(name);
  const store::SpecialTask& task = *tasks_->OpenTask(name);
  auto known = update_targets_.find(name);
  std::string target = known != update_targets_.end()
                           ? known->second.version
                           : ParseUpdateTarget(task.reason).value_or("");
  if (!target.empty() && host.agent_version == target) {
    tasks_->EndTask(name, true, "now runs " + target, {});
    return;
  }
  if (update_report.task_id != 0 && update_report.task_id == task.id) {
    std::string reason = update_report.reason.empty()
                             ? "the agent rolled back (it gave no reason)"
                             : update_report.reason;
    tasks_->EndTask(name, false, reason, CappedChecks(update_report.checks));
    return;
  }
  // Restarted in the middle (or never got it): it resumes the download from what it holds.
  spdlog::info("host={} task={} agent {} registered during its Update: sent again", name,
               task.id, host.agent_version);
  tasks_->SendTask(task);
}

void UpdateScheduler::UpdateEnded(const store::SpecialTask& task, bool passed) {
  const std::string& name = task.hostname;
  auto it = update_targets_.find(name);
  std::string version;
  if (it != update_targets_.end()) {
    version = it->second.version;
    update_targets_.erase(it);
  } else {
    version = ParseUpdateTarget(task.reason).value_or("");
  }
  if (version.empty()) return;
  store::Host* fields = registry_->Stage(name);
  if (fields == nullptr) return;
  if (!passed) {
    fields->update_failed_version = version;  // not tried again until desired again
    spdlog::warn("host={} task={} update to {} failed: not retried until it is desired again",
                 name, task.id, version);
  } else if (fields->update_failed_version == version) {
    fields->update_failed_version.clear();
  }
}

void UpdateScheduler::NoteEntryCompleted(const std::string& hostname) {
  const store::Host* host = registry_->Staged(hostname);
  if (host == nullptr || host->agent_version.empty()) return;
  if (host->last_known_good == host->agent_version) return;  // no host write for nothing new
  std::string version = host->agent_version;
  registry_->Stage(hostname)->last_known_good = version;
}

}  // namespace labmesh::coordinator
