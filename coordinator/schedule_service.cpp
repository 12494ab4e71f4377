#include "schedule_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <climits>

#include "job_rules.hpp"
#include "job_service.hpp"
#include "job_view.hpp"
#include "labmesh/protocol/messages.hpp"
#include "schedule_rules.hpp"

namespace labmesh::coordinator {
namespace {

using T = protocol::MessageType;

constexpr size_t kUpcomingShown = 5;
constexpr int64_t kRetryAfterFailedCommitMs = 5000;

Status CheckDescription(const std::string& description) {
  if (description.size() > kMaxDescriptionBytes) {
    return Status::InvalidArgument("description is longer than " +
                                   std::to_string(kMaxDescriptionBytes) + " bytes");
  }
  return Status::Ok();
}

Status MayChange(const Principal& who, std::string_view what, const std::string& name,
                 const std::string& owner) {
  if (who.admin || who.user == owner) return Status::Ok();
  return Status::PermissionDenied(std::string(what) + " " + name + " belongs to " + owner +
                                  "; only its owner or an admin may change it");
}

// The cron expression and zone of a schedule, read again (they were checked when it was made).
Result<int64_t> NextTime(const protocol::ScheduleInfo& schedule, int64_t after_us) {
  auto spec = ParseCron(schedule.cron);
  if (!spec.ok()) return spec.status();
  return NextCronTimeUs(*spec, schedule.timezone, after_us);
}

}  // namespace

ScheduleService::ScheduleService(const Clock* clock, store::Store* store, Batch* batch,
                                 JobService* jobs)
    : clock_(clock), store_(store), batch_(batch), jobs_(jobs) {}

Status ScheduleService::Load() {
  auto all = store_->ListSchedules();
  if (!all.ok()) return all.status();
  schedules_.clear();
  for (protocol::ScheduleInfo& schedule : *all) {
    std::string name = schedule.name;
    schedules_.emplace(std::move(name), std::move(schedule));
  }
  UpdateNextDue();
  return Status::Ok();
}

void ScheduleService::HandleApi(const std::string& routing_id, const protocol::Envelope& e,
                                const Principal& who, const Reply& reply) {
  switch (e.type) {
    case T::kTemplateSaveRequest: return SaveTemplate(routing_id, e, who);
    case T::kTemplateDeleteRequest: return DeleteTemplate(routing_id, e, who);
    case T::kTemplateListRequest: return reply(ListTemplates(e));
    case T::kTemplateShowRequest: return reply(ShowTemplate(e));
    case T::kScheduleCreateRequest: return CreateSchedule(routing_id, e, who);
    case T::kScheduleActionRequest: return ScheduleAction(routing_id, e, who);
    case T::kScheduleListRequest: return reply(ListSchedules(e));
    case T::kScheduleShowRequest: return reply(ShowSchedule(e));
    default:
      return reply(protocol::ErrorFrame(e.request_id,
                                        Status::Unsupported("not a template or schedule request")));
  }
}

// ---- templates ----

Result<protocol::JobCreateRequest> ScheduleService::DefinitionOf(uint64_t id) const {
  auto job = store_->GetJob(id);
  if (!job.ok()) return job.status();
  if (!job->has_value()) return Status::NotFound("job " + std::to_string(id) + " not found");
  const store::Job& j = **job;
  if (j.control_kind != "command" && j.control_kind != "test" && j.control_kind != "control") {
    return Status::FailedPrecondition("job " + std::to_string(id) + " is a " + j.control_kind +
                                      " of results, not a job that can run again");
  }
  return protocol::JobDefinitionOf(ToJobInfo(j, {}, /*with_control=*/true));
}

void ScheduleService::SaveTemplate(const std::string& routing_id, const protocol::Envelope& e,
                                   const Principal& who) {
  auto refuse = [&](const Status& status) {
    batch_->ToApi(routing_id, protocol::ErrorFrame(e.request_id, status), e.request_id);
  };
  auto request = protocol::DecodeBody<protocol::TemplateSaveRequest>(e);
  if (!request.ok()) return refuse(request.status());
  if (Status s = ValidateWorkflowName("template", request->name); !s.ok()) return refuse(s);
  if (Status s = CheckDescription(request->description); !s.ok()) return refuse(s);
  protocol::JobCreateRequest job = request->job;
  if (request->from_job != 0) {
    auto from = DefinitionOf(request->from_job);
    if (!from.ok()) return refuse(from.status());
    job = std::move(*from);
  }
  if (!job.after.empty() || job.after_any) {
    return refuse(Status::InvalidArgument(
        "a template cannot wait for jobs (--after names jobs that exist once); give --after "
        "to `job create --template` instead"));
  }
  if (!job.template_name.empty()) {
    return refuse(Status::InvalidArgument("a template cannot name another template"));
  }
  // Checked as `job create` checks a job (its owner is whoever makes one from it).
  job.user = who.user;
  auto spec = ValidateJobSpec(job);
  if (!spec.ok()) return refuse(spec.status());
  job = spec->request;
  job.user.clear();

  auto existing = store_->GetTemplate(request->name);
  if (!existing.ok()) return refuse(existing.status());
  int64_t now = clock_->WallUs();
  protocol::TemplateInfo saved;
  saved.name = request->name;
  saved.owner = who.user;
  saved.created_us = now;
  if (existing->has_value()) {
    const protocol::TemplateInfo& old = **existing;
    if (!request->replace) {
      return refuse(Status::AlreadyExists("template " + request->name + " exists (owner " +
                                          old.owner + "); give --replace to change it"));
    }
    if (Status s = MayChange(who, "template", old.name, old.owner); !s.ok()) return refuse(s);
    saved.owner = old.owner;
    saved.created_us = old.created_us;
  }
  saved.description = request->description;
  saved.job = std::move(job);
  saved.updated_us = now;
  spdlog::info("template {} saved by {}{}", saved.name, who.user,
               request->from_job != 0 ? " from job " + std::to_string(request->from_job) : "");
  batch_->writes().PutTemplate(std::move(saved));
  batch_->MarkDurable();
  batch_->ToApi(routing_id, protocol::Encode(protocol::OkReply{"template saved"}, e.request_id),
                e.request_id);
}

void ScheduleService::DeleteTemplate(const std::string& routing_id, const protocol::Envelope& e,
                                     const Principal& who) {
  auto refuse = [&](const Status& status) {
    batch_->ToApi(routing_id, protocol::ErrorFrame(e.request_id, status), e.request_id);
  };
  auto request = protocol::DecodeBody<protocol::TemplateDeleteRequest>(e);
  if (!request.ok()) return refuse(request.status());
  if (Status s = ValidateWorkflowName("template", request->name); !s.ok()) return refuse(s);
  auto existing = store_->GetTemplate(request->name);
  if (!existing.ok()) return refuse(existing.status());
  if (!existing->has_value()) {
    return refuse(Status::NotFound("template " + request->name + " does not exist"));
  }
  if (Status s = MayChange(who, "template", request->name, (*existing)->owner); !s.ok()) {
    return refuse(s);
  }
  std::string users;
  for (const auto& [name, schedule] : schedules_) {
    if (schedule.template_name == request->name) users += (users.empty() ? "" : ", ") + name;
  }
  if (!users.empty()) {
    return refuse(Status::FailedPrecondition("template " + request->name +
                                             " is used by schedule(s) " + users +
                                             "; delete them first"));
  }
  spdlog::info("template {} deleted by {}", request->name, who.user);
  batch_->writes().DeleteTemplate(request->name);
  batch_->MarkDurable();
  batch_->ToApi(routing_id, protocol::Encode(protocol::OkReply{"template deleted"}, e.request_id),
                e.request_id);
}

std::string ScheduleService::ListTemplates(const protocol::Envelope& e) const {
  auto request = protocol::DecodeBody<protocol::TemplateListRequest>(e);
  if (!request.ok()) return protocol::ErrorFrame(e.request_id, request.status());
  auto all = store_->ListTemplates();
  if (!all.ok()) return protocol::ErrorFrame(e.request_id, all.status());
  protocol::TemplateListReply reply;
  for (protocol::TemplateInfo& t : *all) {
    if (!request->owner.empty() && t.owner != request->owner) continue;
    t.job.control.clear();
    reply.templates.push_back(std::move(t));
  }
  return protocol::Encode(reply, e.request_id);
}

std::string ScheduleService::ShowTemplate(const protocol::Envelope& e) const {
  auto request = protocol::DecodeBody<protocol::TemplateShowRequest>(e);
  if (!request.ok()) return protocol::ErrorFrame(e.request_id, request.status());
  if (Status s = ValidateWorkflowName("template", request->name); !s.ok()) {
    return protocol::ErrorFrame(e.request_id, s);
  }
  auto found = store_->GetTemplate(request->name);
  if (!found.ok()) return protocol::ErrorFrame(e.request_id, found.status());
  if (!found->has_value()) {
    return protocol::ErrorFrame(e.request_id,
                                Status::NotFound("template " + request->name + " does not exist"));
  }
  protocol::TemplateShowReply reply;
  reply.template_info = std::move(**found);
  for (const auto& [name, schedule] : schedules_) {
    if (schedule.template_name == request->name) reply.schedules.push_back(name);
  }
  return protocol::Encode(reply, e.request_id);
}

// ---- schedules ----

void ScheduleService::CreateSchedule(const std::string& routing_id, const protocol::Envelope& e,
                                     const Principal& who) {
  auto refuse = [&](const Status& status) {
    batch_->ToApi(routing_id, protocol::ErrorFrame(e.request_id, status), e.request_id);
  };
  auto request = protocol::DecodeBody<protocol::ScheduleCreateRequest>(e);
  if (!request.ok()) return refuse(request.status());
  if (Status s = ValidateWorkflowName("schedule", request->name); !s.ok()) return refuse(s);
  if (Status s = CheckDescription(request->description); !s.ok()) return refuse(s);
  if (schedules_.count(request->name) > 0) {
    return refuse(Status::AlreadyExists("schedule " + request->name + " exists (owner " +
                                        schedules_.at(request->name).owner + ")"));
  }
  auto spec = ParseCron(request->cron);
  if (!spec.ok()) return refuse(spec.status());
  auto zone = CanonicalTimeZone(request->timezone);
  if (!zone.ok()) return refuse(zone.status());
  if (Status s = ValidateWorkflowName("template", request->template_name); !s.ok()) {
    return refuse(s);
  }
  auto used = store_->GetTemplate(request->template_name);
  if (!used.ok()) return refuse(used.status());
  if (!used->has_value()) {
    return refuse(Status::NotFound("template " + request->template_name + " does not exist"));
  }
  int64_t now = clock_->WallUs();
  auto next = NextCronTimeUs(*spec, *zone, now);
  if (!next.ok()) return refuse(Status::InvalidArgument("cron '" + request->cron + "': " +
                                                        next.status().message()));
  protocol::ScheduleInfo schedule;
  schedule.name = request->name;
  schedule.owner = who.user;
  schedule.template_name = request->template_name;
  schedule.cron = request->cron;
  schedule.timezone = *zone;
  schedule.description = request->description;
  schedule.created_us = now;
  schedule.next_run_us = *next;
  spdlog::info("schedule {} created by {}: template {}, cron '{}' in {}", schedule.name, who.user,
               schedule.template_name, schedule.cron, schedule.timezone);
  Stage(schedule);
  protocol::ScheduleShowReply reply{schedule,
                                    UpcomingCronTimesUs(*spec, *zone, now, kUpcomingShown)};
  batch_->ToApi(routing_id, protocol::Encode(reply, e.request_id), e.request_id);
}

void ScheduleService::ScheduleAction(const std::string& routing_id, const protocol::Envelope& e,
                                     const Principal& who) {
  auto refuse = [&](const Status& status) {
    batch_->ToApi(routing_id, protocol::ErrorFrame(e.request_id, status), e.request_id);
  };
  auto request = protocol::DecodeBody<protocol::ScheduleActionRequest>(e);
  if (!request.ok()) return refuse(request.status());
  auto it = schedules_.find(request->name);
  if (it == schedules_.end()) {
    return refuse(Status::NotFound("schedule " + request->name + " does not exist"));
  }
  protocol::ScheduleInfo schedule = it->second;
  if (Status s = MayChange(who, "schedule", schedule.name, schedule.owner); !s.ok()) {
    return refuse(s);
  }
  std::string done;
  if (request->action == "pause") {
    schedule.paused = true;
    done = "schedule paused";
  } else if (request->action == "resume") {
    // From now on: the times it missed while paused are not made up.
    auto next = NextTime(schedule, clock_->WallUs());
    if (!next.ok()) return refuse(next.status());
    schedule.paused = false;
    schedule.next_run_us = *next;
    done = "schedule resumed";
  } else if (request->action == "delete") {
    spdlog::info("schedule {} deleted by {}", schedule.name, who.user);
    StageDelete(schedule.name);
    batch_->ToApi(routing_id,
                  protocol::Encode(protocol::OkReply{"schedule deleted"}, e.request_id),
                  e.request_id);
    return;
  } else {
    return refuse(Status::InvalidArgument("unknown schedule action '" + request->action +
                                          "' (pause, resume or delete)"));
  }
  spdlog::info("schedule {}: {} by {}", schedule.name, request->action, who.user);
  Stage(schedule);
  batch_->ToApi(routing_id, protocol::Encode(protocol::OkReply{done}, e.request_id),
                e.request_id);
}

std::string ScheduleService::ListSchedules(const protocol::Envelope& e) const {
  auto request = protocol::DecodeBody<protocol::ScheduleListRequest>(e);
  if (!request.ok()) return protocol::ErrorFrame(e.request_id, request.status());
  protocol::ScheduleListReply reply;
  for (const auto& [name, schedule] : schedules_) {
    if (!request->owner.empty() && schedule.owner != request->owner) continue;
    reply.schedules.push_back(schedule);
  }
  return protocol::Encode(reply, e.request_id);
}

std::string ScheduleService::ShowSchedule(const protocol::Envelope& e) const {
  auto request = protocol::DecodeBody<protocol::ScheduleShowRequest>(e);
  if (!request.ok()) return protocol::ErrorFrame(e.request_id, request.status());
  auto it = schedules_.find(request->name);
  if (it == schedules_.end()) {
    return protocol::ErrorFrame(e.request_id,
                                Status::NotFound("schedule " + request->name + " does not exist"));
  }
  protocol::ScheduleShowReply reply;
  reply.schedule = it->second;
  if (!reply.schedule.paused && reply.schedule.next_run_us > 0) {
    auto spec = ParseCron(reply.schedule.cron);
    if (spec.ok()) {
      reply.upcoming_us.push_back(reply.schedule.next_run_us);
      for (int64_t at : UpcomingCronTimesUs(*spec, reply.schedule.timezone,
                                            reply.schedule.next_run_us, kUpcomingShown - 1)) {
        reply.upcoming_us.push_back(at);
      }
    }
  }
  return protocol::Encode(reply, e.request_id);
}

// ---- running ----

void ScheduleService::Step() {
  if (clock_->SteadyMs() < retry_after_ms_) return;  // a commit failed: not every turn
  int64_t now = clock_->WallUs();
  if (now < next_due_us_) return;
  std::vector<std::string> due;
  for (const auto& [name, schedule] : schedules_) {
    if (!schedule.paused && schedule.next_run_us > 0 && schedule.next_run_us <= now) {
      due.push_back(name);
    }
  }
  for (const std::string& name : due) {
    protocol::ScheduleInfo schedule = schedules_.at(name);
    Run(schedule, now);
    Stage(schedule);
  }
  UpdateNextDue();
}

void ScheduleService::Run(protocol::ScheduleInfo& schedule, int64_t now_us) {
  schedule.last_run_us = now_us;
  auto made = [&]() -> Result<uint64_t> {
    auto found = store_->GetTemplate(schedule.template_name);
    if (!found.ok()) return found.status();
    if (!found->has_value()) {
      return Status::NotFound("template " + schedule.template_name + " does not exist");
    }
    protocol::JobCreateRequest request = (*found)->job;
    request.user = schedule.owner;
    request.template_name = schedule.template_name;
    if (request.name.empty()) request.name = schedule.name;
    return jobs_->CreateJob(std::move(request), schedule.name);
  }();
  if (made.ok()) {
    schedule.last_job_id = *made;
    schedule.last_error.clear();
    ++schedule.jobs_created;
    spdlog::info("schedule {} created job {}", schedule.name, *made);
  } else {
    schedule.last_error = made.status().message();
    spdlog::warn("schedule {} made no job: {}", schedule.name, schedule.last_error);
  }
  // The next time after now: a time missed while the coordinator was down runs once.
  auto next = NextTime(schedule, now_us);
  if (next.ok()) {
    schedule.next_run_us = *next;
  } else {
    schedule.next_run_us = 0;  // never again
    schedule.last_error = next.status().message();
  }
}

void ScheduleService::Stage(const protocol::ScheduleInfo& schedule) {
  batch_->writes().PutSchedule(schedule);
  batch_->MarkDurable();
  schedules_[schedule.name] = schedule;
  batch_->OnFailure([this](const Status&) { OnCommitFailed(); });
  UpdateNextDue();
}

void ScheduleService::StageDelete(const std::string& name) {
  batch_->writes().DeleteSchedule(name);
  batch_->MarkDurable();
  schedules_.erase(name);
  batch_->OnFailure([this](const Status&) { OnCommitFailed(); });
  UpdateNextDue();
}

void ScheduleService::OnCommitFailed() {
  (void)Load();  // what the store has: the run is made again, once, when the store takes it
  // A due schedule would otherwise try again at once, every turn, while the disk is full.
  retry_after_ms_ = clock_->SteadyMs() + kRetryAfterFailedCommitMs;
}

void ScheduleService::UpdateNextDue() {
  next_due_us_ = INT64_MAX;
  for (const auto& [name, schedule] : schedules_) {
    if (!schedule.paused && schedule.next_run_us > 0) {
      next_due_us_ = std::min(next_due_us_, schedule.next_run_us);
    }
  }
}

int64_t ScheduleService::NextDeadlineMs() const {
  if (next_due_us_ == INT64_MAX) return INT64_MAX;
  int64_t wait_ms = (next_due_us_ - clock_->WallUs() + 999) / 1000;
  return std::max(clock_->SteadyMs() + std::max<int64_t>(wait_ms, 0), retry_after_ms_);
}

}  // namespace labmesh::coordinator
