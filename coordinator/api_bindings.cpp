#include "api_bindings.hpp"

#include "api_service.hpp"
#include "auth_service.hpp"
#include "core.hpp"
#include "health_service.hpp"
#include "job_view.hpp"
#include "metrics_service.hpp"
#include "notify_service.hpp"
#include "package_service.hpp"
#include "power_service.hpp"
#include "reservations.hpp"
#include "results_service.hpp"
#include "retention.hpp"
#include "schedule_service.hpp"

namespace labmesh::coordinator {

void BindApiRoutes(ApiRoutes* routes, const ApiServices& s) {
  using T = protocol::MessageType;
  using Reply = ApiRoutes::Reply;
  routes->Bind(ApiOwner::kHosts, [s](const std::string& id, const protocol::Envelope& e,
                                     const Principal& who, const std::string&, const Reply& reply) {
    std::string frame = s.api->Handle(e, who);
    if (FindApiRoute(e.type)->mutating) {
      s.core->batch().ToApi(id, std::move(frame), e.request_id);
    } else {
      reply(std::move(frame));
    }
  });
  routes->Bind(ApiOwner::kReservations,
               [s](const std::string& id, const protocol::Envelope& e, const Principal& who,
                   const std::string&, const Reply&) {
                 // Staged on the host record: the reply leaves after the turn's commit.
                 s.core->batch().ToApi(id, s.reservations->Handle(e, who), e.request_id);
               });
  routes->Bind(ApiOwner::kHealth,
               [s](const std::string& id, const protocol::Envelope& e, const Principal& who,
                   const std::string&, const Reply& reply) {
                 if (e.type == T::kHostFlakyRequest) return reply(s.health->HandleFlaky(e));
                 // Staged on the host record: the reply leaves after the turn's commit.
                 s.core->batch().ToApi(id, s.health->HandleQuarantine(e, who), e.request_id);
               });
  routes->Bind(ApiOwner::kPower, [s](const std::string& id, const protocol::Envelope& e,
                                     const Principal& who, const std::string&, const Reply& reply) {
    s.power->HandleApi(id, e, who, reply);
  });
  routes->Bind(ApiOwner::kCatalog,
               [s](const std::string&, const protocol::Envelope& e, const Principal& who,
                   const std::string&, const Reply& reply) { reply(s.api->Handle(e, who)); });
  routes->Bind(ApiOwner::kJobs, [s](const std::string& id, const protocol::Envelope& e,
                                    const Principal& who, const std::string&, const Reply& reply) {
    JobService& jobs = s.core->jobs();
    switch (e.type) {
      case T::kJobCreateRequest:
        return jobs.Create(id, e, who);
      case T::kJobAbortRequest:
        return jobs.Abort(id, e, who);
      case T::kJobListRequest:
        return s.query(id, e.request_id, [store = s.store, e] { return JobListFrame(store, e); });
      case T::kJobShowRequest:
        return reply(jobs.Show(e));
      case T::kJobLogRequest:
        return reply(jobs.Log(e));
      case T::kHostAvailRequest:
        return reply(jobs.Avail(e, who));
      case T::kResultsImportRequest:
        return jobs.ImportBegin(id, e, who);
      case T::kResultsImportChunkRequest:
        return reply(jobs.ImportChunk(e, who));
      case T::kResultsImportDoneRequest:
        return jobs.ImportDone(id, e, who);
      default:
        return reply(protocol::ErrorFrame(e.request_id, Status::Unsupported("not a job request")));
    }
  });
  routes->Bind(ApiOwner::kHostTasks,
               [s](const std::string& id, const protocol::Envelope& e, const Principal& who,
                   const std::string&, const Reply& reply) {
                 if (e.type == T::kHostTaskRequest) return s.core->tasks().RequestTask(id, e, who);
                 reply(s.core->tasks().History(e));
               });
  routes->Bind(ApiOwner::kResults, [s](const std::string& id, const protocol::Envelope& e,
                                       const Principal& who, const std::string&, const Reply&) {
    if (ResultsService::IsQuery(e.type)) return s.query(id, e.request_id, s.results->Query(e));
    s.results->HandleApi(id, e, who);
  });
  routes->Bind(ApiOwner::kRetention,
               [s](const std::string& id, const protocol::Envelope& e, const Principal& who,
                   const std::string&, const Reply&) { s.retention->HandleApi(id, e, who); });
  routes->Bind(ApiOwner::kPackages,
               [s](const std::string& id, const protocol::Envelope& e, const Principal& who,
                   const std::string&, const Reply&) { s.packages->HandleApi(id, e, who); });
  routes->Bind(ApiOwner::kMetrics,
               [s](const std::string&, const protocol::Envelope& e, const Principal&,
                   const std::string&, const Reply& reply) { reply(s.metrics->Handle(e)); });
  routes->Bind(ApiOwner::kWorkflow,
               [s](const std::string& id, const protocol::Envelope& e, const Principal& who,
                   const std::string&, const Reply& reply) {
                 if (e.type == T::kNotifySecretRequest) return reply(s.notify->Secret(e, who));
                 s.schedules->HandleApi(id, e, who, reply);
               });
  routes->Bind(ApiOwner::kAuth, [s](const std::string&, const protocol::Envelope& e,
                                    const Principal& who, const std::string& from,
                                    const Reply& reply) { reply(s.auth->Handle(e, who, from)); });
}

}  // namespace labmesh::coordinator
