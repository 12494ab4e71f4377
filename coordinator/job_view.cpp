#include "job_view.hpp"

#include "labmesh/protocol/messages.hpp"
#include "results_repository.hpp"
#include "text_util.hpp"

namespace labmesh::coordinator {

using protocol::EntryStatus;

std::string JobStatusOf(const std::vector<store::Entry>& entries) {
  bool all_queued = true, all_final = true, all_completed = true, any_aborted = false;
  for (const store::Entry& entry : entries) {
    if (entry.status != EntryStatus::kQueued) all_queued = false;
    if (!protocol::IsFinal(entry.status)) all_final = false;
    if (entry.status != EntryStatus::kCompleted) all_completed = false;
    if (entry.status == EntryStatus::kAborted) any_aborted = true;
  }
  if (entries.empty()) return "Queued";
  if (!all_final) return all_queued ? "Queued" : "Running";
  if (all_completed) return "Completed";
  return any_aborted ? "Aborted" : "Failed";
}

protocol::EntryInfo ToEntryInfo(const store::Entry& entry, const store::Job& job) {
  protocol::EntryInfo info;
  info.id = entry.id;
  info.job_id = entry.job_id;
  info.host = entry.hostname;
  info.meta_label = entry.meta_label;
  info.status = std::string(protocol::EntryStatusName(entry.status));
  info.reason = entry.status_reason;
  info.fault = entry.fault;
  info.exit_code = entry.exit_code;
  info.signal = entry.signal;
  info.queued_us = entry.queued_us;
  info.started_us = entry.started_us;
  info.finished_us = entry.finished_us;
  info.group = entry.group;
  info.result_counts = entry.result_counts;
  info.parse_warnings = entry.parse_warnings;
  info.retries = entry.retries;
  info.boot_count = entry.boot_count;
  info.crash = entry.crash;
  info.crash_line = entry.crash_line;
  if (!entry.hostname.empty()) {
    info.results_path = ResultsRepository::EntryDir(job.id, job.owner, entry.hostname);
  }
  return info;
}

protocol::JobInfo ToJobInfo(const store::Job& job, const std::vector<store::Entry>& entries,
                            bool with_control) {
  protocol::JobInfo info;
  info.id = job.id;
  info.name = job.name;
  info.owner = job.owner;
  info.priority = std::string(protocol::PriorityName(job.priority));
  info.synch_count = job.synch_count;
  info.status = JobStatusOf(entries);
  info.control_kind = job.control_kind;
  if (with_control) info.control = job.control;
  info.test_name = job.test_name;
  info.hosts = job.hosts;
  info.meta_label = job.meta_label;
  info.meta_count = job.meta_count;
  info.depends = job.depends;
  info.run_verify = job.run_verify;
  info.cleanup = job.cleanup;
  info.retry = job.retry;
  info.keep_results_ms = job.keep_results_ms;
  info.result_bytes = job.result_bytes;
  info.results = job.results_state == store::ResultsState::kRemoved    ? "removed"
                 : job.results_state == store::ResultsState::kRemoving ? "removing"
                                                                       : "present";
  info.results_removed_us = job.results_removed_us;
  info.results_removed_reason = job.results_removed_reason;
  info.timeout_ms = job.timeout_ms;
  info.max_runtime_ms = job.max_runtime_ms;
  info.created_us = job.created_us;
  info.finished_us = job.finished_us;
  info.notify = job.notify;
  info.notify_on = job.notify_on;
  info.after = job.after;
  info.after_any = job.after_any;
  info.template_name = job.template_name;
  info.schedule = job.schedule;
  info.reserve_on_failure_ms = job.reserve_on_failure_ms;
  info.probe_for = job.probe_for;
  if (job.waiting && job.finished_us == 0) info.status = "Waiting";
  info.abort_reason = job.abort_reason;
  info.entries.reserve(entries.size());
  for (const store::Entry& entry : entries) {
    info.entries.push_back(ToEntryInfo(entry, job));
    if (!with_control) continue;  // the detail view (job show) only
    for (const store::StatusChange& change : entry.history) {
      info.entries.back().history.push_back(
          {std::string(protocol::EntryStatusName(change.status)), change.at_us, change.reason});
    }
  }
  return info;
}

protocol::TaskInfo ToTaskInfo(const store::SpecialTask& task, bool with_checks) {
  protocol::TaskInfo info;
  info.id = task.id;
  info.hostname = task.hostname;
  info.kind = std::string(protocol::TaskKindName(task.kind));
  info.status = std::string(protocol::TaskStatusName(task.status));
  info.reason = task.reason;
  info.requested_by = task.requested_by;
  info.job_id = task.job_id;
  info.entry_id = task.entry_id;
  info.queued_ms = task.queued_ms;
  info.started_ms = task.started_ms;
  info.finished_ms = task.finished_ms;
  if (with_checks) info.checks = task.checks;
  return info;
}

std::string JobListFrame(store::Store* store, const protocol::Envelope& e) {
  auto request = protocol::DecodeBody<protocol::JobListRequest>(e);
  if (!request.ok()) return protocol::ErrorFrame(e.request_id, request.status());
  if (!request->status.empty() && request->status != "Queued" && request->status != "Running" &&
      request->status != "Waiting" &&
      request->status != "Completed" && request->status != "Failed" &&
      request->status != "Aborted") {
    return protocol::ErrorFrame(
        e.request_id, Status::InvalidArgument("unknown job status '" + request->status +
                                              "' (Queued, Running, Completed, Failed, Aborted)"));
  }
  auto jobs = store->ListJobs();
  if (!jobs.ok()) return protocol::ErrorFrame(e.request_id, jobs.status());
  protocol::JobListReply reply;
  for (auto it = jobs->rbegin(); it != jobs->rend(); ++it) {
    if (request->limit > 0 && reply.jobs.size() >= request->limit) break;
    if (request->before_id != 0 && it->id >= request->before_id) continue;
    if (!request->owner.empty() && it->owner != request->owner) continue;
    if (!request->name.empty() && !ContainsIgnoringCase(it->name, request->name)) continue;
    if (!request->schedule.empty() && it->schedule != request->schedule) continue;
    auto entries = store->GetEntries(it->entry_ids);
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

}  // namespace labmesh::coordinator
