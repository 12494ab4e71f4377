#include "labmesh/webui/results_api.hpp"

#include <cstdint>
#include <string_view>

#include "labmesh/client/results_filters.hpp"
#include "web_common.hpp"

namespace labmesh::webui {
namespace {

constexpr char kDefaultSummaryWindow[] = "7d";

// The window from since/until (lookbacks) or since_us/until_us (instants), at most one of each
// pair; `default_since` is the lookback used when neither since parameter is given.
Result<client::TimeWindowUs> Window(const QueryParams& params, int64_t now_us,
                                    const std::string& default_since = "") {
  std::string since = Param(params, "since");
  std::string until = Param(params, "until");
  std::string since_us = Param(params, "since_us");
  std::string until_us = Param(params, "until_us");
  if (!since.empty() && !since_us.empty()) {
    return Status::InvalidArgument("give since or since_us, not both");
  }
  if (!until.empty() && !until_us.empty()) {
    return Status::InvalidArgument("give until or until_us, not both");
  }
  if (since.empty() && since_us.empty()) since = default_since;
  auto window = client::WindowFromLookbacks(since, until, now_us);
  if (!window.ok()) return window.status();
  constexpr uint64_t kMaxUs = static_cast<uint64_t>(INT64_MAX);
  if (!since_us.empty()) {
    auto value = ParseDecimal("since_us", since_us, kMaxUs, 0);
    if (!value.ok()) return value.status();
    window->since_us = static_cast<int64_t>(*value);
  }
  if (!until_us.empty()) {
    // 0 would mean "no upper bound" on the wire, not "before 1970".
    auto value = ParseDecimal("until_us", until_us, kMaxUs, 1);
    if (!value.ok()) return value.status();
    window->until_us = static_cast<int64_t>(*value);
  }
  LABMESH_RETURN_IF_ERROR(client::CheckWindow(*window));
  return window;
}

Result<uint32_t> Limit(const QueryParams& params, uint32_t max) {
  std::string text = Param(params, "limit");
  if (text.empty()) return uint32_t{0};  // the coordinator's default
  auto value = ParseDecimal("limit", text, max, 1);
  if (!value.ok()) return value.status();
  return static_cast<uint32_t>(*value);
}

}  // namespace

Result<protocol::ResultsListRequest> ResultsListRequestFromQuery(const QueryParams& params,
                                                                 int64_t now_us) {
  protocol::ResultsListRequest request;
  std::string job = Param(params, "job");
  if (!job.empty()) {
    auto id = ParseDecimal("job", job, UINT64_MAX, 1);
    if (!id.ok()) return id.status();
    request.job_id = *id;
  }
  std::string status = Param(params, "status");
  if (!status.empty()) {
    auto canonical = client::ParseResultStatus(status);
    if (!canonical.ok()) return canonical.status();
    request.status = *canonical;
  }
  auto window = Window(params, now_us);
  if (!window.ok()) return window.status();
  auto limit = Limit(params, client::kMaxResultsListLimit);
  if (!limit.ok()) return limit.status();
  request.host = Param(params, "host");
  request.label = Param(params, "label");
  request.test = Param(params, "test");
  request.since_us = window->since_us;
  request.until_us = window->until_us;
  request.limit = *limit;
  request.cursor = Param(params, "cursor");
  return request;
}

Result<protocol::ResultsSummaryRequest> ResultsSummaryRequestFromQuery(const QueryParams& params,
                                                                       int64_t now_us) {
  protocol::ResultsSummaryRequest request;
  request.host = Param(params, "host");
  request.label = Param(params, "label");
  std::string by = Param(params, "by");
  if (by.empty()) {
    request.group_by = request.label.empty() ? "host" : "label";
  } else {
    auto group_by = client::ParseSummaryGroupBy(by);
    if (!group_by.ok()) return Status::InvalidArgument("by: " + group_by.status().message());
    request.group_by = *group_by;
  }
  auto window = Window(params, now_us, kDefaultSummaryWindow);
  if (!window.ok()) return window.status();
  request.test = Param(params, "test");
  request.test_prefix = Param(params, "test_prefix");
  request.since_us = window->since_us;
  request.until_us = window->until_us;
  return request;
}

Result<protocol::ResultsSeriesRequest> ResultsSeriesRequestFromQuery(const QueryParams& params,
                                                                     int64_t now_us) {
  protocol::ResultsSeriesRequest request;
  request.test = Param(params, "test");
  request.key = Param(params, "key");
  if (request.test.empty()) return Status::InvalidArgument("test is required");
  if (request.key.empty()) return Status::InvalidArgument("key is required");
  auto window = Window(params, now_us);
  if (!window.ok()) return window.status();
  auto limit = Limit(params, client::kMaxResultsSeriesLimit);
  if (!limit.ok()) return limit.status();
  request.host = Param(params, "host");
  request.label = Param(params, "label");
  request.since_us = window->since_us;
  request.until_us = window->until_us;
  request.limit = *limit;
  return request;
}

}  // namespace labmesh::webui
