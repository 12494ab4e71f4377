// WebApi's changes (POST: jobs, aborts, host actions) and the readers the job and create pages
// add (the log, the test catalog). Each body is checked here (JSON object, known keys, value
// types) before the coordinator is asked; what is allowed is the coordinator's decision.

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "labmesh/protocol/json.hpp"
#include "labmesh/protocol/messages.hpp"
#include "labmesh/webui/url.hpp"
#include "labmesh/webui/web_api.hpp"
#include "labmesh/webui/web_auth.hpp"
#include "body_fields.hpp"
#include "web_api_ask.hpp"
#include "web_common.hpp"

namespace labmesh::webui {
namespace {

constexpr uint32_t kDefaultLogBytes = 64 * 1024;
constexpr uint32_t kMaxLogBytes = 1024 * 1024;

// Runs each check in order and gives the first failure.
Status FirstError(std::initializer_list<Status> checks) {
  for (const Status& status : checks) {
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

nlohmann::json OkJson() { return nlohmann::json{{"ok", true}}; }

}  // namespace

HttpResponse WebApi::CreateJob(const HttpRequest& http, const Who& who) {
  auto body = BodyFields::Parse(
      http.body, {"name", "user", "command", "control", "test", "hosts", "meta_label",
                  "meta_count", "depends", "synch_count", "priority", "run_verify", "timeout_ms",
                  "max_runtime_ms", "cleanup", "retry", "notify", "notify_on", "template",
                  "after", "after_any", "reserve_on_failure_ms"});
  if (!body.ok()) return JsonError(body.status());
  protocol::JobCreateRequest request;
  std::string ignored_user;  // the owner is who is logged in (the coordinator's rule)
  Status read = FirstError(
      {body->String("name", &request.name), body->String("user", &ignored_user),
       body->String("command", &request.command), body->String("control", &request.control),
       body->String("test", &request.test), body->Strings("hosts", &request.hosts),
       body->String("meta_label", &request.meta_label),
       body->Integer("meta_count", &request.meta_count),
       body->Strings("depends", &request.depends),
       body->Integer("synch_count", &request.synch_count),
       body->String("priority", &request.priority), body->Bool("run_verify", &request.run_verify),
       body->Integer("timeout_ms", &request.timeout_ms),
       body->Integer("max_runtime_ms", &request.max_runtime_ms),
       body->String("cleanup", &request.cleanup), body->Integer("retry", &request.retry),
       body->Strings("notify", &request.notify), body->String("notify_on", &request.notify_on),
       body->String("template", &request.template_name),
       body->Integers("after", &request.after), body->Bool("after_any", &request.after_any),
       body->Integer("reserve_on_failure_ms", &request.reserve_on_failure_ms)});
  if (!read.ok()) return JsonError(read);
  auto reply = Ask<protocol::JobCreateReply>(request, who);
  if (!reply.ok()) return JsonError(reply.status());
  HttpResponse response = Json(201, nlohmann::json{{"id", reply->id}});
  response.headers.emplace_back("Location", "/api/v1/jobs/" + std::to_string(reply->id));
  return response;
}

HttpResponse WebApi::AbortJob(const HttpRequest& http, const Who& who,
                              const std::string& id_text) {
  auto id = ParseDecimal("job id", id_text, UINT64_MAX);
  if (!id.ok()) return JsonError(id.status());
  auto body = BodyFields::Parse(http.body, {"host"});
  if (!body.ok()) return JsonError(body.status());
  protocol::JobAbortRequest request;
  request.id = *id;
  Status read = body->String("host", &request.host);
  if (!read.ok()) return JsonError(read);
  auto reply = Ask<protocol::OkReply>(request, who);
  if (!reply.ok()) return JsonError(reply.status());
  return Json(200, nlohmann::json{{"aborted", true}});
}

Result<protocol::JobLogRequest> WebApi::JobLogRequestFrom(
    const std::string& id_text, const std::map<std::string, std::string>& params) {
  auto id = ParseDecimal("job id", id_text, UINT64_MAX);
  if (!id.ok()) return id.status();
  protocol::JobLogRequest request;
  request.id = *id;
  request.host = Param(params, "host");
  if (request.host.empty()) return Status::InvalidArgument("the log needs host=NAME");
  LABMESH_RETURN_IF_ERROR(ValidateHostname(request.host));
  std::string offset = Param(params, "offset");
  if (!offset.empty()) {
    auto parsed = ParseDecimal("offset", offset, INT64_MAX);
    if (!parsed.ok()) return parsed.status();
    request.offset = *parsed;
  }
  request.max_bytes = kDefaultLogBytes;
  std::string max_bytes = Param(params, "max_bytes");
  if (!max_bytes.empty()) {
    auto parsed = ParseDecimal("max_bytes", max_bytes, kMaxLogBytes);
    if (!parsed.ok()) return parsed.status();
    if (*parsed == 0) return Status::InvalidArgument("max_bytes must be at least 1");
    request.max_bytes = static_cast<uint32_t>(*parsed);
  }
  return request;
}

nlohmann::json WebApi::JobLogJson(const protocol::JobLogRequest& request,
                                  const protocol::JobLogReply& reply) {
  return {{"host", request.host},
          {"data", std::string(reply.data.begin(), reply.data.end())},
          {"offset", request.offset},
          {"next_offset", reply.next_offset},
          {"complete", reply.complete},
          {"status", reply.status}};
}

HttpResponse WebApi::JobLog(const Who& who, const std::string& id_text,
                            const std::string& query) {
  auto params = ParseQuery(query);
  if (!params.ok()) return JsonError(params.status());
  auto request = JobLogRequestFrom(id_text, *params);
  if (!request.ok()) return JsonError(request.status());
  auto reply = Ask<protocol::JobLogReply>(*request, who);
  if (!reply.ok()) return JsonError(reply.status());
  return Json(200, JobLogJson(*request, *reply));
}

HttpResponse WebApi::ListTests(const Who& who) {
  auto reply = Ask<protocol::TestListReply>(protocol::TestListRequest{}, who);
  if (!reply.ok()) return JsonError(reply.status());
  nlohmann::json array = nlohmann::json::array();
  for (const auto& test : reply->tests) array.push_back(protocol::ToJson(test, false));
  return Json(200, array);
}

HttpResponse WebApi::HostAction(const HttpRequest& http, const Who& who,
                                const std::string& hostname, const std::string& action) {
  Status valid = ValidateHostname(hostname);
  if (!valid.ok()) return JsonError(valid);
  if (action == "verify" || action == "repair") {
    auto body = BodyFields::Parse(http.body, {});
    if (!body.ok()) return JsonError(body.status());
    protocol::HostTaskRequest request;
    request.hostname = hostname;
    request.kind = action;
    auto reply = Ask<protocol::HostTaskReply>(request, who);
    if (!reply.ok()) return JsonError(reply.status());
    return Json(200, protocol::ToJson(reply->task));
  }
  auto body = BodyFields::Parse(http.body, {"reason"});
  if (!body.ok()) return JsonError(body.status());
  protocol::HostActionRequest request;
  request.hostname = hostname;
  request.action = action;  // lock, unlock, accept, reject (MatchRoute allows no other)
  Status read = body->String("reason", &request.reason);
  if (!read.ok()) return JsonError(read);
  if (action == "lock" && request.reason.empty()) {
    return JsonError(Status::InvalidArgument("a lock needs a reason"));
  }
  auto reply = Ask<protocol::OkReply>(request, who);
  if (!reply.ok()) return JsonError(reply.status());
  return Json(200, OkJson());
}

HttpResponse WebApi::HostLabels(const HttpRequest& http, const Who& who,
                                const std::string& hostname) {
  Status valid = ValidateHostname(hostname);
  if (!valid.ok()) return JsonError(valid);
  auto body = BodyFields::Parse(http.body, {"add", "remove"});
  if (!body.ok()) return JsonError(body.status());
  protocol::HostLabelRequest request;
  request.hostname = hostname;
  Status read = FirstError({body->Strings("add", &request.add),
                            body->Strings("remove", &request.remove)});
  if (!read.ok()) return JsonError(read);
  if (request.add.empty() && request.remove.empty()) {
    return JsonError(Status::InvalidArgument("give labels to add or remove"));
  }
  auto reply = Ask<protocol::HostShowReply>(request, who);
  if (!reply.ok()) return JsonError(reply.status());
  return Json(200, protocol::ToJson(reply->host));
}

HttpResponse WebApi::HostProtection(const HttpRequest& http, const Who& who,
                                    const std::string& hostname) {
  Status valid = ValidateHostname(hostname);
  if (!valid.ok()) return JsonError(valid);
  auto body = BodyFields::Parse(http.body, {"protection"});
  if (!body.ok()) return JsonError(body.status());
  protocol::HostModRequest request;
  request.hostname = hostname;
  Status read = body->String("protection", &request.protection);
  if (!read.ok()) return JsonError(read);
  if (request.protection.empty()) {
    return JsonError(Status::InvalidArgument(
        "protection must be one of none, repair-software-only, do-not-repair, do-not-verify"));
  }
  auto reply = Ask<protocol::HostShowReply>(request, who);
  if (!reply.ok()) return JsonError(reply.status());
  return Json(200, protocol::ToJson(reply->host));
}

HttpResponse WebApi::HostQuarantine(const HttpRequest& http, const Who& who,
                                    const std::string& hostname, const std::string& action) {
  Status valid = ValidateHostname(hostname);
  if (!valid.ok()) return JsonError(valid);
  auto body = BodyFields::Parse(http.body, {"reason"});
  if (!body.ok()) return JsonError(body.status());
  protocol::HostQuarantineRequest request;
  request.hostname = hostname;
  request.release = action == "unquarantine";
  Status read = body->String("reason", &request.reason);
  if (!read.ok()) return JsonError(read);
  auto reply = Ask<protocol::HostShowReply>(request, who);
  if (!reply.ok()) return JsonError(reply.status());
  return Json(200, protocol::ToJson(reply->host));
}

HttpResponse WebApi::Health(const Who& who, const std::string& query) {
  auto params = ParseQuery(query);
  if (!params.ok()) return JsonError(params.status());
  protocol::HostFlakyRequest request;
  request.label = Param(*params, "label");
  request.host = Param(*params, "host");
  std::string limit = Param(*params, "limit");
  if (!limit.empty()) {
    auto n = ParseDecimal("limit", limit, UINT32_MAX);
    if (!n.ok()) return JsonError(n.status());
    request.limit = static_cast<uint32_t>(*n);
  }
  auto reply = Ask<protocol::HostFlakyReply>(request, who);
  if (!reply.ok()) return JsonError(reply.status());
  return Json(200, protocol::ToJson(*reply));
}

HttpResponse WebApi::HostReservation(const HttpRequest& http, const Who& who,
                                     const std::string& hostname, const std::string& action) {
  Status valid = ValidateHostname(hostname);
  if (!valid.ok()) return JsonError(valid);
  if (action == "release") {
    auto body = BodyFields::Parse(http.body, {});
    if (!body.ok()) return JsonError(body.status());
    auto reply = Ask<protocol::HostShowReply>(protocol::HostReleaseRequest{hostname}, who);
    if (!reply.ok()) return JsonError(reply.status());
    return Json(200, protocol::ToJson(reply->host));
  }
  auto body = BodyFields::Parse(http.body, {"duration_ms", "reason"});
  if (!body.ok()) return JsonError(body.status());
  protocol::HostReserveRequest request;
  request.hostname = hostname;
  Status read = FirstError({body->Integer("duration_ms", &request.duration_ms),
                            body->String("reason", &request.reason)});
  if (!read.ok()) return JsonError(read);
  if (request.duration_ms <= 0) {
    return JsonError(Status::InvalidArgument("a reservation needs duration_ms > 0"));
  }
  auto reply = Ask<protocol::HostShowReply>(request, who);
  if (!reply.ok()) return JsonError(reply.status());
  return Json(200, protocol::ToJson(reply->host));
}

}  // namespace labmesh::webui
