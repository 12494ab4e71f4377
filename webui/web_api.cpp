#include "labmesh/webui/web_api.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <exception>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

#include "labmesh/protocol/json.hpp"
#include "labmesh/protocol/messages.hpp"
#include "labmesh/protocol/types.hpp"
#include "labmesh/webui/results_api.hpp"
#include "labmesh/webui/static_assets.hpp"
#include "labmesh/webui/url.hpp"
#include "http_metrics.hpp"
#include "web_api_ask.hpp"
#include "web_common.hpp"
#include "web_routes.hpp"

namespace labmesh::webui {
namespace {

// 401 for a request the coordinator (or the Authorization header's form) did not accept.
HttpResponse UnauthenticatedResponse(const std::string& message, bool how_to_log_in = true) {
  HttpResponse response = ErrorResponse(
      401, StatusCodeName(StatusCode::kUnauthenticated),
      how_to_log_in ? message + " (" + kHowToLogIn + ")" : message,
      nlohmann::json{{"login", kLoginPath}});
  // RFC 9110 asks a 401 for a challenge; Bearer, not Basic, so no browser pops up a dialog.
  response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"labmesh\"");
  return response;
}

// True when the client prefers HTML (a browser following a link), not JSON (a script).
bool WantsHtml(const HttpRequest& request) {
  auto accept = FindHeader(request, "Accept");
  return accept && accept->find("text/html") != std::string_view::npos;
}

}  // namespace

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kTooLarge:
      return 413;
    case StatusCode::kUnavailable:
    case StatusCode::kTimeout:
      return 503;
    default:
      return 500;
  }
}

HttpResponse JsonError(const Status& status) {
  if (status.code() == StatusCode::kUnauthenticated) {
    return UnauthenticatedResponse(status.message());
  }
  HttpResponse response =
      ErrorResponse(HttpStatusFor(status.code()), StatusCodeName(status.code()), status.message());
  if (response.status == 503) response.headers.emplace_back("Retry-After", "2");
  return response;
}

WebApi::WebApi(zmq::context_t& context, std::string api_endpoint, WebApiOptions options,
               const Clock* clock)
    : options_(options),
      clock_(clock),
      clients_(context, std::move(api_endpoint), options.api_timeout_ms,
               options.max_idle_clients) {
  if (!options_.results_root.empty()) {
    results_ = std::make_unique<const ResultsFiles>(options_.results_root);
  }
  http_metrics_ = std::make_unique<HttpMetrics>();
}

WebApi::~WebApi() = default;

HttpResponse WebApi::Handle(const HttpRequest& request) {
  HttpResponse response;
  try {
    response = Route(request);
  } catch (const std::exception& e) {
    // Only a bug gets here (bad_alloc, a library throwing where we did not expect it); the
    // server must keep serving, so it becomes a 500.
    spdlog::error("webui: {} {} failed: {}", request.method, Quote(request.path), e.what());
    response = ErrorResponse(500, StatusCodeName(StatusCode::kInternal), "internal error");
  }
  try {
    http_metrics_->Count(RouteLabel(request), response.status);
  } catch (const std::exception& e) {
    spdlog::error("webui: not counted: {}", e.what());
  }
  return response;
}

HttpResponse WebApi::Route(const HttpRequest& request) {
  if (request.path.size() + request.query.size() > options_.max_target_bytes) {
    return ErrorResponse(414, StatusCodeName(StatusCode::kTooLarge),
                         "request target longer than " +
                             std::to_string(options_.max_target_bytes) + " bytes");
  }
  auto who = CredentialsOf(request);
  // Before SplitPath: the results pages decode and check their path themselves, more strictly.
  if (IsResultsPath(request.path)) return ServeResults(request, who);
  auto segments = SplitPath(request.path);
  if (!segments.ok()) {
    return JsonError(Status::InvalidArgument("bad path " + Quote(request.path) + ": " +
                                             segments.status().message()));
  }
  auto match = MatchRoute(*segments);
  if (!match) return JsonError(Status::NotFound("no such path: " + Quote(request.path)));
  if (!Allows(match->page, request.method)) {
    std::string allowed(AllowedMethods(match->page));
    HttpResponse response =
        ErrorResponse(405, "MethodNotAllowed",
                      "method " + Quote(request.method) + " not allowed (allowed: " + allowed +
                          ")");
    response.headers.emplace_back("Allow", allowed);
    return response;
  }
  // A session's change without its CSRF token goes to the coordinator like any other request:
  // it refuses it there (PermissionDenied, 403) and its audit log keeps the attempt.

  switch (match->page) {
    case Page::kIndex:
      return Asset("index.html");
    case Page::kLoginPage:
      return Asset("login.html");
    case Page::kAsset:
      return Asset(match->arg);
    case Page::kHealthz: {
      HttpResponse response;
      response.content_type = "text/plain; charset=utf-8";
      response.body = "ok\n";
      response.headers.emplace_back("Cache-Control", "no-store");
      return response;
    }
    case Page::kLogin:
      return Login(request);
    case Page::kMetrics:
      return Metrics(request);
    default:
      break;
  }
  // A change's body is JSON (an empty one is {}): refused before anyone is asked. (The logout
  // predates this rule and takes its small body as it comes.)
  if (request.method == "POST" && match->page != Page::kLogout && !request.body.empty() &&
      !HasJsonContentType(request)) {
    return ErrorResponse(415, StatusCodeName(StatusCode::kInvalidArgument),
                         "the body must be JSON (Content-Type: application/json)");
  }

  // Everything below asks the coordinator as the request's sender.
  if (!who.ok()) return JsonError(who.status());
  const Who& as = who->credentials;
  switch (match->page) {
    case Page::kWhoAmI:
      return WhoAmI(as);
    case Page::kLogout:
      return Logout(request, as);
    case Page::kHosts:
      return ListHosts(as, request.query);
    case Page::kHost:
      return ShowHost(as, match->arg);
    case Page::kHostHistory:
      return HostHistory(as, match->arg, request.query);
    case Page::kLabels:
      return ListLabels(as, request.query);
    case Page::kPending:
      return ListPending(as, request.query);
    case Page::kAvail:
      return HostAvail(as, request.query);
    case Page::kJobs:
      return request.method == "POST" ? CreateJob(request, as) : ListJobs(as, request.query);
    case Page::kJobAbort:
      return AbortJob(request, as, match->arg);
    case Page::kJobLog:
      return JobLog(as, match->arg, request.query);
    case Page::kTests:
      return ListTests(as);
    case Page::kHostAction:
      return HostAction(request, as, match->arg, match->action);
    case Page::kHostLabels:
      return HostLabels(request, as, match->arg);
    case Page::kHostProtection:
      return HostProtection(request, as, match->arg);
    case Page::kHostReservation:
      return HostReservation(request, as, match->arg, match->action);
    case Page::kHostQuarantine:
      return HostQuarantine(request, as, match->arg, match->action);
    case Page::kHealth:
      return Health(as, request.query);
    case Page::kHostPower:
      return HostPower(request, as, match->arg);
    case Page::kHostConsole:
      return HostConsole(as, match->arg, request.query);
    case Page::kEvents:
      return Events(request, as);
    case Page::kJob:
      return ShowJob(as, match->arg);
    case Page::kResults:
      return QueryResults<protocol::ResultsListReply>(as, request.query,
                                                      ResultsListRequestFromQuery);
    case Page::kResultsSummary:
      return QueryResults<protocol::ResultsSummaryReply>(as, request.query,
                                                         ResultsSummaryRequestFromQuery);
    case Page::kResultsSeries:
      return QueryResults<protocol::ResultsSeriesReply>(as, request.query,
                                                        ResultsSeriesRequestFromQuery);
    case Page::kTemplates:
      return request.method == "POST" ? SaveTemplate(request, as) : ListTemplates(as, request.query);
    case Page::kTemplate:
      return ShowTemplate(as, match->arg);
    case Page::kTemplateDelete:
      return DeleteTemplate(request, as, match->arg);
    case Page::kSchedules:
      return request.method == "POST" ? CreateSchedule(request, as)
                                      : ListSchedules(as, request.query);
    case Page::kSchedule:
      return ShowSchedule(as, match->arg);
    case Page::kScheduleAction:
      return ScheduleAction(request, as, match->arg, match->action);
    default:
      break;
  }
  return JsonError(Status::Internal("unhandled route"));
}

HttpResponse WebApi::ServeResults(const HttpRequest& request,
                                  const Result<WebCredentials>& who) {
  if (!results_) return JsonError(Status::NotFound("the results repository is not served here"));
  // Other methods get their 405 from ResultsFiles: nothing is served, so nobody is asked.
  if (request.method == "GET" || request.method == "HEAD") {
    Status allowed = who.status();
    if (allowed.ok()) {
      protocol::WhoAmIRequest check;
      check.with_groups = false;  // just "is this someone?", once per file: keep it cheap
      allowed = Ask<protocol::WhoAmIReply>(check, who->credentials).status();
    }
    if (allowed.code() == StatusCode::kUnauthenticated && WantsHtml(request)) {
      std::string target = request.path + (request.query.empty() ? "" : "?" + request.query);
      HttpResponse response = UnauthenticatedResponse(allowed.message());
      response.content_type = "text/html; charset=utf-8";
      response.body = LoginNeededHtml(target, allowed.message());
      return response;
    }
    if (!allowed.ok()) return JsonError(allowed);
  }
  return results_->Handle(request);
}

HttpResponse WebApi::Login(const HttpRequest& request) {
  if (!HasJsonContentType(request)) {
    return ErrorResponse(415, StatusCodeName(StatusCode::kInvalidArgument),
                         "the login body must be JSON (Content-Type: application/json)");
  }
  auto login = ParseLoginBody(request.body);
  if (!login.ok()) return JsonError(login.status());
  // Only `from`: there is no session yet, and a stale cookie must not take part.
  auto reply = Ask<protocol::LoginReply>(*login, AnonymousCredentials(request));
  if (!reply.ok()) {
    if (reply.status().code() == StatusCode::kUnauthenticated) {
      return UnauthenticatedResponse(reply.status().message(), /*how_to_log_in=*/false);
    }
    return JsonError(reply.status());
  }
  if (!IsCookieValue(reply->session)) {
    return JsonError(Status::Internal("the coordinator's login reply has no usable session"));
  }
  HttpResponse response = Json(200, LoginJson(*reply));
  response.headers.emplace_back(
      "Set-Cookie",
      SessionCookie(reply->session, MaxAgeSeconds(reply->expires_ms, clock_->WallMs()),
                    request.tls));
  return response;
}

HttpResponse WebApi::WhoAmI(const Who& who) {
  protocol::WhoAmIRequest request;
  request.with_groups = true;
  auto reply = Ask<protocol::WhoAmIReply>(request, who);
  if (!reply.ok()) return JsonError(reply.status());
  return Json(200, WhoAmIJson(*reply));
}

HttpResponse WebApi::Logout(const HttpRequest& request, const Who& who) {
  auto logout = ParseLogoutBody(request.body);
  if (!logout.ok()) return JsonError(logout.status());
  auto reply = Ask<protocol::OkReply>(*logout, who);
  if (!reply.ok()) return JsonError(reply.status());
  HttpResponse response = Json(200, nlohmann::json{{"logged_out", true}});
  response.headers.emplace_back("Set-Cookie", ClearedSessionCookie(request.tls));
  return response;
}

HttpResponse WebApi::Asset(const std::string& name) {
  HttpResponse response;
  if (name == "chart.js") {
    // Debian's copy, streamed from disk: it is not ours to embed (and 200 KB).
    UniqueFd fd(::open(options_.chartjs_file.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat info {};
    if (!fd.valid() || ::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
      return JsonError(Status::NotFound("Chart.js is not installed (" + options_.chartjs_file +
                                        "; Debian package libjs-chart.js): plots cannot draw"));
    }
    response.content_type = "text/javascript; charset=utf-8";
    auto body = std::make_shared<FileBody>();
    body->length = static_cast<uint64_t>(info.st_size);
    body->fd = std::move(fd);
    response.file = std::move(body);
    response.headers.emplace_back("Cache-Control", "max-age=3600");
  } else if (!options_.static_dir.empty()) {
    std::string path = options_.static_dir + "/" + name;
    std::ifstream file(path, std::ios::binary);
    if (!file) return JsonError(Status::NotFound("no such page file: " + Quote(name)));
    response.body.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    response.content_type = std::string(StaticContentType(name));
    response.headers.emplace_back("Cache-Control", "no-store");
  } else {
    auto asset = FindStaticAsset(name);
    if (!asset) return JsonError(Status::NotFound("no such page file: " + Quote(name)));
    response.content_type = std::string(asset->content_type);
    response.body = std::string(asset->body);
    // Revalidate every time: a new coordinator build must not run a stale app.js.
    response.headers.emplace_back("Cache-Control", "no-cache");
  }
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (name.ends_with(".html")) {
    response.headers.emplace_back("Content-Security-Policy",
                                  "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                                  "frame-ancestors 'none'; base-uri 'none'");
  }
  return response;
}

template <typename Reply, typename FromQuery>
HttpResponse WebApi::QueryResults(const Who& who, const std::string& query,
                                  FromQuery from_query) {
  auto params = ParseQuery(query);
  if (!params.ok()) return JsonError(params.status());
  auto request = from_query(*params, clock_->WallUs());
  if (!request.ok()) return JsonError(request.status());
  auto reply = Ask<Reply>(*request, who);
  if (!reply.ok()) return JsonError(reply.status());
  return Json(200, protocol::ToJson(*reply));
}


HttpResponse WebApi::Json(int status, const nlohmann::json& body) const {
  HttpResponse response;
  response.status = status;
  response.content_type = kJsonContentType;
  // Replace, not throw, on invalid UTF-8: a hostname is whatever bytes an agent sent.
  response.body = body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("X-Labmesh-Now-Ms", std::to_string(clock_->WallMs()));
  return response;
}

}  // namespace labmesh::webui
