// UpdateManager, the install half of an Update task: unpack the downloaded package, check its
// MANIFEST, switch `current`, prepare the exec plan, keep the package for peers. See
// update_manager.hpp and docs/update.md.

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <utility>
#include <vector>

#include "update/package.hpp"
#include "update/update_manager.hpp"
#include "update/update_task.hpp"
#include "work/builtin_checks.hpp"
#include "work/runner.hpp"

namespace labmesh::agent {
namespace fs = std::filesystem;

namespace {

std::string TarPath() {
  for (const char* path : {"/usr/bin/tar", "/bin/tar"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return "/usr/bin/tar";
}

}  // namespace

void UpdateManager::StartUnpack(int64_t now) {
  Task& t = *task_;
  t.phase = Task::Phase::kUnpack;
  t.started_ms = now;
  t.tmp_dir = VersionDir(work_dir_, t.run.version) + ".tmp";
  std::error_code ec;
  fs::remove_all(t.tmp_dir, ec);
  fs::create_directories(t.tmp_dir, ec);
  if (ec) return Fail("unpack", "cannot create " + t.tmp_dir + ": " + ec.message(), now);
  SpawnSpec spec;
  spec.argv = {TarPath(), "-xzf", PartPath(t.run.package_sha256), "-C", t.tmp_dir,
               "--no-same-owner", "--no-overwrite-dir"};
  spec.env = {"PATH=/usr/bin:/bin", "LC_ALL=C"};
  spec.cwd = t.tmp_dir;
  spec.log_path = work_dir_ + "/update/tar.log";
  fs::remove(spec.log_path, ec);
  auto runner = Runner::Start(spec);
  if (!runner.ok()) return Fail("unpack", runner.status().message(), now);
  t.tar = std::move(*runner);
}

void UpdateManager::ServiceUnpack(int64_t now) {
  Task& t = *task_;
  t.tar->Service(now);
  if (!t.tar->finished()) return;
  const bool ok = t.tar->exit_code() == 0;
  std::string exit = t.tar->term_signal() != 0
                         ? "killed by signal " + std::to_string(t.tar->term_signal())
                         : "exit status " + std::to_string(t.tar->exit_code());
  t.tar.reset();
  if (!ok) {
    return Fail("unpack", OutputTail(work_dir_ + "/update/tar.log", "tar: " + exit), t.started_ms);
  }
  Check("unpack", true, "into " + t.tmp_dir, t.started_ms);
  Install(clock_->SteadyMs());
}

void UpdateManager::Install(int64_t now) {
  Task& t = *task_;
  const std::string& version = t.run.version;
  if (Status s = CheckPackageDir(t.tmp_dir, version); !s.ok()) {
    return Fail("manifest", s.message(), now);
  }
  Check("manifest", true, "version " + version, now);
  const std::string dir = VersionDir(work_dir_, version);
  std::error_code ec;
  fs::remove_all(dir, ec);  // an earlier copy of V; a running binary keeps its inode
  fs::rename(t.tmp_dir, dir, ec);
  if (ec) return Fail("install", "cannot rename to " + dir + ": " + ec.message(), now);
  const std::string previous_link = CurrentVersion(work_dir_);
  state_.trial = {};
  state_.trial.task_id = t.run.task_id;
  state_.trial.from_version = config_.version;
  state_.trial.from_exe = self_exe_;
  state_.trial.to_version = version;
  state_.trial.to_exe = dir + "/" + kPackageAgentName;
  state_.trial.deadline_wall_ms = clock_->WallMs() + config_.update_trial_ms;
  state_.trial.pid = getpid();
  if (Status s = SaveUpdateState(work_dir_, state_); !s.ok()) {
    state_.trial = {};
    return Fail("switch", s.message(), now);
  }
  if (Status s = SwitchCurrent(work_dir_, version); !s.ok()) {
    state_.trial = {};
    Save();
    return Fail("switch", s.message(), now);
  }
  Check("switch", true, "current -> versions/" + version +
                            (previous_link.empty() ? "" : " (was " + previous_link + ")"), now);
  KeepForPeers(t.run.package_sha256);
  ExecPlan plan;
  plan.task_id = t.run.task_id;
  plan.version = version;
  plan.work_dir = work_dir_;
  plan.exe = state_.trial.to_exe;
  plan.argv.push_back(plan.exe);
  plan.argv.insert(plan.argv.end(), config_.exec_args.begin(), config_.exec_args.end());
  plan.watchdog_exe = self_exe_;
  plan.args = config_.exec_args;
  spdlog::info("host={} task={} version {} installed; re-executing {}", hostname_,
               t.run.task_id, version, plan.exe);
  plan_ = std::move(plan);
  task_.reset();
  if (hooks_.ready_to_exec) hooks_.ready_to_exec();
}

std::optional<ExecPlan> UpdateManager::TakeExecPlan() {
  std::optional<ExecPlan> plan = std::move(plan_);
  plan_.reset();
  return plan;
}

void UpdateManager::KeepForPeers(const std::string& sha256) {
  const std::string part = PartPath(sha256);
  std::error_code ec;
  if (config_.peer_listen.empty() || config_.peer_cache_bytes == 0) {
    fs::remove(part, ec);
    return;
  }
  fs::create_directories(CacheDir(), ec);
  fs::rename(part, CacheDir() + "/" + sha256 + ".tar.gz", ec);
  if (ec) {
    spdlog::warn("host={} cannot keep the package for peers: {}", hostname_, ec.message());
    fs::remove(part, ec);
    return;
  }
  // The newest packages that fit in peer_cache_bytes stay.
  std::vector<std::pair<fs::file_time_type, fs::path>> kept;
  for (const auto& item : fs::directory_iterator(CacheDir(), ec)) {
    kept.emplace_back(item.last_write_time(ec), item.path());
  }
  std::sort(kept.begin(), kept.end(), std::greater<>());
  uint64_t total = 0;
  for (const auto& [time, path] : kept) {
    total += fs::file_size(path, ec);
    if (total > config_.peer_cache_bytes && path.filename() != sha256 + ".tar.gz") {
      fs::remove(path, ec);
    }
  }
}

}  // namespace labmesh::agent
