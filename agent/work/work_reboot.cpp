// WorkManager, reboots and crashes (docs/kernel-lab.md): `labmesh-test reboot` asked through
// the sync relay, the reboot command, the control run again after the boot, and crash
// collection (`labmesh-test crashinfo`) after a control failed or the machine rebooted under it.
// See work_manager.hpp.

#include <signal.h>
#include <sys/utsname.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <fstream>

#include "labmesh/common/duration.hpp"
#include "work/entry.hpp"
#include "work/status_log.hpp"
#include "work/work_manager.hpp"

extern char** environ;

namespace labmesh::agent {

namespace {

// A control that asks for a reboot without --timeout: the coordinator waits this long; it takes
// at most kMaxRebootTimeoutMs (PROTOCOL.md, EntryReport).
constexpr int64_t kDefaultRebootTimeoutMs = 10 * 60'000;
constexpr int64_t kMaxRebootTimeoutMs = int64_t{7} * 24 * 3600 * 1000;
// Crash collection is bounded by labmesh-test's own caps; past this it is killed.
constexpr int64_t kCollectLimitMs = 60'000;

std::vector<std::string> Environment() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  return env;
}

std::string KernelRelease() {
  utsname names{};
  return uname(&names) == 0 ? std::string(names.release) : std::string("unknown");
}

}  // namespace

std::string WorkManager::ReadBootId() const {
  std::ifstream in(config_.boot_id_file);
  std::string id;
  std::getline(in, id);
  while (!id.empty() && (id.back() == ' ' || id.back() == '\n' || id.back() == '\r')) id.pop_back();
  return id;
}

Result<std::string> WorkManager::RequestReboot(uint64_t entry_id, int64_t timeout_ms) {
  auto it = entries_.find(entry_id);
  if (it == entries_.end() || !ControlRunning(entry_id)) {
    return Status::FailedPrecondition("entry " + std::to_string(entry_id) +
                                      " has no control running here");
  }
  Entry& e = *it->second;
  ++e.reboot_calls;
  if (e.reboot_calls <= e.record.boot_count) {
    spdlog::info("host={} entry={} reboot {} happened already (boot {})", hostname_, e.id(),
                 e.reboot_calls, e.record.boot_count);
    return std::string("done");
  }
  if (e.record.phase == "rebooting") return std::string("rebooting");  // a second caller
  if (e.record.boot_id.empty()) {
    // Without a boot id the boot could never be told from an agent restart.
    return Status::FailedPrecondition("cannot reboot: the boot id (" + config_.boot_id_file +
                                      ") is unreadable");
  }
  e.record.phase = "rebooting";
  e.record.reboot_timeout_ms =
      timeout_ms > 0 ? std::min(timeout_ms, kMaxRebootTimeoutMs) : kDefaultRebootTimeoutMs;
  e.reboot_started = false;
  // Autotest's reboot group: START now, its END once the machine is back (ResumeAfterBoot).
  if (Status s = AppendToFile(e.paths.results + "/status.log",
                              StatusStartLine("reboot", std::time(nullptr)));
      !s.ok()) {
    spdlog::warn("host={} entry={} {}", hostname_, e.id(), s.ToString());
  }
  spdlog::info("host={} entry={} the control asks for reboot {} (timeout {})", hostname_, e.id(),
               e.record.boot_count + 1, FormatDurationMs(e.record.reboot_timeout_ms));
  NewReport(e);  // "rebooting": the reboot command runs once the coordinator acknowledged it
  return std::string("rebooting");
}

void WorkManager::ServiceReboot(Entry& e, int64_t now) {
  // The reboot did not happen: the control (still running, or ended) fails with the reason.
  auto fail = [&](const std::string& why) {
    if (e.runner) {
      Kill(e, "error", why);
    } else {
      e.record.outcome = "error";
      e.record.reason = why;
      Finish(e);
    }
  };
  if (e.reboot_runner) {
    e.reboot_runner->Service(now);
    if (!e.reboot_runner->finished()) return;
    int code = e.reboot_runner->exit_code();
    int sig = e.reboot_runner->term_signal();
    e.reboot_runner.reset();
    if (code == 0) return;  // the machine goes down; the coordinator's deadline covers a hang
    std::string why = "reboot command failed: " + (sig != 0 ? "killed by signal " + std::to_string(sig)
                                                            : "exit status " + std::to_string(code));
    spdlog::warn("host={} entry={} {}", hostname_, e.id(), why);
    fail(why);
    return;
  }
  // Only once the coordinator knows: a host that went silent without saying so would be lost.
  if (e.record.phase != "rebooting" || e.reboot_started || !e.record.report_acked) return;
  e.reboot_started = true;
  SpawnSpec spec;
  spec.argv = {"/bin/sh", "-c", config_.reboot_command};
  spec.env = Environment();
  spec.cwd = work_dir_;
  spec.log_path = e.paths.results + "/debug/reboot.log";
  spdlog::info("host={} entry={} rebooting: {}", hostname_, e.id(), config_.reboot_command);
  auto runner = Runner::Start(spec);
  if (runner.ok()) {
    e.reboot_runner = std::move(*runner);
    return;
  }
  fail("reboot command could not start: " + runner.status().message());
}

void WorkManager::ResumeAfterBoot(Entry& e, const std::string& boot_id) {
  SpoolRecord& r = e.record;
  r.boot_count++;
  r.boot_id = boot_id;
  r.phase = "running";
  std::time_t now = std::time(nullptr);
  std::string kernel = KernelRelease();
  // The reboot group's end (Autotest's reboot.verify names the kernel that came up).
  std::string lines = "\tGOOD\t----\treboot.verify\ttimestamp=" + std::to_string(now) +
                      "\tkernel=" + kernel + "\tboot " + std::to_string(r.boot_count) + ": " +
                      kernel + "\n" + StatusEndLine(true, "reboot", now);
  if (Status s = AppendToFile(e.paths.results + "/status.log", lines); !s.ok()) {
    spdlog::warn("host={} entry={} {}", hostname_, e.id(), s.ToString());
  }
  // And in the entry's own keyval (Autotest's job keyval; the parsers leave the top one alone).
  if (Status s = AppendToFile(e.paths.results + "/keyval", "boot" + std::to_string(r.boot_count) +
                                                               ".kernel=" + kernel + "\n");
      !s.ok()) {
    spdlog::warn("host={} entry={} {}", hostname_, e.id(), s.ToString());
  }
  spdlog::info("host={} entry={} booted (boot {}, kernel {}): the control runs again", hostname_,
               e.id(), r.boot_count, kernel);
  std::string failure = SpawnControl(e);
  if (!failure.empty()) {
    spdlog::warn("host={} entry={} cannot run the control again: {}", hostname_, e.id(), failure);
    r.outcome = "error";
    r.reason = failure;
    Finish(e);
    return;
  }
  NewReport(e);  // "running" with the new boot count: the coordinator's Rebooting -> Running
}

void WorkManager::CollectThenFinish(Entry& e, bool previous_boot) {
  if (e.record.crash_collected) return Finish(e);
  e.record.crash_collected = true;
  Save(e);  // an agent restarted during the collection does not start it again
  SpawnSpec spec;
  spec.argv = {helper_dir_ + "/labmesh-test",
               "crashinfo",
               "--results",
               e.paths.results,
               "--since-us",
               std::to_string(e.record.started_us),
               "--pstore-dir",
               config_.pstore_dir,
               "--crash-dir",
               config_.crash_dir};
  if (previous_boot) spec.argv.push_back("--previous-boot");
  spec.env = Environment();
  spec.cwd = e.paths.results;
  spec.log_path = e.paths.results + "/debug/crashinfo.log";
  auto runner = Runner::Start(spec);
  if (!runner.ok()) {
    spdlog::warn("host={} entry={} no crash collection: {}", hostname_, e.id(),
                 runner.status().ToString());
    return Finish(e);
  }
  e.collector = std::move(*runner);
  e.collect_kill_ms = clock_->SteadyMs() + kCollectLimitMs;
}

void WorkManager::ServiceCollector(Entry& e, int64_t now) {
  if (!e.collector) return;
  e.collector->Service(now);
  if (e.collect_kill_ms != 0 && now >= e.collect_kill_ms) {
    spdlog::warn("host={} entry={} crash collection took longer than {}; killed", hostname_,
                 e.id(), FormatDurationMs(kCollectLimitMs));
    e.collect_kill_ms = 0;
    e.collector->Signal(SIGKILL);
  }
  if (!e.collector->finished()) return;
  e.collector.reset();
  e.collect_kill_ms = 0;
  Finish(e);
}

}  // namespace labmesh::agent
