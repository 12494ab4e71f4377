// WebApi's templates and schedules (docs/schedules.md): the lists and one of each as JSON
// (protocol/json.hpp's views, as `labmesh --json` prints them), saving a job as a template,
// deleting one, creating a schedule and pausing, resuming or deleting it. Bodies are checked
// here (JSON object, known keys, value types); names, cron and zones by the coordinator.

#include <cstdint>

#include "labmesh/protocol/json.hpp"
#include "labmesh/protocol/messages.hpp"
#include "labmesh/webui/url.hpp"
#include "labmesh/webui/web_api.hpp"
#include "body_fields.hpp"
#include "web_api_ask.hpp"
#include "web_common.hpp"

namespace labmesh::webui {
namespace {

nlohmann::json ScheduleShowJson(const protocol::ScheduleShowReply& reply) {
  nlohmann::json j = protocol::ToJson(reply.schedule);
  nlohmann::json upcoming = nlohmann::json::array();
  for (int64_t at : reply.upcoming_us) upcoming.push_back(protocol::WallTimeUsJson(at));
  j["upcoming"] = std::move(upcoming);
  return j;
}

}  // namespace

HttpResponse WebApi::ListTemplates(const Who& who, const std::string& query) {
  auto params = ParseQuery(query);
  if (!params.ok()) return JsonError(params.status());
  auto reply = Ask<protocol::TemplateListReply>(
      protocol::TemplateListRequest{Param(*params, "owner")}, who);
  if (!reply.ok()) return JsonError(reply.status());
  nlohmann::json array = nlohmann::json::array();
  for (const auto& t : reply->templates) array.push_back(protocol::ToJson(t, false));
  return Json(200, array);
}

HttpResponse WebApi::ShowTemplate(const Who& who, const std::string& name) {
  auto reply = Ask<protocol::TemplateShowReply>(protocol::TemplateShowRequest{name}, who);
  if (!reply.ok()) return JsonError(reply.status());
  nlohmann::json j = protocol::ToJson(reply->template_info);
  j["schedules"] = reply->schedules;
  return Json(200, j);
}

// POST /api/v1/templates {"name", "description", "from_job", "replace"}: the page saves a job's
// definition (`labmesh template save NAME --from-job ID`).
HttpResponse WebApi::SaveTemplate(const HttpRequest& http, const Who& who) {
  auto body = BodyFields::Parse(http.body, {"name", "description", "from_job", "replace"});
  if (!body.ok()) return JsonError(body.status());
  protocol::TemplateSaveRequest request;
  for (const Status& s : {body->String("name", &request.name),
                          body->String("description", &request.description),
                          body->Integer("from_job", &request.from_job),
                          body->Bool("replace", &request.replace)}) {
    if (!s.ok()) return JsonError(s);
  }
  if (request.from_job == 0) {
    return JsonError(Status::InvalidArgument("from_job (the job to keep as a template) is needed"));
  }
  auto reply = Ask<protocol::OkReply>(request, who);
  if (!reply.ok()) return JsonError(reply.status());
  return Json(201, nlohmann::json{{"name", request.name}, {"saved", true}});
}

HttpResponse WebApi::DeleteTemplate(const HttpRequest& http, const Who& who,
                                    const std::string& name) {
  auto body = BodyFields::Parse(http.body, {});
  if (!body.ok()) return JsonError(body.status());
  auto reply = Ask<protocol::OkReply>(protocol::TemplateDeleteRequest{name}, who);
  if (!reply.ok()) return JsonError(reply.status());
  return Json(200, nlohmann::json{{"deleted", true}});
}

HttpResponse WebApi::ListSchedules(const Who& who, const std::string& query) {
  auto params = ParseQuery(query);
  if (!params.ok()) return JsonError(params.status());
  auto reply = Ask<protocol::ScheduleListReply>(
      protocol::ScheduleListRequest{Param(*params, "owner")}, who);
  if (!reply.ok()) return JsonError(reply.status());
  nlohmann::json array = nlohmann::json::array();
  for (const auto& s : reply->schedules) array.push_back(protocol::ToJson(s));
  return Json(200, array);
}

HttpResponse WebApi::ShowSchedule(const Who& who, const std::string& name) {
  auto reply = Ask<protocol::ScheduleShowReply>(protocol::ScheduleShowRequest{name}, who);
  if (!reply.ok()) return JsonError(reply.status());
  return Json(200, ScheduleShowJson(*reply));
}

// POST /api/v1/schedules {"name", "template", "cron", "timezone", "description"}.
HttpResponse WebApi::CreateSchedule(const HttpRequest& http, const Who& who) {
  auto body = BodyFields::Parse(http.body, {"name", "template", "cron", "timezone", "description"});
  if (!body.ok()) return JsonError(body.status());
  protocol::ScheduleCreateRequest request;
  for (const Status& s : {body->String("name", &request.name),
                          body->String("template", &request.template_name),
                          body->String("cron", &request.cron),
                          body->String("timezone", &request.timezone),
                          body->String("description", &request.description)}) {
    if (!s.ok()) return JsonError(s);
  }
  auto reply = Ask<protocol::ScheduleShowReply>(request, who);
  if (!reply.ok()) return JsonError(reply.status());
  HttpResponse response = Json(201, ScheduleShowJson(*reply));
  response.headers.emplace_back("Location", "/api/v1/schedules/" + request.name);
  return response;
}

HttpResponse WebApi::ScheduleAction(const HttpRequest& http, const Who& who,
                                    const std::string& name, const std::string& action) {
  auto body = BodyFields::Parse(http.body, {});
  if (!body.ok()) return JsonError(body.status());
  auto reply = Ask<protocol::OkReply>(protocol::ScheduleActionRequest{name, action}, who);
  if (!reply.ok()) return JsonError(reply.status());
  return Json(200, nlohmann::json{{"ok", true}, {"message", reply->message}});
}

}  // namespace labmesh::webui
