#pragma once
// `labmesh template create|save|list|show|delete` (saved job definitions) and `labmesh schedule
// create|list|show|pause|resume|delete` (jobs made from a template on a cron expression's
// times); docs/schedules.md and docs/cli.md.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "labmesh/cli/cli_util.hpp"
#include "labmesh/cli/job_flags.hpp"
#include "labmesh/client/api_client.hpp"

namespace labmesh::cli {

class ScheduleCommands {
 public:
  // Adds `template` and `schedule` to `app`; choosing a verb sets `action`. `app`, `g` and
  // `action` must outlive this object, and this object the parse and the action.
  ScheduleCommands(CLI::App& app, const Globals& g, Action& action);
  ScheduleCommands(const ScheduleCommands&) = delete;
  ScheduleCommands& operator=(const ScheduleCommands&) = delete;

 private:
  int TemplateCreate(client::ApiClient& api);
  int TemplateSave(client::ApiClient& api);
  int TemplateList(client::ApiClient& api);
  int TemplateShow(client::ApiClient& api);
  int TemplateDelete(client::ApiClient& api);
  int ScheduleCreate(client::ApiClient& api);
  int ScheduleList(client::ApiClient& api);
  int ScheduleShow(client::ApiClient& api);
  int ScheduleAction(client::ApiClient& api, const std::string& action);

  const Globals& g_;
  std::string name_;
  std::string description_;
  bool replace_ = false;
  JobFlags job_flags_;
  uint64_t from_job_ = 0;
  std::string owner_;
  std::string template_;
  std::string cron_;
  std::string timezone_;
};

}  // namespace labmesh::cli
