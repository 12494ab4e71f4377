#include "labmesh/webui/results_api.hpp"

#include <charconv>
#include <cstdint>
#include <string_view>

#include "labmesh/client/results_filters.hpp"

namespace labmesh::webui {
namespace {

constexpr char kDefaultSummaryWindow[] = "7d";

std::string Param(const QueryParams& params, const std::string& key) {
  auto it = params.find(key);
  return it == params.end() ? std::string() : it->second;
}

std::string Quote(std::string_view text) {
  constexpr size_t kMax = 80;
  std::string out = "'";
  for (char c : text.substr(0, kMax)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  }
  if (text.size() > kMax) out += "...";
  return out + "'";
}

// Decimal digits only (no sign, no spaces, no exponent), from `min` to `max`.
Result<uint64_t> Number(const std::string& name, const std::string& text, uint64_t min,
                        uint64_t max) {
  uint64_t value = 0;
  bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!digits || ec != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    return Status::InvalidArgument(name + " must be a number from " + std::to_string(min) + " to " +
                                   std::to_string(max) + ", not " + Quote(text));
  }
  return value;
}

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
    auto value = Number("since_us", since_us, 0, kMaxUs);
    if (!value.ok()) return value.status();
    window->since_us = static_cast<int64_t>(*value);
  }
  if (!until_us.empty()) {
    // 0 would mean "no upper bound" on the wire, not "before 1970".
    auto value = Number("until_us", until_us, 1, kMaxUs);
    if (!value.ok()) return value.status();
    window->until_us = static_cast<int64_t>(*value);
  }
  LABMESH_RETURN_IF_ERROR(client::CheckWindow(*window));
  return window;
}

Result<uint32_t> Limit(const QueryParams& params, uint32_t max) {
  std::string text = Param(params, "limit");
  if (text.empty()) return uint32_t{0};  // the coordinator's default
  auto value = Number("limit", text, 1, max);
  if (!value.ok()) return value.status();
  return static_cast<uint32_t>(*value);
}

}  // namespace

Result<protocol::ResultsListRequest> ResultsListRequestFromQuery(const QueryParams& params,
                                                                 int64_t now_us) {
  protocol::ResultsListRequest request;
  std::string job = Param(params, "job");
  if (!job.empty()) {
    auto id = Number("job", job, 1, UINT64_MAX);
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
