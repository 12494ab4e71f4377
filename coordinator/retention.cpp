#include "retention.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <limits>

#include "disk_guard.hpp"
#include "labmesh/common/byte_size.hpp"
#include "labmesh/protocol/job_messages.hpp"
#include "labmesh/protocol/results_messages.hpp"

namespace labmesh::coordinator {

namespace {

using store::ResultsState;

// "2026-11": the UTC month of a wall time in µs.
std::string MonthOf(int64_t us) {
  std::time_t seconds = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];  // room for any int year, so the compiler sees no truncation
  std::snprintf(buf, sizeof buf, "%04d-%02d", tm.tm_year + 1900, tm.tm_mon + 1);
  return buf;
}

// "<job>-<owner>": the job's directory in the results repository.
std::string JobDir(const store::Job& job) { return std::to_string(job.id) + "-" + job.owner; }

void Add(RetentionStats& to, const RemoveDone& done) {
  ++to.results_removed;
  to.dirs_removed += done.dirs;
  to.files_removed += done.files;
  to.bytes_removed += done.bytes;
  to.index_rows_removed += done.index_rows;
}

}  // namespace

RetentionSweeper::RetentionSweeper(const CoordinatorConfig& config, const Clock* clock,
                                   store::Store* store, Batch* batch, RetentionWorker* worker,
                                   Outbox to_api)
    : config_(config),
      clock_(clock),
      store_(store),
      batch_(batch),
      worker_(worker),
      to_api_(std::move(to_api)),
      policy_{config.results_retention_ms, config.results_max_bytes, config.audit_retention_ms,
              config.job_retention_ms} {
  next_sweep_ms_ =
      clock_->SteadyMs() + std::min(config_.retention_sweep_interval_ms, kFirstSweepAfterMs);
}

int64_t RetentionSweeper::NextDeadlineMs() const {
  const int64_t now = clock_->SteadyMs();
  if (phase_ == Phase::kScan || phase_ == Phase::kAudit) return now;
  if (phase_ == Phase::kApply && !todo_.empty()) return now;
  if (!done_.empty()) return now;
  // The worker has no descriptor to wake the loop: look at its answers every few ms.
  if (!in_flight_.empty() || !staged_.empty()) return now + 5;
  if (phase_ == Phase::kApply) return now;
  if (!policy_.any()) return std::numeric_limits<int64_t>::max();
  return next_sweep_ms_;
}

void RetentionSweeper::Step() {
  const auto start = std::chrono::steady_clock::now();
  const auto budget =
      std::chrono::milliseconds(std::max<int64_t>(1, config_.retention_turn_budget_ms));
  auto within = [&] { return std::chrono::steady_clock::now() - start < budget; };
  bool worked = !in_flight_.empty();
  for (RemoveDone& done : worker_->TakeDone()) done_.push_back(std::move(done));
  Publish();  // what the last turn's commit added
  // The worker's finished removals first (a read and a staged write each), as many as the
  // turn's budget allows; at least one, so that they always move.
  size_t actions = 0;
  while (!done_.empty() && actions < kMaxActionsPerTurn && (actions == 0 || within())) {
    RemoveDone done = std::move(done_.front());
    done_.pop_front();
    TakeDone(done);
    ++actions;
  }
  if (phase_ == Phase::kIdle && policy_.any() && clock_->SteadyMs() >= next_sweep_ms_) {
    StartSweep();
  }
  turn_done_ = false;
  while (phase_ != Phase::kIdle && !turn_done_ && within()) {
    worked = true;
    if (phase_ == Phase::kScan) {
      ScanPage();
    } else if (phase_ == Phase::kApply) {
      if (!todo_.empty() && actions < kMaxActionsPerTurn) {
        ApplyOne();
        ++actions;
      } else if (todo_.empty() && in_flight_.empty() && staged_.empty()) {
        phase_ = Phase::kAudit;
      } else {
        break;  // the commit and the worker come first
      }
    } else {
      AuditPage();
    }
  }
  if (worked) {
    int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count();
    stats_.longest_turn_us = std::max(stats_.longest_turn_us, us);
    tally_.longest_turn_us = std::max(tally_.longest_turn_us, us);
  }
}

void RetentionSweeper::StartSweep() {
  phase_ = Phase::kScan;
  sweep_started_ms_ = clock_->SteadyMs();
  sweep_now_us_ = clock_->WallUs();
  scan_after_ = 0;
  present_bytes_ = 0;
  cap_candidates_.clear();
  tally_ = {};
}

void RetentionSweeper::ScanPage() {
  auto jobs = store_->ListJobsAfter(scan_after_, kJobsPerPage);
  if (!jobs.ok()) {
    spdlog::error("retention: cannot read jobs: {}", jobs.status().ToString());
    ++stats_.errors;
    ++tally_.errors;
    phase_ = Phase::kApply;  // what was found so far, then the audit log
    return;
  }
  if (jobs->empty()) {
    std::map<uint64_t, uint64_t> sizes;
    for (const SizedJob& job : cap_candidates_) sizes[job.id] = job.bytes;
    for (uint64_t id :
         OverCap(std::move(cap_candidates_), present_bytes_, policy_.results_max_bytes)) {
      todo_.push_back({id, Action::kRemoveResults,
                       "over --results-max-bytes " + FormatBytes(policy_.results_max_bytes)});
      present_bytes_ -= std::min(present_bytes_, sizes[id]);  // what is held after the sweep
    }
    cap_candidates_.clear();
    phase_ = Phase::kApply;
    return;
  }
  for (const store::Job& job : *jobs) {
    scan_after_ = job.id;
    const bool present = job.results_state == ResultsState::kPresent;
    if (job.finished_us == 0 || Busy(job.id) || staged_.count(job.id) || in_flight_.count(job.id)) {
      if (present) present_bytes_ += job.result_bytes;
      continue;
    }
    if (job.results_state == ResultsState::kRemoving) {  // a removal a restart interrupted
      todo_.push_back({job.id, Action::kRemoveResults, job.results_removed_reason});
      if (!RecordExpiry(job, policy_, sweep_now_us_).empty()) drop_record_.insert(job.id);
      continue;
    }
    std::string record = RecordExpiry(job, policy_, sweep_now_us_);
    if (!record.empty()) {
      if (present) drop_record_.insert(job.id);
      todo_.push_back({job.id, present ? Action::kRemoveResults : Action::kDeleteRecord, record});
      continue;
    }
    std::string results = ResultsExpiry(job, policy_, sweep_now_us_);
    if (!results.empty()) {
      todo_.push_back({job.id, Action::kRemoveResults, results});
      continue;
    }
    if (present) {
      present_bytes_ += job.result_bytes;
      if (CapMayRemove(job)) cap_candidates_.push_back({job.id, job.finished_us, job.result_bytes});
    }
  }
}

void RetentionSweeper::ApplyOne() {
  Todo todo = std::move(todo_.front());
  todo_.pop_front();
  if (staged_.count(todo.job_id) || in_flight_.count(todo.job_id)) return;
  auto job = store_->GetJob(todo.job_id);
  if (!job.ok() || !job->has_value()) return;  // gone meanwhile
  if ((*job)->finished_us == 0 || Busy(todo.job_id)) return;
  const bool drop = todo.action == Action::kDeleteRecord || drop_record_.count(todo.job_id);
  if ((*job)->results_state == ResultsState::kRemoved) {
    if (!drop) return;  // a `job delete` came first
    drop_record_.erase(todo.job_id);
    const uint64_t entries = (*job)->entry_ids.size();
    batch_->writes().DeleteJob(todo.job_id);
      ++tally_.jobs_removed;
    tally_.entries_removed += entries;
    batch_->AfterCommit([this, entries] {
      ++stats_.jobs_removed;
      stats_.entries_removed += entries;
    });
    spdlog::debug("job={} record removed ({})", todo.job_id, todo.reason);
    return;
  }
  if ((*job)->results_state == ResultsState::kRemoving) return Submit(**job);
  StageRemoval(std::move(**job), todo.reason);
}

void RetentionSweeper::StageRemoval(store::Job job, const std::string& reason) {
  job.results_state = ResultsState::kRemoving;
  job.results_removed_us = clock_->WallUs();
  job.results_removed_reason = reason;
  const uint64_t id = job.id;
  batch_->writes().PutJob(job);
  staged_.insert(id);
  batch_->AfterCommit([this, job = std::move(job)] {
    staged_.erase(job.id);
    Submit(job);
  });
  batch_->OnFailure([this, id](const Status& status) {
    staged_.erase(id);
    drop_record_.erase(id);
    Answer(id, status, nullptr);
  });
}

void RetentionSweeper::Submit(const store::Job& job) {
  in_flight_.insert(job.id);
  worker_->Submit(RemoveWork{job.id, JobDir(job)});
}

void RetentionSweeper::TakeDone(const RemoveDone& done) {
  in_flight_.erase(done.job_id);
  if (!done.status.ok()) {
    spdlog::warn("job={} results not removed (tried again by the next sweep): {}", done.job_id,
                 done.status.ToString());
    ++stats_.errors;
    ++tally_.errors;
    drop_record_.erase(done.job_id);
    Answer(done.job_id, done.status, nullptr);
    return;
  }
  FinishRemoval(done);
}

void RetentionSweeper::FinishRemoval(const RemoveDone& done) {
  auto job = store_->GetJob(done.job_id);
  if (!job.ok() || !job->has_value()) {
    Answer(done.job_id,
           job.ok()
               ? Status::NotFound("job " + std::to_string(done.job_id) + " was removed meanwhile")
               : job.status(),
           nullptr);
    return;
  }
  const bool drop = drop_record_.erase(done.job_id) > 0;
  const uint64_t entries = (*job)->entry_ids.size();
  if (drop) {
    batch_->writes().DeleteJob(done.job_id, done.hosts);
    ++tally_.jobs_removed;
    tally_.entries_removed += entries;
  } else {
    (*job)->results_state = ResultsState::kRemoved;
    batch_->writes().PutJob(**job);
  }
  Add(tally_, done);
  batch_->AfterCommit([this, done, drop, entries] {
    Add(stats_, done);
    if (drop) {
      ++stats_.jobs_removed;
      stats_.entries_removed += entries;
    }
    if (disk_ != nullptr && done.bytes > 0) disk_->Recheck();
  });
  spdlog::debug("job={} results removed ({}): {} dirs, {} files, {} bytes, {} index rows",
                done.job_id, (*job)->results_removed_reason, done.dirs, done.files, done.bytes,
                done.index_rows);
  protocol::JobDeleteReply reply{done.job_id,
                                 false,
                                 done.dirs,
                                 done.files,
                                 done.bytes,
                                 done.index_rows,
                                 (*job)->results_removed_reason};
  Answer(done.job_id, Status::Ok(), &reply);
}

void RetentionSweeper::AuditPage() {
  if (policy_.audit_retention_ms <= 0) return EndSweep();
  const int64_t cutoff_ms = sweep_now_us_ / 1000 - policy_.audit_retention_ms;
  auto records = store_->OldestAudit(kAuditPerPage);
  if (!records.ok()) {
    spdlog::error("retention: cannot read the audit log: {}", records.status().ToString());
    ++stats_.errors;
    ++tally_.errors;
    return EndSweep();
  }
  uint64_t first = 0, last = 0, count = 0;
  for (const store::AuditRecord& record : *records) {
    if (record.time_ms >= cutoff_ms) break;  // ids grow with time: the rest are newer
    if (first == 0) first = record.id;
    last = record.id;
    ++count;
  }
  if (count == 0) return EndSweep();
  batch_->writes().DeleteAudit(first, last);
  tally_.audit_removed += count;
  batch_->AfterCommit([this, count] { stats_.audit_removed += count; });
  if (count < records->size()) return EndSweep();
  turn_done_ = true;  // the next page is read after this one's commit
}

void RetentionSweeper::EndSweep() {
  phase_ = Phase::kIdle;
  ++stats_.sweeps;
  const int64_t now = clock_->SteadyMs();
  next_sweep_ms_ = now + config_.retention_sweep_interval_ms;
  uint64_t held = present_bytes_;
  spdlog::info(
      "retention sweep: results of {} jobs removed ({} dirs, {} files, {}, {} index rows), {} "
      "job records ({} entries), {} audit records; {} errors; longest turn {:.2f} ms; took "
      "{:.1f} s; results held {}",
      tally_.results_removed, tally_.dirs_removed, tally_.files_removed,
      FormatBytes(tally_.bytes_removed), tally_.index_rows_removed, tally_.jobs_removed,
      tally_.entries_removed, tally_.audit_removed, tally_.errors,
      static_cast<double>(tally_.longest_turn_us) / 1000.0,
      static_cast<double>(now - sweep_started_ms_) / 1000.0, FormatBytes(held));
  Publish();
}

void RetentionSweeper::Answer(uint64_t job_id, const Status& status,
                              const protocol::JobDeleteReply* reply) {
  auto it = waiters_.find(job_id);
  if (it == waiters_.end()) return;
  for (const Waiter& w : it->second) {
    if (reply != nullptr) {
      batch_->ToApi(w.routing_id, protocol::Encode(*reply, w.request_id), w.request_id);
    } else {
      to_api_(w.routing_id, protocol::ErrorFrame(w.request_id, status));
    }
  }
  waiters_.erase(it);
}

void RetentionSweeper::HandleApi(const std::string& routing_id, const protocol::Envelope& e,
                                 const Principal& who) {
  switch (e.type) {
    case protocol::MessageType::kJobDeleteRequest:
      return Delete(routing_id, e, who);
    case protocol::MessageType::kResultsUsageRequest:
      return to_api_(routing_id, Usage(e));
    default:
      return to_api_(routing_id, protocol::ErrorFrame(
                                     e.request_id, Status::Unsupported("not a retention request")));
  }
}

void RetentionSweeper::Delete(const std::string& routing_id, const protocol::Envelope& e,
                              const Principal& who) {
  auto fail = [&](const Status& status) {
    to_api_(routing_id, protocol::ErrorFrame(e.request_id, status));
  };
  auto request = protocol::DecodeBody<protocol::JobDeleteRequest>(e);
  if (!request.ok()) return fail(request.status());
  const uint64_t id = request->id;
  const std::string name = "job " + std::to_string(id);
  auto job = store_->GetJob(id);
  if (!job.ok()) return fail(job.status());
  if (!job->has_value()) return fail(Status::NotFound(name + " not found"));
  if (Status s = who.MayChangeJob((*job)->owner, id); !s.ok()) return fail(s);
  if ((*job)->finished_us == 0) {
    return fail(Status::FailedPrecondition(
        name + " has entries that are not final: abort it first (labmesh job abort " +
        std::to_string(id) + ") and delete it once it has ended"));
  }
  if (Busy(id)) {
    return fail(Status::Unavailable(name + " is being reparsed; delete it when that is done"));
  }
  if ((*job)->results_state == ResultsState::kRemoved) {
    protocol::JobDeleteReply reply;
    reply.job_id = id;
    reply.already_removed = true;
    reply.reason = (*job)->results_removed_reason;
    return to_api_(routing_id, protocol::Encode(reply, e.request_id));
  }
  waiters_[id].push_back({routing_id, e.request_id});
  if (staged_.count(id) || in_flight_.count(id)) return;  // that removal answers it too
  spdlog::info("job={} results deleted by {}", id, who.user);
  if ((*job)->results_state == ResultsState::kRemoving) return Submit(**job);
  StageRemoval(std::move(**job), "deleted by " + who.user);
}

std::string RetentionSweeper::Usage(const protocol::Envelope& e) const {
  auto request = protocol::DecodeBody<protocol::ResultsUsageRequest>(e);
  if (!request.ok()) return protocol::ErrorFrame(e.request_id, request.status());
  auto jobs = store_->ListJobs();
  if (!jobs.ok()) return protocol::ErrorFrame(e.request_id, jobs.status());
  protocol::ResultsUsageReply reply;
  std::map<std::string, protocol::UsageRow> owners, months;
  for (const store::Job& job : *jobs) {
    if (job.results_state != ResultsState::kPresent) continue;
    if (!request->owner.empty() && job.owner != request->owner) continue;
    reply.total_bytes += job.result_bytes;
    ++reply.jobs;
    for (auto [rows, key] :
         {std::pair{&owners, job.owner},
          std::pair{&months, MonthOf(job.finished_us != 0 ? job.finished_us : job.created_us)}}) {
      protocol::UsageRow& row = (*rows)[key];
      row.key = key;
      row.bytes += job.result_bytes;
      ++row.jobs;
    }
  }
  for (auto& [key, row] : owners) reply.by_owner.push_back(std::move(row));
  std::stable_sort(
      reply.by_owner.begin(), reply.by_owner.end(),
      [](const protocol::UsageRow& a, const protocol::UsageRow& b) { return a.bytes > b.bytes; });
  for (auto& [key, row] : months) reply.by_month.push_back(std::move(row));
  return protocol::Encode(reply, e.request_id);
}

RetentionStats RetentionSweeper::Snapshot() const {
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  return snapshot_;
}

void RetentionSweeper::Publish() {
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  snapshot_ = stats_;
}

}  // namespace labmesh::coordinator
