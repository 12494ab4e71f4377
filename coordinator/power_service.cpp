// PowerService: out-of-band power and consoles; see power_service.hpp and
// docs/power-console.md.

#include "power_service.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "labmesh/common/duration.hpp"
#include "power_files.hpp"
#include "lifecycle_rules.hpp"
#include "reservation_rules.hpp"
#include "results_repository.hpp"

namespace labmesh::coordinator {

using protocol::HostStatus;

namespace {

std::string ErrorFor(uint64_t request_id, const Status& status) {
  return protocol::ErrorFrame(request_id, status);
}

// The last `max_bytes` of a file (empty when it cannot be read).
std::string FileTail(const std::string& path, uint64_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  auto size = static_cast<uint64_t>(std::max<std::streamoff>(0, in.tellg()));
  uint64_t from = size > max_bytes ? size - max_bytes : 0;
  in.seekg(static_cast<std::streamoff>(from));
  std::string out(size - from, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<size_t>(std::max<std::streamsize>(0, in.gcount())));
  return out;
}

}  // namespace


PowerService::PowerService(const CoordinatorConfig& config, const Clock* clock,
                           HostRegistry* registry, Core* core, std::string results_root)
    : config_(config),
      clock_(clock),
      registry_(registry),
      core_(core),
      results_root_(std::move(results_root)),
      power_dir_(config.data_dir + "/power"),
      console_dir_(config.data_dir + "/consoles") {}

PowerService::~PowerService() = default;  // Runners kill and reap their children

Status PowerService::Start() {
  for (const std::string& dir : {power_dir_, console_dir_}) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::Internal("cannot create " + dir + ": " + ec.message());
  }
  const int64_t now = clock_->SteadyMs();
  for (const auto& [name, state] : registry_->hosts()) {
    const store::Host& host = state.record;
    if (host.enrollment != store::Enrollment::kAccepted) continue;
    if (!host.console_command.empty()) StartConsole(name);
    // A cycle this coordinator did not see end: the host gets its boot timeout from now.
    if (host.status == HostStatus::kDead && !host.power_cycle.empty()) {
      awaiting_boot_[name] = now + config_.power_boot_timeout_ms;
    }
  }
  return Status::Ok();
}

// ---- API ----

void PowerService::HandleApi(const std::string& routing_id, const protocol::Envelope& e,
                             const Principal& who, const Reply& reply) {
  using T = protocol::MessageType;
  switch (e.type) {
    case T::kHostPowerConfigRequest:
      return core_->batch().ToApi(routing_id, HandleConfig(routing_id, e), e.request_id);
    case T::kHostPowerShowRequest: return reply(HandleShow(e));
    case T::kHostPowerRequest: return HandlePower(routing_id, e, who, reply);
    case T::kHostConsoleRequest: return reply(HandleConsole(e));
    default:
      return reply(ErrorFor(e.request_id, Status::Unsupported("not a power request")));
  }
}

std::string PowerService::HandleConfig(const std::string&, const protocol::Envelope& e) {
  auto req = protocol::DecodeBody<protocol::HostPowerConfigRequest>(e);
  if (!req.ok()) return ErrorFor(e.request_id, req.status());
  const store::Host* staged = registry_->Staged(req->hostname);
  if (staged == nullptr || staged->enrollment != store::Enrollment::kAccepted) {
    return ErrorFor(e.request_id, Status::NotFound("no host named " + req->hostname));
  }
  if (Status s = ValidatePowerConfig(*req, *staged); !s.ok()) return ErrorFor(e.request_id, s);
  const std::string console_before = staged->console_command;
  const auto patterns_before = staged->panic_patterns;
  const auto attributes_before = staged->attributes;
  store::Host* host = registry_->Stage(req->hostname);
  ApplyPowerConfig(*req, *host);
  spdlog::info("host={} power config changed (power method {}, console {})", req->hostname,
               host->power_cycle.empty() ? "none" : "set",
               host->console_command.empty() ? "none" : "set");
  const bool console_changed = host->console_command != console_before ||
                               host->panic_patterns != patterns_before ||
                               host->attributes != attributes_before;
  if (console_changed) {
    // The reader follows the stored configuration: restarted once the change is durable.
    core_->batch().AfterCommit([this, name = req->hostname] {
      StopConsole(name);
      StartConsole(name);
    });
  }
  protocol::HostPowerShowReply reply{PowerConfigOf(*host)};
  return protocol::Encode(reply, e.request_id);
}

std::string PowerService::HandleShow(const protocol::Envelope& e) const {
  auto req = protocol::DecodeBody<protocol::HostPowerShowRequest>(e);
  if (!req.ok()) return ErrorFor(e.request_id, req.status());
  const store::Host* host = registry_->Staged(req->hostname);
  if (host == nullptr || host->enrollment != store::Enrollment::kAccepted) {
    return ErrorFor(e.request_id, Status::NotFound("no host named " + req->hostname));
  }
  protocol::HostPowerShowReply reply{PowerConfigOf(*host)};
  auto console = consoles_.find(req->hostname);
  if (console != consoles_.end()) {
    reply.config.console_reading = console->second.runner != nullptr;
    reply.config.console_bytes = console->second.bytes_read;
    reply.config.last_panic = console->second.last_panic;
    reply.config.last_panic_ms = console->second.last_panic_ms;
  }
  return protocol::Encode(reply, e.request_id);
}

void PowerService::HandlePower(const std::string& routing_id, const protocol::Envelope& e,
                               const Principal& who, const Reply& reply) {
  auto req = protocol::DecodeBody<protocol::HostPowerRequest>(e);
  if (!req.ok()) return reply(ErrorFor(e.request_id, req.status()));
  if (!IsPowerAction(req->action)) {
    return reply(ErrorFor(e.request_id,
                          Status::InvalidArgument("unknown power action '" +
                                                  req->action.substr(0, 32) +
                                                  "': on, off, cycle or status")));
  }
  const store::Host* host = registry_->Staged(req->hostname);
  if (host == nullptr || host->enrollment != store::Enrollment::kAccepted) {
    return reply(ErrorFor(e.request_id, Status::NotFound("no host named " + req->hostname)));
  }
  const int64_t wall = clock_->WallMs();
  const bool holder = ReservationActive(*host, wall) && host->reserved_by == who.user;
  if (!who.admin && !holder) {
    return reply(ErrorFor(
        e.request_id, Status::PermissionDenied("power of host " + req->hostname +
                                               " is for admins and its reservation holder")));
  }
  if (PowerCommandOf(*host, req->action).empty()) {
    return reply(ErrorFor(
        e.request_id, Status::FailedPrecondition(
                          "host " + req->hostname + " has no power " + req->action +
                          " command (labmesh host power-config " + req->hostname + " --" +
                          req->action + " CMD)")));
  }
  auto running = ops_.find(req->hostname);
  if (running != ops_.end()) {
    return reply(ErrorFor(
        e.request_id,
        Status::FailedPrecondition(
            "a power " + running->second.action + " of host " + req->hostname +
            " is running (since " +
            FormatDurationMs(clock_->SteadyMs() - running->second.started_steady_ms) +
            "); ask again when it has ended")));
  }
  auto last = last_end_ms_.find(req->hostname);
  int64_t wait = QuietRemainingMs(last == last_end_ms_.end() ? 0 : last->second,
                                  clock_->SteadyMs(), config_.power_quiet_ms);
  if (wait > 0) {
    return reply(ErrorFor(
        e.request_id,
        Status::FailedPrecondition("host " + req->hostname +
                                   " had a power operation moments ago; wait " +
                                   FormatDurationMs(wait) + " (--power-quiet " +
                                   FormatDurationMs(config_.power_quiet_ms) + ")")));
  }
  Operation op;
  op.hostname = req->hostname;
  op.action = req->action;
  op.reason = "power " + req->action + " requested by " + who.user;
  op.requested_by = who.user;
  op.routing_id = routing_id;
  op.request_id = e.request_id;
  if (Status s = StartOperation(std::move(op)); !s.ok()) {
    return reply(ErrorFor(e.request_id, s));
  }
  // The reply leaves when the command has ended (FinishOperation).
}

Status PowerService::StartOperation(Operation op) {
  const store::Host* host = registry_->Staged(op.hostname);
  if (host == nullptr) return Status::NotFound("no host named " + op.hostname);
  auto command = ExpandCommand(PowerCommandOf(*host, op.action), CommandVariables(*host),
                               host->secret_attributes);
  if (!command.ok()) return command.status();
  op.secrets = SecretValues(*host);
  op.output_path = power_dir_ + "/" + op.hostname + ".out";
  std::error_code ec;
  std::filesystem::remove(op.output_path, ec);
  SpawnSpec spec;
  spec.argv = {"/bin/sh", "-c", *command};
  spec.die_with_parent = true;
  spec.env = BaseEnvironment(op.hostname);
  spec.env.push_back("LABMESH_POWER_ACTION=" + op.action);
  for (std::string& secret : SecretEnvironment(*host)) spec.env.push_back(std::move(secret));
  spec.cwd = power_dir_;
  spec.log_path = op.output_path;
  auto runner = Runner::Start(spec);
  if (!runner.ok()) {
    return Status::Internal("power " + op.action + " of " + op.hostname +
                            " could not start: " + runner.status().message());
  }
  op.runner = std::move(*runner);
  op.started_wall_ms = clock_->WallMs();
  op.started_steady_ms = clock_->SteadyMs();
  op.deadline_ms = op.started_steady_ms + config_.power_timeout_ms;
  spdlog::info("host={} power {} started: {} (by {})", op.hostname, op.action, op.reason,
               op.requested_by);
  const std::string name = op.hostname;
  ops_[name] = std::move(op);
  return Status::Ok();
}

void PowerService::FinishOperation(Operation& op) {
  const int64_t now_wall = clock_->WallMs();
  const int64_t duration = clock_->SteadyMs() - op.started_steady_ms;
  std::string failure;
  if (op.timed_out) {
    failure = "timed out after " + FormatDurationMs(config_.power_timeout_ms) +
              " (--power-timeout): killed";
  } else if (op.flooded) {
    failure = "wrote more than " + std::to_string(kMaxPowerOutputBytes / 1024) +
              " KiB of output: killed";
  } else if (op.runner->exit_code() != 0) {
    failure = op.runner->exit_code() >= 0
                  ? "exit status " + std::to_string(op.runner->exit_code())
                  : "killed by signal " + std::to_string(op.runner->term_signal());
  }
  const bool passed = failure.empty();
  std::string output =
      MaskSecrets(FileTail(op.output_path, protocol::kMaxTaskOutputBytes * 2), op.secrets);
  if (output.size() > protocol::kMaxTaskOutputBytes) {
    output.erase(0, output.size() - protocol::kMaxTaskOutputBytes);
  }
  store::SpecialTask task;
  task.hostname = op.hostname;
  task.status = passed ? protocol::TaskStatus::kCompleted : protocol::TaskStatus::kFailed;
  task.reason = passed ? op.reason : op.reason + ": " + failure;
  task.requested_by = op.requested_by;
  task.queued_ms = op.started_wall_ms;
  task.started_ms = op.started_wall_ms;
  task.finished_ms = now_wall;
  task.checks.push_back(protocol::TaskCheck{"power " + op.action, passed, output, duration});
  const uint64_t task_id = core_->tasks().RecordPowerTask(std::move(task));
  last_end_ms_[op.hostname] = clock_->SteadyMs();
  spdlog::info("host={} power {} {} in {}{}{}", op.hostname, op.action,
               passed ? "passed" : "failed", FormatDurationMs(duration),
               passed ? "" : ": ", failure);
  if (!op.automatic) {
    protocol::HostPowerReply reply;
    reply.hostname = op.hostname;
    reply.action = op.action;
    reply.passed = passed;
    reply.reason = failure;
    reply.exit_code = op.runner->exit_code();
    reply.output = output;
    reply.duration_ms = duration;
    reply.task_id = task_id;
    // After the commit that holds the task record (and the request's audit record).
    core_->batch().ToApi(op.routing_id, protocol::Encode(reply, op.request_id), op.request_id);
    return;
  }
  if (registry_->StagedStatus(op.hostname) != HostStatus::kDead) return;  // back already
  if (passed) {
    awaiting_boot_[op.hostname] = clock_->SteadyMs() + config_.power_boot_timeout_ms;
    return;
  }
  if (Status s = registry_->Transition(op.hostname, HostStatus::kRepairFailed,
                                       "power cycle failed: " + failure);
      !s.ok()) {
    spdlog::error("host={} {}", op.hostname, s.ToString());
  }
}

void PowerService::CycleLost(const std::string& hostname, const std::string& why) {
  const store::Host* host = registry_->Staged(hostname);
  if (host == nullptr || host->power_cycle.empty()) return;  // waits for a person, as ever
  if (host->status != HostStatus::kDead) return;
  if (!MayPowerCycle(host->protection)) {
    spdlog::info("host={} lost; not power cycled (protection {})", hostname,
                 protocol::ProtectionName(host->protection));
    return;
  }
  if (ops_.count(hostname) > 0) return;  // one runs: its end decides
  auto last = last_end_ms_.find(hostname);
  const int64_t steady = clock_->SteadyMs();
  int64_t wait = QuietRemainingMs(last == last_end_ms_.end() ? 0 : last->second, steady,
                                  config_.power_quiet_ms);
  if (wait > 0) {
    pending_cycles_[hostname] = {steady + wait, why};
    return;
  }
  store::Host* fields = registry_->Stage(hostname);
  const int64_t now = clock_->WallMs();
  if (!MayRepairAgain(fields->power_cycles_ms, now, config_.power_cycle_limit,
                      config_.repair_window_ms)) {
    awaiting_boot_.erase(hostname);
    std::string reason = why + "; power cycled " + std::to_string(fields->power_cycles_ms.size()) +
                         " times within " + FormatDurationMs(config_.repair_window_ms) +
                         " already, left for a person (labmesh host power " + hostname +
                         " cycle, then labmesh host repair " + hostname + ")";
    if (Status s = registry_->Transition(hostname, HostStatus::kRepairFailed, reason); !s.ok()) {
      spdlog::error("host={} {}", hostname, s.ToString());
    }
    return;
  }
  fields->power_cycles_ms.push_back(now);
  Operation op;
  op.hostname = hostname;
  op.action = "cycle";
  op.automatic = true;
  op.reason = why + ": power cycle " + std::to_string(fields->power_cycles_ms.size()) + " of " +
              std::to_string(config_.power_cycle_limit) + " within " +
              FormatDurationMs(config_.repair_window_ms);
  op.requested_by = kCoordinatorUser;
  if (Status s = StartOperation(std::move(op)); !s.ok()) {
    spdlog::error("host={} {}", hostname, s.ToString());
    if (Status t = registry_->Transition(hostname, HostStatus::kRepairFailed,
                                         "power cycle could not start: " + s.message());
        !t.ok()) {
      spdlog::error("host={} {}", hostname, t.ToString());
    }
  }
}

// ---- host events ----

void PowerService::OnHostDead(const std::string& hostname) {
  const store::Host* host = registry_->Staged(hostname);
  if (host == nullptr) return;
  CycleLost(hostname, "host lost (" + host->status_reason + ")");
}

void PowerService::OnAgentRegistered(const std::string& hostname) {
  awaiting_boot_.erase(hostname);
  pending_cycles_.erase(hostname);
  auto console = consoles_.find(hostname);
  if (console != consoles_.end()) console->second.panic_deadline_ms = 0;
}

void PowerService::OnHostDeleted(const std::string& hostname) {
  StopConsole(hostname);
  awaiting_boot_.erase(hostname);
  pending_cycles_.erase(hostname);
  // A running operation ends by itself (its timeout at most); its record names the host.
}

// ---- consoles ----

void PowerService::PollFds(std::vector<int>* fds) const {
  for (const auto& [name, op] : ops_) op.runner->PollFds(fds);
  for (const auto& [name, console] : consoles_) {
    if (console.runner != nullptr) console.runner->PollFds(fds);
  }
}

int64_t PowerService::NextDeadlineMs() const {
  const int64_t now = clock_->SteadyMs();
  int64_t next = INT64_MAX;
  for (const auto& [name, op] : ops_) {
    next = std::min({next, op.deadline_ms, op.runner->NextDeadlineMs(now)});
  }
  for (const auto& [name, console] : consoles_) {
    if (console.runner != nullptr) next = std::min(next, console.runner->NextDeadlineMs(now));
    if (console.restart_at_ms > 0) next = std::min(next, console.restart_at_ms);
    if (console.panic_deadline_ms > 0) next = std::min(next, console.panic_deadline_ms);
  }
  for (const auto& [name, at] : awaiting_boot_) next = std::min(next, at);
  for (const auto& [name, pending] : pending_cycles_) next = std::min(next, pending.first);
  return next;
}

void PowerService::Step() {
  const int64_t now = clock_->SteadyMs();
  std::vector<std::string> ended;
  for (auto& [name, op] : ops_) {
    op.runner->Service(now);
    if (!op.runner->finished()) {
      if (!op.flooded && op.runner->log_size() > kMaxPowerOutputBytes) {
        op.flooded = true;
        op.runner->Signal(SIGKILL);
      } else if (!op.timed_out && now >= op.deadline_ms) {
        op.timed_out = true;
        op.runner->Signal(SIGKILL);
      }
      continue;
    }
    ended.push_back(name);
  }
  for (const std::string& name : ended) {
    Operation op = std::move(ops_.at(name));
    ops_.erase(name);
    FinishOperation(op);
  }
  for (auto& [name, console] : consoles_) {
    ServiceConsole(name, console);
    if (console.panic_deadline_ms > 0 && now >= console.panic_deadline_ms) {
      console.panic_deadline_ms = 0;
      const HostState* state = registry_->Find(name);
      if (state != nullptr && state->last_seen_steady_ms <= console.panic_seen_ms && mark_lost_ &&
          registry_->StagedStatus(name) != HostStatus::kDead) {
        mark_lost_(name, "panic on its console (" + console.last_panic.substr(0, 200) +
                             "), agent silent for " + FormatDurationMs(config_.panic_grace_ms) +
                             " after it (--panic-grace)");
      }
    }
  }
  std::vector<std::string> restart;
  for (auto& [name, console] : consoles_) {
    if (console.runner == nullptr && console.restart_at_ms > 0 && now >= console.restart_at_ms) {
      restart.push_back(name);
    }
  }
  for (const std::string& name : restart) StartConsole(name);
  std::vector<std::pair<std::string, std::string>> cycles;
  for (auto it = awaiting_boot_.begin(); it != awaiting_boot_.end();) {
    if (now >= it->second) {
      cycles.emplace_back(it->first, "host lost; its agent did not register within " +
                                         FormatDurationMs(config_.power_boot_timeout_ms) +
                                         " of the power cycle (--power-boot-timeout)");
      it = awaiting_boot_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = pending_cycles_.begin(); it != pending_cycles_.end();) {
    if (now >= it->second.first) {
      cycles.emplace_back(it->first, it->second.second);
      it = pending_cycles_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [name, why] : cycles) CycleLost(name, why);
}

}  // namespace labmesh::coordinator
