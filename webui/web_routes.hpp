#pragma once
// The web server's routes: which page a decoded path is, which methods each page takes, and
// the route's name for the HTTP request counter (labmesh_http_requests_total: one name per
// route, never the path itself, so that hostnames and ids do not make a series each).
// Pure functions; internal to webui (web_api.cpp, http_metrics).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "labmesh/webui/http_types.hpp"

namespace labmesh::webui {

enum class Page {
  kIndex,
  kLoginPage,
  kAsset,
  kHealthz,
  kLogin,
  kWhoAmI,
  kLogout,
  kHosts,
  kHost,
  kHostHistory,
  kLabels,
  kPending,
  kJobs,
  kAvail,
  kJob,
  kResults,
  kResultsSummary,
  kResultsSeries,
  kJobAbort,
  kJobLog,
  kTests,
  kHostAction,
  kHostLabels,
  kHostProtection,
  kHostReservation,  // reserve, release (docs/reservations.md)
  kHostQuarantine,   // quarantine, unquarantine (docs/quarantine.md)
  kHealth,           // the hosts' health scores and the flaky tests
  kHostPower,        // GET the power config, POST an operation (docs/power-console.md)
  kHostConsole,      // GET a piece of the console log
  kEvents,
  kMetrics,
  kTemplates,
  kTemplate,
  kTemplateDelete,
  kSchedules,
  kSchedule,
  kScheduleAction,
};

struct RouteMatch {
  Page page;
  std::string arg;     // asset name, hostname or job id (as sent)
  std::string action;  // kHostAction: lock, unlock, ...; kHostReservation: reserve, release;
                       // kHostQuarantine: quarantine, unquarantine;
                       // kScheduleAction: pause, resume, delete
};

// Maps decoded path segments to a page; nullopt for a path we do not serve.
std::optional<RouteMatch> MatchRoute(const std::vector<std::string>& segments);
// Pages that take only POST.
bool IsPostOnly(Page page);
// The methods a page answers; every other one is 405 with this as the Allow header.
std::string_view AllowedMethods(Page page);
bool Allows(Page page, std::string_view method);

// The route a request is counted under: the page's path with its variable parts named
// ("/api/v1/hosts/{name}"), "/results/" for the results files, "other" for any other path.
std::string_view RouteLabel(const HttpRequest& request);

}  // namespace labmesh::webui
