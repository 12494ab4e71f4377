// WebApi's out-of-band power and console (docs/power-console.md): GET /api/v1/hosts/NAME/power
// (the host's power method and console, secrets "***"), POST /api/v1/hosts/NAME/power
// {"action": "on"|"off"|"cycle"|"status"} (admins and the reservation holder; the answer once
// the command has ended), GET /api/v1/hosts/NAME/console?offset=N&max_bytes=M (a piece of the
// rolling console log; offset -1 or none = its tail).

#include <cstdint>

#include "labmesh/protocol/json.hpp"
#include "labmesh/protocol/messages.hpp"
#include "labmesh/webui/url.hpp"
#include "labmesh/webui/web_api.hpp"
#include "body_fields.hpp"
#include "web_api_ask.hpp"
#include "web_common.hpp"

namespace labmesh::webui {

HttpResponse WebApi::HostPower(const HttpRequest& http, const Who& who,
                               const std::string& hostname) {
  Status valid = ValidateHostname(hostname);
  if (!valid.ok()) return JsonError(valid);
  if (http.method != "POST") {
    auto reply = Ask<protocol::HostPowerShowReply>(protocol::HostPowerShowRequest{hostname}, who);
    if (!reply.ok()) return JsonError(reply.status());
    return Json(200, protocol::ToJson(reply->config));
  }
  auto body = BodyFields::Parse(http.body, {"action"});
  if (!body.ok()) return JsonError(body.status());
  protocol::HostPowerRequest request;
  request.hostname = hostname;
  if (Status read = body->String("action", &request.action); !read.ok()) return JsonError(read);
  auto reply = Ask<protocol::HostPowerReply>(request, who);
  if (!reply.ok()) return JsonError(reply.status());
  return Json(200, protocol::ToJson(*reply));
}

HttpResponse WebApi::HostConsole(const Who& who, const std::string& hostname,
                                 const std::string& query) {
  Status valid = ValidateHostname(hostname);
  if (!valid.ok()) return JsonError(valid);
  auto params = ParseQuery(query);
  if (!params.ok()) return JsonError(params.status());
  protocol::HostConsoleRequest request;
  request.hostname = hostname;
  std::string offset = Param(*params, "offset");
  if (!offset.empty() && offset != "-1") {
    auto parsed = ParseDecimal("offset", offset, INT64_MAX);
    if (!parsed.ok()) return JsonError(parsed.status());
    request.offset = static_cast<int64_t>(*parsed);
  }
  std::string max_bytes = Param(*params, "max_bytes");
  if (!max_bytes.empty()) {
    auto parsed = ParseDecimal("max_bytes", max_bytes, 1 << 20);
    if (!parsed.ok()) return JsonError(parsed.status());
    request.max_bytes = static_cast<uint32_t>(*parsed);
  }
  auto reply = Ask<protocol::HostConsoleReply>(request, who);
  if (!reply.ok()) return JsonError(reply.status());
  return Json(200, {{"host", hostname},
                    {"data", std::string(reply->data.begin(), reply->data.end())},
                    {"offset", reply->offset},
                    {"next_offset", reply->next_offset},
                    {"reading", reply->reading},
                    {"configured", reply->configured}});
}

}  // namespace labmesh::webui
