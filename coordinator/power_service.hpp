#pragma once
// PowerService: out-of-band power and serial consoles (issue 28, docs/power-console.md).
//
// - `host power-config` sets a host's power method, console source, panic patterns and
//   attributes (staged on the host record through the HostRegistry).
// - `host power NAME on|off|cycle|status` runs the host's command as a child process of the
//   coordinator (/bin/sh -c, its own process group, killed at --power-timeout or when its
//   output passes 64 KiB); one operation per host at a time and a quiet period between two.
//   Each operation is recorded as a finished task of kind Power (HostTasks::RecordPowerTask):
//   the host's history shows it with its output; the API reply leaves when it has ended,
//   after the commit that holds its record and the request's audit record.
// - Repair of a lost host: a host that goes Dead and has a power method is power cycled (when
//   its protection allows, at most --power-cycle-limit times per --repair-window), and again
//   when its agent has not registered --power-boot-timeout later; past the limit, or when the
//   cycle command fails, it goes Repair Failed. The agent that comes back is repaired and
//   verified by the HostTasks' usual return path before it gets work.
// - Consoles: each host with a console source has a reader (the command's output) that
//   appends to a rolling per-host log (DATA/consoles/HOST.log and .log.1) and, while an entry
//   runs there, to the entry's `console.log`; a line matching the panic patterns marks that
//   entry as a crash and, with --panic-grace, makes the host lost when its agent stays silent.
//
// No call blocks: the children's pipes are polled by the coordinator's loop (PollFds), and
// Step() services them. Owned and called only by the event-loop thread.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core.hpp"
#include "labmesh/common/runner.hpp"
#include "labmesh/coordinator/config.hpp"
#include "power_rules.hpp"
#include "principal.hpp"

namespace labmesh::coordinator {

class PowerService {
 public:
  using MarkLost = std::function<void(const std::string& hostname, const std::string& reason)>;
  using Reply = std::function<void(std::string frame)>;

  PowerService(const CoordinatorConfig& config, const Clock* clock, HostRegistry* registry,
               Core* core, std::string results_root);
  ~PowerService();
  PowerService(const PowerService&) = delete;
  PowerService& operator=(const PowerService&) = delete;

  // How a host is declared lost (AgentService::MarkLost).
  void set_mark_lost(MarkLost fn) { mark_lost_ = std::move(fn); }

  // Creates DATA/power and DATA/consoles, starts the console of every host that has one, and
  // gives every Dead host with a power method its boot timeout from now.
  Status Start();

  // The route table's handler for HostPowerConfig/Show/Power/Console requests.
  void HandleApi(const std::string& routing_id, const protocol::Envelope& e,
                 const Principal& who, const Reply& reply);

  // Host events (the core's hooks, the host deletion).
  void OnHostDead(const std::string& hostname);
  void OnAgentRegistered(const std::string& hostname);
  void OnHostDeleted(const std::string& hostname);

  // The descriptors the loop polls, the next time Step() must run without one, and the step
  // itself: services the children, ends operations, reads consoles, runs the timers.
  void PollFds(std::vector<int>* fds) const;
  int64_t NextDeadlineMs() const;
  void Step();

  // For tests and the page: what the console reader holds.
  size_t running_operations() const { return ops_.size(); }

 private:
  struct Operation {
    std::string hostname;
    std::string action;
    bool automatic = false;    // repair of a lost host (no API caller)
    std::string reason;        // why (the task's reason)
    std::string requested_by;  // a user, or "labmesh"
    std::string routing_id;    // the API caller; "" for automatic ones
    uint64_t request_id = 0;
    int64_t started_wall_ms = 0;
    int64_t started_steady_ms = 0;
    int64_t deadline_ms = 0;  // steady
    std::string output_path;
    std::vector<std::string> secrets;  // masked in the output
    std::unique_ptr<Runner> runner;
    bool timed_out = false;
    bool flooded = false;
  };

  struct Console {
    std::string log_path;  // DATA/consoles/HOST.log (the older half in HOST.log.1)
    std::unique_ptr<Runner> runner;
    PanicMatcher matcher;
    uint64_t processed = 0;      // bytes of the current file already looked at
    uint64_t dropped = 0;        // bytes rotated away for good (the offset of .log.1's start)
    uint64_t bytes_read = 0;     // since this coordinator started
    std::string partial;         // a line not ended yet
    int64_t restart_at_ms = 0;   // steady; 0 = runs (or never started)
    std::string last_panic;
    int64_t last_panic_ms = 0;   // wall
    int64_t panic_deadline_ms = 0;  // steady: --panic-grace after a panic; 0 = none
    int64_t panic_seen_ms = 0;      // steady
  };

  std::string HandleConfig(const std::string& routing_id, const protocol::Envelope& e);
  std::string HandleShow(const protocol::Envelope& e) const;
  void HandlePower(const std::string& routing_id, const protocol::Envelope& e,
                   const Principal& who, const Reply& reply);
  std::string HandleConsole(const protocol::Envelope& e) const;

  // Starts `action` on `hostname`; the caller checked the rules. Fails when the command
  // cannot be expanded or run.
  Status StartOperation(Operation op);
  void FinishOperation(Operation& op);
  // Power cycles a lost host when its method, protection, limit and quiet period allow.
  void CycleLost(const std::string& hostname, const std::string& why);

  void StartConsole(const std::string& hostname);
  void StopConsole(const std::string& hostname);
  void ServiceConsole(const std::string& hostname, Console& console);
  void OnConsoleBytes(const std::string& hostname, Console& console, const std::string& bytes);
  void OnPanic(const std::string& hostname, Console& console, const std::string& line);
  std::string ConsolePath(const std::string& hostname) const;

  const CoordinatorConfig& config_;
  const Clock* clock_;
  HostRegistry* registry_;
  Core* core_;
  std::string results_root_;
  std::string power_dir_;
  std::string console_dir_;
  MarkLost mark_lost_;

  std::map<std::string, Operation> ops_;           // host -> its running operation
  std::map<std::string, int64_t> last_end_ms_;     // host -> steady end of its last operation
  std::map<std::string, int64_t> awaiting_boot_;   // host -> steady boot deadline after a cycle
  std::map<std::string, std::pair<int64_t, std::string>> pending_cycles_;  // quiet period
  std::map<std::string, Console> consoles_;
};

}  // namespace labmesh::coordinator
