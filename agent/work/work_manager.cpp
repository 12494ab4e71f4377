// WorkManager: entries on the agent; see work_manager.hpp and docs/jobs.md.

#include "work/work_manager.hpp"

#include <signal.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "labmesh/common/hash.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>

#include "labmesh/common/disk_space.hpp"
#include "labmesh/common/duration.hpp"
#include "work/control.hpp"
#include "work/entry.hpp"
#include "work/status_log.hpp"

extern char** environ;

namespace labmesh::agent {
namespace fs = std::filesystem;

namespace {

constexpr const char* kControlLog = "debug/control.log";
constexpr uint64_t kStreamFlushBytes = 64 * 1024;  // stream at once past this much new output
constexpr int64_t kReportResendMs = 5'000;        // an unacknowledged report is repeated
constexpr int64_t kUploadStallMs = 10'000;         // no ack for this long: resend from acked
constexpr int64_t kSaveEveryMs = 100;              // ack progress is persisted this often
// Less room than this on the work directory's file system and an entry fails at its start as
// infrastructure: its spool and results could not be kept.
constexpr uint64_t kEntryMinFreeBytes = uint64_t{4} << 20;


std::string AgentBinaryDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

}  // namespace


WorkManager::WorkManager(const AgentConfig& config, const Clock* clock, std::string hostname,
                         uint64_t incarnation, SendFn send)
    : config_(config),
      clock_(clock),
      hostname_(std::move(hostname)),
      incarnation_(incarnation),
      send_(std::move(send)) {
  if (sodium_init() < 0) spdlog::error("host={} libsodium failed to initialise", hostname_);
  std::error_code ec;
  work_dir_ = fs::absolute(config_.work_dir, ec).lexically_normal().string();
  if (!work_dir_.empty() && work_dir_.back() == '/') work_dir_.pop_back();
  spool_dir_ = work_dir_ + "/spool";
  helper_dir_ = config_.helper_dir.empty() ? AgentBinaryDir() : config_.helper_dir;
}

WorkManager::~WorkManager() = default;

Status WorkManager::Load() {
  std::error_code ec;
  fs::create_directories(spool_dir_, ec);
  if (ec) return Status::Internal("cannot create " + spool_dir_ + ": " + ec.message());
  std::vector<std::string> broken;
  std::vector<LoadedRecord> records = LoadSpool(spool_dir_, &broken);
  for (const std::string& dir : broken) {
    spdlog::warn("host={} removing unreadable spool {}", hostname_, dir);
    fs::remove_all(dir, ec);
  }
  LoadFreeSlots();
  const std::string boot_id = ReadBootId();
  for (LoadedRecord& loaded : records) {
    auto entry = std::make_unique<Entry>();
    entry->paths = PathsFor(spool_dir_, loaded.record.start.entry_id);
    entry->record = std::move(loaded.record);
    entry->saves = loaded.saves;
    Entry& e = *entry;
    entries_[e.id()] = std::move(entry);
    spdlog::info("host={} entry={} reloaded from the spool in phase {}", hostname_, e.id(),
                 e.record.phase);
    // A different boot id: the machine booted since the control last started (docs/
    // kernel-lab.md). Unknown on either side counts as the same boot.
    const bool booted = !boot_id.empty() && !e.record.boot_id.empty() && boot_id != e.record.boot_id;
    if (e.InControl() && !booted && e.record.pgid > 0 && kill(-e.record.pgid, 0) == 0) {
      // Our control may still run, orphaned. The pgid is the session leader's pid, which the
      // kernel does not reuse while any member of the group is alive (in this boot only).
      spdlog::warn("host={} entry={} killing process group {} left from before the restart",
                   hostname_, e.id(), e.record.pgid);
      kill(-e.record.pgid, SIGKILL);
    }
    if (e.record.phase == "rebooting" && booted) {
      ResumeAfterBoot(e, boot_id);
    } else if (e.record.phase == "rebooting") {
      // Restarted in the same boot: the reboot did not happen; it is run again once the
      // coordinator has the report (ServiceReboot), the control then runs after the boot.
      spdlog::warn("host={} entry={} restarted before the reboot it asked for; rebooting again",
                   hostname_, e.id());
      e.record.report_acked = false;
    } else if (e.record.phase == "running") {
      e.record.outcome = "error";
      e.record.exit_code = -1;
      e.record.signal = 0;
      if (booted) {
        e.record.reason = "host rebooted unexpectedly (boot id changed)";
        e.record.unexpected_reboot = true;
        spdlog::warn("host={} entry={} {}", hostname_, e.id(), e.record.reason);
        CollectThenFinish(e, /*previous_boot=*/true);
      } else {
        e.record.reason = "agent restarted while the control ran";
        Finish(e);
      }
    } else if (e.record.phase == "exited" && !e.record.files_listed) {
      Finish(e);  // died between the phase change and the file list: list again
    }
  }
  return Status::Ok();
}

std::vector<protocol::HeldEntry> WorkManager::HeldEntries() const {
  std::vector<protocol::HeldEntry> held;
  for (const auto& [id, entry] : entries_) held.push_back({id, entry->record.phase});
  return held;
}

bool WorkManager::ControlRunning(uint64_t entry_id) const {
  auto it = entries_.find(entry_id);
  if (it == entries_.end()) return false;
  const Entry& e = *it->second;
  return e.runner && !e.runner->exited() && e.kill_outcome.empty();
}

bool WorkManager::ControlAlive(uint64_t entry_id) const {
  auto it = entries_.find(entry_id);
  return it != entries_.end() && it->second->runner && !it->second->runner->finished();
}

bool WorkManager::Idle() const {
  return std::none_of(entries_.begin(), entries_.end(),
                      [](const auto& kv) { return kv.second->Uploading(); });
}

void WorkManager::OnWelcome() {
  connected_ = true;
  work_requested_ = false;
  send_retry_ms_ = 0;
  for (auto& [id, entry] : entries_) {
    // Chunks in flight on the old connection may be lost: start again from what was acked.
    for (auto& [path, flight] : entry->flights) flight = Flight{};
    entry->last_ack_ms = clock_->SteadyMs();
    if (!entry->record.report_acked) SendReport(*entry);
    if (entry->record.phase == "exited") {
      Pump(*entry);
      CheckUploaded(*entry);
    }
  }
  MaybeRequestWork();
}

void WorkManager::OnDisconnected() { connected_ = false; }

void WorkManager::FillHello(protocol::AgentHello* hello) const { hello->entries = HeldEntries(); }

bool WorkManager::SendFrame(const std::string& frame) {
  if (!connected_) return false;
  if (send_(frame)) return true;
  send_retry_ms_ = clock_->SteadyMs() + kSendRetryMs;
  return false;
}

void WorkManager::MaybeRequestWork() {
  if (!connected_ || work_requested_ || !Idle()) return;
  protocol::WorkRequest request;
  request.incarnation = incarnation_;
  work_requested_ = SendFrame(protocol::Encode(request));
  if (work_requested_) spdlog::debug("host={} asked for work", hostname_);
}

bool WorkManager::Handle(const protocol::Envelope& envelope) {
  using T = protocol::MessageType;
  switch (envelope.type) {
    case T::kStartEntry: {
      auto start = protocol::DecodeBody<protocol::StartEntry>(envelope);
      if (start.ok()) Start(*start);
      return true;
    }
    case T::kEntryReportAck: {
      auto ack = protocol::DecodeBody<protocol::EntryReportAck>(envelope);
      if (ack.ok()) OnReportAck(*ack);
      return true;
    }
    case T::kResultAck: {
      auto ack = protocol::DecodeBody<protocol::ResultAck>(envelope);
      if (ack.ok()) OnResultAck(*ack);
      return true;
    }
    case T::kAbortEntry: {
      auto abort = protocol::DecodeBody<protocol::AbortEntry>(envelope);
      if (abort.ok()) Abort(*abort);
      return true;
    }
    default:
      return false;
  }
}

void WorkManager::Start(const protocol::StartEntry& start) {
  work_requested_ = false;  // answered
  if (entries_.count(start.entry_id)) {
    spdlog::debug("host={} entry={} already held; StartEntry ignored", hostname_,
                  start.entry_id);
    return;
  }
  auto owned = std::make_unique<Entry>();
  Entry& e = *owned;
  entries_[start.entry_id] = std::move(owned);
  e.record.start = start;
  e.record.phase = "running";
  e.paths = PathsFor(spool_dir_, start.entry_id);
  e.record.files.push_back({kControlLog, 0, 0, false});
  int64_t now = clock_->SteadyMs();
  e.record.started_us = clock_->WallUs();
  e.last_ack_ms = now;

  std::error_code ec;
  std::string failure;
  if (auto room = AvailableBytes(work_dir_); room.ok() && *room < kEntryMinFreeBytes) {
    failure = "disk full: " + std::to_string(*room >> 10) + " KiB free on the file system of " +
              work_dir_ + " (an entry needs " + std::to_string(kEntryMinFreeBytes >> 20) +
              " MiB for its spool and results)";
  }
  if (failure.empty()) {
    TakeFreeSlot(e.paths.dir);
    fs::create_directories(e.paths.results + "/debug", ec);
    if (ec) failure = "spool unusable: " + ec.message();
  }
  if (failure.empty()) {
    // On disk before the control runs: a control that reboots the machine or kills the agent
    // at once (before the "running" save below) is still held after the restart, and ends as
    // an unexpected reboot or an agent restart instead of looking never started (which the
    // coordinator would send again without counting a retry). The process group is saved
    // right after the spawn.
    e.record.boot_id = ReadBootId();
    Save(e);
    failure = SpawnControl(e);
  }
  if (!failure.empty()) {
    spdlog::warn("host={} entry={} cannot run the control: {}", hostname_, e.id(), failure);
    e.record.outcome = "error";
    e.record.reason = failure;
    if (!fs::exists(e.paths.dir, ec)) {  // nothing to upload, but the report must go out
      e.record.phase = "exited";
      e.record.files_listed = true;
      e.record.files.clear();
      NewReport(e);
      CheckUploaded(e);
      return;
    }
    Finish(e);
    return;
  }
  spdlog::info("host={} entry={} job={} started (pgid={})", hostname_, e.id(), start.job_id,
               e.record.pgid);
  NewReport(e);  // "running"
}

std::string WorkManager::SpawnControl(Entry& e) {
  e.record.boot_id = ReadBootId();
  e.reboot_calls = 0;
  ControlContext context{hostname_, work_dir_, helper_dir_, e.record.boot_count};
  auto spec = ControlSpawnSpec(e.record.start, e.paths, context, environ);
  if (!spec.ok()) return spec.status().message();
  auto runner = Runner::Start(*spec);
  if (!runner.ok()) return "spawn failed: " + runner.status().message();
  e.runner = std::move(*runner);
  e.record.pgid = e.runner->pgid();
  // The max runtime counts from each start: a control run again after a reboot gets it anew.
  if (e.record.start.max_runtime_ms > 0) {
    e.max_runtime_at_ms = clock_->SteadyMs() + e.record.start.max_runtime_ms;
  }
  return {};
}

void WorkManager::Kill(Entry& entry, const std::string& outcome, const std::string& reason) {
  if (!entry.runner || entry.runner->exited() || !entry.kill_outcome.empty()) return;
  spdlog::info("host={} entry={} stopping the control: {}", hostname_, entry.id(), reason);
  entry.kill_outcome = outcome;
  entry.kill_reason = reason;
  entry.runner->Signal(SIGTERM);
  entry.kill_at_ms = clock_->SteadyMs() + config_.kill_grace_ms;
  if (control_ended_) control_ended_(entry.id(), reason);
}

void WorkManager::Abort(const protocol::AbortEntry& abort) {
  auto it = entries_.find(abort.entry_id);
  if (it == entries_.end()) {
    spdlog::info("host={} entry={} abort for an entry not held; ignored", hostname_,
                 abort.entry_id);
    return;
  }
  Entry& e = *it->second;
  if (abort.discard) {
    spdlog::info("host={} entry={} discarded: {}", hostname_, e.id(), abort.reason);
    Forget(e.id());  // the Runner's destructor kills and reaps a control still running
    MaybeRequestWork();
    return;
  }
  if (e.InControl()) Kill(e, "aborted", abort.reason);
}

void WorkManager::Forget(uint64_t entry_id) {
  auto it = entries_.find(entry_id);
  if (it == entries_.end()) return;
  std::string dir = it->second->paths.dir;
  // A control that was still running was killed by its Runner's destructor, but something it
  // started in a session of its own could still write below results/: such a spool is not
  // given to the next entry.
  const bool reusable = !it->second->runner;
  if (!reusable && control_ended_) control_ended_(entry_id, "the entry was discarded");
  entries_.erase(it);
  if (reusable && RecycleSlot(dir)) return;
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) spdlog::warn("host={} entry={} cannot remove {}: {}", hostname_, entry_id, dir,
                       ec.message());
}

void WorkManager::Conclude(Entry& e) {
  SpoolRecord& r = e.record;
  if (e.runner) {
    if (!e.kill_outcome.empty()) {
      r.outcome = e.kill_outcome;
      r.reason = e.kill_reason;
    } else if (e.runner->term_signal() != 0) {
      r.outcome = "failed";
      r.reason = "killed by signal " + std::to_string(e.runner->term_signal());
    } else if (e.runner->exit_code() == 0) {
      r.outcome = "passed";
      r.reason.clear();
    } else {
      r.outcome = "failed";
      r.reason = "exit status " + std::to_string(e.runner->exit_code());
    }
    auto room = AvailableBytes(work_dir_);
    if (room.ok() && *room < kEntryMinFreeBytes) e.disk_full = true;
    if (r.outcome != "aborted" && e.disk_full) {
      // Its output or spool may be cut short: not the test's fault.
      r.outcome = "error";
      r.reason = "disk full: the work directory's file system filled up while the control ran";
    }
    r.exit_code = e.runner->exit_code();
    r.signal = e.runner->term_signal();
    e.runner.reset();
    if (control_ended_) control_ended_(e.id(), r.reason);
  }
}

void WorkManager::Finish(Entry& e) {
  Conclude(e);
  e.reboot_runner.reset();
  SpoolRecord& r = e.record;
  r.ended_us = clock_->WallUs();
  e.kill_at_ms = 0;
  e.max_runtime_at_ms = 0;
  std::error_code ec;
  std::string status_log = e.paths.results + "/status.log";
  // A recycled spool starts with an empty status.log: empty counts as missing. A symlink or
  // anything else the control put there is left alone, as before.
  fs::file_status status_st = fs::symlink_status(status_log, ec);
  bool status_missing =
      !fs::exists(status_st) ||
      (fs::is_regular_file(status_st) && fs::file_size(status_log, ec) == 0 && !ec);
  if (fs::is_directory(e.paths.results, ec) && status_missing) {
    std::string name = r.start.job_name.empty() ? "job-" + std::to_string(r.start.job_id)
                                                : r.start.job_name;
    Status s = WriteDefaultStatusLog(status_log, name, r.started_us / 1'000'000,
                                     r.ended_us / 1'000'000, r.outcome == "passed", r.reason);
    if (!s.ok()) spdlog::warn("host={} entry={} {}", hostname_, e.id(), s.ToString());
  }
  auto listed = ListResultFiles(e.paths.results);
  if (!listed.ok()) {
    spdlog::warn("host={} entry={} {}", hostname_, e.id(), listed.status().ToString());
    listed = std::vector<SpoolFile>{};
  }
  for (SpoolFile& f : *listed) {  // keep what was streamed already
    if (const SpoolFile* old = e.File(f.path)) f.acked = std::min(old->acked, f.size);
    // Streamed in full already: no chunk (and so no ack) will come for it. An empty file
    // still needs its one empty chunk.
    f.done = f.size > 0 && f.acked >= f.size;
  }
  r.files = std::move(*listed);
  r.files_listed = true;
  r.phase = "exited";
  spdlog::info("host={} entry={} exited: {}{}{} ({} files to upload)", hostname_, e.id(),
               r.outcome, r.reason.empty() ? "" : ", ", r.reason, r.files.size());
  NewReport(e);
  Pump(e);
  CheckUploaded(e);
}

void WorkManager::AppendPollItems(std::vector<zmq_pollitem_t>* items) const {
  std::vector<int> fds;
  for (const auto& [id, entry] : entries_) {
    if (entry->runner) entry->runner->PollFds(&fds);
    if (entry->reboot_runner) entry->reboot_runner->PollFds(&fds);
    if (entry->collector) entry->collector->PollFds(&fds);
  }
  for (int fd : fds) AppendPollFd(fd, items);
}

void WorkManager::Service() {
  int64_t now = clock_->SteadyMs();
  if (send_retry_ms_ != 0 && now >= send_retry_ms_) {
    send_retry_ms_ = 0;
    MaybeRequestWork();
    for (auto& [id, entry] : entries_) {
      if (entry->record.phase == "exited") {
        Pump(*entry);
        CheckUploaded(*entry);
      }
    }
  }
  std::vector<uint64_t> ids;
  for (const auto& [id, entry] : entries_) ids.push_back(id);
  for (uint64_t id : ids) {
    auto it = entries_.find(id);
    if (it != entries_.end()) ServiceEntry(*it->second, now);
  }
}

void WorkManager::ServiceEntry(Entry& e, int64_t now) {
  if (e.runner) {
    e.runner->Service(now);
    if (e.max_runtime_at_ms != 0 && now >= e.max_runtime_at_ms) {
      e.max_runtime_at_ms = 0;
      Kill(e, "failed",
           "max runtime " + FormatDurationMs(e.record.start.max_runtime_ms) + " exceeded");
    }
    if (e.kill_at_ms != 0 && now >= e.kill_at_ms) {
      e.kill_at_ms = 0;
      e.runner->Signal(SIGKILL);
    }
    if (e.runner->finished()) {
      if (SpoolFile* log = e.File(kControlLog)) log->size = e.runner->log_size();
      Conclude(e);
      // A failed control leaves crashinfo/ (docs/kernel-lab.md); Finish follows the collection.
      if (e.record.outcome == "failed" || e.record.outcome == "error") {
        CollectThenFinish(e, /*previous_boot=*/false);
      } else {
        Finish(e);
      }
    } else if (SpoolFile* log = e.File(kControlLog)) {
      log->size = e.runner->log_size();
      uint64_t unsent = log->size - std::max(e.flights[log->path].sent, log->acked);
      if (unsent > 0 && (unsent >= kStreamFlushBytes || now - e.last_flush_ms >= config_.log_flush_ms)) {
        e.last_flush_ms = now;
        Pump(e);
      }
    }
  }
  if (e.collector) ServiceCollector(e, now);
  if (e.record.phase == "rebooting" || e.reboot_runner) ServiceReboot(e, now);
  if (connected_ && !e.record.report_acked && now - e.report_sent_ms >= kReportResendMs) {
    SendReport(e);
  }
  if (connected_ && e.record.phase != "uploaded" && e.InFlight() > 0 &&
      now - e.last_ack_ms >= kUploadStallMs) {
    spdlog::warn("host={} entry={} no ResultAck for {} ms; resending from the acked offsets",
                 hostname_, e.id(), now - e.last_ack_ms);
    for (auto& [path, flight] : e.flights) flight = Flight{};
    e.last_ack_ms = now;
    Pump(e);
  }
  if (e.pump_after_ms != 0 && now >= e.pump_after_ms) {
    e.pump_after_ms = 0;  // also while running, or the passed deadline would spin the loop
    if (e.record.phase == "exited") Pump(e);
  }
  if (e.dirty && now - e.last_save_ms >= kSaveEveryMs) Save(e);
}

int64_t WorkManager::NextDeadlineMs() const {
  int64_t now = clock_->SteadyMs();
  int64_t next = send_retry_ms_ != 0 ? send_retry_ms_ : INT64_MAX;
  for (const auto& [id, ptr] : entries_) {
    const Entry& e = *ptr;
    if (e.runner) {
      next = std::min(next, e.runner->NextDeadlineMs(now));
      if (e.max_runtime_at_ms != 0) next = std::min(next, e.max_runtime_at_ms);
      if (e.kill_at_ms != 0) next = std::min(next, e.kill_at_ms);
      for (const SpoolFile& f : e.record.files) {
        if (f.path != kControlLog) continue;
        auto fl = e.flights.find(f.path);
        uint64_t sent = std::max(fl == e.flights.end() ? 0 : fl->second.sent, f.acked);
        if (e.runner->log_size() > sent) {
          next = std::min(next, e.last_flush_ms + config_.log_flush_ms);
        }
      }
    }
    if (e.reboot_runner) next = std::min(next, e.reboot_runner->NextDeadlineMs(now));
    if (e.collector) {
      next = std::min(next, e.collector->NextDeadlineMs(now));
      if (e.collect_kill_ms != 0) next = std::min(next, e.collect_kill_ms);
    }
    if (connected_ && !e.record.report_acked) next = std::min(next, e.report_sent_ms + kReportResendMs);
    if (e.dirty) next = std::min(next, e.last_save_ms + kSaveEveryMs);
    if (e.pump_after_ms != 0) next = std::min(next, e.pump_after_ms);
    if (connected_ && e.record.phase != "uploaded") {
      bool out = std::any_of(e.flights.begin(), e.flights.end(),
                             [](const auto& kv) { return kv.second.chunks_out > 0; });
      if (out) next = std::min(next, e.last_ack_ms + kUploadStallMs);
    }
  }
  return next;
}

}  // namespace labmesh::agent
