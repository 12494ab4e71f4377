#pragma once
// WorkManager's record of one entry it holds (work_manager.hpp): private to the work manager's
// files (work_manager.cpp: starting, killing, spool slots, servicing; work_upload.cpp: reports
// and result uploads).

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "work/runner.hpp"
#include "work/spool.hpp"
#include "work/work_manager.hpp"

namespace labmesh::agent {

struct WorkManager::Entry {
  SpoolRecord record;
  SpoolPaths paths;
  std::unique_ptr<Runner> runner;
  int64_t max_runtime_at_ms = 0;  // 0 = none
  int64_t kill_at_ms = 0;         // SIGKILL due (TERM was sent); 0 = none
  std::string kill_outcome;       // set when we killed it: "failed" (max runtime) or "aborted"
  std::string kill_reason;
  std::map<std::string, Flight> flights;
  int64_t last_flush_ms = 0;
  int64_t last_ack_ms = 0;
  int64_t report_sent_ms = 0;
  int64_t last_save_ms = 0;
  // No chunk before this: fault point chunk_delay, or a ResultAck's retry_after_ms (the
  // coordinator's disk is full).
  int64_t pump_after_ms = 0;
  bool dirty = false;
  bool disk_full = false;  // a save failed for room while the control ran: it ends as "error"
  uint64_t saves = 0;  // save number of the newest record on disk (SaveRecord)

  uint64_t id() const { return record.start.entry_id; }
  SpoolFile* File(const std::string& path) {
    for (SpoolFile& f : record.files) {
      if (f.path == path) return &f;
    }
    return nullptr;
  }
  uint64_t InFlight() {
    uint64_t total = 0;
    for (const SpoolFile& f : record.files) {
      uint64_t sent = flights[f.path].sent;
      if (sent > f.acked) total += sent - f.acked;
    }
    return total;
  }
  bool Uploading() const { return record.phase == "running" || record.phase == "exited"; }
};

}  // namespace labmesh::agent
