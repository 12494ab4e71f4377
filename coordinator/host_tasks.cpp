// HostTasks: special tasks (Verify, Repair, Cleanup, Update), verify before an entry runs,
// cleanup after it, repair of failed and returning hosts, periodic verifies, and the API's
// `host verify|repair|history`. See host_tasks.hpp and docs/lifecycle.md.

#include "host_tasks.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "job_view.hpp"
#include "labmesh/common/duration.hpp"
#include "lifecycle_rules.hpp"
#include "scheduler.hpp"
#include "update_scheduler.hpp"

namespace labmesh::coordinator {

using protocol::EntryStatus;
using protocol::HostStatus;
using protocol::TaskKind;
using protocol::TaskStatus;

namespace {

constexpr uint32_t kDefaultHistory = 100;
constexpr uint32_t kMaxHistory = 1000;
constexpr int64_t kPeriodicCheckEveryMs = 5'000;

HostStatus StatusWhileRunning(TaskKind kind) {
  switch (kind) {
    case TaskKind::kVerify: return HostStatus::kVerifying;
    case TaskKind::kRepair: return HostStatus::kRepairing;
    case TaskKind::kCleanup: return HostStatus::kCleaning;
    case TaskKind::kUpdate: return HostStatus::kUpdating;
    case TaskKind::kPower: break;  // never an open task (RecordPowerTask)
  }
  return HostStatus::kVerifying;
}

std::string TaskName(const store::SpecialTask& task) {
  return std::string(protocol::TaskKindName(task.kind)) + " task " + std::to_string(task.id);
}

}  // namespace

bool CanMoveTask(TaskStatus from, TaskStatus to) {
  switch (from) {
    case TaskStatus::kQueued: return to == TaskStatus::kRunning || to == TaskStatus::kAborted;
    case TaskStatus::kRunning:
      return to == TaskStatus::kCompleted || to == TaskStatus::kFailed ||
             to == TaskStatus::kAborted;
    default: return false;  // final
  }
}

HostTasks::HostTasks(const CoordinatorConfig& config, const Clock* clock, store::Store* store,
                     HostRegistry* registry, Batch* batch, FrameOutbox to_agent,
                     FrameOutbox to_api)
    : config_(config),
      clock_(clock),
      store_(store),
      registry_(registry),
      batch_(batch),
      to_agent_(std::move(to_agent)),
      to_api_(std::move(to_api)) {}

void HostTasks::Wire(JobService* jobs, Scheduler* scheduler, UpdateScheduler* updates) {
  jobs_ = jobs;
  scheduler_ = scheduler;
  updates_ = updates;
}

void HostTasks::MoveTask(store::SpecialTask& task, TaskStatus to) {
  if (!CanMoveTask(task.status, to)) {
    spdlog::error("host={} {} cannot go from {} to {}", task.hostname, TaskName(task),
                  TaskStatusName(task.status), TaskStatusName(to));
    return;
  }
  task.status = to;
}

void HostTasks::SetHost(const std::string& hostname, HostStatus to, const std::string& reason) {
  // A host already in `to` keeps its record as it is (reason and time of that move).
  if (registry_->Staged(hostname) == nullptr || registry_->StagedStatus(hostname) == to) return;
  if (Status s = registry_->Transition(hostname, to, reason); !s.ok()) {
    spdlog::error("host={} {}", hostname, s.message());
  }
}

const store::SpecialTask* HostTasks::OpenTask(const std::string& hostname) const {
  auto it = tasks_.find(hostname);
  return it == tasks_.end() ? nullptr : &it->second;
}

void HostTasks::Stage(store::WriteBatch& writes) {
  for (const std::string& name : dirty_tasks_) {
    auto it = tasks_.find(name);
    if (it != tasks_.end()) writes.PutTask(it->second);
  }
  for (const store::SpecialTask& task : ended_tasks_) writes.PutTask(task);
  dirty_tasks_.clear();
  ended_tasks_.clear();
}

uint64_t HostTasks::RecordPowerTask(store::SpecialTask task) {
  task.id = ++last_task_id_;
  task.kind = TaskKind::kPower;
  spdlog::info("host={} Power task {} {}: {}", task.hostname, task.id,
               TaskStatusName(task.status), task.reason);
  ended_tasks_.push_back(std::move(task));
  return last_task_id_;
}

void HostTasks::OnAgentRegistered(const std::string& hostname,
                                  const protocol::TaskReport& update_report) {
  const store::Host* host = registry_->Staged(hostname);
  if (host == nullptr) return;
  auto open = tasks_.find(hostname);
  if (open != tasks_.end() && open->second.status == TaskStatus::kRunning &&
      open->second.kind == TaskKind::kUpdate) {
    updates_->OnUpdaterRegistered(hostname, update_report);
  } else if (open != tasks_.end() && open->second.status == TaskStatus::kRunning) {
    SendTask(open->second);
  } else if (host->status == HostStatus::kDead && open == tasks_.end()) {
    // (A task queued while it was away starts instead, from StartTasks.)
    if (std::optional<TaskKind> kind = TaskOnReturn(host->protection)) {
      QueueTask(hostname, *kind, "the host came back after it was lost", kCoordinatorUser);
    } else {
      SetHost(hostname, HostStatus::kReady, "agent registered again");
    }
  }
  if (registry_->Staged(hostname)->repair_on_return) registry_->Stage(hostname)->repair_on_return = false;
}

void HostTasks::OnHostDead(const std::string& hostname) {
  // Its task ends (Aborted); when it comes back it is repaired before it is Ready.
  auto open = tasks_.find(hostname);
  if (open != tasks_.end()) {
    store::SpecialTask task = std::move(open->second);
    tasks_.erase(open);
    dirty_tasks_.erase(hostname);
    MoveTask(task, TaskStatus::kAborted);
    task.finished_ms = clock_->WallMs();
    task.reason = "host lost (no heartbeat) during the task";
    if (task.kind == TaskKind::kUpdate) updates_->UpdateEnded(task, /*passed=*/false);
    ended_tasks_.push_back(std::move(task));
  }
  if (store::Host* host = registry_->Stage(hostname)) host->repair_on_return = true;
}

void HostTasks::OnHostDeleted(const std::string& hostname) {
  tasks_.erase(hostname);  // its records stay in the store; nobody will run it
  dirty_tasks_.erase(hostname);
}

// ---- state ----

Status HostTasks::Load() {
  tasks_.clear();
  auto max_task = store_->MaxTaskId();
  if (!max_task.ok()) return max_task.status();
  last_task_id_ = *max_task;
  started_wall_ms_ = clock_->WallMs();
  for (const auto& [name, host] : registry_->hosts()) {
    if (host.record.last_task_id == 0) continue;
    auto task = store_->GetTask(host.record.last_task_id);
    if (!task.ok()) return task.status();
    if (!task->has_value() || protocol::IsFinal((*task)->status)) continue;
    // A Running task is sent again when the agent registers (RunTask is safe to repeat).
    tasks_.emplace(name, std::move(**task));
  }
  return Status::Ok();
}

protocol::Protection HostTasks::ProtectionOf(const std::string& hostname) const {
  const store::Host* host = registry_->Staged(hostname);
  return host != nullptr ? host->protection : protocol::Protection::kNone;
}

// ---- tasks ----

store::SpecialTask& HostTasks::QueueTask(const std::string& hostname, TaskKind kind,
                                          const std::string& reason, const std::string& by,
                                          const store::Entry* entry) {
  store::SpecialTask task;
  task.id = ++last_task_id_;
  task.hostname = hostname;
  task.kind = kind;
  task.status = TaskStatus::kQueued;
  task.reason = reason;
  task.requested_by = by;
  if (entry != nullptr) {
    task.job_id = entry->job_id;
    task.entry_id = entry->id;
  }
  task.queued_ms = clock_->WallMs();
  if (store::Host* host = registry_->Stage(hostname)) host->last_task_id = task.id;
  dirty_tasks_.insert(hostname);
  spdlog::info("host={} {} queued: {} (by {})", hostname, TaskName(task), reason, by);
  tasks_[hostname] = std::move(task);
  return tasks_[hostname];
}

bool HostTasks::CanStartTask(const std::string& hostname) const {
  const HostState* host = registry_->Find(hostname);
  if (host == nullptr || host->routing_id.empty()) return false;  // waits for the agent
  if (scheduler_->IsBusy(hostname)) return false;  // an entry is started (or held) there
  HostStatus status = registry_->StagedStatus(hostname);
  return status == HostStatus::kReady || status == HostStatus::kRepairFailed ||
         status == HostStatus::kQuarantined ||  // its quarantine's repair
         status == HostStatus::kDead;  // Dead yet connected: it just came back
}

void HostTasks::StartTasks() {
  for (auto& [name, task] : tasks_) {
    if (task.status == TaskStatus::kQueued && CanStartTask(name)) StartTask(task);
  }
}

void HostTasks::StartTask(store::SpecialTask& task) {
  const std::string hostname = task.hostname;
  protocol::Protection protection = ProtectionOf(hostname);
  MoveTask(task, TaskStatus::kRunning);
  task.started_ms = clock_->WallMs();
  dirty_tasks_.insert(hostname);
  SetHost(hostname, StatusWhileRunning(task.kind), TaskName(task) + ": " + task.reason);
  if (task.kind == TaskKind::kVerify && SkipsVerify(protection)) {
    EndTask(hostname, true, "",
            {protocol::TaskCheck{"skipped", true, "protection do-not-verify: not verified", 0}});
    return;
  }
  spdlog::info("host={} {} started", hostname, TaskName(task));
  SendTask(task);
}

void HostTasks::SendTask(const store::SpecialTask& task) {
  protocol::RunTask run = RunTaskFor(task.kind, ProtectionOf(task.hostname));
  run.task_id = task.id;
  run.coordinator_ms = clock_->WallMs();
  if (task.kind == TaskKind::kUpdate) updates_->FillUpdate(task, run);
  batch_->ToAgent(task.hostname, protocol::Encode(run));
}

void HostTasks::OnTaskReport(const HostState& host, const protocol::Envelope& e) {
  auto report = protocol::DecodeBody<protocol::TaskReport>(e);
  if (!report.ok())
    return to_agent_(host.routing_id, protocol::ErrorFrame(e.request_id, report.status()));
  const std::string& name = host.record.hostname;
  auto it = tasks_.find(name);
  if (it == tasks_.end() || it->second.id != report->task_id ||
      it->second.status != TaskStatus::kRunning) {
    spdlog::debug("host={} report of task {} that is not running there: ignored", name,
                  report->task_id);
    return;
  }
  if (it->second.kind == TaskKind::kUpdate && report->passed) {
    // An Update passes only when the agent registers again on its target version
    // (docs/update.md); a "passed" report would end it with the old agent still running.
    spdlog::info("host={} {}: passed report ignored; it ends when the new agent registers", name,
                 TaskName(it->second));
    return;
  }
  std::string reason = report->reason;
  if (!report->passed && reason.empty()) reason = "failed (the agent gave no reason)";
  EndTask(name, report->passed, reason, CappedChecks(std::move(report->checks)));
}

void HostTasks::EndTask(const std::string& hostname, bool passed, const std::string& reason,
                         std::vector<protocol::TaskCheck> checks) {
  auto it = tasks_.find(hostname);
  if (it == tasks_.end()) return;
  store::SpecialTask task = std::move(it->second);
  tasks_.erase(it);
  dirty_tasks_.erase(hostname);
  MoveTask(task, passed ? TaskStatus::kCompleted : TaskStatus::kFailed);
  task.finished_ms = clock_->WallMs();
  if (!reason.empty()) task.reason = reason;
  task.checks = std::move(checks);
  spdlog::info("host={} {} {}{}{}", hostname, TaskName(task), passed ? "passed" : "failed",
               reason.empty() ? "" : ": ", reason);
  ended_tasks_.push_back(task);
  AfterTask(task, passed, reason);
  scheduler_->RequestSchedule();
}

void HostTasks::AfterTask(const store::SpecialTask& task, bool passed, const std::string& reason) {
  const std::string& hostname = task.hostname;
  // The entry this task ran for, when it still waits for it on this host.
  store::Entry* entry = nullptr;
  if (task.entry_id != 0) {
    store::Entry* waiting = jobs_->FindEntry(task.entry_id);
    if (waiting != nullptr && !protocol::IsFinal(waiting->status)) entry = waiting;
  }
  bool verifying_entry = entry != nullptr && entry->status == EntryStatus::kVerifying &&
                         scheduler_->BusyWith(hostname) == entry->id;
  switch (task.kind) {
    case TaskKind::kVerify:
      if (passed) {
        if (store::Host* host = registry_->Stage(hostname)) {
          host->last_verified_ms = clock_->WallMs();
        }
        if (verifying_entry) {
          JobService::ActiveJob& job = jobs_->job(entry->job_id);
          if (job.job.synch_count > 1) {
            scheduler_->Hold(*entry, job, hostname);
          } else {
            scheduler_->StartOn(*entry, job, hostname);
          }
          return;
        }
        SetHost(hostname, HostStatus::kReady, "verify passed");
        return;
      }
      if (verifying_entry) {
        scheduler_->ClearBusy(hostname, entry->id);
        scheduler_->Requeue(*entry, "verify of " + hostname + " failed (" + reason + "); queued again");
      }
      NeedRepair(hostname, "verify failed: " + reason,
                 verifying_entry && entry->meta_label.empty() ? entry->id : 0);
      return;
    case TaskKind::kRepair:
      if (passed) {
        if (store::Host* host = registry_->Stage(hostname)) {
          host->last_verified_ms = clock_->WallMs();
        }
        SetHost(hostname, HostStatus::kReady, "repair passed");
        return;
      }
      LeaveRepairFailed(hostname, "repair failed: " + reason, task.entry_id);
      return;
    case TaskKind::kCleanup:
      if (passed) {
        SetHost(hostname, HostStatus::kReady, "cleanup passed");
        return;
      }
      NeedRepair(hostname, "cleanup failed: " + reason, 0);
      return;
    case TaskKind::kPower:
      return;  // never an open task
    case TaskKind::kUpdate:
      updates_->UpdateEnded(task, passed);
      SetHost(hostname, HostStatus::kReady,
                      passed ? "updated: " + reason : "update failed: " + reason);
      return;
  }
}

void HostTasks::NeedRepair(const std::string& hostname, const std::string& reason,
                            uint64_t entry_id) {
  if (RefusesRepair(ProtectionOf(hostname))) {
    LeaveRepairFailed(hostname, reason + "; not repaired (protection do-not-repair)", entry_id);
    return;
  }
  store::Host* fields = registry_->Stage(hostname);
  if (fields == nullptr) return;
  int64_t now = clock_->WallMs();
  if (!MayRepairAgain(fields->repairs_ms, now, config_.repair_limit, config_.repair_window_ms)) {
    LeaveRepairFailed(hostname,
                      reason + "; repaired " + std::to_string(fields->repairs_ms.size()) +
                          " times within " + FormatDurationMs(config_.repair_window_ms) +
                          " already, left for a person (labmesh host repair " + hostname + ")",
                      entry_id);
    return;
  }
  fields->repairs_ms.push_back(now);
  const store::Entry* entry = entry_id != 0 ? jobs_->FindEntry(entry_id) : nullptr;
  StartTask(QueueTask(hostname, TaskKind::kRepair, reason, kCoordinatorUser, entry));
}

void HostTasks::LeaveRepairFailed(const std::string& hostname, const std::string& reason,
                                   uint64_t entry_id) {
  SetHost(hostname, HostStatus::kRepairFailed, reason);
  store::Entry* found = entry_id != 0 ? jobs_->FindEntry(entry_id) : nullptr;
  if (found == nullptr) return;
  store::Entry& entry = *found;
  if (entry.status != EntryStatus::kQueued || !entry.meta_label.empty() ||
      entry.hostname != hostname) {
    return;
  }
  // A named host that cannot be mended: its entry would wait for a person.
  scheduler_->Dequeue(entry);
  jobs_->Finish(entry, EntryStatus::kFailed, "host " + hostname + " is Repair Failed: " + reason,
         "infrastructure");
}

// ---- entries ----

bool HostTasks::NeedsVerifyFirst(const JobService::ActiveJob& job, const store::Host& host) const {
  return job.job.run_verify && !SkipsVerify(host.protection);
}

void HostTasks::VerifyBeforeRun(store::Entry& entry, const std::string& hostname) {
  jobs_->Move(entry, EntryStatus::kVerifying, "verifying " + hostname + " before the run");
  auto open = tasks_.find(hostname);
  if (open != tasks_.end()) {
    // Cannot happen (a host with an open task is not eligible); keep the entry safe anyway.
    spdlog::error("host={} has {} open while an entry wants to verify it", hostname,
                  TaskName(open->second));
    return;
  }
  StartTask(QueueTask(hostname, TaskKind::kVerify,
                      "before job " + std::to_string(entry.job_id) + " entry " +
                          std::to_string(entry.id),
                      kCoordinatorUser, &entry));
}

void HostTasks::MaybeCleanup(const store::Entry& entry, const std::string& outcome) {
  const JobService::ActiveJob& job = jobs_->job(entry.job_id);
  const std::string& hostname = entry.hostname;
  if (!NeedsCleanup(job.job.cleanup, outcome)) return;
  if (scheduler_->IsBusy(hostname) || tasks_.count(hostname) > 0) return;
  const HostState* host = registry_->Find(hostname);
  if (host == nullptr || host->routing_id.empty()) return;
  StartTask(QueueTask(hostname, TaskKind::kCleanup,
                      "after job " + std::to_string(entry.job_id) + " entry " +
                          std::to_string(entry.id) + " (" + outcome + ")",
                      kCoordinatorUser, &entry));
}

void HostTasks::CheckPeriodicVerify() {
  if (config_.verify_interval_ms <= 0) return;
  int64_t steady = clock_->SteadyMs();
  if (steady < next_periodic_check_ms_) return;
  next_periodic_check_ms_ = steady + std::min(kPeriodicCheckEveryMs, config_.verify_interval_ms);
  int64_t now = clock_->WallMs();
  for (const std::string& name : scheduler_->idle()) {
    if (tasks_.count(name) > 0 || scheduler_->IsBusy(name)) continue;
    const HostState* host = registry_->Find(name);
    const store::Host* staged = registry_->Staged(name);
    if (host == nullptr || staged == nullptr || host->routing_id.empty() ||
        SkipsVerify(staged->protection) || staged->status != HostStatus::kReady) {
      continue;
    }
    int64_t verified = staged->last_verified_ms;
    if (now - std::max(verified, started_wall_ms_) < config_.verify_interval_ms) continue;
    QueueTask(name, TaskKind::kVerify,
              "periodic verify (every " + FormatDurationMs(config_.verify_interval_ms) + ")",
              kCoordinatorUser);
  }
}

void HostTasks::CheckDeadlines() {
  const int64_t deadline = config_.task_deadline_ms;
  if (deadline <= 0) return;
  int64_t now = clock_->WallMs();
  std::vector<std::string> late;  // EndTask may queue and start the next task: collect first
  for (const auto& [name, task] : tasks_) {
    // Counted from this coordinator's start at the earliest: agents re-report after a restart.
    if (task.status == TaskStatus::kRunning &&
        now - std::max(task.started_ms, started_wall_ms_) >= deadline) {
      late.push_back(name);
    }
  }
  for (const std::string& name : late) {
    spdlog::warn("host={} {}: no report within {}", name, TaskName(tasks_.at(name)),
                 FormatDurationMs(deadline));
    EndTask(name, false,
            "no report from the agent within " + FormatDurationMs(deadline) + " (--task-deadline)",
            {});
  }
}

// ---- API ----

void HostTasks::RequestTask(const std::string& routing_id, const protocol::Envelope& e,
                             const Principal& who) {
  auto request = protocol::DecodeBody<protocol::HostTaskRequest>(e);
  if (!request.ok())
    return to_api_(routing_id, protocol::ErrorFrame(e.request_id, request.status()));
  auto kind = ParseRequestedKind(request->kind);
  if (!kind.ok()) return to_api_(routing_id, protocol::ErrorFrame(e.request_id, kind.status()));
  const HostState* host = registry_->Find(request->hostname);
  if (host == nullptr || host->record.enrollment != store::Enrollment::kAccepted) {
    return to_api_(
        routing_id,
        protocol::ErrorFrame(e.request_id, Status::NotFound("no host named " + request->hostname)));
  }
  protocol::Protection protection = host->record.protection;
  if (*kind == TaskKind::kVerify && SkipsVerify(protection)) {
    return to_api_(routing_id,
                   protocol::ErrorFrame(
                       e.request_id, Status::FailedPrecondition("host " + request->hostname +
                                                                " has protection do-not-verify")));
  }
  if (*kind == TaskKind::kRepair && RefusesRepair(protection)) {
    return to_api_(routing_id,
                   protocol::ErrorFrame(
                       e.request_id, Status::FailedPrecondition("host " + request->hostname +
                                                                " has protection do-not-repair")));
  }
  auto open = tasks_.find(request->hostname);
  if (open != tasks_.end()) {
    if (open->second.kind == *kind) {  // asking twice gets the same task
      return to_api_(routing_id, protocol::Encode(protocol::HostTaskReply{ToTaskInfo(
                                                      open->second, /*with_checks=*/true)},
                                                  e.request_id));
    }
    return to_api_(routing_id,
                   protocol::ErrorFrame(
                       e.request_id,
                       Status::FailedPrecondition("host " + request->hostname + " already has " +
                                                  TaskName(open->second) + " (" +
                                                  std::string(TaskStatusName(open->second.status)) +
                                                  "); ask again when it has ended")));
  }
  const std::string& user = who.user;
  const store::SpecialTask& task =
      QueueTask(request->hostname, *kind, "requested by " + user, user);
  batch_->ToApi(routing_id,
                protocol::Encode(protocol::HostTaskReply{ToTaskInfo(task, true)}, e.request_id),
                e.request_id);
}

std::string HostTasks::History(const protocol::Envelope& e) const {
  auto request = protocol::DecodeBody<protocol::HostHistoryRequest>(e);
  if (!request.ok()) return protocol::ErrorFrame(e.request_id, request.status());
  if (registry_->Find(request->hostname) == nullptr) {
    return protocol::ErrorFrame(e.request_id,
                                Status::NotFound("no host named " + request->hostname));
  }
  uint32_t limit = request->limit == 0 ? kDefaultHistory : std::min(request->limit, kMaxHistory);
  auto tasks = store_->ListHostTasks(request->hostname, limit);
  if (!tasks.ok()) return protocol::ErrorFrame(e.request_id, tasks.status());
  auto entries = store_->ListHostEntries(request->hostname, limit);
  if (!entries.ok()) return protocol::ErrorFrame(e.request_id, entries.status());
  std::map<uint64_t, std::optional<store::Job>> jobs;
  protocol::HostHistoryReply reply;
  for (const store::SpecialTask& task : *tasks) {
    protocol::TaskInfo info = ToTaskInfo(task, true);
    protocol::HistoryItem item;
    item.type = "task";
    item.id = info.id;
    item.job_id = info.job_id;
    item.name = info.kind;
    item.status = info.status;
    item.reason = info.reason;
    item.requested_by = info.requested_by;
    item.queued_ms = info.queued_ms;
    item.started_ms = info.started_ms;
    item.finished_ms = info.finished_ms;
    item.checks = std::move(info.checks);
    reply.items.push_back(std::move(item));
  }
  for (const store::Entry& entry : *entries) {
    auto job = jobs.find(entry.job_id);
    if (job == jobs.end()) {
      auto read = store_->GetJob(entry.job_id);
      job = jobs.emplace(entry.job_id, read.ok() ? *read : std::nullopt).first;
    }
    protocol::HistoryItem item;
    item.type = "entry";
    item.id = entry.id;
    item.job_id = entry.job_id;
    item.name = job->second ? job->second->name : "";
    item.requested_by = job->second ? job->second->owner : "";
    item.status = std::string(protocol::EntryStatusName(entry.status));
    item.reason = entry.status_reason;
    if (entry.hostname != request->hostname) {
      item.reason = "moved to " + (entry.hostname.empty() ? "another host" : entry.hostname) +
                    ": " + item.reason;
    }
    item.queued_ms = entry.queued_us / 1000;
    item.started_ms = entry.started_us / 1000;
    item.finished_ms = entry.finished_us / 1000;
    item.crash = entry.crash;
    item.crash_line = entry.crash_line;
    reply.items.push_back(std::move(item));
  }
  // Newest first: by when it started (or was queued, when it has not started), ties by id.
  auto when = [](const protocol::HistoryItem& item) {
    return item.started_ms != 0 ? item.started_ms : item.queued_ms;
  };
  std::stable_sort(reply.items.begin(), reply.items.end(),
                   [&](const protocol::HistoryItem& a, const protocol::HistoryItem& b) {
                     if (when(a) != when(b)) return when(a) > when(b);
                     return a.id > b.id;
                   });
  if (reply.items.size() > limit) reply.items.resize(limit);
  return protocol::Encode(reply, e.request_id);
}

}  // namespace labmesh::coordinator
