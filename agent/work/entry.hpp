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
  // Reboots (work_reboot.cpp): `labmesh-test reboot` calls of the control's current run (the
  // first boot_count of them return at once: those reboots happened); the reboot command's run.
  uint32_t reboot_calls = 0;
  std::unique_ptr<Runner> reboot_runner;
  bool reboot_started = false;  // the reboot command was run by this agent process
  // Crash collection (`labmesh-test crashinfo`) after a failed control; KILLed at collect_kill_ms.
  std::unique_ptr<Runner> collector;
  int64_t collect_kill_ms = 0;

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
  // The control runs (or is the one that asked for the reboot under way).
  bool InControl() const { return record.phase == "running" || record.phase == "rebooting"; }
  bool Uploading() const { return InControl() || record.phase == "exited"; }
};

}  // namespace labmesh::agent
