#include "core.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "metrics.hpp"

namespace labmesh::coordinator {

using protocol::MessageType;

Core::Core(const CoordinatorConfig& config, const Clock* clock, store::Store* store,
           HostRegistry* registry, TestCatalog* catalog, ResultsRepository* results,
           FrameOutbox to_agent, FrameOutbox to_api)
    : store_(store),
      registry_(registry),
      to_agent_(to_agent),
      to_api_(to_api),
      jobs_(config, clock, store, registry, catalog, results, &batch_, to_agent, to_api),
      scheduler_(config, clock, registry, &batch_, to_agent),
      tasks_(config, clock, store, registry, &batch_, to_agent, to_api),
      updates_(store, registry, &batch_) {
  jobs_.Wire(&scheduler_, &tasks_, &updates_);
  scheduler_.Wire(&jobs_, &tasks_, &updates_);
  tasks_.Wire(&jobs_, &scheduler_, &updates_);
  updates_.Wire(&tasks_, &scheduler_);
}

Status Core::Load() {
  LABMESH_RETURN_IF_ERROR(jobs_.Load());
  scheduler_.Load();
  LABMESH_RETURN_IF_ERROR(tasks_.Load());
  LABMESH_RETURN_IF_ERROR(updates_.Load());
  spdlog::info("jobs loaded: {} active, {} entries queued, {} open tasks", jobs_.active_jobs(),
               scheduler_.queued_entries(), tasks_.open_tasks());
  return Status::Ok();
}

bool Core::IsWorkMessage(MessageType type) {
  return type == MessageType::kWorkRequest || type == MessageType::kEntryReport ||
         type == MessageType::kResultChunk || type == MessageType::kSyncRequest ||
         type == MessageType::kTaskReport;
}

void Core::HandleAgent(const HostState& host, const protocol::Envelope& e) {
  switch (e.type) {
    case MessageType::kWorkRequest: return scheduler_.OnWorkRequest(host);
    case MessageType::kEntryReport: return jobs_.OnReport(host, e);
    case MessageType::kResultChunk: return jobs_.OnChunk(host, e);
    case MessageType::kSyncRequest: return scheduler_.OnSync(host, e);
    case MessageType::kTaskReport: return tasks_.OnTaskReport(host, e);
    default:
      to_agent_(host.routing_id,
                protocol::ErrorFrame(e.request_id, Status::Unsupported("not a work message")));
  }
}

void Core::OnAgentRegistered(const std::string& hostname,
                             const std::vector<protocol::HeldEntry>& held,
                             const protocol::TaskReport& update_report) {
  scheduler_.ForgetIdle(hostname);  // it asks again after the Welcome
  jobs_.OnAgentRegistered(hostname, held);
  tasks_.OnAgentRegistered(hostname, update_report);
  updates_.OnAgentRegistered(hostname);
  if (on_registered_) on_registered_(hostname);
}

void Core::OnHostDead(const std::string& hostname) {
  scheduler_.ForgetIdle(hostname);
  tasks_.OnHostDead(hostname);
  jobs_.OnHostDead(hostname);
  if (on_dead_) on_dead_(hostname);
}

void Core::OnHostDeleted(const std::string& hostname) {
  tasks_.OnHostDeleted(hostname);
  updates_.Forget(hostname);
  scheduler_.ForgetHost(hostname);
  jobs_.OnHostDeleted(hostname);
}

void Core::CheckTimeouts() {
  jobs_.CheckTimeouts();
  scheduler_.CheckReservations();
  tasks_.CheckPeriodicVerify();
  tasks_.CheckDeadlines();
}

bool Core::FlushPending() const {
  return registry_->HeartbeatRoundOpen() && !(disk_ != nullptr && disk_->full());
}

Status Core::Flush(bool heartbeats) {
  // With the disk full, heartbeats (soft state) stay in memory, dirty, until there is room:
  // writing them could only fail, and a host's liveness never depends on the store.
  if (heartbeats) registry_->StartHeartbeatRound();
  bool disk_full = disk_ != nullptr && disk_->full();
  tasks_.StartTasks();  // before scheduling: a host with a queued task is not given an entry
  if (metrics_ != nullptr && scheduler_.schedule_needed()) {
    // The work's own duration, from the real clock: a test's fake clock stands still.
    auto begin = std::chrono::steady_clock::now();
    scheduler_.ScheduleIfNeeded();
    metrics_->SchedulingPass(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count());
  } else {
    scheduler_.ScheduleIfNeeded();
  }

  store::WriteBatch& writes = batch_.writes();
  // Entries handed to the parser after the commit count as work even with nothing to write.
  bool staged = jobs_.HasStaged() || tasks_.HasStaged() || updates_.HasStaged();
  if (staged) batch_.MarkDurable();
  jobs_.Stage(writes);
  tasks_.Stage(writes);
  updates_.Stage(writes);
  if (registry_->WriteTo(writes, disk_full ? 0 : kHeartbeatsPerTurn)) batch_.MarkDurable();
  if (audit_ != nullptr) audit_->Stage(batch_);

  if (!staged && batch_.empty()) {
    scheduler_.EndTurn();
    return Status::Ok();
  }

  Batch::Senders senders{
      [this](const std::string& hostname, std::string frame) {
        const HostState* host = registry_->Find(hostname);
        if (host != nullptr && !host->routing_id.empty()) to_agent_(host->routing_id, std::move(frame));
      },
      [this](const std::string& routing_id, std::string frame) {
        to_agent_(routing_id, std::move(frame));
      },
      [this](const std::string& routing_id, std::string frame) {
        to_api_(routing_id, std::move(frame));
      }};
  Status committed = batch_.Commit(
      store_, senders, [this] { registry_->Adopt(); }, [this] { registry_->Discard(); });
  if (committed.ok()) {
    jobs_.AfterCommit();
  } else {
    if (disk_ != nullptr) disk_->OnWriteFailed(committed);
    // Only the job side changes memory before its commit; a turn that staged nothing there
    // (registrations, host changes, audit records) has nothing to reload. The Scheduler keeps
    // the hosts that wait for work idle across the reload.
    if (staged) {
      spdlog::error("reloading jobs, entries and tasks from the store");
      if (Status s = Load(); !s.ok()) {
        spdlog::critical("jobs not reloaded: {}; stopping (a restart loads them)", s.ToString());
        fatal_ = s;
      }
    }
  }
  scheduler_.EndTurn();
  return committed;
}

}  // namespace labmesh::coordinator
