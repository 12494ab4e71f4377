#include "web_routes.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include "labmesh/webui/results_path.hpp"
#include "labmesh/webui/url.hpp"

namespace labmesh::webui {
namespace {

constexpr char kReadMethods[] = "GET, HEAD";
constexpr char kPostMethod[] = "POST";

// The host actions POST /api/v1/hosts/<name>/<action> takes.
bool IsHostAction(const std::string& action) {
  return action == "lock" || action == "unlock" || action == "accept" || action == "reject" ||
         action == "verify" || action == "repair";
}

// A file name --web-static-dir may serve: letters, digits, '_', '-', '.', with an extension,
// not starting with '.' (so never "..", a hidden file or a path).
bool IsStaticName(const std::string& name) {
  if (name.empty() || name.size() > 100 || name.front() == '.' ||
      name.find('.') == std::string::npos) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

RouteMatch Match(Page page, std::string arg, std::string action = "") {
  return RouteMatch{page, std::move(arg), std::move(action)};
}

}  // namespace

std::optional<RouteMatch> MatchRoute(const std::vector<std::string>& s) {
  if (s.empty() || (s.size() == 1 && s[0] == "index.html")) return Match(Page::kIndex, "");
  if (s.size() == 1 && s[0] == "healthz") return Match(Page::kHealthz, "");
  if (s.size() == 1 && s[0] == "metrics") return Match(Page::kMetrics, "");
  if (s.size() == 1 && s[0] == "login") return Match(Page::kLoginPage, "");
  if (s.size() == 2 && s[0] == "static" && IsStaticName(s[1])) {
    return Match(Page::kAsset, s[1]);
  }
  if (s.size() >= 3 && s[0] == "api" && s[1] == "v1") {
    if (s.size() == 3 && s[2] == "login") return Match(Page::kLogin, "");
    if (s.size() == 3 && s[2] == "whoami") return Match(Page::kWhoAmI, "");
    if (s.size() == 3 && s[2] == "logout") return Match(Page::kLogout, "");
    if (s.size() == 3 && s[2] == "hosts") return Match(Page::kHosts, "");
    if (s.size() == 4 && s[2] == "hosts") return Match(Page::kHost, s[3]);
    if (s.size() == 5 && s[2] == "hosts" && s[4] == "history") {
      return Match(Page::kHostHistory, s[3]);
    }
    if (s.size() == 5 && s[2] == "hosts" && s[4] == "labels") {
      return Match(Page::kHostLabels, s[3]);
    }
    if (s.size() == 5 && s[2] == "hosts" && s[4] == "protection") {
      return Match(Page::kHostProtection, s[3]);
    }
    if (s.size() == 5 && s[2] == "hosts" && (s[4] == "reserve" || s[4] == "release")) {
      return Match(Page::kHostReservation, s[3], s[4]);
    }
    if (s.size() == 5 && s[2] == "hosts" && (s[4] == "quarantine" || s[4] == "unquarantine")) {
      return Match(Page::kHostQuarantine, s[3], s[4]);
    }
    if (s.size() == 5 && s[2] == "hosts" && s[4] == "power") return Match(Page::kHostPower, s[3]);
    if (s.size() == 5 && s[2] == "hosts" && s[4] == "console") {
      return Match(Page::kHostConsole, s[3]);
    }
    if (s.size() == 5 && s[2] == "hosts" && IsHostAction(s[4])) {
      return Match(Page::kHostAction, s[3], s[4]);
    }
    if (s.size() == 5 && s[2] == "jobs" && s[4] == "abort") return Match(Page::kJobAbort, s[3]);
    if (s.size() == 5 && s[2] == "jobs" && s[4] == "log") return Match(Page::kJobLog, s[3]);
    if (s.size() == 3 && s[2] == "tests") return Match(Page::kTests, "");
    if (s.size() == 3 && s[2] == "health") return Match(Page::kHealth, "");
    if (s.size() == 3 && s[2] == "events") return Match(Page::kEvents, "");
    if (s.size() == 3 && s[2] == "labels") return Match(Page::kLabels, "");
    if (s.size() == 3 && s[2] == "pending") return Match(Page::kPending, "");
    if (s.size() == 3 && s[2] == "jobs") return Match(Page::kJobs, "");
    if (s.size() == 3 && s[2] == "avail") return Match(Page::kAvail, "");
    if (s.size() == 4 && s[2] == "jobs") return Match(Page::kJob, s[3]);
    if (s.size() == 3 && s[2] == "templates") return Match(Page::kTemplates, "");
    if (s.size() == 4 && s[2] == "templates") return Match(Page::kTemplate, s[3]);
    if (s.size() == 5 && s[2] == "templates" && s[4] == "delete") {
      return Match(Page::kTemplateDelete, s[3]);
    }
    if (s.size() == 3 && s[2] == "schedules") return Match(Page::kSchedules, "");
    if (s.size() == 4 && s[2] == "schedules") return Match(Page::kSchedule, s[3]);
    if (s.size() == 5 && s[2] == "schedules" &&
        (s[4] == "pause" || s[4] == "resume" || s[4] == "delete")) {
      return Match(Page::kScheduleAction, s[3], s[4]);
    }
    if (s.size() == 3 && s[2] == "results") return Match(Page::kResults, "");
    if (s.size() == 4 && s[2] == "results" && s[3] == "summary") {
      return Match(Page::kResultsSummary, "");
    }
    if (s.size() == 4 && s[2] == "results" && s[3] == "series") {
      return Match(Page::kResultsSeries, "");
    }
  }
  return std::nullopt;
}

bool IsPostOnly(Page page) {
  return page == Page::kLogin || page == Page::kLogout || page == Page::kJobAbort ||
         page == Page::kHostAction || page == Page::kHostLabels || page == Page::kHostProtection ||
         page == Page::kTemplateDelete || page == Page::kScheduleAction ||
         page == Page::kHostReservation || page == Page::kHostQuarantine;
}

// Pages read with GET that also take a POST (a new job, template or schedule; a power
// operation).
bool IsListAndCreate(Page page) {
  return page == Page::kJobs || page == Page::kTemplates || page == Page::kSchedules ||
         page == Page::kHostPower;
}

std::string_view AllowedMethods(Page page) {
  if (IsListAndCreate(page)) return "GET, HEAD, POST";
  return IsPostOnly(page) ? kPostMethod : kReadMethods;
}

bool Allows(Page page, std::string_view method) {
  if (IsListAndCreate(page) && method == "POST") return true;
  if (IsPostOnly(page)) return method == "POST";
  return method == "GET" || method == "HEAD";
}

std::string_view RouteLabel(const HttpRequest& request) {
  if (IsResultsPath(request.path)) return "/results/";
  auto segments = SplitPath(request.path);
  if (!segments.ok()) return "other";
  auto match = MatchRoute(*segments);
  if (!match) return "other";
  switch (match->page) {
    case Page::kIndex: return "/";
    case Page::kLoginPage: return "/login";
    case Page::kAsset: return "/static/{file}";
    case Page::kHealthz: return "/healthz";
    case Page::kMetrics: return "/metrics";
    case Page::kLogin: return "/api/v1/login";
    case Page::kWhoAmI: return "/api/v1/whoami";
    case Page::kLogout: return "/api/v1/logout";
    case Page::kHosts: return "/api/v1/hosts";
    case Page::kHost: return "/api/v1/hosts/{name}";
    case Page::kHostHistory: return "/api/v1/hosts/{name}/history";
    case Page::kHostAction: return "/api/v1/hosts/{name}/{action}";
    case Page::kHostLabels: return "/api/v1/hosts/{name}/labels";
    case Page::kHostProtection: return "/api/v1/hosts/{name}/protection";
    case Page::kHostReservation: return "/api/v1/hosts/{name}/{reserve,release}";
    case Page::kHostQuarantine: return "/api/v1/hosts/{name}/{quarantine,unquarantine}";
    case Page::kHealth: return "/api/v1/health";
    case Page::kHostPower: return "/api/v1/hosts/{name}/power";
    case Page::kHostConsole: return "/api/v1/hosts/{name}/console";
    case Page::kLabels: return "/api/v1/labels";
    case Page::kPending: return "/api/v1/pending";
    case Page::kJobs: return "/api/v1/jobs";
    case Page::kAvail: return "/api/v1/avail";
    case Page::kJob: return "/api/v1/jobs/{id}";
    case Page::kJobAbort: return "/api/v1/jobs/{id}/abort";
    case Page::kJobLog: return "/api/v1/jobs/{id}/log";
    case Page::kTests: return "/api/v1/tests";
    case Page::kEvents: return "/api/v1/events";
    case Page::kResults: return "/api/v1/results";
    case Page::kResultsSummary: return "/api/v1/results/summary";
    case Page::kResultsSeries: return "/api/v1/results/series";
    case Page::kTemplates: return "/api/v1/templates";
    case Page::kTemplate: return "/api/v1/templates/{name}";
    case Page::kTemplateDelete: return "/api/v1/templates/{name}/delete";
    case Page::kSchedules: return "/api/v1/schedules";
    case Page::kSchedule: return "/api/v1/schedules/{name}";
    case Page::kScheduleAction: return "/api/v1/schedules/{name}/{action}";
  }
  return "other";
}

}  // namespace labmesh::webui
