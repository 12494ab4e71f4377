// The update bookkeeping on disk; see state.hpp.

#include "update/state.hpp"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "labmesh/common/duration.hpp"

namespace labmesh::agent {
namespace fs = std::filesystem;
using json = nlohmann::json;

std::string StatePath(const std::string& work_dir) { return work_dir + "/update/state.json"; }
std::string VersionDir(const std::string& work_dir, const std::string& version) {
  return work_dir + "/versions/" + version;
}
std::string CurrentLink(const std::string& work_dir) { return work_dir + "/current"; }

Result<UpdateState> LoadUpdateState(const std::string& work_dir) {
  UpdateState state;
  const std::string path = StatePath(work_dir);
  std::error_code ec;
  if (!fs::exists(path, ec)) return state;
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption(path + " is not JSON");
  auto str = [](const json& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto num = [](const json& o, const char* key) -> int64_t {
    auto it = o.find(key);
    return it != o.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
  };
  state.last_good_version = str(j, "last_known_good_version");
  state.last_good_exe = str(j, "last_known_good_exe");
  state.current_version = str(j, "current_version");
  state.installed_version = str(j, "installed_version");
  state.installed_exe = str(j, "installed_exe");
  if (auto t = j.find("trial"); t != j.end() && t->is_object()) {
    state.trial.task_id = static_cast<uint64_t>(num(*t, "task_id"));
    state.trial.from_version = str(*t, "from_version");
    state.trial.from_exe = str(*t, "from_exe");
    state.trial.to_version = str(*t, "to_version");
    state.trial.to_exe = str(*t, "to_exe");
    state.trial.deadline_wall_ms = num(*t, "deadline_ms");
    state.trial.pid = num(*t, "pid");
  }
  if (auto f = j.find("failure"); f != j.end() && f->is_object()) {
    state.failure.task_id = static_cast<uint64_t>(num(*f, "task_id"));
    state.failure.version = str(*f, "version");
    state.failure.reason = str(*f, "reason");
  }
  return state;
}

Status SaveUpdateState(const std::string& work_dir, const UpdateState& state) {
  json j = json::object();
  j["last_known_good_version"] = state.last_good_version;
  j["last_known_good_exe"] = state.last_good_exe;
  j["current_version"] = state.current_version;
  if (!state.installed_version.empty() || !state.installed_exe.empty()) {
    j["installed_version"] = state.installed_version;
    j["installed_exe"] = state.installed_exe;
  }
  if (state.trial.task_id != 0) {
    j["trial"] = {{"task_id", state.trial.task_id},         {"from_version", state.trial.from_version},
                  {"from_exe", state.trial.from_exe},       {"to_version", state.trial.to_version},
                  {"to_exe", state.trial.to_exe},           {"deadline_ms", state.trial.deadline_wall_ms},
                  {"pid", state.trial.pid}};
  }
  if (state.failure.task_id != 0) {
    j["failure"] = {{"task_id", state.failure.task_id},
                    {"version", state.failure.version},
                    {"reason", state.failure.reason}};
  }
  std::error_code ec;
  fs::create_directories(work_dir + "/update", ec);
  const std::string path = StatePath(work_dir);
  const std::string tmp = path + ".tmp";
  std::string text = j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Internal("cannot write " + tmp);
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = fsync(fd) == 0 && ok;
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return Status::Internal("cannot write " + path);
  }
  return Status::Ok();
}

Status SwitchCurrent(const std::string& work_dir, const std::string& version) {
  const std::string link = CurrentLink(work_dir);
  if (version.empty()) {
    if (unlink(link.c_str()) != 0 && errno != ENOENT) {
      return Status::Internal("cannot remove " + link);
    }
    return Status::Ok();
  }
  const std::string tmp = link + ".tmp";
  unlink(tmp.c_str());
  if (symlink(("versions/" + version).c_str(), tmp.c_str()) != 0) {
    return Status::Internal("cannot create " + tmp + ": " + strerror(errno));
  }
  if (rename(tmp.c_str(), link.c_str()) != 0) {
    unlink(tmp.c_str());
    return Status::Internal("cannot replace " + link + ": " + strerror(errno));
  }
  return Status::Ok();
}

std::string CurrentVersion(const std::string& work_dir) {
  std::error_code ec;
  fs::path target = fs::read_symlink(CurrentLink(work_dir), ec);
  if (ec || target.parent_path() != "versions") return "";
  return target.filename().string();
}

std::string SelfExe() {
  std::error_code ec;
  fs::path exe = fs::canonical("/proc/self/exe", ec);
  return ec ? std::string() : exe.string();
}

RollbackPlan DecideRollback(TrialEvent event, const UpdateState& state,
                            const std::string& work_dir, int64_t trial_ms,
                            bool (*exists)(const std::string& path)) {
  RollbackPlan plan;
  if (event == TrialEvent::kPassed) return plan;
  plan.rollback = true;
  plan.exec = event != TrialEvent::kStopped;
  const std::string& v = state.trial.to_version;
  plan.failure.task_id = state.trial.task_id;
  plan.failure.version = v;
  switch (event) {
    case TrialEvent::kStopped:
      plan.failure.reason = "version " + v + " was stopped before it registered";
      break;
    case TrialEvent::kExited:
      plan.failure.reason = "version " + v + " exited before it registered";
      break;
    case TrialEvent::kTimedOut:
      plan.failure.reason =
          "version " + v + " did not register within " +
          (trial_ms > 0 && trial_ms % 60'000 == 0 ? std::to_string(trial_ms / 60'000) + "m"
                                                  : FormatDurationMs(trial_ms));
      break;
    case TrialEvent::kRestarted:
      plan.failure.reason = "version " + v +
                            " was not confirmed: the agent was restarted (service restart or "
                            "reboot) before it registered";
      break;
    case TrialEvent::kPassed: break;
  }
  bool good = !state.last_good_exe.empty() && state.last_good_version != v &&
              exists(state.last_good_exe);
  plan.exe = good ? state.last_good_exe : state.trial.from_exe;
  // The link follows the binary: a versions/X binary gets `current` -> versions/X; any other
  // (the agent as installed) gets no link, so that a service starting it does not hop.
  const std::string prefix = work_dir + "/versions/";
  if (plan.exe.rfind(prefix, 0) == 0) {
    fs::path rest = fs::path(plan.exe.substr(prefix.size()));
    if (rest.has_parent_path() && rest.parent_path().parent_path().empty()) {
      plan.link_version = rest.parent_path().string();
    }
  }
  return plan;
}

std::optional<std::string> HopTarget(const std::string& work_dir, const std::string& self_exe) {
  std::error_code ec;
  const std::string candidate = CurrentLink(work_dir) + "/" + "labmesh-agent";
  fs::path target = fs::canonical(candidate, ec);
  if (ec) return std::nullopt;
  if (access(target.c_str(), X_OK) != 0) return std::nullopt;
  if (target.string() == self_exe) return std::nullopt;
  return candidate;
}

StartupPlan DecideStartup(const UpdateState& state, const std::string& work_dir,
                          const std::string& self_exe, const std::string& self_version,
                          int64_t trial_ms, bool (*exists)(const std::string& path)) {
  StartupPlan plan;
  plan.state = state;
  if (state.trial.task_id != 0) {
    RollbackPlan rollback =
        DecideRollback(TrialEvent::kRestarted, state, work_dir, trial_ms, exists);
    plan.trial_failed = true;
    plan.save = true;
    plan.relink = true;
    plan.link_version = rollback.link_version;
    plan.state.failure = rollback.failure;
    plan.state.trial = {};
  }
  const std::string versions = work_dir + "/versions/";
  const bool installed = !self_exe.empty() && self_exe.rfind(versions, 0) != 0;
  if (installed && state.installed_version != self_version) {
    plan.package_changed = true;
    plan.save = true;
    plan.relink = true;
    plan.link_version = "";
    plan.state.current_version = "";
    if (plan.state.last_good_exe != self_exe) {
      plan.state.last_good_version = "";
      plan.state.last_good_exe = "";
    }
    plan.state.installed_version = self_version;
    plan.state.installed_exe = self_exe;
  } else if (installed && state.installed_exe != self_exe) {
    plan.save = true;  // the same version at another path: remember where it is now
    plan.state.installed_exe = self_exe;
  }
  return plan;
}

std::vector<std::string> VersionsToPrune(const std::string& work_dir,
                                         const std::vector<std::string>& keep) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(work_dir + "/versions", ec)) {
    std::string name = item.path().filename().string();
    bool kept = false;
    for (const std::string& k : keep) kept = kept || (!k.empty() && k == name);
    if (!kept) out.push_back(item.path().string());
  }
  return out;
}

}  // namespace labmesh::agent
