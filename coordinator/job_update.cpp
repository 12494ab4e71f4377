// JobService, agent self-update (docs/update.md): the desired version, Update tasks for idle
// hosts whose agent runs another version than its target, how they end, and the hosts'
// last_known_good / update_failed_version. The decisions themselves are in package_rules.hpp;
// the packages and their bytes are PackageService's.
//
// Host records change only through StageLifecycle (committed with the batch, like every other
// lifecycle field), never by a write of their own: the registry and this service would
// otherwise race over the same record.

#include <spdlog/spdlog.h>

#include "job_service.hpp"
#include "package_rules.hpp"

namespace labmesh::coordinator {

using protocol::HostStatus;
using protocol::TaskKind;
using protocol::TaskStatus;

namespace {

constexpr char kCoordinatorUser[] = "labmesh";

// What an agent reports is kept within the limits a TaskReport has on the wire.
std::vector<protocol::TaskCheck> CappedChecks(std::vector<protocol::TaskCheck> checks) {
  if (checks.size() > protocol::kMaxTaskChecks) checks.resize(protocol::kMaxTaskChecks);
  for (protocol::TaskCheck& check : checks) {
    if (check.output.size() > protocol::kMaxTaskOutputBytes) {
      check.output.erase(0, check.output.size() - protocol::kMaxTaskOutputBytes);
    }
  }
  return checks;
}

}  // namespace

Status JobService::LoadUpdates() {
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
  for (const auto& [name, task] : tasks_) {
    if (task.kind != TaskKind::kUpdate) continue;
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

void JobService::SetDesiredVersion(const store::DesiredVersion& desired,
                                   const store::Package& package, const std::string& routing_id,
                                   std::string reply, uint64_t request_id) {
  desired_ = desired;
  desired_package_ = package;
  desired_dirty_ = true;
  // Desiring a version again is how a person says "try again" on the hosts it failed on.
  for (const auto& [name, host] : registry_->hosts()) {
    auto staged = lifecycle_changes_.find(name);
    const std::string& failed = staged != lifecycle_changes_.end()
                                    ? staged->second.update_failed_version
                                    : host.record.update_failed_version;
    if (failed == desired.version) StageLifecycle(name).update_failed_version.clear();
  }
  spdlog::info("desired agent version {} (canary {}%) set by {}", desired.version,
               desired.canary_percent, desired.set_by);
  schedule_needed_ = true;
  ToApi(routing_id, std::move(reply), /*after_commit=*/true);
  outgoing_.back().request_id = request_id;
}

std::optional<store::Package> JobService::UpdateTargetOf(const HostState& host) const {
  const std::string& name = host.record.hostname;
  auto staged = lifecycle_changes_.find(name);
  const std::string& failed = staged != lifecycle_changes_.end()
                                  ? staged->second.update_failed_version
                                  : host.record.update_failed_version;
  std::string target = TargetVersion(desired_, name, failed, desired_package_.has_value());
  if (target.empty()) return std::nullopt;
  return desired_package_;
}

void JobService::ScheduleUpdates() {
  if (desired_.version.empty() || !desired_package_) return;
  for (const std::string& name : idle_) {
    if (tasks_.count(name) > 0 || busy_.count(name) > 0) continue;
    const HostState* host = registry_->Find(name);
    if (host == nullptr || host->routing_id.empty() ||
        host->record.enrollment != store::Enrollment::kAccepted ||
        StagedStatus(name) != HostStatus::kReady) {
      continue;
    }
    std::optional<store::Package> target = UpdateTargetOf(*host);
    if (!target || host->record.agent_version == target->version) continue;
    update_targets_[name] = *target;  // before StartTask: SendTask reads it
    StartTask(QueueTask(name, TaskKind::kUpdate,
                        UpdateTaskReason(host->record.agent_version, target->version),
                        kCoordinatorUser));
  }
}

void JobService::FillUpdate(const store::SpecialTask& task, protocol::RunTask& run) const {
  auto it = update_targets_.find(task.hostname);
  if (it == update_targets_.end()) {
    spdlog::error("host={} task={} Update has no package to send", task.hostname, task.id);
    return;
  }
  run.version = it->second.version;
  run.package_sha256 = it->second.sha256;
  run.package_bytes = it->second.bytes;
}

void JobService::OnUpdaterRegistered(const HostState& host,
                                     const protocol::TaskReport& update_report) {
  const std::string& name = host.record.hostname;
  const store::SpecialTask& task = tasks_.at(name);
  auto known = update_targets_.find(name);
  std::string target = known != update_targets_.end()
                           ? known->second.version
                           : ParseUpdateTarget(task.reason).value_or("");
  if (!target.empty() && host.record.agent_version == target) {
    EndTask(name, true, "now runs " + target, {});
    return;
  }
  if (update_report.task_id != 0 && update_report.task_id == task.id) {
    std::string reason = update_report.reason.empty()
                             ? "the agent rolled back (it gave no reason)"
                             : update_report.reason;
    EndTask(name, false, reason, CappedChecks(update_report.checks));
    return;
  }
  // Restarted in the middle (or never got it): it resumes the download from what it holds.
  spdlog::info("host={} task={} agent {} registered during its Update: sent again", name,
               task.id, host.record.agent_version);
  SendTask(task);
}

void JobService::UpdateEnded(const store::SpecialTask& task, bool passed) {
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
  LifecycleFields& fields = StageLifecycle(name);
  if (!passed) {
    fields.update_failed_version = version;  // not tried again until desired again
    spdlog::warn("host={} task={} update to {} failed: not retried until it is desired again",
                 name, task.id, version);
  } else if (fields.update_failed_version == version) {
    fields.update_failed_version.clear();
  }
}

void JobService::NoteEntryCompleted(const std::string& hostname) {
  const HostState* host = registry_->Find(hostname);
  if (host == nullptr || host->record.agent_version.empty()) return;
  auto staged = lifecycle_changes_.find(hostname);
  const std::string& known = staged != lifecycle_changes_.end() ? staged->second.last_known_good
                                                                : host->record.last_known_good;
  if (known == host->record.agent_version) return;  // no host write for nothing new
  StageLifecycle(hostname).last_known_good = host->record.agent_version;
}

}  // namespace labmesh::coordinator
