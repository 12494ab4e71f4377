// WorkManager, reports and uploads: an entry's reports (sent, resent, acknowledged), its result
// files streamed in chunks and their acks, and the spool record saved as they progress. See
// work_manager.hpp and docs/jobs.md; the rest of the work manager is work_manager.cpp.

#include <spdlog/spdlog.h>

#include <algorithm>

#include "labmesh/common/disk_space.hpp"
#include "labmesh/common/hash.hpp"
#include "work/entry.hpp"
#include "work/work_manager.hpp"

namespace labmesh::agent {
namespace {
// The longest pause a ResultAck's retry_after_ms can impose.
constexpr uint64_t kMaxRetryAfterMs = 60'000;
}  // namespace

void WorkManager::NewReport(Entry& e) {
  e.record.sequence++;
  e.record.report_acked = false;
  Save(e);
  SendReport(e);
}

void WorkManager::SendReport(Entry& e) {
  const SpoolRecord& r = e.record;
  protocol::EntryReport report;
  report.entry_id = e.id();
  report.sequence = r.sequence;
  report.incarnation = incarnation_;
  report.phase = r.phase;
  report.started_us = r.started_us;
  const bool in_control = e.InControl();
  report.ended_us = in_control ? 0 : r.ended_us;
  report.exit_code = r.exit_code;
  report.signal = r.signal;
  report.outcome = in_control ? "" : r.outcome;
  report.reason = in_control ? "" : r.reason;
  report.boot_count = r.boot_count;
  if (r.phase == "rebooting") report.reboot_timeout_ms = r.reboot_timeout_ms;
  report.unexpected_reboot = r.unexpected_reboot;
  if (r.phase == "uploaded") report.files = r.manifest;
  e.report_sent_ms = clock_->SteadyMs();
  SendFrame(protocol::Encode(report));
}

void WorkManager::Save(Entry& e) {
  Status s = SaveRecord(e.paths.record, e.record, &e.saves);
  if (!s.ok()) spdlog::warn("host={} entry={} {}", hostname_, e.id(), s.ToString());
  // The previous record stays valid (SaveRecord alternates two files); a control still running
  // ends as an infrastructure failure.
  if (IsDiskFull(s) && e.runner) e.disk_full = true;
  e.dirty = false;
  e.last_save_ms = clock_->SteadyMs();
}

void WorkManager::Pump(Entry& e) {
  if (!connected_) return;
  // Fault point (tests only): one chunk per fault_chunk_delay_ms, so that an upload lasts long
  // enough to be interrupted.
  const int64_t delay = config_.fault_chunk_delay_ms;
  // Also a pause the coordinator asked for (its disk is full: ResultAck.retry_after_ms).
  if (clock_->SteadyMs() < e.pump_after_ms) return;
  uint64_t in_flight = e.InFlight();
  const bool running = e.InControl();
  for (SpoolFile& f : e.record.files) {
    if (f.done) continue;
    if (e.record.files_listed && f.size > 0 && f.acked >= f.size) {
      f.done = true;  // e.g. a file that shrank to what was already acknowledged
      continue;
    }
    Flight& flight = e.flights[f.path];
    flight.sent = std::max(flight.sent, f.acked);
    // An empty file still needs one (empty) chunk, so the coordinator creates it.
    bool empty_due = !running && f.size == 0 && flight.chunks_out == 0 && flight.stale == 0;
    while ((flight.sent < f.size || empty_due) && in_flight < config_.upload_window_bytes) {
      size_t want = static_cast<size_t>(
          std::min<uint64_t>({f.size - flight.sent, config_.upload_chunk_bytes,
                              config_.upload_window_bytes - in_flight}));
      auto data = ReadChunk(e.paths.results + "/" + f.path, flight.sent, want);
      if (!data.ok() || (data->empty() && !empty_due)) {
        // The file shrank or vanished: upload what exists (the coordinator's ack decides).
        spdlog::warn("host={} entry={} {} changed during the upload", hostname_, e.id(), f.path);
        f.size = flight.sent;
        break;
      }
      protocol::ResultChunk chunk;
      chunk.entry_id = e.id();
      chunk.path = f.path;
      chunk.offset = flight.sent;
      chunk.hash = Blake2bHex(std::string_view(data->data(), data->size()));
      chunk.data = std::move(*data);
      if (!SendFrame(protocol::Encode(chunk))) return;
      if (flight.chunks_out == 0) e.last_ack_ms = clock_->SteadyMs();
      flight.sent += chunk.data.size();
      in_flight += chunk.data.size();
      flight.chunks_out++;
      empty_due = false;
      if (delay > 0) {
        e.pump_after_ms = clock_->SteadyMs() + delay;
        return;
      }
    }
  }
}

void WorkManager::OnResultAck(const protocol::ResultAck& ack) {
  auto it = entries_.find(ack.entry_id);
  if (it == entries_.end()) return;
  Entry& e = *it->second;
  SpoolFile* f = e.File(ack.path);
  if (!f) return;
  Flight& flight = e.flights[f->path];
  e.last_ack_ms = clock_->SteadyMs();
  if (flight.stale > 0) {
    // Answer to a chunk sent before a refusal: its refusal is already handled.
    flight.stale--;
    if (ack.error.empty()) f->acked = std::max(f->acked, ack.next_offset);
  } else {
    if (flight.chunks_out > 0) flight.chunks_out--;
    if (!ack.error.empty()) {
      spdlog::warn("host={} entry={} chunk of {} refused ({}); resending from {}", hostname_,
                   e.id(), f->path, ack.error, ack.next_offset);
      flight.stale = flight.chunks_out;  // ResultAck does not say which chunk it answers
      flight.chunks_out = 0;
      flight.sent = ack.next_offset;
      if (ack.retry_after_ms > 0) {
        e.pump_after_ms = clock_->SteadyMs() + static_cast<int64_t>(std::min<uint64_t>(
                                                   ack.retry_after_ms, kMaxRetryAfterMs));
      }
    }
    f->acked = ack.next_offset;
  }
  if (flight.sent < f->acked) flight.sent = f->acked;
  if (e.record.phase == "uploaded" && !ack.error.empty()) {
    // The coordinator refused the "uploaded" report: this file is not what it holds
    // (PROTOCOL.md, EntryReport). Back to uploading it from next_offset; once it is acked, a
    // new "uploaded" report (the next sequence) follows. The refused one is not resent.
    spdlog::warn("host={} entry={} uploaded report refused ({}): sending {} again from {}",
                 hostname_, e.id(), ack.error, f->path, ack.next_offset);
    f->done = false;  // even an empty file: its (empty) chunk is sent again
    e.record.phase = "exited";
    e.record.report_acked = true;
  } else if (ack.error.empty() && e.record.files_listed && f->acked >= f->size) {
    // Only a chunk written finishes a file: a refused one (a full disk, say) says nothing about
    // an empty file, which would otherwise count as uploaded without ever being created.
    f->done = true;
  }
  e.dirty = true;
  if (e.record.phase == "exited") {
    Pump(e);
    CheckUploaded(e);
  } else if (e.InControl() && flight.sent < f->size) {
    Pump(e);  // the window had filled up while streaming
  }
}

void WorkManager::CheckUploaded(Entry& e) {
  if (e.record.phase != "exited" || !e.record.files_listed) return;
  for (const SpoolFile& f : e.record.files) {
    if (!f.done) return;
  }
  e.record.manifest.clear();
  for (const SpoolFile& f : e.record.files) {
    auto hash = HashFile(e.paths.results + "/" + f.path);
    e.record.manifest.push_back({f.path, f.size, hash.ok() ? hash->hex : std::string()});
  }
  e.record.phase = "uploaded";
  spdlog::info("host={} entry={} uploaded {} files", hostname_, e.id(), e.record.files.size());
  NewReport(e);
}

void WorkManager::OnReportAck(const protocol::EntryReportAck& ack) {
  auto it = entries_.find(ack.entry_id);
  if (it == entries_.end()) return;
  Entry& e = *it->second;
  if (ack.done) {
    spdlog::info("host={} entry={} done; spool removed", hostname_, e.id());
    const uint64_t id = e.id();
    Forget(id);
    if (entry_done_) entry_done_(id);
    MaybeRequestWork();
    return;
  }
  if (ack.sequence == e.record.sequence && !e.record.report_acked) {
    e.record.report_acked = true;
    e.dirty = true;
  }
}

}  // namespace labmesh::agent
