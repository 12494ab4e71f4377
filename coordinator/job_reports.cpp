// JobService, agent half: entry reports and result chunks, the entries of hosts that register
// again, die or are deleted, parsing, and the entries' status moves. See job_service.hpp.

#include <spdlog/spdlog.h>

#include <algorithm>

#include "disk_guard.hpp"
#include "labmesh/common/disk_space.hpp"
#include "labmesh/common/duration.hpp"
#include "entry_status.hpp"
#include "host_tasks.hpp"
#include "job_rules.hpp"
#include "job_service.hpp"
#include "metrics.hpp"
#include "notify_rules.hpp"
#include "reservation_rules.hpp"
#include "scheduler.hpp"
#include "text_util.hpp"
#include "update_scheduler.hpp"

namespace labmesh::coordinator {

using protocol::EntryStatus;

namespace {

bool IsStarted(EntryStatus status) {
  return status != EntryStatus::kQueued && !protocol::IsFinal(status);
}

// What PROTOCOL.md asks of every EntryReport, whatever the entry's state.
Status CheckReportFields(const protocol::EntryReport& report) {
  const std::string& phase = report.phase;
  if (phase != "running" && phase != "rebooting" && phase != "exited" && phase != "uploaded") {
    return Status::InvalidArgument("unknown entry phase '" + phase.substr(0, 64) +
                                   "' (expected running, rebooting, exited or uploaded)");
  }
  constexpr int64_t kMaxRebootTimeoutMs = int64_t{7} * 24 * 3600 * 1000;
  if (phase == "rebooting" &&
      (report.reboot_timeout_ms <= 0 || report.reboot_timeout_ms > kMaxRebootTimeoutMs)) {
    return Status::InvalidArgument(
        "a 'rebooting' report must carry reboot_timeout_ms in 1..604800000 (7 days)");
  }
  const std::string& outcome = report.outcome;
  if (!outcome.empty() && outcome != "passed" && outcome != "failed" && outcome != "aborted" &&
      outcome != "error") {
    return Status::InvalidArgument("unknown outcome '" + outcome.substr(0, 64) +
                                   "' (expected passed, failed, aborted or error)");
  }
  if (phase == "exited" && outcome.empty()) {
    return Status::InvalidArgument("an 'exited' report must carry the control's outcome");
  }
  return Status::Ok();
}

// The parse warning of files the agent uploaded but left out of its "uploaded" report.
std::string UnlistedWarning(const std::vector<std::string>& paths) {
  constexpr size_t kNamed = 10;
  std::string names;
  for (size_t i = 0; i < paths.size() && i < kNamed; ++i) {
    names += (i == 0 ? "" : ", ") + paths[i].substr(0, 200);
  }
  if (paths.size() > kNamed) names += " and " + std::to_string(paths.size() - kNamed) + " more";
  return "uploaded but not in the agent's file list (kept, not checked): " + names;
}

// The entry's current attempt was sent to its host: only then may that host's agent hold it,
// report on it and upload for it. An agent holding an entry that is Queued (again), Pending or
// Verifying holds an earlier attempt (its host was lost and the entry requeued, --retry), which
// must be dropped: applied to the queued entry, its reports moved nothing, its parse indexed
// it, and its sequence numbers hid the next attempt's reports, which left it Starting forever.
bool AttemptOnHost(const store::Entry& entry, const std::string& hostname) {
  return entry.hostname == hostname &&
         (entry.status == EntryStatus::kStarting || entry.status == EntryStatus::kRunning ||
          entry.status == EntryStatus::kRebooting || entry.status == EntryStatus::kGathering ||
          entry.status == EntryStatus::kParsing);
}

}  // namespace

// ---- moves ----

void JobService::Move(store::Entry& entry, EntryStatus to, const std::string& reason) {
  EntryStatus from = entry.status;
  if (Status s = MoveEntry(entry, to, reason, clock_->WallUs()); !s.ok()) {
    spdlog::error("job={} entry={} {}", entry.job_id, entry.id, s.message());
    return;
  }
  dirty_entries_.insert(entry.id);
  if (metrics_ != nullptr) {
    if (to == EntryStatus::kStarting) {
      metrics_->EntryStarted(static_cast<double>(clock_->WallUs() - entry.queued_us) / 1e6);
    } else if (protocol::IsFinal(to)) {
      metrics_->EntryFinished(to);
    }
  }
  scheduler_->OnEntryMoved(entry, from, reason);
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
  if (to == EntryStatus::kCompleted && !entry.hostname.empty() &&
      jobs_.at(entry.job_id).job.control_kind != kImportKind) {  // an import ran no agent
    updates_->NoteEntryCompleted(entry.hostname);
  }
  if (started && !entry.hostname.empty() && scheduler_->BusyWith(entry.hostname) == entry.id) {
    scheduler_->FreeHost(entry.hostname);
  }
  scheduler_->OnEntryFinished(entry, reason, fault);
  ActiveJob& job = jobs_.at(entry.job_id);
  if (to == EntryStatus::kFailed && started) ReserveOnFailure(entry, job);
  if (job.open_entries > 0 && --job.open_entries == 0) {
    job.job.finished_us = clock_->WallUs();
    dirty_jobs_.insert(job.job.id);
    finished_jobs_.push_back(job.job.id);
    job.job.waiting = false;
    OnAfterEnded(job.job.id);
  }
}

void JobService::ReserveOnFailure(const store::Entry& entry, ActiveJob& job) {
  if (job.job.reserve_on_failure_ms <= 0 || entry.hostname.empty() ||
      job.job.control_kind == kImportKind) {  // an import ran on no host of the fleet
    return;
  }
  const store::Host* staged = registry_->Staged(entry.hostname);
  if (staged == nullptr) return;  // deleted
  const int64_t now = clock_->WallMs();
  const std::string& owner = job.job.owner;
  if (ReservedForOther(*staged, owner, now)) {
    spdlog::info("job={} entry={} host={} failed; not reserved for {}: reserved by {}",
                 job.job.id, entry.id, entry.hostname, owner, ReservationText(*staged));
    return;
  }
  if (ReservationActive(*staged, now) &&
      staged->reserved_until_ms >= now + job.job.reserve_on_failure_ms) {
    return;  // the owner holds it longer already
  }
  store::Host* host = registry_->Stage(entry.hostname);
  Reserve(*host, owner, job.job.reserve_on_failure_ms,
          FailureReserveReason(job.job.id, entry.hostname), now);
  spdlog::info("job={} entry={} host={} failed: reserved for {} for {}", job.job.id, entry.id,
               entry.hostname, owner, FormatDurationMs(job.job.reserve_on_failure_ms));
  if (on_host_reserved_) {
    uint32_t made = on_host_reserved_(job.job, entry, *host,
                                      static_cast<uint32_t>(kMaxNotifyTargets) +
                                          job.job.reserve_notices);
    if (made > 0) {
      job.job.reserve_notices += made;
      dirty_jobs_.insert(job.job.id);
    }
  }
}

void JobService::LoseEntry(store::Entry& entry, const std::string& reason) {
  ActiveJob& job = jobs_.at(entry.job_id);
  bool retry = job.job.synch_count <= 1 && entry.retries < job.job.retry &&
               !entry.abort_requested && entry.status != EntryStatus::kParsing;
  if (!retry) {
    Finish(entry, EntryStatus::kFailed, reason, "infrastructure");
    return;
  }
  std::string hostname = entry.hostname;
  ++entry.retries;
  scheduler_->ClearBusy(hostname, entry.id);
  scheduler_->Requeue(entry, reason + "; queued again (retry " + std::to_string(entry.retries) + " of " +
                     std::to_string(job.job.retry) + ")");
  entry.exit_code = -1;
  entry.signal = 0;
  entry.started_us = 0;
  entry.report_sequence = 0;  // the next agent counts its reports from 1
  entry.outcome.clear();
  entry.outcome_reason.clear();
  entry.fault.clear();
  entry.boot_count = 0;
  entry.reboot_deadline_us = 0;
  entry.unexpected_reboot = false;
  entry.crash = false;
  entry.crash_line.clear();
  entry.parse_warnings.clear();
  scheduler_->RequestSchedule();
  spdlog::info("job={} entry={} {} (retry {} of {})", entry.job_id, entry.id, reason,
               entry.retries, job.job.retry);
}

// ---- agent messages ----

void JobService::OnReport(const HostState& host, const protocol::Envelope& e) {
  auto report = protocol::DecodeBody<protocol::EntryReport>(e);
  if (!report.ok())
    return to_agent_(host.routing_id, protocol::ErrorFrame(e.request_id, report.status()));
  const std::string& name = host.record.hostname;
  auto refuse = [&](const Status& status) {
    // Debug only: a broken client can send these in a flood; it hears why in the Error.
    spdlog::debug("host={} entry={} report {} refused: {}", name, report->entry_id,
                 report->sequence, status.message());
    to_agent_(host.routing_id, protocol::ErrorFrame(e.request_id, status));
  };
  // Nothing of a refused report is applied, and its sequence is not used up (PROTOCOL.md).
  if (report->incarnation != host.record.incarnation) {
    return refuse(Status::FailedPrecondition(
        "report of incarnation " + std::to_string(report->incarnation) +
        ", but this connection registered incarnation " +
        std::to_string(host.record.incarnation) + " (send the AgentHello's incarnation)"));
  }
  if (Status s = CheckReportFields(*report); !s.ok()) return refuse(s);
  auto it = entries_.find(report->entry_id);
  if (it == entries_.end() || !AttemptOnHost(it->second, name)) {
    // Finished, queued again or never ours: the agent may forget it; a running control is
    // killed.
    if (report->phase == "running") {
      batch_->ToAgent(name, protocol::Encode(protocol::AbortEntry{report->entry_id,
                                                          "the entry is finished", true}));
    } else {
      batch_->ToAgent(name, protocol::Encode(
                        protocol::EntryReportAck{report->entry_id, report->sequence, true},
                        e.request_id));
    }
    return;
  }
  store::Entry& entry = it->second;
  if (report->sequence <= entry.report_sequence) {
    // Applied already: only acknowledged, `done` as the applied one's ack said.
    batch_->ToAgent(name, protocol::Encode(
                      protocol::EntryReportAck{entry.id, report->sequence,
                                               entry.status == EntryStatus::kParsing},
                      e.request_id));
    return;
  }
  if (report->phase != "running" && report->phase != "rebooting" && report->outcome.empty() &&
      entry.outcome.empty()) {
    return refuse(Status::InvalidArgument(
        "an '" + report->phase + "' report must carry the control's outcome (\"passed\", " +
        "\"failed\", \"aborted\" or \"error\") unless an 'exited' report was applied"));
  }
  std::vector<std::string> unlisted;
  if (report->phase == "uploaded") {
    // Check the files before anything changes; a mismatch is sent again by the agent.
    std::string bad_path;
    uint64_t held = 0;
    const ActiveJob& job = jobs_.at(entry.job_id);
    std::string dir = ResultsRepository::EntryDir(job.job.id, job.job.owner, name);
    if (Status s = results_->Verify(dir, report->files, &bad_path, &held); !s.ok()) {
      spdlog::warn("job={} entry={} host={} results incomplete: {}", entry.job_id, entry.id, name,
                   s.message());
      if (bad_path.empty()) {  // a path no file may have: the upload can never succeed
        Finish(entry, EntryStatus::kFailed, "upload refused: " + s.message(), "infrastructure");
        batch_->ToAgent(name, protocol::Encode(
                          protocol::EntryReportAck{entry.id, report->sequence, true},
                          e.request_id));
      } else {
        // The report is not applied: the agent resends the file from `held`, then the report.
        to_agent_(host.routing_id,
                  protocol::Encode(protocol::ResultAck{entry.id, bad_path, held, s.message()},
                                   e.request_id));
      }
      return;
    }
    unlisted = results_->Unlisted(dir, report->files);
    // The coordinator's own file: the host's serial console while the entry ran
    // (docs/power-console.md), not the agent's.
    std::erase(unlisted, std::string("console.log"));
  }

  entry.report_sequence = report->sequence;
  dirty_entries_.insert(entry.id);
  if (report->started_us != 0) entry.started_us = report->started_us;
  // Reports are resent only as the latest one, so a phase may arrive without its predecessors.
  if (entry.status == EntryStatus::kStarting &&
      (report->phase == "running" || report->phase == "rebooting")) {
    Move(entry, EntryStatus::kRunning, "control started");
  }
  // A higher boot count says the host booted: reports are resent only as the latest one, so a
  // control that asks for its next reboot before the "running" of this boot went out is seen
  // here going from Rebooting straight to its next "rebooting".
  const uint32_t boots_before = entry.boot_count;
  if (report->boot_count > entry.boot_count) entry.boot_count = report->boot_count;
  if (entry.status == EntryStatus::kRebooting && entry.boot_count > boots_before) {
    entry.reboot_deadline_us = 0;
    Move(entry, EntryStatus::kRunning,
         "the host booted (boot " + std::to_string(entry.boot_count) +
             "); the control runs again from the top");
  }
  if (report->phase == "rebooting" && entry.status == EntryStatus::kRunning) {
    entry.reboot_deadline_us = clock_->WallUs() + report->reboot_timeout_ms * 1000;
    Move(entry, EntryStatus::kRebooting,
         "the control asked for reboot " + std::to_string(entry.boot_count + 1) +
             "; waiting up to " + FormatDurationMs(report->reboot_timeout_ms) +
             " for the host to boot");
  }
  if (report->phase == "exited" || report->phase == "uploaded") {
    // A later report's field replaces an earlier one's only when it is set (not its default).
    if (report->exit_code != -1) entry.exit_code = report->exit_code;
    if (report->signal != 0) entry.signal = report->signal;
    if (!report->outcome.empty()) entry.outcome = report->outcome;
    if (!report->reason.empty()) entry.outcome_reason = report->reason;
    if (report->unexpected_reboot && !entry.unexpected_reboot) {
      entry.unexpected_reboot = true;
      entry.crash = true;
      entry.reboot_deadline_us = 0;
      // Lost with its host, as when its heartbeat stops: retried when the job allows it (this
      // attempt's upload is then dropped), else it fails as infrastructure with its crashinfo.
      ActiveJob& lost_job = jobs_.at(entry.job_id);
      if (lost_job.job.synch_count <= 1 && entry.retries < lost_job.job.retry &&
          !entry.abort_requested) {
        LoseEntry(entry, entry.outcome_reason.empty() ? "host rebooted unexpectedly"
                                                      : entry.outcome_reason);
        scheduler_->FreeHost(name);  // up and asking for work again, unlike a lost host
        batch_->ToAgent(name, protocol::Encode(protocol::EntryReportAck{entry.id,
                                                                         report->sequence, true},
                                               e.request_id));
        return;
      }
    }
    if (entry.status == EntryStatus::kStarting && report->started_us != 0) {
      Move(entry, EntryStatus::kRunning, "control started");
    }
    if (entry.status == EntryStatus::kRebooting) entry.reboot_deadline_us = 0;
    if (entry.status == EntryStatus::kStarting || entry.status == EntryStatus::kRunning ||
        entry.status == EntryStatus::kRebooting) {
      std::string why = entry.outcome_reason.empty() ? entry.outcome : entry.outcome_reason;
      Move(entry, EntryStatus::kGathering, "control ended (" + why + "); uploading results");
    }
  }
  bool done = false;
  if (report->phase == "uploaded") {
    // The agent is done with the entry (its spool may go) and the host is free; the entry's
    // final status waits for its files to be parsed, off the scheduling path.
    entry.parse_warnings.clear();
    if (!unlisted.empty()) {
      // Kept and parsed, but said: the agent did not vouch for these (PROTOCOL.md).
      entry.parse_warnings.push_back(UnlistedWarning(unlisted));
      spdlog::warn("job={} entry={} host={} {}", entry.job_id, entry.id, name,
                   entry.parse_warnings.back());
    }
    Move(entry, EntryStatus::kParsing, "results received; parsing");
    // What retention counts (docs/retention.md): the sizes the agent vouched for.
    ActiveJob& owner_job = jobs_.at(entry.job_id);
    for (const protocol::FileDigest& file : report->files) owner_job.job.result_bytes += file.size;
    dirty_jobs_.insert(entry.job_id);
    done = true;
    if (parse_) {
      if (scheduler_->BusyWith(name) == entry.id) scheduler_->FreeHost(name);
      to_parse_.push_back(ParseWorkFor(entry, jobs_.at(entry.job_id)));
    } else {
      FinishParsed(entry, nullptr);
    }
  }
  batch_->ToAgent(name, protocol::Encode(protocol::EntryReportAck{entry.id, report->sequence, done},
                                 e.request_id));
  // After the ack: the agent drops the spool before the Cleanup's RunTask reaches it.
  if (done) tasks_->MaybeCleanup(entry, entry.outcome);
}

void JobService::OnChunk(const HostState& host, const protocol::Envelope& e) {
  auto chunk = protocol::DecodeBody<protocol::ResultChunk>(e);
  if (!chunk.ok())
    return to_agent_(host.routing_id, protocol::ErrorFrame(e.request_id, chunk.status()));
  const std::string& name = host.record.hostname;
  auto it = entries_.find(chunk->entry_id);
  if (it == entries_.end() || !AttemptOnHost(it->second, name)) {
    to_agent_(host.routing_id, protocol::Encode(protocol::AbortEntry{
                                   chunk->entry_id, "the entry is finished", true}));
    return;
  }
  const ActiveJob& job = jobs_.at(it->second.job_id);
  const std::string dir = ResultsRepository::EntryDir(job.job.id, job.job.owner, name);
  uint64_t held = 0;
  // A full disk refuses the chunk (and a write that finds it full tells the guard); the agent
  // sends it again after retry_after_ms.
  Status written = disk_ != nullptr ? disk_->Admit() : Status::Ok();
  if (written.ok()) {
    written = results_->WriteChunk(dir, *chunk, &held);
    if (disk_ != nullptr) disk_->OnWriteFailed(written);
    if (written.ok() && metrics_ != nullptr) metrics_->UploadBytes(chunk->data.size());
  } else {
    held = results_->HeldBytes(dir, chunk->path);
  }
  const bool full = IsDiskFull(written);
  if (!written.ok() && !full) {
    spdlog::warn("job={} entry={} host={} chunk of {} refused: {}", job.job.id, chunk->entry_id,
                 name, chunk->path.substr(0, 200), written.message());
  }
  // Chunk acks need no commit (the file is the state): answer at once.
  protocol::ResultAck ack{chunk->entry_id, chunk->path, held,
                          written.ok() ? "" : written.message()};
  if (full) ack.retry_after_ms = DiskGuard::kChunkRetryMs;
  to_agent_(host.routing_id, protocol::Encode(ack, e.request_id));
}

// ---- host events ----

void JobService::OnAgentRegistered(const std::string& hostname,
                                   const std::vector<protocol::HeldEntry>& held) {
  auto holds = [&](uint64_t id) {
    return std::any_of(held.begin(), held.end(),
                       [&](const protocol::HeldEntry& h) { return h.entry_id == id; });
  };
  if (uint64_t busy = scheduler_->BusyWith(hostname); busy != 0) {
    store::Entry& entry = entries_.at(busy);
    if (entry.status == EntryStatus::kVerifying) {
      // Its host's Verify is sent again (HostTasks).
    } else if (holds(entry.id)) {
      spdlog::info("job={} entry={} host={} re-attached ({})", entry.job_id, entry.id, hostname,
                   protocol::EntryStatusName(entry.status));
      if (entry.abort_requested) {
        batch_->ToAgent(hostname,
                        protocol::Encode(protocol::AbortEntry{entry.id, entry.abort_reason, false}));
      }
    } else if (entry.status == EntryStatus::kPending) {
      // Still held for its group; the agent asks for work again after the Welcome.
    } else if (entry.status == EntryStatus::kStarting && jobs_.at(entry.job_id).job.synch_count <= 1) {
      scheduler_->Requeue(entry, "the agent never got the start; queued again");
      scheduler_->FreeHost(hostname);
    } else if (entry.status == EntryStatus::kStarting) {
      // Its group started without it; it cannot start alone later.
      Finish(entry, EntryStatus::kFailed,
             "the agent on " + hostname + " restarted before its group's start reached it",
             "infrastructure");
    } else {
      LoseEntry(entry, "host lost (the agent on " + hostname + " restarted without the entry)");
    }
  }
  for (const protocol::HeldEntry& h : held) {
    auto it = entries_.find(h.entry_id);
    bool live = it != entries_.end() && AttemptOnHost(it->second, hostname);
    if (!live) {
      batch_->ToAgent(hostname, protocol::Encode(protocol::AbortEntry{
                                    h.entry_id, "the entry is finished", true}));
    }
  }
}

void JobService::OnHostDead(const std::string& hostname) {
  uint64_t busy = scheduler_->BusyWith(hostname);
  if (busy == 0) return;
  store::Entry& entry = entries_.at(busy);
  if (entry.status == EntryStatus::kPending) {
    scheduler_->Unhold(entry, "host " + hostname + " lost (no heartbeat) while held for its group");
  } else if (entry.status == EntryStatus::kVerifying) {
    scheduler_->ClearBusy(hostname, entry.id);
    scheduler_->Requeue(entry, "host " + hostname + " lost (no heartbeat) while verified; queued again");
  } else if (IsStarted(entry.status)) {
    LoseEntry(entry, "host lost (" + hostname + ": no heartbeat)");
  }
}

void JobService::OnHostDeleted(const std::string& hostname) {
  for (auto& [id, entry] : entries_) {
    if (entry.hostname != hostname || protocol::IsFinal(entry.status)) continue;
    if (entry.status == EntryStatus::kQueued) scheduler_->Dequeue(entry);
    Finish(entry, EntryStatus::kFailed, "host " + hostname + " was deleted", "infrastructure");
  }
}

// ---- parsing ----

ParseWork JobService::ParseWorkFor(const store::Entry& entry, const ActiveJob& job) const {
  return ParseWorkOf(entry, job.job.owner, *registry_,
                     entry.started_us != 0 ? entry.started_us : clock_->WallUs());
}

void JobService::OnParsed(const ParseDone& done) {
  // Every parse that reached the index counts, reparses of finished entries too.
  if (metrics_ != nullptr) {
    metrics_->Parsed(done.status.ok() ? done.results : 0,
                     done.warnings.size() + (done.status.ok() ? 0 : 1));
  }
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
  // Warnings of the upload (unlisted files) come first, then the parser's.
  entry.parse_warnings.insert(entry.parse_warnings.end(), done.warnings.begin(),
                              done.warnings.end());
  if (!done.status.ok()) {
    entry.parse_warnings.push_back("results not indexed: " + done.status.message());
  }
  if (!done.crash_line.empty()) {
    entry.crash = true;
    entry.crash_line = done.crash_line;
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
