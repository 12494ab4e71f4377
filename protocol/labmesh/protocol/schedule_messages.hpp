#pragma once
// Lab workflow (issue 22): job templates (saved job definitions) and the schedules that create
// jobs from them at the times of a cron expression. docs/schedules.md tells the flow; PROTOCOL.md
// the wire format.

#include <cstdint>
#include <string>
#include <vector>

#include "labmesh/protocol/job_messages.hpp"
#include "labmesh/protocol/types.hpp"

namespace labmesh::protocol {

// The definition of a job as `job show` has it, as `job create` would send it again: its name,
// control (a catalog test by name; nothing for a job of imported results), hosts, label and
// count, depends, synch count, priority, verify, timeouts, cleanup, retry, result retention,
// notifications and --reserve-on-failure. Never `after`: the jobs it waited for have ended. (`job clone`, `template save
// --from-job`.)
JobCreateRequest JobDefinitionOf(const JobInfo& job);

// A saved job definition: what `job create` would send, under a name. Anyone may use one
// (`job create --template NAME`, a schedule); its owner or an admin changes or deletes it.
struct TemplateInfo {
  std::string name;  // [A-Za-z0-9._-], 1..64 characters
  std::string owner;
  std::string description;
  JobCreateRequest job;  // its `user` is empty: a job made from it belongs to who makes it
  int64_t created_us = 0;
  int64_t updated_us = 0;
};

// Saves a template: `job` as given (`template create NAME [job create's flags]`), or the
// definition of job `from_job` (`template save NAME --from-job ID`: its control, hosts, labels,
// limits and notifications; a test's control is the catalog's test by name). The job is checked
// as `job create` checks one, but its hosts need not be free. An existing name is refused
// unless `replace` (and then only its owner or an admin may). Reply: OkReply.
struct TemplateSaveRequest {
  static constexpr MessageType kType = MessageType::kTemplateSaveRequest;
  std::string name;
  std::string description;
  JobCreateRequest job;
  uint64_t from_job = 0;  // 0 = use `job`
  bool replace = false;
};

struct TemplateListRequest {
  static constexpr MessageType kType = MessageType::kTemplateListRequest;
  std::string owner;  // filter; "" = anyone's
};

struct TemplateListReply {
  static constexpr MessageType kType = MessageType::kTemplateListReply;
  std::vector<TemplateInfo> templates;  // by name; each job's `control` left empty
};

struct TemplateShowRequest {
  static constexpr MessageType kType = MessageType::kTemplateShowRequest;
  std::string name;
};

struct TemplateShowReply {
  static constexpr MessageType kType = MessageType::kTemplateShowReply;
  TemplateInfo template_info;
  std::vector<std::string> schedules;  // the schedules that use it
};

// Its owner or an admin; refused while a schedule uses it. Reply: OkReply.
struct TemplateDeleteRequest {
  static constexpr MessageType kType = MessageType::kTemplateDeleteRequest;
  std::string name;
};

// Creates jobs from a template at the times of a cron expression, in a time zone. The jobs
// belong to the schedule's owner and carry its name (`job list --schedule NAME`).
struct ScheduleInfo {
  std::string name;  // [A-Za-z0-9._-], 1..64 characters
  std::string owner;
  std::string template_name;
  std::string cron;      // five fields (minute hour day-of-month month day-of-week) or @daily...
  std::string timezone;  // an IANA name ("Europe/Berlin"); "UTC" by default
  std::string description;
  bool paused = false;
  int64_t created_us = 0;
  int64_t next_run_us = 0;  // the next time it creates a job (when not paused)
  int64_t last_run_us = 0;  // 0 = never
  uint64_t last_job_id = 0;
  std::string last_error;  // why the last time made no job; "" = it did
  uint64_t jobs_created = 0;
};

// Reply: ScheduleShowReply (with the first time it will run).
struct ScheduleCreateRequest {
  static constexpr MessageType kType = MessageType::kScheduleCreateRequest;
  std::string name;
  std::string template_name;
  std::string cron;
  std::string timezone;  // "" = UTC
  std::string description;
};

struct ScheduleListRequest {
  static constexpr MessageType kType = MessageType::kScheduleListRequest;
  std::string owner;  // filter; "" = anyone's
};

struct ScheduleListReply {
  static constexpr MessageType kType = MessageType::kScheduleListReply;
  std::vector<ScheduleInfo> schedules;  // by name
};

struct ScheduleShowRequest {
  static constexpr MessageType kType = MessageType::kScheduleShowRequest;
  std::string name;
};

struct ScheduleShowReply {
  static constexpr MessageType kType = MessageType::kScheduleShowReply;
  ScheduleInfo schedule;
  std::vector<int64_t> upcoming_us;  // its next few times (none while paused)
};

// "pause", "resume" (the next time is counted from now: missed times are not made up) or
// "delete" (its jobs stay). Its owner or an admin. Reply: OkReply.
struct ScheduleActionRequest {
  static constexpr MessageType kType = MessageType::kScheduleActionRequest;
  std::string name;
  std::string action;
};

}  // namespace labmesh::protocol
