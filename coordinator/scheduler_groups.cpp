// Scheduler, groups: holding hosts for synchronous jobs, starting a group in one fan-out,
// releasing holds that cannot complete, aborting the rest of a group that lost a host, and the
// sync requests (barriers, values) of started groups. See scheduler.hpp and docs/sync.md.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "labmesh/common/duration.hpp"
#include "scheduler.hpp"
#include "text_util.hpp"

namespace labmesh::coordinator {

using protocol::EntryStatus;

std::vector<store::Entry*> Scheduler::GroupEntries(const ActiveJob& job, uint32_t group) {
  std::vector<store::Entry*> members;
  for (uint64_t id : job.job.entry_ids) {
    auto it = jobs_->entries().find(id);
    if (it != jobs_->entries().end() && it->second.group == group) members.push_back(&it->second);
  }
  return members;
}

std::vector<std::string> Scheduler::HostsFor(const store::Entry& entry,
                                              const ActiveJob& job) const {
  std::vector<std::string> hosts;
  if (job.job.synch_count > 1) {
    for (uint64_t id : job.job.entry_ids) {
      auto it = jobs_->entries().find(id);
      if (it != jobs_->entries().end() && it->second.group == entry.group &&
          !it->second.hostname.empty()) {
        hosts.push_back(it->second.hostname);
      }
    }
  } else {
    hosts = job.job.hosts;
    for (uint64_t id : job.job.entry_ids) {
      auto it = jobs_->entries().find(id);
      if (it != jobs_->entries().end() && !it->second.meta_label.empty() && !it->second.hostname.empty()) {
        hosts.push_back(it->second.hostname);
      }
    }
  }
  std::sort(hosts.begin(), hosts.end());
  hosts.erase(std::unique(hosts.begin(), hosts.end()), hosts.end());
  return hosts;
}

void Scheduler::Hold(store::Entry& entry, ActiveJob& job, const std::string& hostname) {
  const std::string name = hostname;
  GroupKey key = KeyOf(entry);
  entry.hostname = name;
  SetBusy(name, entry.id);
  SetHost(name, protocol::HostStatus::kPending,
                  "held for job " + std::to_string(job.job.id) + " group " +
                      std::to_string(key.group));
  uint32_t held = groups_[key].pending + 1;
  jobs_->Move(entry, EntryStatus::kPending,
       "holding " + name + " for group " + std::to_string(key.group) + " (" +
           std::to_string(held) + "/" + std::to_string(job.job.synch_count) + " hosts)");
  if (groups_[key].pending == job.job.synch_count) StartGroup(key, job);
}

void Scheduler::StartGroup(const GroupKey& key, ActiveJob& job) {
  std::vector<store::Entry*> members = GroupEntries(job, key.group);
  groups_[key].started = true;
  std::vector<std::string> hosts;
  for (const store::Entry* m : members) hosts.push_back(m->hostname);
  std::sort(hosts.begin(), hosts.end());
  sync_.Open(key, hosts);
  // Every entry keeps this as its reason: name a few hosts, not all of a large group (1,000
  // names in each of 1,000 entries is 10 MB written in the start's commit).
  constexpr size_t kNamed = 8;
  std::vector<std::string> named(hosts.begin(), hosts.begin() + std::min(hosts.size(), kNamed));
  std::string together =
      "group " + std::to_string(key.group) + " started together on " + Join(named) +
      (hosts.size() > kNamed ? " and " + std::to_string(hosts.size() - kNamed) + " more" : "");
  for (store::Entry* m : members) {
    started_this_turn_.insert(m->hostname);
    SetHost(m->hostname, protocol::HostStatus::kRunning,
                    "job " + std::to_string(job.job.id) + " entry " + std::to_string(m->id));
    jobs_->Move(*m, EntryStatus::kStarting, together);
  }
  spdlog::info("job={} {}", job.job.id, together);
  // One fan-out: the starts leave back to back after the commit. The group's members share
  // one roster.
  if (members.empty()) return;
  Roster roster = RosterFor(*members.front(), job);
  for (const store::Entry* m : members) SendStart(*m, job, &roster);
}

void Scheduler::Unhold(store::Entry& entry, const std::string& reason) {
  std::string host = entry.hostname;
  Requeue(entry, reason);
  if (BusyWith(host) == entry.id) FreeHost(host);
}

void Scheduler::ReleaseExpiredHolds() {
  int64_t now = clock_->SteadyMs();
  for (auto& [key, group] : groups_) {
    if (group.retry_after_ms != 0 && group.retry_after_ms <= now) {
      group.retry_after_ms = 0;
      schedule_needed_ = true;
    }
    if (group.started || group.pending == 0 ||
        now < group.hold_since_ms + config_.sync_hold_ms) {
      continue;
    }
    ActiveJob& job = jobs_->job(key.job_id);
    std::string why = "group " + std::to_string(key.group) + " gathered " +
                      std::to_string(group.pending) + " of its " +
                      std::to_string(job.job.synch_count) + " hosts and no more for " +
                      FormatDurationMs(config_.sync_hold_ms) +
                      "; hosts released, trying again later";
    spdlog::info("job={} {}", key.job_id, why);
    for (store::Entry* m : GroupEntries(job, key.group)) {
      if (m->status == EntryStatus::kPending) Unhold(*m, why);
    }
    group.retry_after_ms = now + std::max<int64_t>(1, config_.sync_hold_ms / 2);
  }
}

void Scheduler::OnEntryMoved(store::Entry& entry, EntryStatus from, const std::string& reason) {
  ActiveJob* job = jobs_->FindJob(entry.job_id);
  if (job == nullptr) return;  // loading: the groups are rebuilt after
  GroupKey key = KeyOf(entry);
  if (job->job.synch_count > 1) {
    GroupState& group = groups_[key];
    if (entry.status == EntryStatus::kPending) {
      ++group.pending;
      group.hold_since_ms = clock_->SteadyMs();  // the group made progress
    }
    if (from == EntryStatus::kPending && group.pending > 0) --group.pending;
  }
  bool was_running = from == EntryStatus::kStarting || from == EntryStatus::kRunning;
  if (was_running && (entry.status == EntryStatus::kGathering ||
                      entry.status == EntryStatus::kQueued || protocol::IsFinal(entry.status))) {
    sync_.HostLeft(key, entry.hostname, reason);
  }
}

void Scheduler::OnEntryFinished(store::Entry& entry, const std::string& reason,
                                 const std::string& fault) {
  ActiveJob* job_it = jobs_->FindJob(entry.job_id);
  if (job_it == nullptr) return;
  ActiveJob& job = *job_it;
  GroupKey key = KeyOf(entry);
  if (job.job.synch_count > 1) {
    auto group = groups_.find(key);
    bool started = group != groups_.end() && group->second.started;
    std::string why;
    if (!started) {
      // The group can never be complete now.
      why = entry.status == EntryStatus::kAborted
                ? reason
                : "group " + std::to_string(key.group) + " cannot start without entry " +
                      std::to_string(entry.id) +
                      (entry.hostname.empty() ? "" : " on " + entry.hostname) + ": " + reason;
    } else if (entry.status == EntryStatus::kFailed && fault == "infrastructure") {
      why = "host " + entry.hostname + " of group " + std::to_string(key.group) +
            " failed: " + reason;
    }
    if (!why.empty()) {
      for (store::Entry* m : GroupEntries(job, key.group)) {
        if (m != &entry) jobs_->AbortEntry(*m, why);
      }
    }
  }
  std::vector<store::Entry*> members = GroupEntries(job, key.group);
  bool over = std::all_of(members.begin(), members.end(),
                          [](const store::Entry* m) { return protocol::IsFinal(m->status); });
  if (over) {
    sync_.Close(key, "the group ended");
    groups_.erase(key);
  }
}

void Scheduler::OnSync(const HostState& host, const protocol::Envelope& e) {
  auto request = protocol::DecodeBody<protocol::SyncRequest>(e);
  if (!request.ok()) {
    return to_agent_(host.routing_id,
                     protocol::Encode(protocol::ErrorReply::FromStatus(request.status()),
                                      e.request_id));
  }
  auto refuse = [&](const std::string& why) {
    protocol::SyncReply reply = NewReply(request->entry_id, request->op, request->name, request->generation);
    reply.error = why;
    to_agent_(host.routing_id, protocol::Encode(reply, e.request_id));
  };
  if (Status s = ValidateSyncRequest(*request); !s.ok()) return refuse(s.message());
  const std::string& name = host.record.hostname;
  auto it = jobs_->entries().find(request->entry_id);
  if (it == jobs_->entries().end() || it->second.hostname != name ||
      (it->second.status != EntryStatus::kStarting && it->second.status != EntryStatus::kRunning)) {
    return refuse("entry " + std::to_string(request->entry_id) + " is not running on " + name);
  }
  sync_.Handle(KeyOf(it->second), name, e.request_id, *request);
}

int64_t Scheduler::NextDeadlineMs() const {
  int64_t next = sync_.NextDeadlineMs();
  for (const auto& [key, group] : groups_) {
    if (!group.started && group.pending > 0) {
      next = std::min(next, group.hold_since_ms + config_.sync_hold_ms);
    }
    if (group.retry_after_ms != 0) next = std::min(next, group.retry_after_ms);
  }
  return next;
}

void Scheduler::OnTimer() {
  sync_.CheckTimeouts();
  ReleaseExpiredHolds();
}

}  // namespace labmesh::coordinator
