#pragma once
// TaskManager: the agent side of special tasks (Verify, Repair, Cleanup; docs/lifecycle-agent.md).
// It runs a RunTask's built-in checks and actions (builtin_checks.hpp) and the executables of
// the verify/repair/cleanup directory one after another (each a Runner in its own process
// group, with --script-timeout), and answers with one TaskReport. RunTask is safe to repeat:
// a repeat of the running (or queued) task is ignored, a repeat of the last finished task gets
// its report again. A report that could not be sent goes out at the next OnWelcome().
// A RunTask for another task while one runs is queued behind it (the coordinator sends a task
// only when it waits for no other, so this happens only when its view and ours differ).
//
// Ownership and threads: the agent's event loop thread owns the TaskManager and is the only
// caller of every method. It is one of the loop's Managers (manager.hpp): nothing blocks, the
// loop polls its AppendPollItems() beside its socket, calls Service() at every turn and wakes
// no later than NextDeadlineMs(). Messages go out through
// the `send` callback (the agent's non-blocking Send, false when nothing could take it). What
// it needs of the entries (whose processes are not leftovers, whose spool must not be touched)
// comes through Hooks, which the agent wires to its WorkManager.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "labmesh/agent/config.hpp"
#include "labmesh/common/clock.hpp"
#include "labmesh/common/status.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "labmesh/protocol/task_messages.hpp"
#include "manager.hpp"

namespace labmesh::agent {

class TaskManager final : public Manager {
 public:
  using SendFn = std::function<bool(const std::string& frame)>;
  struct Hooks {
    // True while the control of `entry_id` runs or is being stopped: processes carrying its
    // LABMESH_RESULTS_DIR are not leftovers. Unset = no entry is alive.
    std::function<bool(uint64_t entry_id)> entry_alive;
    // True while the WorkManager holds `entry_id`: remove-old-spool leaves spool/<id> alone.
    // Unset = no entry is held.
    std::function<bool(uint64_t entry_id)> entry_held;
    // Removes the WorkManager's recycled spool slots (spool/free/*) and returns how many went.
    // Unset = remove-old-spool removes spool/free/* itself.
    std::function<Result<size_t>()> drop_free_slots;
  };

  // `config.work_dir` must exist; tasks/ below it is created when a task starts. `hostname`
  // is LABMESH_HOST of the scripts and is used in logs.
  TaskManager(const AgentConfig& config, const Clock* clock, std::string hostname, SendFn send,
              Hooks hooks);
  ~TaskManager();  // a script still running is killed with its process group
  TaskManager(const TaskManager&) = delete;
  TaskManager& operator=(const TaskManager&) = delete;

  // The coordinator welcomed us: a report that could not be sent goes out now.
  void OnWelcome() override;
  // The connection is gone: nothing is sent until the next OnWelcome(); the task goes on.
  void OnDisconnected() override;

  // Handles RunTask, of any kind (an Update reports that this manager does not run it); false
  // for any other type (the caller handles it). The agent offers RunTask to the UpdateManager
  // first, which takes the Update ones.
  bool Handle(const protocol::Envelope& envelope) override;

  // The descriptors the loop must poll for readability (a script's output pipe and pidfd).
  void AppendPollItems(std::vector<zmq_pollitem_t>* items) const override;
  // Starts queued tasks, runs steps, reads output, reaps scripts, fires timeouts and retries.
  void Service() override;
  // When Service() must run next without any descriptor being ready (INT64_MAX = no timer).
  int64_t NextDeadlineMs() const override;

  // A task is running or queued.
  bool Busy() const { return current_ != nullptr || !queued_.empty(); }
  // The report of the last finished task, kept to answer a repeated RunTask.
  const std::optional<protocol::TaskReport>& last_report() const { return last_report_; }
  // WORK_DIR/tasks/<task_id>: the scripts' working directory and their logs.
  std::string ScratchDir(uint64_t task_id) const;

 private:
  struct Task;
  struct Step;

  void Start(const protocol::RunTask& run);
  // Runs steps until one must wait (a script, the kill of leftovers) or the task is done.
  void Advance(int64_t now);
  void StartStep(Task& task, const Step& step, int64_t now);
  void ServiceScript(Task& task, int64_t now);
  void ServiceKill(Task& task, int64_t now);
  void AddCheck(Task& task, protocol::TaskCheck check, int64_t started_ms, const std::string& why);
  void Finish(int64_t now);
  protocol::TaskCheck RemoveOldSpool(const Task& task);
  void PruneScratchDirs(uint64_t current_task_id);
  std::vector<std::string> ScriptEnvironment(const Task& task) const;
  void SendReport();

  AgentConfig config_;
  const Clock* clock_;
  std::string hostname_;
  SendFn send_;
  Hooks hooks_;
  std::string work_dir_;  // absolute, no trailing '/'
  std::string spool_dir_;
  std::string tasks_dir_;
  bool connected_ = false;
  bool report_unsent_ = false;
  int64_t send_retry_ms_ = 0;  // the socket refused the report: try again then (0 = none)
  std::unique_ptr<Task> current_;
  std::deque<protocol::RunTask> queued_;
  std::optional<protocol::TaskReport> last_report_;
};

}  // namespace labmesh::agent
