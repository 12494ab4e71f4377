// GET /metrics (docs/monitoring.md): the coordinator's metrics through the API
// (MetricsRequest), then the web server's own request counter. Errors are plain text: the
// reader is Prometheus or a person with curl, not the page.

#include <strings.h>

#include <string>
#include <string_view>

#include "http_metrics.hpp"
#include "labmesh/protocol/metrics_messages.hpp"
#include "web_api_ask.hpp"

namespace labmesh::webui {
namespace {

constexpr char kExpositionType[] = "text/plain; version=0.0.4; charset=utf-8";

HttpResponse PlainText(int status, const std::string& text) {
  HttpResponse response;
  response.status = status;
  response.content_type = "text/plain; charset=utf-8";
  response.body = text + "\n";
  response.headers.emplace_back("Cache-Control", "no-store");
  if (status == 401) {
    response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"labmesh metrics\"");
  }
  return response;
}

}  // namespace

HttpResponse WebApi::Metrics(const HttpRequest& request) {
  protocol::MetricsRequest scrape;
  if (auto header = FindHeader(request, "Authorization")) {
    constexpr std::string_view kBearer = "bearer ";  // the scheme is case-insensitive
    if (header->size() <= kBearer.size() ||
        strncasecmp(header->data(), kBearer.data(), kBearer.size()) != 0) {
      return PlainText(401, "metrics: the Authorization header must be `Bearer TOKEN` (the "
                            "coordinator's --metrics-token)");
    }
    scrape.token = std::string(header->substr(kBearer.size()));
  }
  // Not a user: only where the client is, for the loopback rule.
  Who who;
  who.from = request.remote_addr;
  auto reply = Ask<protocol::MetricsReply>(scrape, who);
  if (!reply.ok()) {
    return PlainText(HttpStatusFor(reply.status().code()), "metrics: " + reply.status().message());
  }
  HttpResponse response;
  response.content_type = kExpositionType;
  response.body = std::move(reply->text) + http_metrics_->Text();
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

}  // namespace labmesh::webui
