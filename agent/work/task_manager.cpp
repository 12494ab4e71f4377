// TaskManager: special tasks on the agent; see task_manager.hpp and docs/lifecycle-agent.md.

#include "work/task_manager.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <cstring>
#include <filesystem>

#include "labmesh/common/duration.hpp"
#include "work/builtin_checks.hpp"
#include "work/runner.hpp"
#include "work/spool.hpp"

extern char** environ;

namespace labmesh::agent {
namespace fs = std::filesystem;

namespace {

// kill-leftovers waits this long for the killed processes to be gone (checked this often).
constexpr int64_t kKillWaitMs = 2'000;
constexpr int64_t kKillPollMs = 10;
constexpr size_t kKeepTaskDirs = 5;      // scratch directories of the newest tasks kept
constexpr size_t kMaxReasonBytes = 512;  // of TaskReport.reason

bool IsDecimal(const std::string& name, uint64_t* value) {
  if (name.empty()) return false;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), *value);
  return ec == std::errc() && end == name.data() + name.size();
}

std::string ExitLine(const Runner& runner, bool timed_out, int64_t timeout_ms) {
  if (timed_out) return "killed after timeout " + FormatDurationMs(timeout_ms);
  if (runner.term_signal() != 0) return "killed by signal " + std::to_string(runner.term_signal());
  return "exit status " + std::to_string(runner.exit_code());
}

}  // namespace

struct TaskManager::Step {
  enum class Kind {
    kFreeSpace,
    kSpoolWritable,
    kClockSkew,
    kLeftovers,
    kKillLeftovers,
    kRemoveOldSpool,
    kScript,
    kFailure,  // a directory that could not be listed, an unknown kind: `output` says why
  };
  Kind kind;
  std::string name;    // TaskCheck.name
  std::string path;    // kScript: the executable
  std::string log;     // kScript: its log, in the scratch directory
  std::string output;  // kFailure
};

struct TaskManager::Task {
  protocol::RunTask run;
  std::string task_name;  // "verify", "repair", "cleanup" (LABMESH_TASK)
  std::string scratch;
  std::vector<Step> steps;
  size_t next = 0;
  protocol::TaskReport report;
  std::string first_failure;
  int64_t started_ms = 0;
  // The step waiting for something (a script or the kill of leftovers).
  const Step* waiting = nullptr;
  int64_t step_started_ms = 0;
  std::unique_ptr<Runner> runner;
  int64_t timeout_at_ms = 0;  // the script's timeout (0 = none, or already fired)
  int64_t kill_at_ms = 0;     // SIGKILL due after a TERM (0 = none)
  bool timed_out = false;
  std::vector<Leftover> killed;  // kill-leftovers: the processes signalled
  std::string kill_errors;       // kill-leftovers: processes that could not be signalled
  int64_t kill_deadline_ms = 0;
  int64_t next_kill_poll_ms = 0;
};

TaskManager::TaskManager(const AgentConfig& config, const Clock* clock, std::string hostname,
                         SendFn send, Hooks hooks)
    : config_(config),
      clock_(clock),
      hostname_(std::move(hostname)),
      send_(std::move(send)),
      hooks_(std::move(hooks)) {
  std::error_code ec;
  work_dir_ = fs::absolute(config_.work_dir, ec).lexically_normal().string();
  if (!work_dir_.empty() && work_dir_.back() == '/') work_dir_.pop_back();
  spool_dir_ = work_dir_ + "/spool";
  tasks_dir_ = work_dir_ + "/tasks";
}

TaskManager::~TaskManager() = default;

std::string TaskManager::ScratchDir(uint64_t task_id) const {
  return tasks_dir_ + "/" + std::to_string(task_id);
}

void TaskManager::OnWelcome() {
  connected_ = true;
  send_retry_ms_ = 0;
  if (report_unsent_) SendReport();
}

void TaskManager::OnDisconnected() { connected_ = false; }

bool TaskManager::Handle(const protocol::Envelope& envelope) {
  if (envelope.type != protocol::MessageType::kRunTask) return false;
  auto run = protocol::DecodeBody<protocol::RunTask>(envelope);
  if (!run.ok()) {
    spdlog::warn("host={} undecodable RunTask: {}", hostname_, run.status().ToString());
    return true;
  }
  const uint64_t id = run->task_id;
  if (current_ && current_->run.task_id == id) {
    spdlog::debug("host={} task={} already running; RunTask ignored", hostname_, id);
    return true;
  }
  for (const protocol::RunTask& queued : queued_) {
    if (queued.task_id == id) return true;
  }
  if (last_report_ && last_report_->task_id == id) {
    spdlog::info("host={} task={} already finished; sending its report again", hostname_, id);
    SendReport();
    return true;
  }
  if (current_) {
    spdlog::warn("host={} task={} queued behind task={} which is still running", hostname_, id,
                 current_->run.task_id);
  }
  queued_.push_back(*run);
  if (!current_) Service();
  return true;
}

void TaskManager::Start(const protocol::RunTask& run) {
  auto task = std::make_unique<Task>();
  Task& t = *task;
  t.run = run;
  t.started_ms = clock_->SteadyMs();
  t.report.task_id = run.task_id;
  t.report.kind = run.kind;
  t.scratch = ScratchDir(run.task_id);
  auto kind = protocol::ParseTaskKind(run.kind);
  std::error_code ec;
  // A task id seen again after an agent restart starts afresh.
  fs::remove_all(t.scratch, ec);
  fs::create_directories(t.scratch, ec);
  if (ec) {
    spdlog::warn("host={} task={} cannot create {}: {}", hostname_, run.task_id, t.scratch,
                 ec.message());
  }
  PruneScratchDirs(run.task_id);

  auto add = [&](Step::Kind k, const char* name) { t.steps.push_back({k, name, "", "", ""}); };
  auto add_scripts = [&](const std::string& dir, const std::string& label) {
    auto names = ListScripts(dir);
    if (!names.ok()) {
      t.steps.push_back({Step::Kind::kFailure, label, "", "", names.status().message()});
      return;
    }
    for (const std::string& name : *names) {
      t.steps.push_back({Step::Kind::kScript, label + "/" + name, dir + "/" + name,
                         t.scratch + "/" + label + "." + name + ".log", ""});
    }
  };
  auto add_verify = [&] {
    add(Step::Kind::kFreeSpace, "free-space");
    add(Step::Kind::kSpoolWritable, "spool-writable");
    add(Step::Kind::kClockSkew, "clock-skew");
    add(Step::Kind::kLeftovers, "leftover-processes");
    add_scripts(config_.verify_dir, "verify.d");
  };
  if (kind == protocol::TaskKind::kVerify) {
    t.report.kind = "Verify";
    add_verify();
  } else if (kind == protocol::TaskKind::kRepair) {
    t.report.kind = "Repair";
    add(Step::Kind::kKillLeftovers, "kill-leftovers");
    add(Step::Kind::kRemoveOldSpool, "remove-old-spool");
    if (run.repair_scripts) add_scripts(config_.repair_dir, "repair.d");
    if (run.verify_after) add_verify();
  } else if (kind == protocol::TaskKind::kCleanup) {
    t.report.kind = "Cleanup";
    add(Step::Kind::kKillLeftovers, "kill-leftovers");
    add_scripts(config_.cleanup_dir, "cleanup.d");
  } else {
    t.steps.push_back({Step::Kind::kFailure, "task", "", "",
                       "the agent does not run tasks of kind '" + run.kind + "'"});
  }
  t.task_name = AsciiLower(t.report.kind);
  if (t.steps.size() > protocol::kMaxTaskChecks) {
    spdlog::warn("host={} task={} has {} steps; only the first {} run", hostname_, run.task_id,
                 t.steps.size(), protocol::kMaxTaskChecks);
    t.steps.resize(protocol::kMaxTaskChecks - 1);
    t.steps.push_back({Step::Kind::kFailure, "too-many-checks", "", "",
                       "more than " + std::to_string(protocol::kMaxTaskChecks) +
                           " checks and scripts; the rest did not run"});
  }
  spdlog::info(
      "host={} task={} kind={} started ({} steps{}{})", hostname_, run.task_id, run.kind,
      t.steps.size(),
      kind == protocol::TaskKind::kRepair && !run.repair_scripts ? ", no repair scripts" : "",
      kind == protocol::TaskKind::kRepair && !run.verify_after ? ", no verify after" : "");
  current_ = std::move(task);
}

void TaskManager::AddCheck(Task& task, protocol::TaskCheck check, int64_t started_ms,
                           const std::string& why) {
  check.duration_ms = clock_->SteadyMs() - started_ms;
  if (check.output.size() > protocol::kMaxTaskOutputBytes) {
    check.output =
        SanitizeUtf8(std::string_view(check.output).substr(0, protocol::kMaxTaskOutputBytes - 4)) +
        "...";
  }
  if (!check.passed && task.first_failure.empty()) task.first_failure = why;
  spdlog::debug("host={} task={} {} {}", hostname_, task.run.task_id, check.name,
                check.passed ? "passed" : "failed");
  task.report.checks.push_back(std::move(check));
}

void TaskManager::StartStep(Task& t, const Step& step, int64_t now) {
  using K = Step::Kind;
  auto builtin = [&](protocol::TaskCheck check) {
    std::string why = check.name + ": " + check.output;
    AddCheck(t, std::move(check), now, why);
  };
  switch (step.kind) {
    case K::kFreeSpace:
      builtin(CheckFreeSpace(work_dir_, config_.min_free_space_bytes));
      return;
    case K::kSpoolWritable:
      builtin(CheckSpoolWritable(spool_dir_));
      return;
    case K::kClockSkew:
      builtin(CheckClockSkew(clock_->WallMs(), t.run.coordinator_ms, config_.max_clock_skew_ms));
      return;
    case K::kLeftovers:
      builtin(CheckLeftovers(FindLeftovers(spool_dir_, hooks_.entry_alive)));
      return;
    case K::kRemoveOldSpool:
      builtin(RemoveOldSpool(t));
      return;
    case K::kFailure: {
      protocol::TaskCheck check;
      check.name = step.name;
      check.output = step.output;
      builtin(std::move(check));
      return;
    }
    case K::kKillLeftovers: {
      t.killed.clear();
      t.kill_errors.clear();
      const pid_t own_group = getpgrp();
      for (const Leftover& l : FindLeftovers(spool_dir_, hooks_.entry_alive)) {
        bool signalled = kill(l.pid, SIGKILL) == 0 || errno == ESRCH;
        // pgid 1 would make kill(-1) signal every process we may signal: never.
        if (l.pgid > 1 && l.pgid != own_group) kill(-l.pgid, SIGKILL);
        if (signalled) {
          t.killed.push_back(l);
        } else {
          t.kill_errors += (t.kill_errors.empty() ? "" : ", ") + std::to_string(l.pid) + " (" +
                           l.comm + "): " + std::strerror(errno);
        }
      }
      if (!t.killed.empty()) {
        spdlog::info("host={} task={} killed {} leftover process(es)", hostname_, t.run.task_id,
                     t.killed.size());
      }
      t.waiting = &step;
      t.step_started_ms = now;
      t.kill_deadline_ms = now + kKillWaitMs;
      t.next_kill_poll_ms = now;
      ServiceKill(t, now);
      return;
    }
    case K::kScript: {
      SpawnSpec spec;
      spec.argv = {step.path};
      spec.env = ScriptEnvironment(t);
      spec.cwd = t.scratch;
      spec.log_path = step.log;
      auto runner = Runner::Start(spec);
      if (!runner.ok()) {
        protocol::TaskCheck check;
        check.name = step.name;
        check.output = runner.status().message();
        AddCheck(t, std::move(check), now, step.name + " failed: " + runner.status().message());
        return;
      }
      t.runner = std::move(*runner);
      t.waiting = &step;
      t.step_started_ms = now;
      t.timed_out = false;
      t.kill_at_ms = 0;
      t.timeout_at_ms = config_.script_timeout_ms > 0 ? now + config_.script_timeout_ms : 0;
      spdlog::debug("host={} task={} running {} (pgid={})", hostname_, t.run.task_id, step.name,
                    t.runner->pgid());
      return;
    }
  }
}

void TaskManager::ServiceScript(Task& t, int64_t now) {
  Runner& runner = *t.runner;
  runner.Service(now);
  if (!runner.exited() && t.timeout_at_ms != 0 && now >= t.timeout_at_ms) {
    t.timeout_at_ms = 0;
    t.timed_out = true;
    spdlog::warn("host={} task={} {} timed out after {}; stopping it", hostname_, t.run.task_id,
                 t.waiting->name, FormatDurationMs(config_.script_timeout_ms));
    runner.Signal(SIGTERM);
    t.kill_at_ms = now + config_.kill_grace_ms;
  }
  if (!runner.exited() && t.kill_at_ms != 0 && now >= t.kill_at_ms) {
    t.kill_at_ms = 0;
    runner.Signal(SIGKILL);
  }
  if (!runner.finished()) return;
  const Step& step = *t.waiting;
  std::string line = ExitLine(runner, t.timed_out, config_.script_timeout_ms);
  protocol::TaskCheck check;
  check.name = step.name;
  check.passed = !t.timed_out && runner.term_signal() == 0 && runner.exit_code() == 0;
  check.output = OutputTail(step.log, line);
  t.runner.reset();
  t.waiting = nullptr;
  AddCheck(t, std::move(check), t.step_started_ms, step.name + " failed: " + line);
}

void TaskManager::ServiceKill(Task& t, int64_t now) {
  if (now < t.next_kill_poll_ms) return;
  std::string alive;
  for (const Leftover& l : t.killed) {
    if (ProcessAlive(l.pid)) {
      alive += (alive.empty() ? "" : ", ") + std::to_string(l.pid) + " (" + l.comm + ")";
    }
  }
  if (!alive.empty() && now < t.kill_deadline_ms) {
    t.next_kill_poll_ms = now + kKillPollMs;
    return;
  }
  protocol::TaskCheck check;
  check.name = "kill-leftovers";
  std::string killed;
  for (const Leftover& l : t.killed) {
    killed += (killed.empty() ? "" : ", ") + std::to_string(l.pid) + " (" + l.comm + ")";
  }
  if (!t.kill_errors.empty()) {
    check.output = "cannot kill " + t.kill_errors;
  } else if (!alive.empty()) {
    check.output = "still alive " + FormatDurationMs(kKillWaitMs) + " after SIGKILL: " + alive;
  } else {
    check.passed = true;
    check.output = t.killed.empty() ? "no process left from an earlier job" : "killed " + killed;
  }
  t.waiting = nullptr;
  std::string why = "kill-leftovers: " + check.output;
  AddCheck(t, std::move(check), t.step_started_ms, why);
}

void TaskManager::Advance(int64_t now) {
  while (current_) {
    Task& t = *current_;
    if (t.waiting) {
      if (t.runner) {
        ServiceScript(t, now);
      } else {
        ServiceKill(t, now);
      }
      if (t.waiting) return;
      continue;
    }
    if (t.next >= t.steps.size()) {
      Finish(now);
      return;
    }
    const Step& step = t.steps[t.next++];
    StartStep(t, step, now);
  }
}

void TaskManager::Finish(int64_t now) {
  Task& t = *current_;
  t.report.passed = t.first_failure.empty();
  t.report.reason = t.first_failure;
  if (t.report.reason.size() > kMaxReasonBytes) {
    t.report.reason =
        SanitizeUtf8(std::string_view(t.report.reason).substr(0, kMaxReasonBytes - 3)) + "...";
  }
  const int64_t took = now - t.started_ms;
  if (t.report.passed) {
    spdlog::info("host={} task={} kind={} passed ({} checks, {})", hostname_, t.run.task_id,
                 t.report.kind, t.report.checks.size(), FormatDurationMs(took));
  } else {
    spdlog::warn("host={} task={} kind={} failed: {} ({} checks, {})", hostname_, t.run.task_id,
                 t.report.kind, t.report.reason, t.report.checks.size(), FormatDurationMs(took));
  }
  last_report_ = std::move(t.report);
  current_.reset();
  SendReport();
}

void TaskManager::SendReport() {
  if (!last_report_) return;
  report_unsent_ = true;
  if (!connected_) return;
  if (send_(protocol::Encode(*last_report_))) {
    report_unsent_ = false;
    send_retry_ms_ = 0;
  } else {
    send_retry_ms_ = clock_->SteadyMs() + kSendRetryMs;
  }
}

std::vector<std::string> TaskManager::ScriptEnvironment(const Task& t) const {
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  std::string home = "/";
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv = *e;
    if (kv.rfind("PATH=", 0) == 0) path = kv.substr(5);
    if (kv.rfind("HOME=", 0) == 0) home = kv.substr(5);
  }
  return {"HOME=" + home,
          "LABMESH_HOST=" + hostname_,
          "LABMESH_TASK=" + t.task_name,
          "LABMESH_TASK_ID=" + std::to_string(t.run.task_id),
          "LABMESH_WORK_DIR=" + work_dir_,
          "PATH=" + path};
}

protocol::TaskCheck TaskManager::RemoveOldSpool(const Task& t) {
  protocol::TaskCheck check;
  check.name = "remove-old-spool";
  std::string errors;
  auto note_error = [&](const std::string& what) { errors += (errors.empty() ? "" : "; ") + what; };
  size_t free_slots = 0, stale_spools = 0, task_dirs = 0;
  std::error_code ec;
  if (hooks_.drop_free_slots) {
    auto dropped = hooks_.drop_free_slots();
    if (dropped.ok()) {
      free_slots = *dropped;
    } else {
      note_error(dropped.status().message());
    }
  } else {
    const std::string free_dir = spool_dir_ + "/" + kFreeDir;
    for (const auto& d : fs::directory_iterator(free_dir, ec)) {
      std::error_code rm_ec;
      fs::remove_all(d.path(), rm_ec);
      if (rm_ec) {
        note_error("cannot remove " + d.path().string() + ": " + rm_ec.message());
      } else {
        ++free_slots;
      }
    }
  }
  // spool/<id> of entries the WorkManager no longer holds (a removal that failed before), and
  // files a spool-writable check left when the agent died in the middle of it.
  ec.clear();
  std::vector<fs::path> stale;
  for (const auto& d : fs::directory_iterator(spool_dir_, ec)) {
    std::string name = d.path().filename().string();
    uint64_t id = 0;
    if (IsDecimal(name, &id)) {
      if (!hooks_.entry_held || !hooks_.entry_held(id)) stale.push_back(d.path());
    } else if (name.rfind(".task-check-", 0) == 0) {
      stale.push_back(d.path());
    }
  }
  for (const fs::path& p : stale) {
    std::error_code rm_ec;
    fs::remove_all(p, rm_ec);
    if (rm_ec) {
      note_error("cannot remove " + p.string() + ": " + rm_ec.message());
    } else {
      ++stale_spools;
    }
  }
  // Scratch directories of tasks other than this one and the last finished one (whose report
  // may still be asked for, and whose logs explain it).
  ec.clear();
  std::vector<fs::path> old_tasks;
  for (const auto& d : fs::directory_iterator(tasks_dir_, ec)) {
    std::string name = d.path().filename().string();
    uint64_t id = 0;
    bool keep = IsDecimal(name, &id) &&
                (id == t.run.task_id || (last_report_ && last_report_->task_id == id));
    if (!keep) old_tasks.push_back(d.path());
  }
  for (const fs::path& p : old_tasks) {
    std::error_code rm_ec;
    fs::remove_all(p, rm_ec);
    if (rm_ec) {
      note_error("cannot remove " + p.string() + ": " + rm_ec.message());
    } else {
      ++task_dirs;
    }
  }
  std::string summary = "removed " + std::to_string(free_slots) + " free spool slot(s), " +
                        std::to_string(stale_spools) + " stale spool item(s), " +
                        std::to_string(task_dirs) + " old task dir(s)";
  check.passed = errors.empty();
  check.output = errors.empty() ? summary : errors + " (" + summary + ")";
  if (free_slots + stale_spools + task_dirs > 0) {
    spdlog::info("host={} task={} {}", hostname_, t.run.task_id, summary);
  }
  return check;
}

void TaskManager::PruneScratchDirs(uint64_t current_task_id) {
  std::error_code ec;
  struct Dir {
    fs::path path;
    fs::file_time_type mtime;
  };
  std::vector<Dir> dirs;
  for (const auto& d : fs::directory_iterator(tasks_dir_, ec)) {
    std::string name = d.path().filename().string();
    uint64_t id = 0;
    if (IsDecimal(name, &id) && id == current_task_id) continue;
    std::error_code t_ec;
    dirs.push_back({d.path(), fs::last_write_time(d.path(), t_ec)});
  }
  if (dirs.size() < kKeepTaskDirs) return;
  std::sort(dirs.begin(), dirs.end(), [](const Dir& a, const Dir& b) {
    return a.mtime != b.mtime ? a.mtime > b.mtime : a.path > b.path;
  });
  // The current task's directory counts as one of the kept.
  for (size_t i = kKeepTaskDirs - 1; i < dirs.size(); ++i) {
    std::error_code rm_ec;
    fs::remove_all(dirs[i].path, rm_ec);
  }
}

void TaskManager::AppendPollItems(std::vector<zmq_pollitem_t>* items) const {
  if (!current_ || !current_->runner) return;
  std::vector<int> fds;
  current_->runner->PollFds(&fds);
  for (int fd : fds) AppendPollFd(fd, items);
}

void TaskManager::Service() {
  int64_t now = clock_->SteadyMs();
  if (send_retry_ms_ != 0 && now >= send_retry_ms_) {
    send_retry_ms_ = 0;
    if (report_unsent_) SendReport();
  }
  while (true) {
    if (!current_) {
      if (queued_.empty()) return;
      protocol::RunTask run = std::move(queued_.front());
      queued_.pop_front();
      Start(run);
    }
    Advance(now);
    if (current_) return;  // waiting for a script or a kill
  }
}

int64_t TaskManager::NextDeadlineMs() const {
  int64_t next = send_retry_ms_ != 0 ? send_retry_ms_ : INT64_MAX;
  if (!current_) return queued_.empty() ? next : clock_->SteadyMs();
  const Task& t = *current_;
  if (t.runner) {
    next = std::min(next, t.runner->NextDeadlineMs(clock_->SteadyMs()));
    if (t.timeout_at_ms != 0) next = std::min(next, t.timeout_at_ms);
    if (t.kill_at_ms != 0) next = std::min(next, t.kill_at_ms);
  } else if (t.waiting) {
    next = std::min(next, t.next_kill_poll_ms);
  } else {
    next = clock_->SteadyMs();
  }
  return next;
}

}  // namespace labmesh::agent
