#pragma once
// The web server's handlers: an HttpRequest in, an HttpResponse out, knowing nothing of
// civetweb. Every read of coordinator state goes through the coordinator's API commands
// (ApiClient over the API socket's inproc endpoint), and every JSON object comes from
// protocol::ToJson, so the web API and `labmesh --json` print the same fields.
//
// Authentication (web_auth.hpp, docs/security-web.md): every /api/v1 request except the login
// is sent with the request's credentials (the labmesh_session cookie plus the X-CSRF-Token
// header, or an `Authorization: Bearer` token; always the client's address as `from`); the
// coordinator authenticates and authorizes it (Unauthenticated 401, PermissionDenied 403). A
// cookie-authenticated POST/PUT/PATCH/DELETE without X-CSRF-Token is refused here with 403
// before the coordinator hears of it. /results/ files are served only after a WhoAmIRequest
// with the same credentials succeeds. The page, its assets, /login and /healthz need nothing.
//
// Routes (GET and HEAD unless said; any other method on a known path is 405 with an Allow
// header):
//   /                      the page (index.html); also /index.html
//   /login                 the login page (login.html)
//   /static/<file>         the page's embedded assets (app.js, login.js, style.css)
//   /healthz               "ok" - the HTTP server is up (says nothing of the coordinator)
//   /metrics               the coordinator's metrics, Prometheus text format (MetricsRequest,
//                          with the `Authorization: Bearer` token as the scrape token; not a
//                          user's credentials), then labmesh_http_requests_total counted here;
//                          401/403 as plain text (docs/monitoring.md)
//   POST /api/v1/login     {"user", "token"|"password"} (Content-Type: application/json) ->
//                          LoginRequest; sets the session cookie and answers {"user","admin",
//                          "csrf","expires","expires_ms"}; a refused login is 401, no cookie
//   /api/v1/whoami         {"user","admin","acl_groups","csrf","expires","expires_ms"}
//   POST /api/v1/logout    [{"all_sessions": bool}] -> LogoutRequest; clears the cookie
//   /api/v1/hosts          JSON array of hosts; ?status=<HostStatus> and ?label=<label> filter
//   /api/v1/hosts/<name>   one host; 404 when the coordinator does not know it
//   /api/v1/hosts/<name>/history  JSON array of the host's special tasks and job entries,
//                          newest first (ToJson(HistoryItem)); ?limit=<n> (0 = the
//                          coordinator's 100); 404 for an unknown host
//   /api/v1/labels         JSON array of labels; ?kind=admin|agent|auto filters
//   /api/v1/pending        JSON array of hosts waiting for enrollment approval; ?label= filters
//   /api/v1/jobs           JSON array of jobs, newest first (without their control);
//                          ?owner=<user>, ?status=Queued|Running|Completed|Failed|Aborted
//                          (case-insensitive) and ?limit=<n> filter
//   /api/v1/jobs/<id>      one job with its control and entries; a non-numeric id is 400,
//                          an unknown one 404
//   /api/v1/results        {"results": [...], "next_cursor"}: test results, newest first;
//                          ?job, host, label, test, status, since|since_us, until|until_us,
//                          limit, cursor (results_api.hpp)
//   /api/v1/results/summary  {"rows": [...]}: pass rates per test and host or label; ?by,
//                          test, test_prefix, host, label, since|since_us, until|until_us
//   /api/v1/results/series {"points": [...]}: one perf value over time; ?test, key (both
//                          required), host, label, since|since_us, until|until_us, limit
//   /results/...           the results repository, read-only (ResultsFiles): listings and
//                          files; 404 when the server was built without a results root
// Errors are JSON {"error": "...", "code": "<StatusCode name>"} (a 401 also says how to log
// in, has "login": "/login" and a WWW-Authenticate header): unknown path 404, malformed
// path or query 400, coordinator unreachable or silent 503, coordinator errors per
// HttpStatusFor(). API responses carry `X-Labmesh-Now-Ms` (the coordinator's wall clock) so the
// page can say "3 s ago" without trusting the browser's clock.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "labmesh/common/clock.hpp"
#include "labmesh/common/status.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "labmesh/protocol/job_messages.hpp"
#include "labmesh/webui/api_client_pool.hpp"
#include "labmesh/webui/http_types.hpp"
#include "labmesh/webui/results_files.hpp"
#include "labmesh/webui/web_auth.hpp"

namespace labmesh::webui {

class HttpMetrics;

struct WebApiOptions {
  int64_t api_timeout_ms = 5000;  // per coordinator call; past it the request gets 503
  size_t max_idle_clients = 8;    // ApiClients kept between requests (one per busy thread)
  size_t max_target_bytes = 8192;  // path + query; longer gets 414
  // The results repository (DATA_DIR/results) served read-only under /results/; empty = not
  // served (/results/ is 404).
  std::string results_root;
  // Developers: serve index.html, login.html and static/NAME from this directory (webui/static
  // of a checkout) at each request instead of the copy built in; "" = the built-in copy.
  std::string static_dir;
  // Served as /static/chart.js (Debian's libjs-chart.js); 404 when missing.
  std::string chartjs_file = "/usr/share/javascript/chart.js/chart.min.js";
  // Live events (/api/v1/events): how often a stream asks the coordinator, when it sends a
  // keepalive comment, when it ends (the browser reconnects), and how many may be open. A
  // closed page is only noticed when a write fails, so the keepalive is short: a stream whose
  // page has gone gives its place back within about two keepalives.
  int64_t live_poll_ms = 500;
  int64_t live_keepalive_ms = 1'000;
  int64_t live_max_ms = 5 * 60'000;
  size_t max_live_streams = 32;
};

// The HTTP status for a labmesh status code: NotFound 404, InvalidArgument 400,
// Unauthenticated 401, PermissionDenied 403, FailedPrecondition and AlreadyExists 409,
// TooLarge 413, Unavailable and Timeout 503, anything else 500.
int HttpStatusFor(StatusCode code);

class WebApi final : public HttpHandler {
 public:
  // `context` is the coordinator's ZeroMQ context and must outlive this object (inproc endpoints
  // are only reachable inside one context); `api_endpoint` is the inproc endpoint the API
  // ROUTER binds besides tcp://127.0.0.1:7711. `clock` (not owned) stamps X-Labmesh-Now-Ms.
  WebApi(zmq::context_t& context, std::string api_endpoint, WebApiOptions options = {},
         const Clock* clock = SystemClock::Default());
  ~WebApi() override;

  // Thread-safe; never throws. Every answer is counted (labmesh_http_requests_total).
  HttpResponse Handle(const HttpRequest& request) override;

 private:
  using Who = protocol::Credentials;  // who a handler's coordinator requests are sent as

  HttpResponse Route(const HttpRequest& request);
  // /results/...: the files, after the coordinator accepted the credentials (WhoAmIRequest).
  HttpResponse ServeResults(const HttpRequest& request, const Result<WebCredentials>& who);
  HttpResponse Login(const HttpRequest& request);
  HttpResponse WhoAmI(const Who& who);
  HttpResponse Logout(const HttpRequest& request, const Who& who);
  HttpResponse ListHosts(const Who& who, const std::string& query);
  HttpResponse ShowHost(const Who& who, const std::string& hostname);
  HttpResponse HostHistory(const Who& who, const std::string& hostname, const std::string& query);
  HttpResponse ListLabels(const Who& who, const std::string& query);
  HttpResponse ListPending(const Who& who, const std::string& query);
  HttpResponse ListJobs(const Who& who, const std::string& query);
  HttpResponse ShowJob(const Who& who, const std::string& id_text);
  // GET /api/v1/avail?label=L[&count=N][&depends=a,b]: what `host avail` prints.
  HttpResponse HostAvail(const Who& who, const std::string& query);
  // metrics_page.cpp: GET /metrics.
  HttpResponse Metrics(const HttpRequest& request);
  // A page asset: the built-in copy, or options_.static_dir's, or Chart.js.
  HttpResponse Asset(const std::string& name);

  // web_actions.cpp: the changes (POST) and the job page's readers.
  HttpResponse CreateJob(const HttpRequest& http, const Who& who);
  HttpResponse AbortJob(const HttpRequest& http, const Who& who, const std::string& id_text);
  HttpResponse JobLog(const Who& who, const std::string& id_text, const std::string& query);
  HttpResponse ListTests(const Who& who);
  // Templates and schedules (web_schedules.cpp, docs/schedules.md).
  HttpResponse ListTemplates(const Who& who, const std::string& query);
  HttpResponse ShowTemplate(const Who& who, const std::string& name);
  HttpResponse SaveTemplate(const HttpRequest& http, const Who& who);
  HttpResponse DeleteTemplate(const HttpRequest& http, const Who& who, const std::string& name);
  HttpResponse ListSchedules(const Who& who, const std::string& query);
  HttpResponse ShowSchedule(const Who& who, const std::string& name);
  HttpResponse CreateSchedule(const HttpRequest& http, const Who& who);
  HttpResponse ScheduleAction(const HttpRequest& http, const Who& who, const std::string& name,
                              const std::string& action);
  // lock, unlock, accept, reject, verify, repair.
  HttpResponse HostAction(const HttpRequest& http, const Who& who, const std::string& hostname,
                          const std::string& action);
  HttpResponse HostLabels(const HttpRequest& http, const Who& who, const std::string& hostname);
  HttpResponse HostProtection(const HttpRequest& http, const Who& who,
                              const std::string& hostname);
  // reserve ({"duration_ms", "reason"}) or release ({}): the host object.
  // POST /api/v1/hosts/NAME/quarantine {"reason"} and .../unquarantine {"reason"} (admins),
  // GET /api/v1/health?label=&host=&limit= (the scores: docs/quarantine.md).
  HttpResponse HostQuarantine(const HttpRequest& http, const Who& who, const std::string& hostname,
                              const std::string& action);
  HttpResponse Health(const Who& who, const std::string& query);
  HttpResponse HostReservation(const HttpRequest& http, const Who& who,
                               const std::string& hostname, const std::string& action);
  // web_power.cpp (docs/power-console.md): GET the power config / POST {"action"}; the
  // rolling console log by offset.
  HttpResponse HostPower(const HttpRequest& http, const Who& who, const std::string& hostname);
  HttpResponse HostConsole(const Who& who, const std::string& hostname, const std::string& query);
  static Result<protocol::JobLogRequest> JobLogRequestFrom(
      const std::string& id_text, const std::map<std::string, std::string>& params);
  static nlohmann::json JobLogJson(const protocol::JobLogRequest& request,
                                   const protocol::JobLogReply& reply);

  // live_events.cpp: /api/v1/events.
  struct LiveQuery;
  static Result<LiveQuery> ParseLiveQuery(const HttpRequest& request);
  HttpResponse Events(const HttpRequest& request, const Who& who);
  void Stream(LiveQuery& live, const Who& who, StreamSink& sink);
  // Query parameters -> request (`from_query`: results_api.hpp; its refusal is 400) -> the
  // coordinator's Reply as ToJson.
  template <typename Reply, typename FromQuery>
  HttpResponse QueryResults(const Who& who, const std::string& query, FromQuery from_query);

  // Sends `request` to the coordinator as `who` and decodes the reply as Reply. The
  // coordinator's ErrorReply becomes its Status; a reply that does not decode is Internal (a
  // coordinator bug, not the browser's fault, so never 400).
  template <typename Reply, typename Request>
  Result<Reply> Ask(const Request& request, const Who& who);

  HttpResponse Json(int status, const nlohmann::json& body) const;

  const WebApiOptions options_;
  const Clock* clock_;
  ApiClientPool clients_;
  std::unique_ptr<const ResultsFiles> results_;  // null without options.results_root
  std::unique_ptr<HttpMetrics> http_metrics_;
  std::atomic<uint64_t> next_request_id_{1};
  std::atomic<size_t> live_streams_{0};
};

// A JSON error response {"error": message, "code": StatusCodeName(status.code())} with the
// HTTP status HttpStatusFor(status.code()). Unauthenticated (401) adds how to log in to the
// message, "login": "/login" to the body and `WWW-Authenticate: Bearer realm="labmesh"`.
HttpResponse JsonError(const Status& status);

}  // namespace labmesh::webui
