// GET /api/v1/events: server-sent events for the open page (webui/README.md "Live updates").
// The stream asks the coordinator, every live_poll_ms, for what its query names - through the
// same handlers as the GET routes, so an event's data is exactly that route's JSON - and sends
// an event only when the JSON changed. The coordinator is in the same process (inproc), so a
// poll costs one encoded reply; no per-page state lives in the coordinator.

#include <cstdint>
#include <atomic>
#include <functional>
#include <memory>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "labmesh/protocol/messages.hpp"
#include "labmesh/webui/url.hpp"
#include "labmesh/webui/web_api.hpp"
#include "web_api_ask.hpp"
#include "web_common.hpp"

namespace labmesh::webui {
namespace {

constexpr uint32_t kDefaultLiveJobs = 50;

// One "event: NAME" with `data` (JSON, possibly several lines) and an optional id.
std::string SseEvent(std::string_view name, std::string_view data, std::string_view id = {}) {
  std::string out = "event: " + std::string(name) + "\n";
  if (!id.empty()) out += "id: " + std::string(id) + "\n";
  size_t start = 0;
  while (start <= data.size()) {
    size_t end = data.find('\n', start);
    if (end == std::string_view::npos) end = data.size();
    std::string_view line = data.substr(start, end - start);
    if (!line.empty() || end < data.size()) out += "data: " + std::string(line) + "\n";
    start = end + 1;
  }
  return out + "\n";
}

// Builds "k=v&k=v" from the parameters of `params` listed in `keys` (renamed by `as`).
std::string SubQuery(const std::map<std::string, std::string>& params,
                     std::initializer_list<std::pair<const char*, const char*>> keys) {
  std::string out;
  for (const auto& [key, as] : keys) {
    std::string value = Param(params, key);
    if (value.empty()) continue;
    if (!out.empty()) out += '&';
    out += std::string(as) + "=" + PercentEncodeSegment(value);
  }
  return out;
}

}  // namespace

// What one stream watches, checked before the stream starts.
struct WebApi::LiveQuery {
  bool hosts = false;
  std::string hosts_query;  // status, label
  bool pending = false;
  bool jobs = false;
  std::string jobs_query;  // owner, status, name, limit
  std::string job_id;      // "" = none
  std::optional<protocol::JobLogRequest> log;
  std::string host;  // "" = none
};

Result<WebApi::LiveQuery> WebApi::ParseLiveQuery(const HttpRequest& request) {
  auto params = ParseQuery(request.query);
  if (!params.ok()) return params.status();
  auto flag = [&](const char* key) -> Result<bool> {
    std::string value = Param(*params, key);
    if (value.empty() || value == "0") return false;
    if (value == "1") return true;
    return Status::InvalidArgument(std::string(key) + " must be 1 or 0, not " + Quote(value));
  };
  LiveQuery live;
  auto hosts = flag("hosts");
  if (!hosts.ok()) return hosts.status();
  auto pending = flag("pending");
  if (!pending.ok()) return pending.status();
  auto jobs = flag("jobs");
  if (!jobs.ok()) return jobs.status();
  live.hosts = *hosts;
  live.pending = *pending;
  live.jobs = *jobs;
  live.hosts_query = SubQuery(*params, {{"status", "status"}, {"label", "label"}});
  live.jobs_query = SubQuery(*params, {{"owner", "owner"},
                                       {"job_status", "status"},
                                       {"name", "name"},
                                       {"limit", "limit"}});
  if (Param(*params, "limit").empty()) {
    live.jobs_query += std::string(live.jobs_query.empty() ? "" : "&") + "limit=" +
                       std::to_string(kDefaultLiveJobs);
  }
  live.job_id = Param(*params, "job");
  if (!live.job_id.empty()) {
    auto id = ParseDecimal("job", live.job_id, UINT64_MAX);
    if (!id.ok()) return id.status();
  }
  if (!Param(*params, "log").empty()) {
    if (live.job_id.empty()) return Status::InvalidArgument("log=HOST needs job=ID");
    std::map<std::string, std::string> log_params{{"host", Param(*params, "log")},
                                                  {"offset", Param(*params, "log_offset")}};
    // A reconnecting EventSource sends the last id it saw: the log's next offset.
    if (auto last = FindHeader(request, "Last-Event-ID"); last && !last->empty()) {
      log_params["offset"] = std::string(*last);
    }
    auto log = JobLogRequestFrom(live.job_id, log_params);
    if (!log.ok()) return log.status();
    live.log = *log;
  }
  live.host = Param(*params, "host");
  if (!live.host.empty()) LABMESH_RETURN_IF_ERROR(ValidateHostname(live.host));
  if (!live.hosts && !live.pending && !live.jobs && live.job_id.empty() && live.host.empty()) {
    return Status::InvalidArgument(
        "name something to watch: hosts=1, pending=1, jobs=1, job=ID [log=HOST], host=NAME");
  }
  return live;
}

HttpResponse WebApi::Events(const HttpRequest& request, const Who& who) {
  auto live = ParseLiveQuery(request);
  if (!live.ok()) return JsonError(live.status());
  // Ask once before answering 200: bad credentials or an unknown job are a plain error
  // response (EventSource then stops) rather than a stream that ends at once and reconnects.
  protocol::WhoAmIRequest check;
  check.with_groups = false;
  auto allowed = Ask<protocol::WhoAmIReply>(check, who);
  if (!allowed.ok()) return JsonError(allowed.status());
  if (live_streams_.fetch_add(1) >= options_.max_live_streams) {
    live_streams_.fetch_sub(1);
    HttpResponse busy = JsonError(Status::Unavailable(
        "too many live pages open (" + std::to_string(options_.max_live_streams) +
        "); try again shortly"));
    return busy;
  }
  HttpResponse response;
  response.content_type = "text/event-stream; charset=utf-8";
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // The place is given back when the stream is dropped: after it ran, or when it never runs
  // (a HEAD request, a server stopping).
  struct Place {
    std::atomic<size_t>* count;
    ~Place() { count->fetch_sub(1); }
  };
  std::shared_ptr<Place> place(new Place{&live_streams_});
  response.stream = [this, live = std::move(*live), who, place](StreamSink& sink) mutable {
    Stream(live, who, sink);
  };
  return response;
}

void WebApi::Stream(LiveQuery& live, const Who& who, StreamSink& sink) {
  // One watched thing: how to read it now, and a hash of what was last sent.
  struct Topic {
    std::string event;
    std::function<HttpResponse()> read;
    std::optional<size_t> sent;
  };
  std::vector<Topic> topics;
  if (live.hosts) {
    topics.push_back({"hosts", [&] { return ListHosts(who, live.hosts_query); }, {}});
  }
  if (live.pending) topics.push_back({"pending", [&] { return ListPending(who, ""); }, {}});
  if (live.jobs) topics.push_back({"jobs", [&] { return ListJobs(who, live.jobs_query); }, {}});
  if (!live.job_id.empty()) {
    topics.push_back({"job", [&] { return ShowJob(who, live.job_id); }, {}});
  }
  if (!live.host.empty()) topics.push_back({"host", [&] { return ShowHost(who, live.host); }, {}});

  if (!sink.Write("retry: 1000\n\n")) return;
  const int64_t start_ms = clock_->SteadyMs();
  int64_t last_write_ms = start_ms;
  bool log_done = !live.log.has_value();
  for (;;) {
    for (Topic& topic : topics) {
      HttpResponse now = topic.read();
      if (now.status != 200) {
        sink.Write(SseEvent("error", now.body));
        return;
      }
      size_t hash = std::hash<std::string>{}(now.body);
      if (topic.sent == hash) continue;
      if (!sink.Write(SseEvent(topic.event, now.body))) return;
      topic.sent = hash;
      last_write_ms = clock_->SteadyMs();
    }
    // The log: only new bytes, as long as they come in full pieces.
    while (!log_done) {
      auto reply = Ask<protocol::JobLogReply>(*live.log, who);
      if (!reply.ok()) {
        sink.Write(SseEvent("error", JsonError(reply.status()).body));
        return;
      }
      bool more = reply->next_offset > live.log->offset;
      if (more || reply->complete) {
        std::string data = JobLogJson(*live.log, *reply)
                               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        if (!sink.Write(SseEvent("log", data, std::to_string(reply->next_offset)))) return;
        last_write_ms = clock_->SteadyMs();
      }
      live.log->offset = reply->next_offset;
      log_done = reply->complete;
      if (!more || reply->data.size() < live.log->max_bytes) break;
    }
    int64_t now_ms = clock_->SteadyMs();
    if (now_ms - start_ms >= options_.live_max_ms) return;  // EventSource reconnects
    if (now_ms - last_write_ms >= options_.live_keepalive_ms) {
      if (!sink.Write(": keepalive\n\n")) return;
      last_write_ms = now_ms;
    }
    if (!sink.Wait(options_.live_poll_ms)) return;
  }
}

}  // namespace labmesh::webui
