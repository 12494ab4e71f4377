// JobService, API half: loading, job creation, abort, timeouts, readers and staging. The agent
// half (reports, chunks, host events, parsing, the entries' moves) is in job_reports.cpp.

#include "job_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "entry_status.hpp"
#include "labmesh/common/duration.hpp"
#include "job_rules.hpp"
#include "job_view.hpp"
#include "notify_rules.hpp"
#include "labels.hpp"
#include "schedule_rules.hpp"
#include "scheduler.hpp"
#include "text_util.hpp"

namespace labmesh::coordinator {

using protocol::EntryStatus;
using protocol::HostStatus;
using protocol::MessageType;

namespace {

constexpr uint64_t kMaxLogReplyBytes = 1 << 20;

bool Shares(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (const std::string& x : a) {
    if (std::find(b.begin(), b.end(), x) != b.end()) return true;
  }
  return false;
}

}  // namespace

JobService::JobService(const CoordinatorConfig& config, const Clock* clock, store::Store* store,
                       HostRegistry* registry, TestCatalog* catalog, ResultsRepository* results,
                       Batch* batch, FrameOutbox to_agent, FrameOutbox to_api)
    : config_(config),
      clock_(clock),
      store_(store),
      registry_(registry),
      catalog_(catalog),
      results_(results),
      batch_(batch),
      to_agent_(std::move(to_agent)),
      to_api_(std::move(to_api)) {}

void JobService::Wire(Scheduler* scheduler, HostTasks* tasks, UpdateScheduler* updates) {
  scheduler_ = scheduler;
  tasks_ = tasks;
  updates_ = updates;
}

Status JobService::Load() {
  jobs_.clear();
  entries_.clear();
  dirty_jobs_.clear();
  dirty_entries_.clear();
  finished_jobs_.clear();
  end_hooked_.clear();
  waiters_.clear();
  to_parse_.clear();
  auto max_job = store_->MaxJobId();
  if (!max_job.ok()) return max_job.status();
  auto max_entry = store_->MaxEntryId();
  if (!max_entry.ok()) return max_entry.status();
  last_job_id_ = *max_job;
  last_entry_id_ = *max_entry;
  auto jobs = store_->ListJobs();
  if (!jobs.ok()) return jobs.status();
  for (store::Job& job : *jobs) {
    if (job.finished_us != 0) continue;
    auto entries = store_->GetEntries(job.entry_ids);
    if (!entries.ok()) return entries.status();
    auto groups = GroupsOf(job.owner);
    if (!groups.ok()) return groups.status();
    ActiveJob active{std::move(job), std::move(*groups), 0};
    uint32_t index = 0;
    for (store::Entry& entry : *entries) {
      if (active.job.synch_count <= 1) entry.group = index;  // entries stored before groups
      ++index;
      if (protocol::IsFinal(entry.status)) continue;
      if (active.job.control_kind == kImportKind) {
        // Its file list was in the old process's memory: the import cannot finish.
        entry.fault = "infrastructure";
        (void)MoveEntry(entry, EntryStatus::kFailed, "import interrupted by a coordinator restart",
                        clock_->WallUs());
        dirty_entries_.insert(entry.id);
        entries_.emplace(entry.id, std::move(entry));
        continue;
      }
      ++active.open_entries;
      if (entry.status == EntryStatus::kPending) {
        // Holds do not survive a restart: the host asks for work again and the entry waits
        // for its group anew.
        if (registry_->StagedStatus(entry.hostname) == HostStatus::kPending) {
          (void)registry_->Transition(entry.hostname, HostStatus::kReady, "coordinator restarted");
        }
        Move(entry, EntryStatus::kQueued, "coordinator restarted while holding " + entry.hostname);
        if (!entry.meta_label.empty()) entry.hostname.clear();
      } else if (entry.status == EntryStatus::kParsing) {
        to_parse_.push_back(ParseWorkFor(entry, active));  // parsed again: the files are there
      }
      entries_.emplace(entry.id, std::move(entry));
    }
    if (active.open_entries == 0) {  // an interrupted import: the job ends with the next commit
      active.job.finished_us = clock_->WallUs();
      dirty_jobs_.insert(active.job.id);
      finished_jobs_.push_back(active.job.id);
    }
    jobs_.emplace(active.job.id, std::move(active));
  }
  for (auto& [id, job] : jobs_) {
    if (job.job.waiting) WaitFor(job);
  }
  return Status::Ok();
}

JobService::ActiveJob* JobService::FindJob(uint64_t id) {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

store::Entry* JobService::FindEntry(uint64_t id) {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

const store::Entry* JobService::FindEntry(uint64_t id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

Result<std::vector<std::string>> JobService::GroupsOf(const std::string& user) const {
  auto record = store_->GetUser(user);
  if (!record.ok()) return record.status();
  if (!record->has_value()) return std::vector<std::string>{store::kEveryoneGroup};
  return (*record)->acl_groups;
}

std::string JobService::Unsuitable(const store::Host& host, const std::vector<std::string>& groups,
                                   const std::string& meta_label,
                                   const std::vector<std::string>& depends) const {
  if (host.enrollment != store::Enrollment::kAccepted) {
    return "host " + host.hostname + " is waiting for approval";
  }
  if (!Shares(host.acl_groups, groups)) {
    return "host " + host.hostname + " is in ACL groups [" + Join(host.acl_groups) +
           "], none of which the owner belongs to ([" + Join(groups) + "])";
  }
  std::vector<std::string> labels = EffectiveLabels(host.agent_labels, host.admin_labels);
  auto has = [&](const std::string& l) {
    return std::binary_search(labels.begin(), labels.end(), l);
  };
  if (!meta_label.empty() && !has(meta_label)) {
    return "host " + host.hostname + " lacks label " + meta_label;
  }
  std::vector<std::string> missing;
  for (const std::string& label : depends) {
    if (!has(label)) missing.push_back(label);
  }
  if (!missing.empty()) return "host " + host.hostname + " lacks label(s) " + Join(missing);
  return "";
}

void JobService::Create(const std::string& routing_id, const protocol::Envelope& e,
                        const Principal& who) {
  auto refuse = [&](const Status& status) {
    spdlog::info("job refused: {}", status.message());
    to_api_(routing_id, protocol::ErrorFrame(e.request_id, status));
  };
  auto request = protocol::DecodeBody<protocol::JobCreateRequest>(e);
  if (!request.ok()) return refuse(request.status());
  request->user = who.user;  // the owner is who sent it, whatever the body says
  auto id = CreateJob(std::move(*request), "");
  if (!id.ok()) return refuse(id.status());
  batch_->ToApi(routing_id, protocol::Encode(protocol::JobCreateReply{*id}, e.request_id),
                e.request_id);
}

Result<uint64_t> JobService::CreateJob(protocol::JobCreateRequest request,
                                       const std::string& schedule,
                                       const std::string& probe_for) {
  auto spec = ValidateJobSpec(request);
  if (!spec.ok()) return spec.status();
  const protocol::JobCreateRequest& r = spec->request;
  if (!r.template_name.empty()) {
    LABMESH_RETURN_IF_ERROR(ValidateWorkflowName("template", r.template_name));
    auto used = store_->GetTemplate(r.template_name);
    if (!used.ok()) return used.status();
    if (!used->has_value()) {
      return Status::NotFound("template " + r.template_name + " does not exist");
    }
  }

  store::Job job;
  job.control_kind = spec->control_kind;
  if (spec->control_kind == "test") {
    auto test = catalog_->Show(r.test);
    if (!test.ok()) return test.status();
    job.control = test->control;  // a copy: later edits of the catalog do not change the job
    job.test_name = r.test;
  } else {
    job.control = spec->control_kind == "command" ? r.command : r.control;
  }
  auto groups = GroupsOf(r.user);
  if (!groups.ok()) return groups.status();

  // Refuse what can never run: unknown or unsuitable named hosts, too few label hosts.
  for (const std::string& name : r.hosts) {
    const HostState* host = registry_->Find(name);
    if (host == nullptr) return Status::NotFound("host " + name + " does not exist");
    std::string why = Unsuitable(host->record, *groups, "", r.depends);
    if (!why.empty()) return Status::FailedPrecondition("job can never run: " + why);
  }
  if (r.meta_count > 0) {
    size_t suitable = 0;
    for (const auto& [name, host] : registry_->hosts()) {
      if (std::binary_search(r.hosts.begin(), r.hosts.end(), name)) continue;
      if (Unsuitable(host.record, *groups, r.meta_label, r.depends).empty()) ++suitable;
    }
    if (suitable < r.meta_count) {
      std::string needs = "label " + r.meta_label;
      if (!r.depends.empty()) needs += " and label(s) " + Join(r.depends);
      return Status::FailedPrecondition(
          "job can never run: " + std::to_string(r.meta_count) + " hosts with " + needs +
          " wanted, but only " + std::to_string(suitable) + " such host(s) are in ACL groups of " +
          r.user);
    }
  }

  if (Status s = CheckAfter(r); !s.ok()) return s;

  int64_t now = clock_->WallUs();
  job.id = ++last_job_id_;
  job.name = r.name;
  job.owner = r.user;
  job.priority = spec->priority;
  job.synch_count = r.synch_count;
  job.hosts = r.hosts;
  job.meta_label = r.meta_label;
  job.meta_count = r.meta_count;
  job.depends = r.depends;
  job.run_verify = r.run_verify;
  job.timeout_ms = r.timeout_ms;
  job.max_runtime_ms = r.max_runtime_ms;
  job.cleanup = r.cleanup;
  job.retry = r.retry;
  job.keep_results_ms = r.keep_results_ms;
  job.created_us = now;
  // Notifications: the request's, else the owner's defaults (docs/notifications.md).
  job.notify = r.notify;
  job.notify_on = r.notify_on;
  if (job.notify.empty() || job.notify_on.empty()) {
    auto owner = store_->GetUser(r.user);
    if (!owner.ok()) return owner.status();
    if (owner->has_value()) {
      if (job.notify.empty()) job.notify = (*owner)->notify;
      if (job.notify_on.empty()) job.notify_on = (*owner)->notify_on;
    }
  }
  if (job.notify_on.empty()) job.notify_on = "always";
  job.after = r.after;
  job.after_any = r.after_any;
  job.reserve_on_failure_ms = r.reserve_on_failure_ms;
  job.probe_for = probe_for;
  job.waiting = !job.after.empty();
  job.template_name = r.template_name;
  job.schedule = schedule;
  std::vector<store::Entry> entries;
  auto add_entry = [&](const std::string& host, const std::string& label) {
    store::Entry entry;
    uint32_t index = static_cast<uint32_t>(entries.size());
    entry.group = job.synch_count > 1 ? index / job.synch_count : index;
    entry.id = ++last_entry_id_;
    entry.job_id = job.id;
    entry.hostname = host;
    entry.meta_label = label;
    entry.queued_us = now;
    entry.status_reason = job.waiting ? "waiting for --after jobs" : "waiting for a host";
    entry.history.push_back({EntryStatus::kQueued, now, "job created by " + r.user});
    job.entry_ids.push_back(entry.id);
    entries.push_back(std::move(entry));
  };
  for (const std::string& host : r.hosts) add_entry(host, "");
  for (uint32_t i = 0; i < r.meta_count; ++i) add_entry("", r.meta_label);

  ActiveJob active{job, std::move(*groups), entries.size()};
  ActiveJob& made = jobs_.emplace(job.id, std::move(active)).first->second;
  for (store::Entry& entry : entries) {
    dirty_entries_.insert(entry.id);
    const store::Entry& queued = entries_.emplace(entry.id, std::move(entry)).first->second;
    if (!job.waiting) scheduler_->QueueEntry(queued);
  }
  dirty_jobs_.insert(job.id);
  if (job.waiting) WaitFor(made);
  scheduler_->RequestSchedule();
  spdlog::info("job={} created by {}{}: '{}' {} entries, priority {}", job.id, job.owner,
               schedule.empty() ? "" : " (schedule " + schedule + ")", job.name,
               job.entry_ids.size(), protocol::PriorityName(job.priority));
  return job.id;
}

void JobService::AbortEntry(store::Entry& entry, const std::string& reason) {
  if (protocol::IsFinal(entry.status) || entry.abort_requested) return;
  if (entry.status == EntryStatus::kQueued) {
    scheduler_->Dequeue(entry);
    Finish(entry, EntryStatus::kAborted, reason, "");
    return;
  }
  if (entry.status == EntryStatus::kPending || entry.status == EntryStatus::kVerifying) {
    // Held, or its host still being verified: the agent knows nothing of the entry (a Verify
    // goes on and frees the host when it ends).
    Finish(entry, EntryStatus::kAborted, reason, "");
    return;
  }
  const HostState* host = registry_->Find(entry.hostname);
  if (host == nullptr || host->routing_id.empty()) {
    // Nobody to tell: the agent learns it when it comes back (AbortEntry with discard).
    Finish(entry, EntryStatus::kAborted, reason + " (host not connected)", "");
    return;
  }
  entry.abort_requested = true;
  entry.abort_reason = reason;
  dirty_entries_.insert(entry.id);
  batch_->ToAgent(entry.hostname, protocol::Encode(protocol::AbortEntry{entry.id, reason, false}));
}

void JobService::Abort(const std::string& routing_id, const protocol::Envelope& e,
                       const Principal& who) {
  auto request = protocol::DecodeBody<protocol::JobAbortRequest>(e);
  if (!request.ok())
    return to_api_(routing_id, protocol::ErrorFrame(e.request_id, request.status()));
  auto job_it = jobs_.find(request->id);
  if (job_it == jobs_.end()) {
    auto stored = store_->GetJob(request->id);
    if (!stored.ok())
      return to_api_(routing_id, protocol::ErrorFrame(e.request_id, stored.status()));
    if (!stored->has_value()) {
      return to_api_(
          routing_id,
          protocol::ErrorFrame(
              e.request_id, Status::NotFound("job " + std::to_string(request->id) + " not found")));
    }
    if (Status s = who.MayChangeJob((*stored)->owner, request->id); !s.ok()) {
      return to_api_(routing_id, protocol::ErrorFrame(e.request_id, s));
    }
    return to_api_(routing_id, protocol::Encode(protocol::OkReply{"job " +
                                                                  std::to_string(request->id) +
                                                                  " has already finished"},
                                                e.request_id));
  }
  ActiveJob& job = job_it->second;
  if (Status s = who.MayChangeJob(job.job.owner, request->id); !s.ok()) {
    return to_api_(routing_id, protocol::ErrorFrame(e.request_id, s));
  }
  std::string reason = "aborted by " + who.user;
  size_t matched = 0, now_aborted = 0, stopping = 0;
  for (uint64_t id : job.job.entry_ids) {
    auto it = entries_.find(id);
    if (it == entries_.end()) continue;  // final
    store::Entry& entry = it->second;
    if (protocol::IsFinal(entry.status)) continue;
    if (!request->host.empty() && entry.hostname != request->host) continue;
    ++matched;
    AbortEntry(entry, reason);
    if (protocol::IsFinal(entry.status)) {
      ++now_aborted;
    } else {
      ++stopping;
    }
  }
  if (!request->host.empty() && matched == 0) {
    return to_api_(
        routing_id,
        protocol::ErrorFrame(
            e.request_id, Status::NotFound("job " + std::to_string(request->id) +
                                           " has no running or queued entry on " + request->host)));
  }
  if (request->host.empty() && job.job.abort_reason.empty()) {
    job.job.abort_reason = reason;
    dirty_jobs_.insert(job.job.id);
  }
  spdlog::info("job={} {}: {} entries aborted, {} being stopped", request->id, reason,
               now_aborted, stopping);
  batch_->ToApi(routing_id,
                protocol::Encode(protocol::OkReply{"job " + std::to_string(request->id) + ": " +
                                                   std::to_string(now_aborted) +
                                                   " entries aborted, " +
                                                   std::to_string(stopping) + " being stopped"},
                                 e.request_id),
                e.request_id);
}

bool JobService::Rebooting(const std::string& hostname) const {
  uint64_t busy = scheduler_->BusyWith(hostname);
  if (busy == 0) return false;
  auto it = entries_.find(busy);
  return it != entries_.end() && it->second.status == EntryStatus::kRebooting;
}

void JobService::CheckTimeouts() {
  int64_t now = clock_->WallUs();
  for (auto& [id, entry] : entries_) {
    if (entry.status != EntryStatus::kRebooting || entry.reboot_deadline_us == 0 ||
        now < entry.reboot_deadline_us) {
      continue;
    }
    // Not back in time: the entry fails as infrastructure; the host, silent, goes Dead at the
    // next check and is repaired when it speaks again (docs/kernel-lab.md).
    const store::StatusChange& asked = entry.history.back();
    std::string reason = "no boot within " +
                         FormatDurationMs((entry.reboot_deadline_us - asked.at_us) / 1000) +
                         " (reboot " + std::to_string(entry.boot_count + 1) + ")";
    entry.reboot_deadline_us = 0;
    dirty_entries_.insert(entry.id);
    Finish(entry, EntryStatus::kFailed, reason, "infrastructure");
  }
  for (auto& [id, job] : jobs_) {
    if (job.job.timeout_ms <= 0 || now < job.job.created_us + job.job.timeout_ms * 1000) continue;
    std::string reason = "job timeout after " + std::to_string(job.job.timeout_ms) + " ms";
    for (uint64_t entry_id : job.job.entry_ids) {
      auto it = entries_.find(entry_id);
      if (it != entries_.end()) AbortEntry(it->second, reason);
    }
    if (job.job.abort_reason.empty()) {
      job.job.abort_reason = reason;
      dirty_jobs_.insert(id);
      spdlog::info("job={} {}", id, reason);
    }
  }
}

Result<JobService::StoredJob> JobService::ReadJob(uint64_t id) const {
  auto job = store_->GetJob(id);
  if (!job.ok()) return job.status();
  if (!job->has_value()) return Status::NotFound("job " + std::to_string(id) + " not found");
  auto entries = store_->GetEntries((*job)->entry_ids);
  if (!entries.ok()) return entries.status();
  return StoredJob{std::move(**job), std::move(*entries)};
}

std::string JobService::Show(const protocol::Envelope& e) const {
  auto request = protocol::DecodeBody<protocol::JobShowRequest>(e);
  if (!request.ok()) return protocol::ErrorFrame(e.request_id, request.status());
  auto stored = ReadJob(request->id);
  if (!stored.ok()) return protocol::ErrorFrame(e.request_id, stored.status());
  protocol::JobShowReply reply{ToJobInfo(stored->job, stored->entries, true)};
  auto notifications = store_->ListNotifications(request->id);
  if (!notifications.ok()) return protocol::ErrorFrame(e.request_id, notifications.status());
  for (const store::Notification& n : *notifications) {
    reply.job.notifications.push_back(ToNotificationInfo(n));
  }
  for (protocol::EntryInfo& info : reply.job.entries) {
    auto live = entries_.find(info.id);
    if (live == entries_.end()) continue;
    if (!info.host.empty()) {
      info.waiting_in = scheduler_->sync().WaitingIn(Scheduler::KeyOf(live->second), info.host);
    }
    scheduler_->ExplainWaiting(live->second, info);
  }
  return protocol::Encode(reply, e.request_id);
}

std::string JobService::Avail(const protocol::Envelope& e, const Principal& who) const {
  auto request = protocol::DecodeBody<protocol::HostAvailRequest>(e);
  if (!request.ok()) return protocol::ErrorFrame(e.request_id, request.status());
  if (request->label.empty()) {
    return protocol::ErrorFrame(e.request_id, Status::InvalidArgument("host avail needs a label"));
  }
  if (request->count == 0 || request->count > kMaxJobHosts) {
    return protocol::ErrorFrame(
        e.request_id, Status::InvalidArgument("count must be 1.." + std::to_string(kMaxJobHosts) +
                                              ", not " + std::to_string(request->count)));
  }
  auto groups = GroupsOf(who.user);
  if (!groups.ok()) return protocol::ErrorFrame(e.request_id, groups.status());
  return protocol::Encode(scheduler_->Availability(*request, who.user, *groups), e.request_id);
}

std::string JobService::Log(const protocol::Envelope& e) const {
  auto request = protocol::DecodeBody<protocol::JobLogRequest>(e);
  if (!request.ok()) return protocol::ErrorFrame(e.request_id, request.status());
  auto stored = ReadJob(request->id);
  if (!stored.ok()) return protocol::ErrorFrame(e.request_id, stored.status());
  const store::Job& job = stored->job;
  const store::Entry* entry = nullptr;
  for (const store::Entry& candidate : stored->entries) {
    if (candidate.hostname == request->host) entry = &candidate;
  }
  if (entry == nullptr) {
    return protocol::ErrorFrame(e.request_id,
                                Status::NotFound("job " + std::to_string(request->id) +
                                                 " has no entry on host '" + request->host + "'"));
  }
  uint64_t max = request->max_bytes == 0 ? kMaxLogReplyBytes
                                         : std::min<uint64_t>(request->max_bytes, kMaxLogReplyBytes);
  uint64_t size = 0;
  auto data = results_->Read(ResultsRepository::EntryDir(job.id, job.owner, entry->hostname),
                             "debug/control.log", request->offset, max, &size);
  if (!data.ok()) return protocol::ErrorFrame(e.request_id, data.status());
  protocol::JobLogReply reply;
  reply.data.assign(data->begin(), data->end());
  reply.next_offset = request->offset + data->size();
  reply.complete = protocol::IsFinal(entry->status) && reply.next_offset >= size;
  reply.status = std::string(protocol::EntryStatusName(entry->status));
  return protocol::Encode(reply, e.request_id);
}

// ---- staging ----

void JobService::Stage(store::WriteBatch& writes) {
  // Jobs that ended this turn, as they end (abort reasons set): the end hook stages with them.
  for (uint64_t id : finished_jobs_) {
    auto it = jobs_.find(id);
    if (!on_job_end_ || it == jobs_.end() || it->second.open_entries > 0 ||
        !end_hooked_.insert(id).second) {
      continue;
    }
    std::vector<store::Entry> entries;
    for (uint64_t entry_id : it->second.job.entry_ids) {
      auto entry = entries_.find(entry_id);
      if (entry != entries_.end()) entries.push_back(entry->second);
    }
    on_job_end_(it->second.job, entries);
  }
  for (uint64_t id : dirty_jobs_) {
    auto it = jobs_.find(id);
    if (it != jobs_.end()) writes.PutJob(it->second.job);
  }
  for (uint64_t id : dirty_entries_) {
    auto it = entries_.find(id);
    if (it != entries_.end()) writes.PutEntry(it->second);
  }
  dirty_jobs_.clear();
  dirty_entries_.clear();
}

void JobService::AfterCommit() {
  std::vector<ParseWork> to_parse;
  to_parse.swap(to_parse_);
  for (ParseWork& work : to_parse) {
    if (parse_) parse_(std::move(work));
  }
  for (uint64_t id : finished_jobs_) {
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second.open_entries > 0) continue;
    for (uint64_t entry_id : it->second.job.entry_ids) entries_.erase(entry_id);
    jobs_.erase(it);
  }
  finished_jobs_.clear();
  end_hooked_.clear();
}

}  // namespace labmesh::coordinator
