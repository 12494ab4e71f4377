// JobService's part for jobs that wait for jobs (`job create --after`, docs/jobs.md "Jobs that
// wait for jobs"): checking the ids at creation, holding the entries out of the queue while
// the jobs they wait for are not final, and then queueing or aborting them.

#include <spdlog/spdlog.h>

#include <algorithm>

#include "job_service.hpp"
#include "job_view.hpp"
#include "scheduler.hpp"
#include "text_util.hpp"

namespace labmesh::coordinator {

Status JobService::CheckAfter(const protocol::JobCreateRequest& r) const {
  for (uint64_t id : r.after) {
    // Only jobs made before this one can be named, so the waits form no cycle.
    if (id > last_job_id_ || (jobs_.count(id) == 0 && !ReadJob(id).ok())) {
      return Status::NotFound("--after: job " + std::to_string(id) + " does not exist");
    }
  }
  return Status::Ok();
}

std::string JobService::FinalStatus(uint64_t id) const {
  auto active = jobs_.find(id);
  if (active != jobs_.end()) {
    if (active->second.open_entries > 0) return "";
    std::vector<store::Entry> entries;
    for (uint64_t entry_id : active->second.job.entry_ids) {
      auto entry = entries_.find(entry_id);
      if (entry != entries_.end()) entries.push_back(entry->second);
    }
    return JobStatusOf(entries);
  }
  auto stored = ReadJob(id);
  if (!stored.ok()) return "removed";  // a finished job that retention removed since
  return JobStatusOf(stored->entries);
}

void JobService::WaitFor(ActiveJob& job) {
  bool pending = false;
  for (uint64_t id : job.job.after) {
    if (!FinalStatus(id).empty()) continue;
    auto& waiting = waiters_[id];
    if (std::find(waiting.begin(), waiting.end(), job.job.id) == waiting.end()) {
      waiting.push_back(job.job.id);
    }
    pending = true;
  }
  if (!pending) DecideWaiting(job);
}

void JobService::DecideWaiting(ActiveJob& job) {
  if (!job.job.waiting) return;
  std::vector<std::string> not_completed;
  for (uint64_t id : job.job.after) {
    std::string status = FinalStatus(id);
    if (status.empty()) return;  // still waiting for this one
    if (status != "Completed") not_completed.push_back("job " + std::to_string(id) + " ended " + status);
  }
  job.job.waiting = false;
  dirty_jobs_.insert(job.job.id);
  if (!not_completed.empty() && !job.job.after_any) {
    std::string reason = Join(not_completed, ", ") + " (--after)";
    spdlog::info("job={} aborted: {}", job.job.id, reason);
    if (job.job.abort_reason.empty()) job.job.abort_reason = reason;
    std::vector<uint64_t> ids = job.job.entry_ids;  // Finish may prune nothing before the commit
    for (uint64_t entry_id : ids) {
      auto entry = entries_.find(entry_id);
      if (entry != entries_.end()) AbortEntry(entry->second, reason);
    }
    return;
  }
  spdlog::info("job={} released: the jobs it waited for are final", job.job.id);
  for (uint64_t entry_id : job.job.entry_ids) {
    auto entry = entries_.find(entry_id);
    if (entry == entries_.end() || entry->second.status != protocol::EntryStatus::kQueued) continue;
    entry->second.status_reason = "waiting for a host";
    MarkDirty(entry->second);
    scheduler_->QueueEntry(entry->second);
  }
  scheduler_->RequestSchedule();
}

void JobService::OnAfterEnded(uint64_t ended) {
  auto it = waiters_.find(ended);
  if (it == waiters_.end()) return;
  std::vector<uint64_t> waiting = std::move(it->second);
  waiters_.erase(it);
  for (uint64_t id : waiting) {
    ActiveJob* job = FindJob(id);
    if (job != nullptr) DecideWaiting(*job);
  }
}

std::string JobService::WaitingForText(const ActiveJob& job) const {
  std::vector<std::string> open;
  for (uint64_t id : job.job.after) {
    auto active = jobs_.find(id);
    if (active == jobs_.end() || active->second.open_entries == 0) continue;
    std::vector<store::Entry> entries;
    for (uint64_t entry_id : active->second.job.entry_ids) {
      auto entry = entries_.find(entry_id);
      if (entry != entries_.end()) entries.push_back(entry->second);
    }
    std::string status = active->second.job.waiting ? "Waiting" : JobStatusOf(entries);
    open.push_back("job " + std::to_string(id) + " (" + status + ")");
  }
  return "waiting for " + Join(open, ", ") + " to end (--after" +
         (job.job.after_any ? " --after-any)" : ")");
}

}  // namespace labmesh::coordinator
