#include "api_routes.hpp"

#include <algorithm>

namespace labmesh::coordinator {

using protocol::MessageType;
using T = MessageType;

namespace {

constexpr bool kReads = false, kChanges = true;
constexpr bool kAnyone = false, kAdmins = true;

}  // namespace

std::string_view ApiOwnerName(ApiOwner owner) {
  switch (owner) {
    case ApiOwner::kHosts: return "hosts";
    case ApiOwner::kCatalog: return "catalog";
    case ApiOwner::kJobs: return "jobs";
    case ApiOwner::kHostTasks: return "host tasks";
    case ApiOwner::kResults: return "results";
    case ApiOwner::kAuth: return "auth";
    case ApiOwner::kPackages: return "packages";
    case ApiOwner::kMetrics: return "metrics";
    case ApiOwner::kRetention: return "retention";
    case ApiOwner::kWorkflow: return "workflow";
    case ApiOwner::kReservations: return "reservations";
    case ApiOwner::kHealth: return "health";
    case ApiOwner::kPower: return "power";
  }
  return "?";
}

const std::vector<ApiRouteFlags>& ApiRouteTable() {
  using O = ApiOwner;
  static const std::vector<ApiRouteFlags> table = {
      // hosts and labels (ApiService)
      {T::kHostListRequest, O::kHosts, kReads, kAnyone},
      {T::kHostShowRequest, O::kHosts, kReads, kAnyone},
      {T::kHostPendingRequest, O::kHosts, kReads, kAnyone},
      {T::kHostActionRequest, O::kHosts, kChanges, kAdmins},
      {T::kHostLabelRequest, O::kHosts, kChanges, kAdmins},
      {T::kLabelListRequest, O::kHosts, kReads, kAnyone},
      {T::kLabelActionRequest, O::kHosts, kChanges, kAdmins},
      {T::kHostModRequest, O::kHosts, kChanges, kAdmins},
      // reservations (ReservationService): users who may use the host; release by the
      // reserver or an admin, checked by the handler (reservation_rules.hpp)
      {T::kHostReserveRequest, O::kReservations, kChanges, kAnyone},
      {T::kHostReleaseRequest, O::kReservations, kChanges, kAnyone},
      // host health and quarantine (HealthService)
      {T::kHostFlakyRequest, O::kHealth, kReads, kAnyone},
      {T::kHostQuarantineRequest, O::kHealth, kChanges, kAdmins},
      // out-of-band power and consoles (PowerService): power by admins and the host's
      // reservation holder, checked by the handler
      {T::kHostPowerConfigRequest, O::kPower, kChanges, kAdmins},
      {T::kHostPowerShowRequest, O::kPower, kReads, kAnyone},
      {T::kHostPowerRequest, O::kPower, kChanges, kAnyone},
      {T::kHostConsoleRequest, O::kPower, kReads, kAnyone},
      // host tasks (HostTasks)
      {T::kHostTaskRequest, O::kHostTasks, kChanges, kAdmins},
      {T::kHostHistoryRequest, O::kHostTasks, kReads, kAnyone},
      // the test catalog (ApiService)
      {T::kTestAddRequest, O::kCatalog, kChanges, kAnyone},
      {T::kTestListRequest, O::kCatalog, kReads, kAnyone},
      {T::kTestShowRequest, O::kCatalog, kReads, kAnyone},
      // jobs (JobService)
      {T::kJobCreateRequest, O::kJobs, kChanges, kAnyone},
      {T::kJobListRequest, O::kJobs, kReads, kAnyone},
      {T::kJobShowRequest, O::kJobs, kReads, kAnyone},
      {T::kJobAbortRequest, O::kJobs, kChanges, kAnyone},
      {T::kJobLogRequest, O::kJobs, kReads, kAnyone},
      {T::kHostAvailRequest, O::kJobs, kReads, kAnyone},
      {T::kResultsImportRequest, O::kJobs, kChanges, kAnyone},
      // Not audited one by one: the import's begin and done are, and a chunk only fills a
      // directory its owner's begin made.
      {T::kResultsImportChunkRequest, O::kJobs, kReads, kAnyone},
      {T::kResultsImportDoneRequest, O::kJobs, kChanges, kAnyone},
      // retention (RetentionSweeper): the owner or an admin, checked by the handler
      {T::kJobDeleteRequest, O::kRetention, kChanges, kAnyone},
      // results (ResultsService)
      {T::kResultsListRequest, O::kResults, kReads, kAnyone},
      {T::kResultsSummaryRequest, O::kResults, kReads, kAnyone},
      {T::kResultsSeriesRequest, O::kResults, kReads, kAnyone},
      {T::kResultsReparseRequest, O::kResults, kChanges, kAnyone},
      {T::kResultsUsageRequest, O::kRetention, kReads, kAnyone},
      // users, ACL groups, audit, sessions (AuthService)
      {T::kUserListRequest, O::kAuth, kReads, kAnyone},
      {T::kUserCreateRequest, O::kAuth, kChanges, kAdmins},
      {T::kUserDeleteRequest, O::kAuth, kChanges, kAdmins},
      {T::kUserTokenRequest, O::kAuth, kChanges, kAnyone},
      {T::kUserPasswdRequest, O::kAuth, kChanges, kAnyone},
      // the user themself or an admin, checked by the handler
      {T::kUserModRequest, O::kAuth, kChanges, kAnyone},
      // lab workflow (NotifyService): the asking user's own secret
      {T::kNotifySecretRequest, O::kWorkflow, kReads, kAnyone},
      // templates and schedules (ScheduleService): changes by their owner or an admin, checked
      // by the handler
      {T::kTemplateSaveRequest, O::kWorkflow, kChanges, kAnyone},
      {T::kTemplateListRequest, O::kWorkflow, kReads, kAnyone},
      {T::kTemplateShowRequest, O::kWorkflow, kReads, kAnyone},
      {T::kTemplateDeleteRequest, O::kWorkflow, kChanges, kAnyone},
      {T::kScheduleCreateRequest, O::kWorkflow, kChanges, kAnyone},
      {T::kScheduleListRequest, O::kWorkflow, kReads, kAnyone},
      {T::kScheduleShowRequest, O::kWorkflow, kReads, kAnyone},
      {T::kScheduleActionRequest, O::kWorkflow, kChanges, kAnyone},
      {T::kAclListRequest, O::kAuth, kReads, kAnyone},
      {T::kAclCreateRequest, O::kAuth, kChanges, kAdmins},
      {T::kAclDeleteRequest, O::kAuth, kChanges, kAdmins},
      {T::kAclMemberRequest, O::kAuth, kChanges, kAdmins},
      {T::kAuditListRequest, O::kAuth, kReads, kAnyone},
      {T::kLoginRequest, O::kAuth, kChanges, kAnyone},
      {T::kWhoAmIRequest, O::kAuth, kReads, kAnyone},
      {T::kLogoutRequest, O::kAuth, kChanges, kAnyone},
      // agent packages (PackageService)
      {T::kPackageUploadRequest, O::kPackages, kChanges, kAdmins},
      {T::kPackageListRequest, O::kPackages, kReads, kAdmins},
      {T::kPackageDesireRequest, O::kPackages, kChanges, kAdmins},
      // metrics (MetricsService): the scrape token or loopback, not users (scrape_rules.hpp)
      {T::kMetricsRequest, O::kMetrics, kReads, kAnyone},
  };
  return table;
}

const ApiRouteFlags* FindApiRoute(MessageType type) {
  const auto& table = ApiRouteTable();
  auto it = std::find_if(table.begin(), table.end(),
                         [&](const ApiRouteFlags& r) { return r.type == type; });
  return it == table.end() ? nullptr : &*it;
}

bool ApiRoutes::Complete() const {
  for (const ApiRouteFlags& route : ApiRouteTable()) {
    if (handlers_.count(route.owner) == 0) return false;
  }
  return true;
}

void ApiRoutes::Dispatch(const ApiRouteFlags& route, const std::string& routing_id,
                         const protocol::Envelope& e, const Principal& who,
                         const std::string& from, const Reply& reply) const {
  auto it = handlers_.find(route.owner);
  if (it == handlers_.end()) {
    reply(protocol::ErrorFrame(
        e.request_id, Status::Unsupported(std::string(ApiOwnerName(route.owner)) +
                                          " requests are not served here")));
    return;
  }
  it->second(routing_id, e, who, from, reply);
}

}  // namespace labmesh::coordinator
