#include "labmesh/cli/schedule_commands.hpp"

#include <iomanip>
#include <iostream>

#include "labmesh/protocol/json.hpp"
#include "table.hpp"

namespace labmesh::cli {
namespace {

void Line(const char* key, const std::string& value) {
  std::cout << std::left << std::setw(14) << key << value << "\n";
}

std::string TimeUsOrDash(int64_t us) { return WallTimeOrDash(us / 1000); }

// What a definition runs and where, in one phrase each: "command: make check", "2 hosts with
// label gpu".
std::string WhatText(const protocol::JobCreateRequest& job) {
  if (!job.command.empty()) return "command: " + job.command;
  if (!job.test.empty()) return "test: " + job.test;
  return "control script (" + std::to_string(job.control.size()) + " bytes)";
}

std::string WhereText(const protocol::JobCreateRequest& job) {
  std::string out;
  for (const std::string& host : job.hosts) out += (out.empty() ? "" : ",") + host;
  if (job.meta_count > 0) {
    if (!out.empty()) out += " + ";
    out += std::to_string(job.meta_count) + " with label " + job.meta_label;
  }
  return out;
}

}  // namespace

ScheduleCommands::ScheduleCommands(CLI::App& app, const Globals& g, Action& action) : g_(g) {
  auto on = [this, &action](CLI::App* cmd, int (ScheduleCommands::*verb)(client::ApiClient&)) {
    cmd->callback([this, &action, verb] {
      action = [this, verb](client::ApiClient& api) { return (this->*verb)(api); };
    });
  };

  auto* tmpl = app.add_subcommand("template", "saved job definitions: jobs and schedules start "
                                              "from them")
                   ->require_subcommand(1);
  auto* create = tmpl->add_subcommand(
      "create", "save a job definition under NAME from job create's flags (--name defaults to "
                "NAME)");
  create->add_option("name", name_, "template name: 1-64 of A-Z a-z 0-9 . _ -")->required();
  create->add_option("--description", description_, "what it is for");
  create->add_flag("--replace", replace_, "replace a template of that name (yours, or as admin)");
  job_flags_.Add(create);
  on(create, &ScheduleCommands::TemplateCreate);

  auto* save = tmpl->add_subcommand("save", "save the definition of job ID under NAME");
  save->add_option("name", name_, "template name")->required();
  save->add_option("--from-job", from_job_, "the job whose definition to keep")
      ->required()
      ->check(CLI::PositiveNumber);
  save->add_option("--description", description_, "what it is for");
  save->add_flag("--replace", replace_, "replace a template of that name (yours, or as admin)");
  on(save, &ScheduleCommands::TemplateSave);

  auto* tlist = tmpl->add_subcommand("list", "the templates");
  tlist->add_option("--owner", owner_, "only this user's");
  on(tlist, &ScheduleCommands::TemplateList);
  auto* tshow = tmpl->add_subcommand("show", "one template, with the schedules that use it");
  tshow->add_option("name", name_, "template name")->required();
  on(tshow, &ScheduleCommands::TemplateShow);
  auto* tdelete = tmpl->add_subcommand("delete", "delete a template no schedule uses");
  tdelete->add_option("name", name_, "template name")->required();
  on(tdelete, &ScheduleCommands::TemplateDelete);

  auto* schedule = app.add_subcommand("schedule", "jobs made from a template at the times of a "
                                                  "cron expression")
                       ->require_subcommand(1);
  auto* screate = schedule->add_subcommand("create", "create a schedule; prints its next times");
  screate->add_option("name", name_, "schedule name: 1-64 of A-Z a-z 0-9 . _ -")->required();
  screate->add_option("--template", template_, "the template its jobs are made from")
      ->required();
  screate->add_option("--cron", cron_,
                      "when: minute hour day-of-month month day-of-week (\"0 2 * * *\" = 02:00 "
                      "every day), or @daily, @hourly, @weekly, @monthly, @yearly")
      ->required();
  screate->add_option("--timezone", timezone_,
                      "the zone the times are in: an IANA name such as Europe/Berlin (default "
                      "UTC)");
  screate->add_option("--description", description_, "what it is for");
  on(screate, &ScheduleCommands::ScheduleCreate);
  auto* slist = schedule->add_subcommand("list", "the schedules with their next and last runs");
  slist->add_option("--owner", owner_, "only this user's");
  on(slist, &ScheduleCommands::ScheduleList);
  auto* sshow = schedule->add_subcommand("show", "one schedule with its next times");
  sshow->add_option("name", name_, "schedule name")->required();
  on(sshow, &ScheduleCommands::ScheduleShow);
  for (const char* verb : {"pause", "resume", "delete"}) {
    std::string help = std::string(verb) == "pause"    ? "stop making jobs until resumed"
                       : std::string(verb) == "resume" ? "make jobs again from the next time on "
                                                         "(missed times are not made up)"
                                                       : "delete the schedule (its jobs stay)";
    auto* cmd = schedule->add_subcommand(verb, help);
    cmd->add_option("name", name_, "schedule name")->required();
    cmd->callback([this, &action, verb = std::string(verb)] {
      action = [this, verb](client::ApiClient& api) { return ScheduleAction(api, verb); };
    });
  }
}

// ---- templates ----

int ScheduleCommands::TemplateCreate(client::ApiClient& api) {
  JobBase base;
  base.args.name = name_;  // the job's name, unless --name says otherwise
  base.args.control_file.clear();
  auto job = BuildFromBase(base, job_flags_, UserOf(g_));
  if (!job.ok()) return UsageError("template create: " + job.status().message());
  job->user.clear();
  protocol::TemplateSaveRequest request;
  request.name = name_;
  request.description = description_;
  request.job = std::move(*job);
  request.replace = replace_;
  auto reply = api.Call<protocol::OkReply>(request);
  if (!reply.ok()) return Fail(reply.status());
  PrintOk(*reply, g_.json);
  return kExitOk;
}

int ScheduleCommands::TemplateSave(client::ApiClient& api) {
  protocol::TemplateSaveRequest request;
  request.name = name_;
  request.description = description_;
  request.from_job = from_job_;
  request.replace = replace_;
  auto reply = api.Call<protocol::OkReply>(request);
  if (!reply.ok()) return Fail(reply.status());
  PrintOk(*reply, g_.json);
  return kExitOk;
}

int ScheduleCommands::TemplateList(client::ApiClient& api) {
  auto reply = api.Call<protocol::TemplateListReply>(protocol::TemplateListRequest{owner_});
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    nlohmann::json array = nlohmann::json::array();
    for (const auto& t : reply->templates) array.push_back(protocol::ToJson(t, false));
    std::cout << Dump(array) << "\n";
    return kExitOk;
  }
  Table table({"NAME", "OWNER", "JOB NAME", "RUNS", "WHERE", "DESCRIPTION"});
  for (const auto& t : reply->templates) {
    std::string what = !t.job.command.empty() ? "command"
                       : !t.job.test.empty()  ? "test " + t.job.test
                                              : "control";
    table.Add({t.name, t.owner, t.job.name, what, WhereText(t.job),
               t.description.substr(0, t.description.find('\n'))});
  }
  table.Print(std::cout);
  return kExitOk;
}

int ScheduleCommands::TemplateShow(client::ApiClient& api) {
  auto reply = api.Call<protocol::TemplateShowReply>(protocol::TemplateShowRequest{name_});
  if (!reply.ok()) return Fail(reply.status());
  const protocol::TemplateInfo& t = reply->template_info;
  if (g_.json) {
    nlohmann::json j = protocol::ToJson(t);
    j["schedules"] = reply->schedules;
    std::cout << Dump(j) << "\n";
    return kExitOk;
  }
  const protocol::JobCreateRequest& job = t.job;
  Line("name", t.name);
  Line("owner", t.owner);
  Line("description", t.description);
  Line("job name", job.name);
  Line("runs", WhatText(job));
  Line("hosts", WhereText(job));
  if (!job.depends.empty()) {
    std::string depends;
    for (const auto& d : job.depends) depends += (depends.empty() ? "" : ",") + d;
    Line("depends", depends);
  }
  Line("priority", job.priority);
  Line("synch count", std::to_string(job.synch_count));
  if (job.timeout_ms > 0) Line("timeout", std::to_string(job.timeout_ms) + " ms");
  if (job.max_runtime_ms > 0) Line("max runtime", std::to_string(job.max_runtime_ms) + " ms");
  if (job.retry > 0) Line("retry", std::to_string(job.retry));
  for (const auto& target : job.notify) Line("notify", target);
  std::string schedules;
  for (const auto& s : reply->schedules) schedules += (schedules.empty() ? "" : ", ") + s;
  Line("schedules", schedules.empty() ? "-" : schedules);
  Line("updated", TimeUsOrDash(t.updated_us));
  if (!job.control.empty()) {
    std::cout << "control:\n" << job.control;
    if (job.control.back() != '\n') std::cout << "\n";
  }
  return kExitOk;
}

int ScheduleCommands::TemplateDelete(client::ApiClient& api) {
  auto reply = api.Call<protocol::OkReply>(protocol::TemplateDeleteRequest{name_});
  if (!reply.ok()) return Fail(reply.status());
  PrintOk(*reply, g_.json);
  return kExitOk;
}

// ---- schedules ----

namespace {

void PrintSchedule(const protocol::ScheduleShowReply& reply, bool json) {
  const protocol::ScheduleInfo& s = reply.schedule;
  if (json) {
    nlohmann::json j = protocol::ToJson(s);
    nlohmann::json upcoming = nlohmann::json::array();
    for (int64_t at : reply.upcoming_us) upcoming.push_back(protocol::WallTimeUsJson(at));
    j["upcoming"] = std::move(upcoming);
    std::cout << Dump(j) << "\n";
    return;
  }
  Line("name", s.name);
  Line("owner", s.owner);
  Line("template", s.template_name);
  Line("cron", s.cron + " (" + s.timezone + ")");
  Line("state", s.paused ? "paused" : "active");
  if (!s.description.empty()) Line("description", s.description);
  Line("jobs created", std::to_string(s.jobs_created));
  Line("last run", TimeUsOrDash(s.last_run_us) +
                       (s.last_job_id != 0 ? " (job " + std::to_string(s.last_job_id) + ")" : ""));
  if (!s.last_error.empty()) Line("last error", s.last_error);
  for (size_t i = 0; i < reply.upcoming_us.size(); ++i) {
    Line(i == 0 ? "next runs" : "", TimeUsOrDash(reply.upcoming_us[i]));
  }
}

}  // namespace

int ScheduleCommands::ScheduleCreate(client::ApiClient& api) {
  protocol::ScheduleCreateRequest request{name_, template_, cron_, timezone_, description_};
  auto reply = api.Call<protocol::ScheduleShowReply>(request);
  if (!reply.ok()) return Fail(reply.status());
  PrintSchedule(*reply, g_.json);
  return kExitOk;
}

int ScheduleCommands::ScheduleList(client::ApiClient& api) {
  auto reply = api.Call<protocol::ScheduleListReply>(protocol::ScheduleListRequest{owner_});
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    nlohmann::json array = nlohmann::json::array();
    for (const auto& s : reply->schedules) array.push_back(protocol::ToJson(s));
    std::cout << Dump(array) << "\n";
    return kExitOk;
  }
  Table table({"NAME", "OWNER", "TEMPLATE", "CRON", "TIMEZONE", "NEXT RUN", "LAST JOB", "JOBS"});
  for (const auto& s : reply->schedules) {
    table.Add({s.name, s.owner, s.template_name, s.cron, s.timezone,
               s.paused ? "paused" : TimeUsOrDash(s.next_run_us),
               s.last_job_id == 0 ? "-"
                                  : std::to_string(s.last_job_id) +
                                        (s.last_error.empty() ? "" : " (last run failed)"),
               std::to_string(s.jobs_created)});
  }
  table.Print(std::cout);
  return kExitOk;
}

int ScheduleCommands::ScheduleShow(client::ApiClient& api) {
  auto reply = api.Call<protocol::ScheduleShowReply>(protocol::ScheduleShowRequest{name_});
  if (!reply.ok()) return Fail(reply.status());
  PrintSchedule(*reply, g_.json);
  return kExitOk;
}

int ScheduleCommands::ScheduleAction(client::ApiClient& api, const std::string& action) {
  auto reply = api.Call<protocol::OkReply>(protocol::ScheduleActionRequest{name_, action});
  if (!reply.ok()) return Fail(reply.status());
  PrintOk(*reply, g_.json);
  return kExitOk;
}

}  // namespace labmesh::cli
