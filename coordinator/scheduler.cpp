// Scheduler: the scheduling pass, work requests, starts and the host bookkeeping (busy, idle).
// Groups (holds, starts in one fan-out, sync requests) are in scheduler_groups.cpp. See
// scheduler.hpp.

#include "scheduler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "host_tasks.hpp"
#include "reservation_rules.hpp"
#include "update_scheduler.hpp"

namespace labmesh::coordinator {

using protocol::EntryStatus;

Scheduler::Scheduler(const CoordinatorConfig& config, const Clock* clock, HostRegistry* registry,
                     Batch* batch, FrameOutbox to_agent)
    : config_(config),
      clock_(clock),
      registry_(registry),
      batch_(batch),
      to_agent_(std::move(to_agent)),
      sync_(clock, [this](const std::string& hostname, uint64_t request_id,
                          protocol::SyncReply reply) {
        // Nothing to commit for a sync answer: it goes out at once.
        const HostState* host = registry_->Find(hostname);
        if (host != nullptr && !host->routing_id.empty()) {
          to_agent_(host->routing_id, protocol::Encode(reply, request_id));
        }
      }) {}

void Scheduler::Wire(JobService* jobs, HostTasks* tasks, UpdateScheduler* updates) {
  jobs_ = jobs;
  tasks_ = tasks;
  updates_ = updates;
}

void Scheduler::Load() {
  // After a failed commit: hosts that asked for work, and those the lost batch gave an entry,
  // will not ask again until their next entry, so they stay idle across the reload unless an
  // entry is theirs again. (At the first load both sets are empty.)
  std::set<std::string> asked = std::move(idle_);
  asked.insert(started_this_turn_.begin(), started_this_turn_.end());
  queue_.clear();
  busy_.clear();
  idle_.clear();
  idle_after_entry_.clear();
  groups_.clear();
  started_this_turn_.clear();
  reservations_checked_ms_ = clock_->WallMs();  // a pass follows anyway (schedule_needed_)
  // sync_ keeps its groups: after a failed commit the agents still wait on them (Open is
  // idempotent); at the first load it is empty.
  schedule_needed_ = true;
  for (const auto& [id, entry] : jobs_->entries()) {
    if (protocol::IsFinal(entry.status)) continue;
    const ActiveJob& job = jobs_->job(entry.job_id);
    if (entry.status == EntryStatus::kQueued) {
      if (!job.job.waiting) QueueEntry(entry);  // --after: queued when its jobs are final
    } else if (entry.status != EntryStatus::kParsing && !entry.hostname.empty()) {
      busy_[entry.hostname] = entry.id;
      if (job.job.synch_count > 1) groups_[KeyOf(entry)].started = true;
    }
  }
  for (const std::string& host : asked) {
    if (busy_.count(host) == 0) idle_.insert(host);
  }
  // Started groups take their barriers and values again (agents resend what is unanswered).
  for (const auto& [id, entry] : jobs_->entries()) {
    if (protocol::IsFinal(entry.status) || entry.status == EntryStatus::kQueued) continue;
    sync_.Open(KeyOf(entry), HostsFor(entry, jobs_->job(entry.job_id)));
  }
}

void Scheduler::ScheduleIfNeeded() {
  if (!schedule_needed_) return;
  schedule_needed_ = false;
  Schedule();
}

uint64_t Scheduler::BusyWith(const std::string& hostname) const {
  auto it = busy_.find(hostname);
  return it == busy_.end() ? 0 : it->second;
}

void Scheduler::SetBusy(const std::string& hostname, uint64_t entry_id) {
  busy_[hostname] = entry_id;
  idle_.erase(hostname);
}

void Scheduler::ClearBusy(const std::string& hostname, uint64_t entry_id) {
  auto it = busy_.find(hostname);
  if (it != busy_.end() && it->second == entry_id) busy_.erase(it);
}

void Scheduler::ForgetIdle(const std::string& hostname) {
  idle_.erase(hostname);
  idle_after_entry_.erase(hostname);
}

void Scheduler::ForgetHost(const std::string& hostname) {
  ForgetIdle(hostname);
  busy_.erase(hostname);
}

Scheduler::QueueKey Scheduler::KeyInQueue(const store::Entry& entry) const {
  return {-static_cast<int>(jobs_->job(entry.job_id).job.priority), entry.job_id, entry.id};
}

void Scheduler::QueueEntry(const store::Entry& entry) { queue_.insert(KeyInQueue(entry)); }

void Scheduler::Dequeue(const store::Entry& entry) { queue_.erase(KeyInQueue(entry)); }

void Scheduler::Requeue(store::Entry& entry, const std::string& reason) {
  jobs_->Move(entry, EntryStatus::kQueued, reason);
  if (!entry.meta_label.empty()) entry.hostname.clear();  // any host with the label will do
  QueueEntry(entry);
}

void Scheduler::SetHost(const std::string& hostname, protocol::HostStatus to,
                        const std::string& reason) {
  if (registry_->StagedStatus(hostname) == to || registry_->Staged(hostname) == nullptr) return;
  if (Status s = registry_->Transition(hostname, to, reason); !s.ok()) {
    spdlog::error("host={} {}", hostname, s.message());
  }
}

void Scheduler::SendStart(const store::Entry& entry, const ActiveJob& job) {
  SendStart(entry, job, nullptr);
}

// ---- scheduling ----

bool Scheduler::Eligible(const HostState& host, const ActiveJob& job,
                         const store::Entry& entry) const {
  if (host.routing_id.empty()) return false;
  // The host as it will be after this batch commits.
  const store::Host* r = registry_->Staged(host.record.hostname);
  if (r == nullptr || r->locked) return false;
  // Reserved for someone else (docs/reservations.md): only the reserver's jobs run there.
  if (ReservedForOther(*r, job.job.owner, clock_->WallMs())) return false;
  if (tasks_->HasOpenTask(r->hostname)) return false;  // a special task comes first
  // A quarantined host takes only its own probe jobs; probe jobs run only there
  // (docs/quarantine.md).
  if (!job.job.probe_for.empty()) {
    if (r->hostname != job.job.probe_for || r->status != protocol::HostStatus::kQuarantined) {
      return false;
    }
  } else if (r->status != protocol::HostStatus::kReady) {
    return false;
  }
  return jobs_->Unsuitable(*r, job.owner_groups, entry.meta_label, job.job.depends).empty();
}

bool Scheduler::JobUsesHost(const ActiveJob& job, const std::string& hostname) const {
  for (uint64_t id : job.job.entry_ids) {
    auto it = jobs_->entries().find(id);
    if (it != jobs_->entries().end() && it->second.hostname == hostname) return true;
  }
  return std::binary_search(job.job.hosts.begin(), job.job.hosts.end(), hostname);
}

void Scheduler::Schedule() {
  // Pass 0 serves the synchronous groups that already hold some of their hosts, so that they
  // complete before new work takes the hosts they wait for; pass 1 everything in queue order.
  updates_->ScheduleUpdates();  // an idle host updates before it is given an entry
  int64_t now = clock_->SteadyMs();
  bool holding_groups = std::any_of(groups_.begin(), groups_.end(), [](const auto& g) {
    return !g.second.started && g.second.pending > 0;
  });
  for (int pass = holding_groups ? 0 : 1; pass < 2 && !idle_.empty(); ++pass) {
    for (auto it = queue_.begin(); it != queue_.end() && !idle_.empty();) {
      store::Entry& entry = jobs_->entries().at(it->entry_id);
      ActiveJob& job = jobs_->job(entry.job_id);
      bool synchronous = job.job.synch_count > 1;
      if (synchronous || pass == 0) {  // pass 0: only groups that hold hosts
        auto group = groups_.find(KeyOf(entry));
        bool holds = group != groups_.end() && group->second.pending > 0;
        bool paused = group != groups_.end() && group->second.retry_after_ms > now;
        if ((pass == 0 && !holds) || (!holds && paused)) {
          ++it;
          continue;
        }
      }
      const HostState* chosen = ChooseHost(entry, job);
      if (chosen == nullptr) {
        ++it;
        continue;
      }
      it = queue_.erase(it);
      if (tasks_->NeedsVerifyFirst(job, *registry_->Staged(chosen->record.hostname))) {
        // Verify, then (when it passes) Hold or StartOn: host_tasks.cpp.
        entry.hostname = chosen->record.hostname;
        SetBusy(entry.hostname, entry.id);
        tasks_->VerifyBeforeRun(entry, entry.hostname);
      } else if (synchronous) {
        Hold(entry, job, chosen->record.hostname);
      } else {
        entry.hostname = chosen->record.hostname;
        SetBusy(entry.hostname, entry.id);
        StartOn(entry, job, entry.hostname);
      }
    }
  }
}

const HostState* Scheduler::ChooseHost(const store::Entry& entry, const ActiveJob& job) const {
  if (!entry.hostname.empty()) {
    if (idle_.count(entry.hostname) == 0) return nullptr;
    const HostState* host = registry_->Find(entry.hostname);
    return host != nullptr && Eligible(*host, job, entry) ? host : nullptr;
  }
  for (const std::string& name : idle_) {
    const HostState* host = registry_->Find(name);
    if (host != nullptr && Eligible(*host, job, entry) && !JobUsesHost(job, name)) return host;
  }
  return nullptr;
}

void Scheduler::StartOn(store::Entry& entry, ActiveJob& job, const std::string& name) {
  jobs_->Move(entry, EntryStatus::kStarting, "sent to " + name);
  SetHost(name, protocol::HostStatus::kRunning,
          "job " + std::to_string(job.job.id) + " entry " + std::to_string(entry.id));
  started_this_turn_.insert(name);
  sync_.Open(KeyOf(entry), {name});  // a client-side entry is a group of one
  SendStart(entry, job, nullptr);
}

Scheduler::Roster Scheduler::RosterFor(const store::Entry& entry, const ActiveJob& job) const {
  Roster roster;
  roster.hosts = HostsFor(entry, job);
  for (const std::string& name : roster.hosts) {
    const store::Host* host = registry_->Staged(name);
    if (host != nullptr && !host->facts.address.empty()) {
      roster.peers.emplace_hint(roster.peers.end(), name, host->facts.address);
    }
  }
  return roster;
}

void Scheduler::SendStart(const store::Entry& entry, const ActiveJob& job, Roster* roster) {
  Roster own;
  if (roster == nullptr) {
    own = RosterFor(entry, job);
    roster = &own;
  }
  protocol::StartEntry start;
  start.entry_id = entry.id;
  start.job_id = job.job.id;
  start.job_name = job.job.name;
  start.owner = job.job.owner;
  start.hostname = entry.hostname;
  start.synch_count = job.job.synch_count;
  start.group = entry.group;
  start.control_kind = job.job.control_kind;
  start.control = job.job.control;
  start.max_runtime_ms = job.job.max_runtime_ms;
  start.hosts.swap(roster->hosts);
  start.peers.swap(roster->peers);
  std::string frame = protocol::Encode(start);
  start.hosts.swap(roster->hosts);
  start.peers.swap(roster->peers);
  batch_->ToAgent(entry.hostname, std::move(frame));
}

// ---- work requests and free hosts ----

void Scheduler::OnWorkRequest(const HostState& host) {
  const std::string& name = host.record.hostname;
  auto busy = busy_.find(name);
  if (busy != busy_.end()) {
    store::Entry& entry = jobs_->entries().at(busy->second);
    if (entry.status == EntryStatus::kStarting && entry.abort_requested) {
      // It never started and nobody wants it any more.
      jobs_->Finish(entry, EntryStatus::kAborted, entry.abort_reason, "");
    } else if (entry.status == EntryStatus::kStarting) {
      // The agent is idle, so it never got the start: send it again.
      SendStart(entry, jobs_->job(entry.job_id), nullptr);
      return;
    } else if (entry.status == EntryStatus::kPending) {
      return;  // held for its group: it gets the start with the rest of the group
    } else if (entry.status == EntryStatus::kVerifying) {
      return;  // its host is being verified for it: the start follows a passed verify
    } else if (entry.status == EntryStatus::kGathering || entry.status == EntryStatus::kParsing) {
      // The control ended and the agent only waits for its results to be acknowledged: it
      // becomes idle when the entry is done.
      idle_after_entry_.insert(name);
      return;
    } else {
      // The agent says it has nothing, yet the entry was running there: it lost it.
      jobs_->LoseEntry(entry, "host lost (the agent on " + name + " no longer has the entry)");
    }
  }
  idle_.insert(name);
  schedule_needed_ = true;
}

void Scheduler::CheckReservations() {
  const int64_t now = clock_->WallMs();
  const int64_t since = reservations_checked_ms_;
  reservations_checked_ms_ = now;
  for (const auto& [name, host] : registry_->hosts()) {
    int64_t until = host.record.reserved_until_ms;
    if (!host.record.reserved_by.empty() && until > since && until <= now) {
      spdlog::info("host={} reservation of {} ended", name, host.record.reserved_by);
      schedule_needed_ = true;
    }
  }
}

void Scheduler::FreeHost(const std::string& hostname) {
  busy_.erase(hostname);
  schedule_needed_ = true;
  if (idle_after_entry_.erase(hostname) > 0) idle_.insert(hostname);
  const HostState* host = registry_->Find(hostname);
  protocol::HostStatus current = registry_->StagedStatus(hostname);
  if (host != nullptr && current == protocol::HostStatus::kRunning) {
    SetHost(hostname, protocol::HostStatus::kReady, "entry finished");
  } else if (host != nullptr && current == protocol::HostStatus::kPending) {
    // Held for a group that did not start: the agent still waits for work.
    SetHost(hostname, protocol::HostStatus::kReady, "released by its group");
    if (!host->routing_id.empty()) idle_.insert(hostname);
  }
}

}  // namespace labmesh::coordinator
