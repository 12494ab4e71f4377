// Scheduler: why a Queued entry waits, and what a label's hosts are doing now (docs/jobs.md
// "Why is my job waiting?"). Read-only and computed when a reader asks (job show, the page,
// host avail), never stored: the answer is the scheduler's own state at that moment.

#include <algorithm>
#include <map>
#include <set>

#include "host_tasks.hpp"
#include "labels.hpp"
#include "reservation_rules.hpp"
#include "scheduler.hpp"
#include "text_util.hpp"

namespace labmesh::coordinator {

namespace {

// Counts of the hosts an entry could run on, by what keeps each from taking it now.
struct Census {
  uint32_t carry = 0;     // carry the labels
  uint32_t unusable = 0;  // ...but the owner may not use them (ACL groups, not accepted)
  uint32_t free = 0, busy = 0, locked = 0, reserved = 0, in_task = 0, down = 0, not_asking = 0,
           own = 0;
  std::set<uint64_t> busy_jobs;
  std::vector<std::string> locks;                // "alice: bisecting", first few distinct
  std::vector<std::string> reservations;         // "bob until ...", first few distinct
  std::map<std::string, uint32_t> tasks, downs;  // "verifying" -> 2, "Dead" -> 1

  void Add(const Scheduler::HostCondition& c) {
    using K = Scheduler::HostCondition::Kind;
    switch (c.kind) {
      case K::kFree:
        ++free;
        break;
      case K::kBusy:
        ++busy;
        if (c.job_id != 0) busy_jobs.insert(c.job_id);
        break;
      case K::kLocked:
        ++locked;
        if (locks.size() < 3 && std::find(locks.begin(), locks.end(), c.detail) == locks.end()) {
          locks.push_back(c.detail);
        }
        break;
      case K::kReserved:
        ++reserved;
        if (reservations.size() < 3 &&
            std::find(reservations.begin(), reservations.end(), c.detail) == reservations.end()) {
          reservations.push_back(c.detail);
        }
        break;
      case K::kTask:
        ++in_task;
        ++tasks[c.detail];
        break;
      case K::kDown:
        ++down;
        ++downs[c.detail];
        break;
      case K::kNotAsking:
        ++not_asking;
        break;
    }
  }

  // "2 busy (jobs 41, 42), 1 locked (alice: bisecting)": the non-zero parts, most telling first.
  std::string Parts() const {
    std::vector<std::string> parts;
    auto counted = [](const std::map<std::string, uint32_t>& kinds) {
      std::string text;
      for (const auto& [kind, n] : kinds) {
        text += (text.empty() ? "" : ", ") + (n > 1 ? std::to_string(n) + " " : "") + kind;
      }
      return text;
    };
    if (free > 0) parts.push_back(std::to_string(free) + " free");
    if (busy > 0) {
      std::string jobs;
      for (uint64_t id : busy_jobs) jobs += (jobs.empty() ? "" : ", ") + std::to_string(id);
      parts.push_back(
          std::to_string(busy) + " busy" +
          (jobs.empty() ? ""
                        : " (job" + std::string(busy_jobs.size() > 1 ? "s " : " ") + jobs + ")"));
    }
    if (own > 0) parts.push_back(std::to_string(own) + " already running this job");
    if (locked > 0) {
      std::string who;
      for (const std::string& lock : locks) who += (who.empty() ? "" : "; ") + lock;
      parts.push_back(std::to_string(locked) + " locked (" + who +
                      (locked > locks.size() ? "; ..." : "") + ")");
    }
    if (reserved > 0) {
      std::string who;
      for (const std::string& r : reservations) who += (who.empty() ? "" : "; ") + r;
      parts.push_back(std::to_string(reserved) + " reserved for others (" + who +
                      (reserved > reservations.size() ? "; ..." : "") + ")");
    }
    if (in_task > 0)
      parts.push_back(std::to_string(in_task) + " in a task (" + counted(tasks) + ")");
    if (down > 0) parts.push_back(std::to_string(down) + " down (" + counted(downs) + ")");
    if (not_asking > 0) parts.push_back(std::to_string(not_asking) + " not asking for work");
    if (unusable > 0) {
      parts.push_back(std::to_string(unusable) + " not usable by the owner (ACL groups)");
    }
    std::string text;
    for (const std::string& part : parts) text += (text.empty() ? "" : ", ") + part;
    return text;
  }
};

bool Carries(const store::Host& host, const std::string& label,
             const std::vector<std::string>& depends) {
  std::vector<std::string> labels = EffectiveLabels(host.agent_labels, host.admin_labels);
  auto has = [&](const std::string& l) {
    return std::binary_search(labels.begin(), labels.end(), l);
  };
  return (label.empty() || has(label)) && std::all_of(depends.begin(), depends.end(), has);
}

// One host's condition for a named entry: "busy (job 41)", "locked (alice: bisecting)".
std::string Describe(const Scheduler::HostCondition& c) {
  using K = Scheduler::HostCondition::Kind;
  switch (c.kind) {
    case K::kFree:
      return "free, it starts at the next scheduling pass";
    case K::kBusy:
      if (c.job_id != 0) return "busy (job " + std::to_string(c.job_id) + ")";
      return c.detail.empty() ? "busy" : "busy (" + c.detail + ")";
    case K::kLocked:
      return "locked (" + c.detail + ")";
    case K::kReserved:
      return "reserved by " + c.detail;
    case K::kTask:
      return c.detail;
    case K::kDown:
      return c.detail;
    case K::kNotAsking:
      return "not asking for work";
  }
  return "";
}

}  // namespace

Scheduler::HostCondition Scheduler::ConditionOf(const std::string& hostname,
                                                const std::string& user) const {
  using K = HostCondition::Kind;
  using protocol::HostStatus;
  const HostState* host = registry_->Find(hostname);
  const store::Host* r = registry_->Staged(hostname);
  if (host == nullptr || r == nullptr) return {K::kDown, "deleted"};
  if (r->locked) {
    return {K::kLocked, r->locked_by + (r->lock_reason.empty() ? "" : ": " + r->lock_reason)};
  }
  // Before busy: even once its entry ends, the host does not take this user's work.
  if (ReservedForOther(*r, user, clock_->WallMs())) return {K::kReserved, ReservationText(*r)};
  if (uint64_t entry_id = BusyWith(hostname); entry_id != 0) {
    auto entry = jobs_->entries().find(entry_id);
    return {K::kBusy, "", entry == jobs_->entries().end() ? 0 : entry->second.job_id};
  }
  switch (r->status) {
    case HostStatus::kDead:
    case HostStatus::kRepairFailed:
    case HostStatus::kQuarantined:  // only its probe jobs run there (docs/quarantine.md)
      return {K::kDown, std::string(protocol::HostStatusName(r->status))};
    case HostStatus::kVerifying:
    case HostStatus::kRepairing:
    case HostStatus::kCleaning:
    case HostStatus::kUpdating:
      return {K::kTask, Lower(protocol::HostStatusName(r->status))};
    case HostStatus::kRunning:
    case HostStatus::kPending:
      return {K::kBusy, ""};
    case HostStatus::kReady:
      break;
  }
  if (host->routing_id.empty()) return {K::kDown, "not connected"};
  if (const store::SpecialTask* task = tasks_->OpenTask(hostname); task != nullptr) {
    return {K::kTask, Lower(protocol::TaskKindName(task->kind)) + " queued"};
  }
  if (idle_after_entry_.count(hostname) > 0) return {K::kBusy, "finishing its entry"};
  if (idle_.count(hostname) == 0) return {K::kNotAsking, ""};
  return {K::kFree, ""};
}

void Scheduler::ExplainWaiting(const store::Entry& entry, protocol::EntryInfo& info) const {
  if (entry.status != protocol::EntryStatus::kQueued) return;
  const ActiveJob& job = jobs_->job(entry.job_id);
  if (job.job.waiting) {  // not in the queue yet: it waits for other jobs (--after)
    info.waiting_for = jobs_->WaitingForText(job);
    return;
  }
  const bool by_label = entry.hostname.empty();
  // Its place among the queued entries that want the same hosts, in the order a pass serves.
  for (const QueueKey& key : queue_) {
    const store::Entry& other = jobs_->entries().at(key.entry_id);
    bool same = by_label ? other.hostname.empty() && other.meta_label == entry.meta_label
                         : other.hostname == entry.hostname;
    if (!same) continue;
    ++info.queue_length;
    if (key.entry_id == entry.id) info.queue_position = info.queue_length;
  }

  std::string why;
  if (!by_label) {
    const store::Host* r = registry_->Staged(entry.hostname);
    std::string unsuitable = r == nullptr
                                 ? "host " + entry.hostname + " no longer exists"
                                 : jobs_->Unsuitable(*r, job.owner_groups, "", job.job.depends);
    if (!unsuitable.empty()) {
      why = unsuitable;
    } else {
      why = "host " + entry.hostname + ": " + Describe(ConditionOf(entry.hostname, job.job.owner));
    }
  } else {
    Census census;
    for (const auto& [name, host] : registry_->hosts()) {
      const store::Host* r = registry_->Staged(name);
      if (r == nullptr || !Carries(*r, entry.meta_label, job.job.depends)) continue;
      ++census.carry;
      if (!jobs_->Unsuitable(*r, job.owner_groups, entry.meta_label, job.job.depends).empty()) {
        ++census.unusable;
      } else if (JobUsesHost(job, name)) {
        ++census.own;
      } else {
        census.Add(ConditionOf(name, job.job.owner));
      }
    }
    std::string labels = entry.meta_label;
    for (const std::string& label : job.job.depends) labels += "+" + label;
    why = census.carry == 0 ? "no host carries " + labels
                            : std::to_string(census.carry) +
                                  (census.carry == 1 ? " host carries " : " hosts carry ") +
                                  labels + ": " + census.Parts();
  }
  if (job.job.synch_count > 1) {
    auto group = groups_.find(KeyOf(entry));
    if (group != groups_.end() && group->second.retry_after_ms > clock_->SteadyMs()) {
      why += "; its group could not gather its hosts in time and waits before it tries again";
    } else if (group != groups_.end() && group->second.pending > 0) {
      why += "; its group holds " + std::to_string(group->second.pending) + " of " +
             std::to_string(job.job.synch_count) + " hosts";
    }
  }
  info.waiting_for = std::move(why);
}

protocol::HostAvailReply Scheduler::Availability(const protocol::HostAvailRequest& request,
                                                 const std::string& user,
                                                 const std::vector<std::string>& groups) const {
  Census census;
  for (const auto& [name, host] : registry_->hosts()) {
    const store::Host* r = registry_->Staged(name);
    if (r == nullptr || !Carries(*r, request.label, request.depends)) continue;
    ++census.carry;
    if (!jobs_->Unsuitable(*r, groups, request.label, request.depends).empty()) {
      ++census.unusable;
    } else {
      census.Add(ConditionOf(name, user));
    }
  }
  protocol::HostAvailReply reply;
  reply.label = request.label;
  reply.count = request.count;
  reply.hosts = census.carry - census.unusable;
  reply.free = census.free;
  reply.busy = census.busy;
  reply.locked = census.locked;
  reply.reserved = census.reserved;
  reply.in_task = census.in_task;
  reply.down = census.down + census.not_asking;
  reply.unusable = census.unusable;
  reply.busy_jobs.assign(census.busy_jobs.begin(), census.busy_jobs.end());
  for (const QueueKey& key : queue_) {
    const store::Entry& entry = jobs_->entries().at(key.entry_id);
    if (entry.hostname.empty() && entry.meta_label == request.label) ++reply.queued_ahead;
  }
  // The queue ahead is served first: what is left of the free hosts is this job's.
  reply.can_start = reply.free >= static_cast<uint64_t>(reply.queued_ahead) + request.count;
  std::string labels = request.label;
  for (const std::string& label : request.depends) labels += "+" + label;
  reply.summary = std::to_string(census.carry) +
                  (census.carry == 1 ? " host carries " : " hosts carry ") + labels +
                  (census.carry == 0 ? "" : ": " + census.Parts()) + "; " +
                  std::to_string(reply.queued_ahead) + " queued ahead; " +
                  (reply.can_start ? "a job of " + std::to_string(request.count) + " can start now"
                                   : "a job of " + std::to_string(request.count) + " would wait");
  return reply;
}

}  // namespace labmesh::coordinator
