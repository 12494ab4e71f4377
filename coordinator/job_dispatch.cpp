// JobService, agent half: the scheduler, work requests, entry reports, result chunks and the
// re-attachment of entries after an agent or coordinator restart. See job_service.hpp.

#include <spdlog/spdlog.h>

#include <algorithm>

#include "job_service.hpp"
#include "labels.hpp"
#include "lifecycle_rules.hpp"

namespace labmesh::coordinator {

using protocol::EntryStatus;
using protocol::MessageType;

namespace {

bool IsStarted(EntryStatus status) {
  return status != EntryStatus::kQueued && !protocol::IsFinal(status);
}

}  // namespace

bool JobService::IsWorkMessage(MessageType type) {
  return type == MessageType::kWorkRequest || type == MessageType::kEntryReport ||
         type == MessageType::kResultChunk || type == MessageType::kSyncRequest ||
         type == MessageType::kTaskReport;
}

void JobService::HandleAgent(const HostState& host, const protocol::Envelope& e) {
  switch (e.type) {
    case MessageType::kWorkRequest: return OnWorkRequest(host);
    case MessageType::kEntryReport: return OnReport(host, e);
    case MessageType::kResultChunk: return OnChunk(host, e);
    case MessageType::kSyncRequest: return OnSync(host, e);
    case MessageType::kTaskReport: return OnTaskReport(host, e);
    default:
      to_agent_(host.routing_id,
                protocol::ErrorFrame(e.request_id, Status::Unsupported("not a work message")));
  }
}

// ---- scheduling ----

bool JobService::Eligible(const HostState& host, const ActiveJob& job,
                          const store::Entry& entry) const {
  const store::Host& r = host.record;
  if (host.routing_id.empty() || r.locked) return false;
  if (tasks_.count(r.hostname) > 0) return false;  // a special task comes first
  // The status as it will be after this batch commits.
  auto change = host_changes_.find(r.hostname);
  protocol::HostStatus status = change != host_changes_.end() ? change->second.status : r.status;
  if (status != protocol::HostStatus::kReady) return false;
  return Unsuitable(r, job.owner_groups, entry.meta_label, job.job.depends).empty();
}

bool JobService::JobUsesHost(const ActiveJob& job, const std::string& hostname) const {
  for (uint64_t id : job.job.entry_ids) {
    auto it = entries_.find(id);
    if (it != entries_.end() && it->second.hostname == hostname) return true;
  }
  return std::binary_search(job.job.hosts.begin(), job.job.hosts.end(), hostname);
}

void JobService::Schedule() {
  // Pass 0 serves the synchronous groups that already hold some of their hosts, so that they
  // complete before new work takes the hosts they wait for; pass 1 everything in queue order.
  ScheduleUpdates();  // an idle host updates before it is given an entry
  int64_t now = clock_->SteadyMs();
  bool holding_groups = std::any_of(groups_.begin(), groups_.end(), [](const auto& g) {
    return !g.second.started && g.second.pending > 0;
  });
  for (int pass = holding_groups ? 0 : 1; pass < 2 && !idle_.empty(); ++pass) {
    for (auto it = queue_.begin(); it != queue_.end() && !idle_.empty();) {
      store::Entry& entry = entries_.at(it->entry_id);
      ActiveJob& job = jobs_.at(entry.job_id);
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
      if (NeedsVerifyFirst(job, *chosen)) {
        // Verify, then (when it passes) Hold or StartOn: job_lifecycle.cpp.
        entry.hostname = chosen->record.hostname;
        busy_[entry.hostname] = entry.id;
        idle_.erase(entry.hostname);
        VerifyBeforeRun(entry, entry.hostname);
      } else if (synchronous) {
        Hold(entry, job, *chosen);
      } else {
        Assign(entry, job, *chosen);
      }
    }
  }
}

const HostState* JobService::ChooseHost(const store::Entry& entry, const ActiveJob& job) const {
    const HostState* chosen = nullptr;
    if (!entry.hostname.empty()) {
      if (idle_.count(entry.hostname) > 0) {
        const HostState* host = registry_->Find(entry.hostname);
        if (host != nullptr && Eligible(*host, job, entry)) chosen = host;
      }
    } else {
      for (const std::string& name : idle_) {
        const HostState* host = registry_->Find(name);
        if (host != nullptr && Eligible(*host, job, entry) && !JobUsesHost(job, name)) {
          chosen = host;
          break;
        }
      }
    }
    return chosen;
}

void JobService::Assign(store::Entry& entry, ActiveJob& job, const HostState& host) {
  const std::string& name = host.record.hostname;
  entry.hostname = name;
  busy_[name] = entry.id;
  idle_.erase(name);
  StartOn(entry, job, name);
}

void JobService::StartOn(store::Entry& entry, ActiveJob& job, const std::string& name) {
  Move(entry, EntryStatus::kStarting, "sent to " + name);
  StageHostStatus(name, protocol::HostStatus::kRunning,
                  "job " + std::to_string(job.job.id) + " entry " + std::to_string(entry.id));
  sync_.Open(KeyOf(entry), {name});  // a client-side entry is a group of one
  SendStart(entry, job);
}

JobService::Roster JobService::RosterFor(const store::Entry& entry, const ActiveJob& job) const {
  Roster roster;
  roster.hosts = HostsFor(entry, job);
  for (const std::string& name : roster.hosts) {
    const HostState* host = registry_->Find(name);
    if (host != nullptr && !host->record.facts.address.empty()) {
      roster.peers.emplace_hint(roster.peers.end(), name, host->record.facts.address);
    }
  }
  return roster;
}

void JobService::SendStart(const store::Entry& entry, const ActiveJob& job, Roster* roster) {
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
  ToAgent(entry.hostname, std::move(frame));
}

// ---- agent messages ----

void JobService::OnWorkRequest(const HostState& host) {
  const std::string& name = host.record.hostname;
  auto busy = busy_.find(name);
  if (busy != busy_.end()) {
    store::Entry& entry = entries_.at(busy->second);
    if (entry.status == EntryStatus::kStarting && entry.abort_requested) {
      // It never started and nobody wants it any more.
      Finish(entry, EntryStatus::kAborted, entry.abort_reason, "");
    } else if (entry.status == EntryStatus::kStarting) {
      // The agent is idle, so it never got the start: send it again.
      SendStart(entry, jobs_.at(entry.job_id));
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
      LoseEntry(entry, "host lost (the agent on " + name + " no longer has the entry)");
    }
  }
  idle_.insert(name);
  schedule_needed_ = true;
}

void JobService::OnReport(const HostState& host, const protocol::Envelope& e) {
  auto report = protocol::DecodeBody<protocol::EntryReport>(e);
  if (!report.ok())
    return to_agent_(host.routing_id, protocol::ErrorFrame(e.request_id, report.status()));
  const std::string& name = host.record.hostname;
  auto it = entries_.find(report->entry_id);
  if (it == entries_.end() || protocol::IsFinal(it->second.status) ||
      it->second.hostname != name) {
    // Finished (or never ours): the agent may forget it; a running control is killed.
    if (report->phase == "running") {
      ToAgent(name, protocol::Encode(protocol::AbortEntry{report->entry_id,
                                                          "the entry is finished", true}));
    } else {
      ToAgent(name, protocol::Encode(
                        protocol::EntryReportAck{report->entry_id, report->sequence, true},
                        e.request_id));
    }
    return;
  }
  store::Entry& entry = it->second;
  if (report->sequence <= entry.report_sequence) {
    ToAgent(name, protocol::Encode(
                      protocol::EntryReportAck{entry.id, report->sequence, false}, e.request_id));
    return;
  }
  if (report->phase != "running" && report->phase != "exited" && report->phase != "uploaded") {
    return to_agent_(
        host.routing_id,
        protocol::ErrorFrame(
            e.request_id, Status::InvalidArgument("unknown entry phase '" + report->phase + "'")));
  }
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
        ToAgent(name, protocol::Encode(
                          protocol::EntryReportAck{entry.id, report->sequence, true},
                          e.request_id));
      } else {
        ToAgent(name, protocol::Encode(protocol::ResultAck{entry.id, bad_path, held, s.message()}));
      }
      return;
    }
  }

  entry.report_sequence = report->sequence;
  dirty_entries_.insert(entry.id);
  if (report->started_us != 0) entry.started_us = report->started_us;
  // Reports are resent only as the latest one, so a phase may arrive without its predecessors.
  if (entry.status == EntryStatus::kStarting && report->phase == "running") {
    Move(entry, EntryStatus::kRunning, "control started");
  }
  if (report->phase == "exited" || report->phase == "uploaded") {
    entry.exit_code = report->exit_code;
    entry.signal = report->signal;
    if (entry.status == EntryStatus::kStarting && report->started_us != 0) {
      Move(entry, EntryStatus::kRunning, "control started");
    }
    if (entry.status == EntryStatus::kStarting || entry.status == EntryStatus::kRunning) {
      std::string why = report->reason.empty() ? report->outcome : report->reason;
      Move(entry, EntryStatus::kGathering, "control ended (" + why + "); uploading results");
    }
  }
  bool done = false;
  bool cleanup = false;
  if (report->phase == "uploaded") {
    // The agent is done with the entry (its spool may go) and the host is free; the entry's
    // final status waits for its files to be parsed, off the scheduling path.
    entry.outcome = report->outcome;
    entry.outcome_reason = report->reason;
    Move(entry, EntryStatus::kParsing, "results received; parsing");
    done = true;
    if (parse_) {
      auto busy = busy_.find(name);
      if (busy != busy_.end() && busy->second == entry.id) FreeHost(name);
      to_parse_.push_back(ParseWorkFor(entry, jobs_.at(entry.job_id)));
    } else {
      FinishParsed(entry, nullptr);
    }
    cleanup = true;
  }
  ToAgent(name, protocol::Encode(protocol::EntryReportAck{entry.id, report->sequence, done},
                                 e.request_id));
  if (cleanup) MaybeCleanup(entry, report->outcome);  // after the ack: the agent drops the spool
}

void JobService::OnChunk(const HostState& host, const protocol::Envelope& e) {
  auto chunk = protocol::DecodeBody<protocol::ResultChunk>(e);
  if (!chunk.ok())
    return to_agent_(host.routing_id, protocol::ErrorFrame(e.request_id, chunk.status()));
  const std::string& name = host.record.hostname;
  auto it = entries_.find(chunk->entry_id);
  if (it == entries_.end() || protocol::IsFinal(it->second.status) ||
      it->second.hostname != name) {
    to_agent_(host.routing_id, protocol::Encode(protocol::AbortEntry{
                                   chunk->entry_id, "the entry is finished", true}));
    return;
  }
  const ActiveJob& job = jobs_.at(it->second.job_id);
  uint64_t held = 0;
  Status written = results_->WriteChunk(
      ResultsRepository::EntryDir(job.job.id, job.job.owner, name), *chunk, &held);
  if (!written.ok()) {
    spdlog::warn("job={} entry={} host={} chunk of {} refused: {}", job.job.id, chunk->entry_id,
                 name, chunk->path.substr(0, 200), written.message());
  }
  // Chunk acks need no commit (the file is the state): answer at once.
  to_agent_(host.routing_id,
            protocol::Encode(protocol::ResultAck{chunk->entry_id, chunk->path, held,
                                                 written.ok() ? "" : written.message()},
                             e.request_id));
}

// ---- host events ----

void JobService::OnAgentRegistered(const std::string& hostname,
                                   const std::vector<protocol::HeldEntry>& held,
                                   const protocol::TaskReport& update_report) {
  idle_.erase(hostname);  // it asks again after the Welcome
  idle_after_entry_.erase(hostname);
  auto holds = [&](uint64_t id) {
    return std::any_of(held.begin(), held.end(),
                       [&](const protocol::HeldEntry& h) { return h.entry_id == id; });
  };
  auto busy = busy_.find(hostname);
  if (busy != busy_.end()) {
    store::Entry& entry = entries_.at(busy->second);
    if (entry.status == EntryStatus::kVerifying) {
      // Its host's Verify is sent again below.
    } else if (holds(entry.id)) {
      spdlog::info("job={} entry={} host={} re-attached ({})", entry.job_id, entry.id, hostname,
                   protocol::EntryStatusName(entry.status));
      if (entry.abort_requested) {
        ToAgent(hostname, protocol::Encode(protocol::AbortEntry{entry.id, entry.abort_reason, false}));
      }
    } else if (entry.status == EntryStatus::kPending) {
      // Still held for its group; the agent asks for work again after the Welcome.
    } else if (entry.status == EntryStatus::kStarting && jobs_.at(entry.job_id).job.synch_count <= 1) {
      Requeue(entry, "the agent never got the start; queued again");
      FreeHost(hostname);
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
    bool live = it != entries_.end() && !protocol::IsFinal(it->second.status) &&
                it->second.hostname == hostname;
    if (!live) {
      ToAgent(hostname, protocol::Encode(protocol::AbortEntry{h.entry_id, "the entry is finished",
                                                              true}));
    }
  }
  // Special tasks: the one it was running is sent again; a host that was lost is repaired (or
  // verified, per its protection) before it is Ready.
  const HostState* state = registry_->Find(hostname);
  if (state == nullptr) return;
  auto open = tasks_.find(hostname);
  if (open != tasks_.end() && open->second.status == protocol::TaskStatus::kRunning &&
      open->second.kind == protocol::TaskKind::kUpdate) {
    OnUpdaterRegistered(*state, update_report);
  } else if (open != tasks_.end() && open->second.status == protocol::TaskStatus::kRunning) {
    SendTask(open->second);
  } else if (state->record.status == protocol::HostStatus::kDead && open == tasks_.end()) {
    // (A task queued while it was away starts instead, from StartTasks.)
    if (std::optional<protocol::TaskKind> kind = TaskOnReturn(state->record.protection)) {
      QueueTask(hostname, *kind, "the host came back after it was lost", "labmesh");
    } else {
      StageHostStatus(hostname, protocol::HostStatus::kReady, "agent registered again");
    }
  }
  if (state->record.repair_on_return) StageLifecycle(hostname).repair_on_return = false;
  // It runs the version it once failed to install (an Update lost with its host that went
  // through after all): that is no failure any more.
  const std::string& version = state->record.agent_version;
  auto staged = lifecycle_changes_.find(hostname);
  const std::string& failed = staged != lifecycle_changes_.end()
                                  ? staged->second.update_failed_version
                                  : state->record.update_failed_version;
  if (!failed.empty() && failed == version) StageLifecycle(hostname).update_failed_version.clear();
}

void JobService::OnHostDead(const std::string& hostname) {
  idle_.erase(hostname);
  idle_after_entry_.erase(hostname);
  host_changes_.erase(hostname);  // the registry made it Dead; nothing staged may undo that
  // Its task ends (Aborted); when it comes back it is repaired before it is Ready.
  auto open = tasks_.find(hostname);
  if (open != tasks_.end()) {
    store::SpecialTask task = std::move(open->second);
    tasks_.erase(open);
    dirty_tasks_.erase(hostname);
    task.status = protocol::TaskStatus::kAborted;
    task.finished_ms = clock_->WallMs();
    task.reason = "host lost (no heartbeat) during the task";
    if (task.kind == protocol::TaskKind::kUpdate) UpdateEnded(task, /*passed=*/false);
    ended_tasks_.push_back(std::move(task));
  }
  StageLifecycle(hostname).repair_on_return = true;
  auto busy = busy_.find(hostname);
  if (busy == busy_.end()) return;
  store::Entry& entry = entries_.at(busy->second);
  if (entry.status == EntryStatus::kPending) {
    Unhold(entry, "host " + hostname + " lost (no heartbeat) while held for its group");
  } else if (entry.status == EntryStatus::kVerifying) {
    busy_.erase(busy);
    Requeue(entry, "host " + hostname + " lost (no heartbeat) while verified; queued again");
  } else if (IsStarted(entry.status)) {
    LoseEntry(entry, "host lost (" + hostname + ": no heartbeat)");
  }
}

void JobService::OnHostDeleted(const std::string& hostname) {
  tasks_.erase(hostname);  // its records stay in the store; nobody will run it
  update_targets_.erase(hostname);
  dirty_tasks_.erase(hostname);
  lifecycle_changes_.erase(hostname);
  idle_.erase(hostname);
  idle_after_entry_.erase(hostname);
  busy_.erase(hostname);
  for (auto& [id, entry] : entries_) {
    if (entry.hostname != hostname || protocol::IsFinal(entry.status)) continue;
    if (entry.status == EntryStatus::kQueued) {
      queue_.erase({-static_cast<int>(jobs_.at(entry.job_id).job.priority), entry.job_id, id});
    }
    Finish(entry, EntryStatus::kFailed, "host " + hostname + " was deleted", "infrastructure");
  }
}

}  // namespace labmesh::coordinator
