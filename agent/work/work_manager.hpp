#pragma once
// WorkManager: the agent side of host queue entries (docs/jobs.md "Agent side of one entry").
// It holds the entries of this host, spawns their controls (Runner), keeps their spool
// (entry.mp) current, streams debug/control.log while a control runs, uploads the results
// when it ended, and sends/resends EntryReports until the coordinator acknowledges them.
//
// Ownership and threads: the agent's event loop thread owns the WorkManager and is the only
// caller of every method. It is one of the loop's Managers (manager.hpp): nothing blocks, the
// loop polls its AppendPollItems() beside its socket, calls Service() at every turn and wakes
// no later than NextDeadlineMs(). Messages go out through the `send` callback (the agent's
// non-blocking Send, false when nothing could take it).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "labmesh/agent/config.hpp"
#include "labmesh/common/clock.hpp"
#include "labmesh/common/status.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "manager.hpp"
#include "work/runner.hpp"
#include "work/spool.hpp"

namespace labmesh::agent {

class WorkManager final : public Manager {
 public:
  using SendFn = std::function<bool(const std::string& frame)>;
  // The control of `entry_id` ended or is being stopped (abort, max runtime, discard); `why` is
  // the reason when it was stopped, the outcome's reason when it ended ("" when it passed).
  using ControlEndedFn = std::function<void(uint64_t entry_id, const std::string& why)>;

  // `config.work_dir` must exist; spool/ below it is created. `hostname` is used in logs.
  WorkManager(const AgentConfig& config, const Clock* clock, std::string hostname,
              uint64_t incarnation, SendFn send);
  ~WorkManager();  // kills controls still running (their spool stays for the next start)
  WorkManager(const WorkManager&) = delete;
  WorkManager& operator=(const WorkManager&) = delete;

  // Loads every spool/<id>/entry.mp (agent start). An entry whose control was running ends
  // with outcome "error" (its process group killed if alive) and is uploaded; others resume.
  // Unreadable spool directories are logged and removed; spool/free/ is adopted for reuse.
  Status Load();

  // For AgentHello.entries: every entry held, with its phase.
  std::vector<protocol::HeldEntry> HeldEntries() const;
  void FillHello(protocol::AgentHello* hello) const override;  // entries = HeldEntries()

  // The coordinator welcomed us (first time or again): resend every unacknowledged report,
  // restart uploads from the acknowledged offsets and ask for work when idle.
  void OnWelcome() override;
  // The connection is gone: nothing is sent until the next OnWelcome().
  void OnDisconnected() override;

  // Handles StartEntry, EntryReportAck, ResultAck and AbortEntry; false for any other type
  // (the caller handles it).
  bool Handle(const protocol::Envelope& envelope) override;

  // The descriptors the loop must poll for readability (the controls' output pipes, pidfds).
  void AppendPollItems(std::vector<zmq_pollitem_t>* items) const override;
  // Reads output, reaps controls, fires timers (flush, max runtime, kill grace, resends).
  void Service() override;
  // When Service() must run next without any descriptor being ready (INT64_MAX = no timer).
  int64_t NextDeadlineMs() const override;

  // True when no entry is running or uploading: the host may take new work.
  bool Idle() const;
  // True while the entry's control runs and nobody has started to stop it (the sync relay
  // serves only such entries).
  bool ControlRunning(uint64_t entry_id) const;
  // Called (on the loop thread) for every control that ends or starts being stopped; the agent
  // wires it to the SyncRelay. May be called more than once per entry.
  void SetControlEndedHook(ControlEndedFn hook) { control_ended_ = std::move(hook); }
  size_t entry_count() const { return entries_.size(); }
  // Called (on the loop thread) when the coordinator says an entry is done (its spool goes):
  // the agent makes its version the last known good (docs/update.md).
  void SetEntryDoneHook(std::function<void(uint64_t entry_id)> hook) {
    entry_done_ = std::move(hook);
  }

  // For special tasks (TaskManager::Hooks). True while the entry's control has a process
  // (running, or stopped but not yet reaped): what carries its LABMESH_RESULTS_DIR is not left
  // over from an earlier job.
  bool ControlAlive(uint64_t entry_id) const;
  // True while the entry is held (its spool must not be touched).
  bool Holds(uint64_t entry_id) const { return entries_.count(entry_id) > 0; }
  // `labmesh-test reboot` of the entry's control (the SyncRelay's reboot hook, docs/
  // kernel-lab.md): "done" when this call's reboot happened already (the control runs again
  // from the top after each boot; its first boot_count calls return at once), "rebooting" when
  // the reboot is asked for now (the reboot command runs once the coordinator acknowledged the
  // "rebooting" report). An error when the entry's control does not run here.
  Result<std::string> RequestReboot(uint64_t entry_id, int64_t timeout_ms);
  // Removes every recycled slot in spool/free/ (repair's remove-old-spool); new entries then
  // create their spool afresh. Returns how many were removed.
  Result<size_t> DropFreeSlots();

 private:
  struct Flight {  // in-memory upload state of one file
    uint64_t sent = 0;        // bytes [0, sent) were sent (maybe not yet acknowledged)
    uint32_t chunks_out = 0;  // chunks sent whose ResultAck has not come
    uint32_t stale = 0;       // acks still due for chunks sent before a refusal
  };
  struct Entry;

  void Start(const protocol::StartEntry& start);
  void Abort(const protocol::AbortEntry& abort);
  void OnReportAck(const protocol::EntryReportAck& ack);
  void OnResultAck(const protocol::ResultAck& ack);

  void ServiceEntry(Entry& entry, int64_t now);
  // Spawns the entry's control (its first start, or again after a boot): "" or why it could
  // not. Records the boot id it starts in and arms the max runtime.
  std::string SpawnControl(Entry& entry);
  // The machine's boot id (config.boot_id_file), "" when unreadable.
  std::string ReadBootId() const;
  // work_reboot.cpp: runs the reboot command when due and watches it; the control again after
  // the boot; crash collection (labmesh-test crashinfo) and then Finish.
  void ServiceReboot(Entry& entry, int64_t now);
  void ResumeAfterBoot(Entry& entry, const std::string& boot_id);
  void CollectThenFinish(Entry& entry, bool previous_boot);
  void ServiceCollector(Entry& entry, int64_t now);
  // The control ended: its outcome from the Runner (kill reason, signal, exit status, disk).
  void Conclude(Entry& entry);
  void Kill(Entry& entry, const std::string& outcome, const std::string& reason);
  // The control ended (or never ran, or ran when the agent died): status.log, the upload list,
  // the "exited" report.
  void Finish(Entry& entry);
  void NewReport(Entry& entry);
  void SendReport(Entry& entry);
  void Pump(Entry& entry);
  void CheckUploaded(Entry& entry);
  void Save(Entry& entry);
  // Drops the entry and its spool: the directory is recycled (RecycleSlot) when the control
  // is known to have ended, else removed.
  void Forget(uint64_t entry_id);
  // Adopts the directories in spool/free/ at Load (cleaned again; extras removed).
  void LoadFreeSlots();
  // Renames a free slot to `dir` (a new entry's spool) if there is one; the caller creates
  // whatever is still missing.
  void TakeFreeSlot(const std::string& dir);
  // Cleans the spool `dir` of a finished entry (CleanSpoolForReuse) and moves it to
  // spool/free/<n>. False when it was not kept (enough free slots, or an error): the caller
  // removes it.
  bool RecycleSlot(const std::string& dir);
  void MaybeRequestWork();
  bool SendFrame(const std::string& frame);

  AgentConfig config_;
  const Clock* clock_;
  std::string hostname_;
  uint64_t incarnation_;
  SendFn send_;
  ControlEndedFn control_ended_;
  std::function<void(uint64_t entry_id)> entry_done_;
  std::string work_dir_;  // absolute
  std::string spool_dir_;
  std::string helper_dir_;
  bool connected_ = false;
  bool work_requested_ = false;
  int64_t send_retry_ms_ = 0;  // a send was refused (queue full): try again then
  std::map<uint64_t, std::unique_ptr<Entry>> entries_;
  std::vector<std::string> free_slots_;  // paths of spool/free/<n>, ready for reuse
  uint64_t next_free_slot_ = 0;          // <n> of the next slot moved to spool/free/
  bool free_dir_ready_ = false;          // spool/free/ exists
};

}  // namespace labmesh::agent
