// JobService, API half: loading, job creation, abort, timeouts, readers, and the batched
// commit. The agent half (scheduling, reports, chunks, re-attach) is in job_dispatch.cpp.

#include "job_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "entry_status.hpp"
#include "job_rules.hpp"
#include "job_view.hpp"
#include "labels.hpp"
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
                       FrameOutbox to_agent, FrameOutbox to_api)
    : config_(config),
      clock_(clock),
      store_(store),
      registry_(registry),
      catalog_(catalog),
      results_(results),
      to_agent_(std::move(to_agent)),
      to_api_(std::move(to_api)),
      sync_(clock, [this](const std::string& hostname, uint64_t request_id,
                          protocol::SyncReply reply) {
        // Nothing to commit for a sync answer: it goes out at once.
        const HostState* host = registry_->Find(hostname);
        if (host != nullptr && !host->routing_id.empty()) {
          to_agent_(host->routing_id, protocol::Encode(reply, request_id));
        }
      }) {
  limits_.max_frame_bytes = config.max_frame_bytes;
}

Status JobService::Load() {
  jobs_.clear();
  entries_.clear();
  queue_.clear();
  busy_.clear();
  idle_.clear();
  idle_after_entry_.clear();
  dirty_jobs_.clear();
  dirty_entries_.clear();
  host_changes_.clear();
  outgoing_.clear();
  finished_jobs_.clear();
  to_parse_.clear();
  groups_.clear();
  dirty_tasks_.clear();
  ended_tasks_.clear();
  lifecycle_changes_.clear();
  // sync_ keeps its groups: after a failed commit the agents still wait on them (Open is
  // idempotent); at the first load it is empty.
  schedule_needed_ = true;
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
      ++active.open_entries;
      if (entry.status == EntryStatus::kPending) {
        // Holds do not survive a restart: the host asks for work again and the entry waits
        // for its group anew.
        StageHostStatus(entry.hostname, protocol::HostStatus::kReady, "coordinator restarted");
        Move(entry, EntryStatus::kQueued, "coordinator restarted while holding " + entry.hostname);
        if (!entry.meta_label.empty()) entry.hostname.clear();
      }
      if (entry.status == EntryStatus::kQueued) {
        queue_.insert({-static_cast<int>(active.job.priority), entry.job_id, entry.id});
      } else if (entry.status == EntryStatus::kParsing) {
        to_parse_.push_back(ParseWorkFor(entry, active));  // parsed again: the files are there
      } else if (!entry.hostname.empty()) {
        busy_[entry.hostname] = entry.id;
        if (active.job.synch_count > 1) groups_[KeyOf(entry)].started = true;
      }
      entries_.emplace(entry.id, std::move(entry));
    }
    jobs_.emplace(active.job.id, std::move(active));
  }
  // Started groups take their barriers and values again (agents resend what is unanswered).
  for (auto& [id, active] : jobs_) {
    for (uint64_t entry_id : active.job.entry_ids) {
      auto it = entries_.find(entry_id);
      if (it == entries_.end() || it->second.status == EntryStatus::kQueued) continue;
      sync_.Open(KeyOf(it->second), HostsFor(it->second, active));
    }
  }
  LABMESH_RETURN_IF_ERROR(LoadTasks());
  LABMESH_RETURN_IF_ERROR(LoadUpdates());
  spdlog::info("jobs loaded: {} active, {} entries queued, {} started, {} open tasks",
               jobs_.size(), queue_.size(), busy_.size(), tasks_.size());
  return Status::Ok();
}

bool JobService::IsJobRequest(MessageType type) {
  return type == MessageType::kJobCreateRequest || type == MessageType::kJobListRequest ||
         type == MessageType::kJobShowRequest || type == MessageType::kJobAbortRequest ||
         type == MessageType::kJobLogRequest || type == MessageType::kHostTaskRequest ||
         type == MessageType::kHostHistoryRequest;
}

void JobService::HandleApi(const std::string& routing_id, const protocol::Envelope& e,
                           const Principal& who) {
  switch (e.type) {
    case MessageType::kJobCreateRequest: return Create(routing_id, e, who);
    case MessageType::kJobAbortRequest: return Abort(routing_id, e, who);
    case MessageType::kJobListRequest: return to_api_(routing_id, List(e));
    case MessageType::kJobShowRequest: return to_api_(routing_id, Show(e));
    case MessageType::kJobLogRequest: return to_api_(routing_id, Log(e));
    case MessageType::kHostTaskRequest: return RequestTask(routing_id, e, who);
    case MessageType::kHostHistoryRequest: return to_api_(routing_id, History(e));
    default:
      to_api_(routing_id,
              protocol::ErrorFrame(e.request_id, Status::Unsupported("not a job request")));
  }
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
  auto spec = ValidateJobSpec(*request);
  if (!spec.ok()) return refuse(spec.status());
  const protocol::JobCreateRequest& r = spec->request;

  store::Job job;
  job.control_kind = spec->control_kind;
  if (spec->control_kind == "test") {
    auto test = catalog_->Show(r.test);
    if (!test.ok()) return refuse(test.status());
    job.control = test->control;  // a copy: later edits of the catalog do not change the job
    job.test_name = r.test;
  } else {
    job.control = spec->control_kind == "command" ? r.command : r.control;
  }
  auto groups = GroupsOf(r.user);
  if (!groups.ok()) return refuse(groups.status());

  // Refuse what can never run: unknown or unsuitable named hosts, too few label hosts.
  for (const std::string& name : r.hosts) {
    const HostState* host = registry_->Find(name);
    if (host == nullptr) return refuse(Status::NotFound("host " + name + " does not exist"));
    std::string why = Unsuitable(host->record, *groups, "", r.depends);
    if (!why.empty()) return refuse(Status::FailedPrecondition("job can never run: " + why));
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
      return refuse(Status::FailedPrecondition(
          "job can never run: " + std::to_string(r.meta_count) + " hosts with " + needs +
          " wanted, but only " + std::to_string(suitable) + " such host(s) are in ACL groups of " +
          r.user));
    }
  }

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
  job.created_us = now;
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
    entry.status_reason = "waiting for a host";
    entry.history.push_back({EntryStatus::kQueued, now, "job created by " + r.user});
    job.entry_ids.push_back(entry.id);
    entries.push_back(std::move(entry));
  };
  for (const std::string& host : r.hosts) add_entry(host, "");
  for (uint32_t i = 0; i < r.meta_count; ++i) add_entry("", r.meta_label);

  ActiveJob active{job, std::move(*groups), entries.size()};
  for (store::Entry& entry : entries) {
    queue_.insert({-static_cast<int>(job.priority), job.id, entry.id});
    dirty_entries_.insert(entry.id);
    entries_.emplace(entry.id, std::move(entry));
  }
  dirty_jobs_.insert(job.id);
  jobs_.emplace(job.id, std::move(active));
  schedule_needed_ = true;
  spdlog::info("job={} created by {}: '{}' {} entries, priority {}", job.id, job.owner, job.name,
               job.entry_ids.size(), protocol::PriorityName(job.priority));
  ToApi(routing_id, protocol::Encode(protocol::JobCreateReply{job.id}, e.request_id), true);
  outgoing_.back().request_id = e.request_id;
}

void JobService::AbortEntry(store::Entry& entry, const std::string& reason) {
  if (protocol::IsFinal(entry.status) || entry.abort_requested) return;
  if (entry.status == EntryStatus::kQueued) {
    queue_.erase({-static_cast<int>(jobs_.at(entry.job_id).job.priority), entry.job_id, entry.id});
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
  ToAgent(entry.hostname, protocol::Encode(protocol::AbortEntry{entry.id, reason, false}));
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
  ToApi(routing_id,
        protocol::Encode(protocol::OkReply{"job " + std::to_string(request->id) + ": " +
                                           std::to_string(now_aborted) + " entries aborted, " +
                                           std::to_string(stopping) + " being stopped"},
                         e.request_id),
        true);
  outgoing_.back().request_id = e.request_id;
}

void JobService::CheckTimeouts() {
  int64_t now = clock_->WallUs();
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
  CheckPeriodicVerify();
}

std::string JobService::List(const protocol::Envelope& e) const {
  auto request = protocol::DecodeBody<protocol::JobListRequest>(e);
  if (!request.ok()) return protocol::ErrorFrame(e.request_id, request.status());
  if (!request->status.empty() && request->status != "Queued" && request->status != "Running" &&
      request->status != "Completed" && request->status != "Failed" &&
      request->status != "Aborted") {
    return protocol::ErrorFrame(
        e.request_id, Status::InvalidArgument("unknown job status '" + request->status +
                                              "' (Queued, Running, Completed, Failed, Aborted)"));
  }
  auto jobs = store_->ListJobs();
  if (!jobs.ok()) return protocol::ErrorFrame(e.request_id, jobs.status());
  protocol::JobListReply reply;
  for (auto it = jobs->rbegin(); it != jobs->rend(); ++it) {
    if (request->limit > 0 && reply.jobs.size() >= request->limit) break;
    if (request->before_id != 0 && it->id >= request->before_id) continue;
    if (!request->owner.empty() && it->owner != request->owner) continue;
    if (!request->name.empty() && !ContainsIgnoringCase(it->name, request->name)) continue;
    auto entries = store_->GetEntries(it->entry_ids);
    if (!entries.ok()) return protocol::ErrorFrame(e.request_id, entries.status());
    protocol::JobInfo info = ToJobInfo(*it, *entries, /*with_control=*/false);
    if (!request->status.empty() && info.status != request->status) continue;
    if (request->finished_since_us != 0 &&
        (info.finished_us == 0 || info.finished_us < request->finished_since_us)) {
      continue;
    }
    reply.jobs.push_back(std::move(info));
  }
  return protocol::Encode(reply, e.request_id);
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
  for (protocol::EntryInfo& info : reply.job.entries) {
    auto live = entries_.find(info.id);
    if (live != entries_.end() && !info.host.empty()) {
      info.waiting_in = sync_.WaitingIn(KeyOf(live->second), info.host);
    }
  }
  return protocol::Encode(reply, e.request_id);
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

// ---- staged changes ----

void JobService::Move(store::Entry& entry, EntryStatus to, const std::string& reason) {
  EntryStatus from = entry.status;
  if (Status s = MoveEntry(entry, to, reason, clock_->WallUs()); !s.ok()) {
    spdlog::error("job={} entry={} {}", entry.job_id, entry.id, s.message());
    return;
  }
  dirty_entries_.insert(entry.id);
  OnEntryMoved(entry, from, reason);
  spdlog::debug("job={} entry={} host={} -> {} ({})", entry.job_id, entry.id, entry.hostname,
                protocol::EntryStatusName(to), reason);
}

void JobService::Finish(store::Entry& entry, EntryStatus to, const std::string& reason,
                        const std::string& fault) {
  if (protocol::IsFinal(entry.status)) return;
  bool started = entry.status != EntryStatus::kQueued;
  entry.fault = fault;
  Move(entry, to, reason);
  if (!protocol::IsFinal(entry.status)) return;
  spdlog::info("job={} entry={} host={} {}{}{}", entry.job_id, entry.id, entry.hostname,
               protocol::EntryStatusName(to), reason.empty() ? "" : ": ", reason);
  if (to == EntryStatus::kCompleted && !entry.hostname.empty()) {
    NoteEntryCompleted(entry.hostname);
  }
  if (started && !entry.hostname.empty()) {
    auto busy = busy_.find(entry.hostname);
    if (busy != busy_.end() && busy->second == entry.id) FreeHost(entry.hostname);
  }
  OnEntryFinished(entry, reason, fault);
  ActiveJob& job = jobs_.at(entry.job_id);
  if (job.open_entries > 0 && --job.open_entries == 0) {
    job.job.finished_us = clock_->WallUs();
    dirty_jobs_.insert(job.job.id);
    finished_jobs_.push_back(job.job.id);
  }
}

void JobService::FreeHost(const std::string& hostname) {
  busy_.erase(hostname);
  schedule_needed_ = true;
  if (idle_after_entry_.erase(hostname) > 0) idle_.insert(hostname);
  const HostState* host = registry_->Find(hostname);
  auto change = host_changes_.find(hostname);
  protocol::HostStatus current = change != host_changes_.end()
                                     ? change->second.status
                                     : host ? host->record.status : protocol::HostStatus::kDead;
  if (host != nullptr && current == protocol::HostStatus::kRunning) {
    StageHostStatus(hostname, protocol::HostStatus::kReady, "entry finished");
  } else if (host != nullptr && current == protocol::HostStatus::kPending) {
    // Held for a group that did not start: the agent still waits for work.
    StageHostStatus(hostname, protocol::HostStatus::kReady, "released by its group");
    if (!host->routing_id.empty()) idle_.insert(hostname);
  }
}

void JobService::StageHostStatus(const std::string& hostname, protocol::HostStatus to,
                                 const std::string& reason) {
  host_changes_[hostname] = HostChange{to, reason, clock_->WallMs()};
}

void JobService::ToAgent(const std::string& hostname, std::string frame) {
  outgoing_.push_back({true, hostname, std::move(frame), 0});
}

void JobService::ToApi(const std::string& routing_id, std::string frame, bool after_commit) {
  if (!after_commit) return to_api_(routing_id, std::move(frame));
  outgoing_.push_back({false, routing_id, std::move(frame), 0});
}

// ---- commit ----

Status JobService::Commit() {
  store::WriteBatch batch;
  for (uint64_t id : dirty_jobs_) {
    auto it = jobs_.find(id);
    if (it != jobs_.end()) batch.PutJob(it->second.job);
  }
  for (uint64_t id : dirty_entries_) {
    auto it = entries_.find(id);
    if (it != entries_.end()) batch.PutEntry(it->second);
  }
  for (const std::string& name : dirty_tasks_) {
    auto it = tasks_.find(name);
    if (it != tasks_.end()) batch.PutTask(it->second);
  }
  for (const store::SpecialTask& task : ended_tasks_) batch.PutTask(task);
  std::vector<store::Host> hosts;
  std::set<std::string> changed_hosts;
  for (const auto& [name, change] : host_changes_) changed_hosts.insert(name);
  for (const auto& [name, fields] : lifecycle_changes_) changed_hosts.insert(name);
  for (const std::string& name : changed_hosts) {
    const HostState* state = registry_->Find(name);
    if (state == nullptr) continue;
    store::Host record = state->record;  // current fields, plus the staged ones
    auto fields = lifecycle_changes_.find(name);
    if (fields != lifecycle_changes_.end()) {
      record.last_task_id = fields->second.last_task_id;
      record.last_verified_ms = fields->second.last_verified_ms;
      record.repairs_ms = fields->second.repairs_ms;
      record.repair_on_return = fields->second.repair_on_return;
      record.last_known_good = fields->second.last_known_good;
      record.update_failed_version = fields->second.update_failed_version;
    }
    auto change = host_changes_.find(name);
    if (change != host_changes_.end() && record.status != change->second.status) {
      // One batch may move a host through Ready (a task ended, then an entry started there).
      HostStatus from = record.status;
      HostStatus to = change->second.status;
      if (CanTransition(from, to) ||
          (CanTransition(from, HostStatus::kReady) && CanTransition(HostStatus::kReady, to))) {
        record.status = change->second.status;
        record.status_reason = change->second.reason;
        record.status_changed_ms = change->second.at_ms;
      } else {
        spdlog::error("host={} staged move {} -> {} not allowed; dropped", name,
                      protocol::HostStatusName(record.status),
                      protocol::HostStatusName(change->second.status));
      }
    }
    batch.PutHost(record);
    hosts.push_back(std::move(record));
  }
  if (desired_dirty_) batch.SetDesiredVersion(desired_);
  if (batch.empty()) return Status::Ok();
  LABMESH_RETURN_IF_ERROR(store_->Apply(batch));
  for (const store::Host& host : hosts) registry_->AdoptStatus(host);
  return Status::Ok();
}

void JobService::Flush() {
  StartTasks();  // before scheduling: a host with a queued task is not given an entry
  if (schedule_needed_) {
    schedule_needed_ = false;
    Schedule();
  }
  if (dirty_jobs_.empty() && dirty_entries_.empty() && host_changes_.empty() &&
      outgoing_.empty() && to_parse_.empty() && dirty_tasks_.empty() && ended_tasks_.empty() &&
      lifecycle_changes_.empty() && !desired_dirty_) {
    return;
  }
  Status committed = Commit();
  std::set<std::string> idle;
  if (!committed.ok()) {
    // Hosts that asked for work (and those this lost batch gave an entry) will not ask again
    // until their next entry: they stay idle across the reload.
    idle = idle_;
    for (const auto& [host, change] : host_changes_) {
      if (change.status == protocol::HostStatus::kRunning) idle.insert(host);
    }
  }
  dirty_jobs_.clear();
  dirty_entries_.clear();
  host_changes_.clear();
  dirty_tasks_.clear();
  ended_tasks_.clear();
  lifecycle_changes_.clear();
  desired_dirty_ = false;  // on failure Load() reads the stored one back
  std::vector<Outgoing> outgoing;
  outgoing.swap(outgoing_);
  std::vector<ParseWork> to_parse;
  to_parse.swap(to_parse_);
  if (!committed.ok()) {
    spdlog::error("job changes not stored: {}; reloading jobs from the store",
                  committed.ToString());
    for (const Outgoing& out : outgoing) {
      if (!out.to_agent) to_api_(out.target, protocol::ErrorFrame(out.request_id, committed));
    }
    if (Status s = Load(); !s.ok()) spdlog::error("jobs not reloaded: {}", s.ToString());
    for (const std::string& host : idle) {
      if (busy_.count(host) == 0) idle_.insert(host);
    }
    return;
  }
  for (Outgoing& out : outgoing) {
    if (out.to_agent) {
      const HostState* host = registry_->Find(out.target);
      if (host != nullptr && !host->routing_id.empty()) to_agent_(host->routing_id, std::move(out.frame));
    } else {
      to_api_(out.target, std::move(out.frame));
    }
  }
  for (ParseWork& work : to_parse) {
    if (parse_) parse_(std::move(work));
  }
  Prune();
}

void JobService::Prune() {
  for (uint64_t id : finished_jobs_) {
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second.open_entries > 0) continue;
    for (uint64_t entry_id : it->second.job.entry_ids) entries_.erase(entry_id);
    jobs_.erase(it);
  }
  finished_jobs_.clear();
}

// ---- parsing ----

ParseWork JobService::ParseWorkFor(const store::Entry& entry, const ActiveJob& job) const {
  return ParseWorkOf(entry, job.job.owner, *registry_,
                     entry.started_us != 0 ? entry.started_us : clock_->WallUs());
}

void JobService::OnParsed(const ParseDone& done) {
  auto it = entries_.find(done.work.entry_id);
  if (it == entries_.end() || it->second.status != EntryStatus::kParsing) return;
  store::Entry& entry = it->second;
  entry.result_counts.clear();
  for (size_t i = 0; i < store::kResultStatusCount; ++i) {
    auto status = static_cast<store::ResultStatus>(i);
    if (done.counts[status] > 0) {
      entry.result_counts[std::string(store::ResultStatusName(status))] = done.counts[status];
    }
  }
  entry.parse_warnings = done.warnings;
  if (!done.status.ok()) {
    entry.parse_warnings.push_back("results not indexed: " + done.status.message());
  }
  dirty_entries_.insert(entry.id);
  FinishParsed(entry, &done);
}

void JobService::FinishParsed(store::Entry& entry, const ParseDone* done) {
  const std::string& outcome = entry.outcome;
  if (entry.abort_requested || outcome == "aborted") {
    Finish(entry, EntryStatus::kAborted,
           entry.abort_reason.empty() ? entry.outcome_reason : entry.abort_reason, "");
  } else if (outcome == "error") {
    Finish(entry, EntryStatus::kFailed, entry.outcome_reason, "infrastructure");
  } else if (outcome != "passed") {
    Finish(entry, EntryStatus::kFailed,
           entry.outcome_reason.empty() ? "exit status " + std::to_string(entry.exit_code)
                                        : entry.outcome_reason,
           "test");
  } else if (done != nullptr && !done->failed.empty()) {
    // The control passed, but a test it ran did not: the entry failed.
    uint64_t bad = done->counts[store::ResultStatus::kFail] +
                   done->counts[store::ResultStatus::kError] +
                   done->counts[store::ResultStatus::kAbort];
    Finish(entry, EntryStatus::kFailed,
           std::to_string(bad) + " of " + std::to_string(done->results) +
               " tests did not pass: " + Join(done->failed) + (bad > done->failed.size() ? ", ..." : ""),
           "test");
  } else {
    Finish(entry, EntryStatus::kCompleted, "", "");
  }
}

}  // namespace labmesh::coordinator
