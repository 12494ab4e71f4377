// WebApi's readers of hosts, labels and jobs (GET), and the queue's view for a label
// (/api/v1/avail). Each checks its path argument and query before the coordinator is asked.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "labmesh/protocol/json.hpp"
#include "labmesh/protocol/messages.hpp"
#include "labmesh/webui/url.hpp"
#include "labmesh/webui/web_api.hpp"
#include "web_api_ask.hpp"
#include "web_common.hpp"

namespace labmesh::webui {
namespace {

nlohmann::json HostsToJson(const std::vector<protocol::HostInfo>& hosts) {
  nlohmann::json array = nlohmann::json::array();
  for (const auto& host : hosts) array.push_back(protocol::ToJson(host));
  return array;
}

}  // namespace

HttpResponse WebApi::ListHosts(const Who& who, const std::string& query) {
  auto params = ParseQuery(query);
  if (!params.ok()) return JsonError(params.status());
  protocol::HostListRequest request;
  std::string status = Param(*params, "status");
  if (!status.empty()) {
    auto parsed = protocol::ParseHostStatus(status);
    if (!parsed) {
      return JsonError(Status::InvalidArgument(
          "unknown status " + Quote(status) +
          " (Ready, Pending, Running, Verifying, Repairing, Cleaning, Updating, Repair Failed, "
          "Dead)"));
    }
    request.status = std::string(protocol::HostStatusName(*parsed));
  }
  request.label = Param(*params, "label");
  auto reply = Ask<protocol::HostListReply>(request, who);
  if (!reply.ok()) return JsonError(reply.status());
  return Json(200, HostsToJson(reply->hosts));
}

HttpResponse WebApi::ShowHost(const Who& who, const std::string& hostname) {
  Status valid = ValidateHostname(hostname);
  if (!valid.ok()) return JsonError(valid);
  protocol::HostShowRequest request;
  request.hostname = hostname;
  auto reply = Ask<protocol::HostShowReply>(request, who);
  if (!reply.ok()) return JsonError(reply.status());
  nlohmann::json host = protocol::ToJson(reply->host);
  nlohmann::json history = nlohmann::json::array();
  for (const auto& sample : reply->health_history) {
    nlohmann::json point = protocol::ToJson(sample.health);
    point["time_ms"] = sample.time_ms;
    history.push_back(std::move(point));
  }
  host["health_history"] = std::move(history);
  return Json(200, host);
}

HttpResponse WebApi::HostHistory(const Who& who, const std::string& hostname,
                                 const std::string& query) {
  Status valid = ValidateHostname(hostname);
  if (!valid.ok()) return JsonError(valid);
  auto params = ParseQuery(query);
  if (!params.ok()) return JsonError(params.status());
  protocol::HostHistoryRequest request;
  request.hostname = hostname;
  std::string limit = Param(*params, "limit");
  if (!limit.empty()) {
    auto parsed = ParseDecimal("limit", limit, UINT32_MAX);
    if (!parsed.ok()) return JsonError(parsed.status());
    request.limit = static_cast<uint32_t>(*parsed);
  }
  auto reply = Ask<protocol::HostHistoryReply>(request, who);
  if (!reply.ok()) return JsonError(reply.status());
  nlohmann::json array = nlohmann::json::array();
  for (const auto& item : reply->items) array.push_back(protocol::ToJson(item));
  return Json(200, array);
}

HttpResponse WebApi::ListLabels(const Who& who, const std::string& query) {
  auto params = ParseQuery(query);
  if (!params.ok()) return JsonError(params.status());
  protocol::LabelListRequest request;
  request.kind = Param(*params, "kind");
  if (!request.kind.empty() && request.kind != "admin" && request.kind != "agent" &&
      request.kind != "auto") {
    return JsonError(Status::InvalidArgument("unknown label kind " + Quote(request.kind) +
                                             " (admin, agent, auto)"));
  }
  auto reply = Ask<protocol::LabelListReply>(request, who);
  if (!reply.ok()) return JsonError(reply.status());
  nlohmann::json array = nlohmann::json::array();
  for (const auto& label : reply->labels) array.push_back(protocol::ToJson(label));
  return Json(200, array);
}

HttpResponse WebApi::ListPending(const Who& who, const std::string& query) {
  auto params = ParseQuery(query);
  if (!params.ok()) return JsonError(params.status());
  protocol::HostPendingRequest request;
  request.label = Param(*params, "label");
  auto reply = Ask<protocol::HostListReply>(request, who);
  if (!reply.ok()) return JsonError(reply.status());
  return Json(200, HostsToJson(reply->hosts));
}

HttpResponse WebApi::ListJobs(const Who& who, const std::string& query) {
  auto params = ParseQuery(query);
  if (!params.ok()) return JsonError(params.status());
  protocol::JobListRequest request;
  request.owner = Param(*params, "owner");
  std::string status = Param(*params, "status");
  if (!status.empty()) {
    auto canonical = CanonicalJobStatus(status);
    if (!canonical.ok()) return JsonError(canonical.status());
    request.status = *canonical;
  }
  std::string limit = Param(*params, "limit");
  if (!limit.empty()) {
    auto parsed = ParseDecimal("limit", limit, UINT32_MAX);
    if (!parsed.ok()) return JsonError(parsed.status());
    request.limit = static_cast<uint32_t>(*parsed);
  }
  request.name = Param(*params, "name");
  request.schedule = Param(*params, "schedule");
  std::string before_id = Param(*params, "before_id");
  if (!before_id.empty()) {
    auto parsed = ParseDecimal("before_id", before_id, UINT64_MAX);
    if (!parsed.ok()) return JsonError(parsed.status());
    request.before_id = *parsed;
  }
  std::string finished_since = Param(*params, "finished_since_us");
  if (!finished_since.empty()) {
    auto parsed = ParseDecimal("finished_since_us", finished_since, INT64_MAX);
    if (!parsed.ok()) return JsonError(parsed.status());
    request.finished_since_us = static_cast<int64_t>(*parsed);
  }
  auto reply = Ask<protocol::JobListReply>(request, who);
  if (!reply.ok()) return JsonError(reply.status());
  nlohmann::json array = nlohmann::json::array();
  for (const auto& job : reply->jobs)
    array.push_back(protocol::ToJson(job, /*with_control=*/false));
  return Json(200, array);
}

HttpResponse WebApi::ShowJob(const Who& who, const std::string& id_text) {
  auto id = ParseDecimal("job id", id_text, UINT64_MAX);
  if (!id.ok()) return JsonError(id.status());
  protocol::JobShowRequest request;
  request.id = *id;
  auto reply = Ask<protocol::JobShowReply>(request, who);
  if (!reply.ok()) return JsonError(reply.status());
  return Json(200, protocol::ToJson(reply->job));
}

HttpResponse WebApi::HostAvail(const Who& who, const std::string& query) {
  auto params = ParseQuery(query);
  if (!params.ok()) return JsonError(params.status());
  protocol::HostAvailRequest request;
  request.label = Param(*params, "label");
  if (request.label.empty()) return JsonError(Status::InvalidArgument("label is required"));
  std::string count = Param(*params, "count");
  if (!count.empty()) {
    auto parsed = ParseDecimal("count", count, 10'000);
    if (!parsed.ok()) return JsonError(parsed.status());
    request.count = static_cast<uint32_t>(*parsed);
  }
  std::string depends = Param(*params, "depends");
  for (size_t start = 0; !depends.empty() && start <= depends.size();) {
    size_t comma = std::min(depends.find(',', start), depends.size());
    if (comma > start) request.depends.push_back(depends.substr(start, comma - start));
    start = comma + 1;
  }
  auto reply = Ask<protocol::HostAvailReply>(request, who);
  if (!reply.ok()) return JsonError(reply.status());
  return Json(200, protocol::ToJson(*reply));
}

}  // namespace labmesh::webui
