#pragma once
// ScheduleService: job templates (saved job definitions) and the schedules that create jobs
// from them on the times of a cron expression (docs/schedules.md).
//
// Templates and schedules are records of the store; every change is staged into the loop
// turn's batch and answered after its commit. Each loop turn Step() creates the jobs of the
// schedules whose time has come, through JobService::CreateJob, and stages the schedule's new
// state (its next time, the job it made or why it made none) into the same batch as the job:
// one commit holds both, so a crash neither loses nor repeats a run. A time missed while the
// coordinator was down runs once when it starts (not once per missed time), and the next time
// is counted from then.
//
// Owned and called only by the event-loop thread.

#include <cstdint>
#include <map>
#include <string>

#include "batch.hpp"
#include "labmesh/common/clock.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "labmesh/store/store.hpp"
#include "principal.hpp"

namespace labmesh::coordinator {

class JobService;

class ScheduleService {
 public:
  using Reply = std::function<void(std::string frame)>;

  ScheduleService(const Clock* clock, store::Store* store, Batch* batch, JobService* jobs);

  // Reads the schedules (at start, and after a failed commit).
  Status Load();

  // The template and schedule requests of the API. Reads are answered through `reply` at once;
  // changes through the batch, after the commit (`routing_id`).
  void HandleApi(const std::string& routing_id, const protocol::Envelope& e, const Principal& who,
                 const Reply& reply);

  // Creates the jobs of the schedules that are due. Cheap when none is.
  void Step();
  // The steady-clock time (ms) at which the next schedule is due; INT64_MAX when none is.
  int64_t NextDeadlineMs() const;

 private:
  void SaveTemplate(const std::string& routing_id, const protocol::Envelope& e,
                    const Principal& who);
  void DeleteTemplate(const std::string& routing_id, const protocol::Envelope& e,
                      const Principal& who);
  std::string ListTemplates(const protocol::Envelope& e) const;
  std::string ShowTemplate(const protocol::Envelope& e) const;
  void CreateSchedule(const std::string& routing_id, const protocol::Envelope& e,
                      const Principal& who);
  void ScheduleAction(const std::string& routing_id, const protocol::Envelope& e,
                      const Principal& who);
  std::string ListSchedules(const protocol::Envelope& e) const;
  std::string ShowSchedule(const protocol::Envelope& e) const;

  // The job definition of stored job `id`, as a template keeps it.
  Result<protocol::JobCreateRequest> DefinitionOf(uint64_t id) const;
  // Makes the job of `schedule` at `now_us` and moves it to its next time (staged).
  void Run(protocol::ScheduleInfo& schedule, int64_t now_us);
  // Stages `schedule` and keeps it in memory once committed.
  void Stage(const protocol::ScheduleInfo& schedule);
  void StageDelete(const std::string& name);
  // A turn's commit failed: back to the store's schedules, and no run for a few seconds.
  void OnCommitFailed();
  void UpdateNextDue();

  const Clock* clock_;
  store::Store* store_;
  Batch* batch_;
  JobService* jobs_;
  std::map<std::string, protocol::ScheduleInfo> schedules_;  // as committed, by name
  int64_t next_due_us_ = INT64_MAX;  // the earliest next_run_us of a running schedule
  int64_t retry_after_ms_ = 0;       // steady clock: no run before this (a commit failed)
};

}  // namespace labmesh::coordinator
