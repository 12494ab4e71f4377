#pragma once
// The route table's handlers (api_routes.hpp) bound to the services that own them: each owner's
// service answers its requests. Services that stage their changes into the loop turn's batch
// answer a change after its commit; those that commit on their own (users, the catalog,
// packages) answer at once; the read-only queries that read only the stores (results list,
// summary and series, job list) go to the QueryPool's reader threads (docs/architecture.md).
//
// Event-loop thread only, like the services.

#include <cstdint>
#include <functional>
#include <string>

#include "api_routes.hpp"
#include "query_pool.hpp"

namespace labmesh::store {
class Store;
}

namespace labmesh::coordinator {

class ApiService;
class AuthService;
class Core;
class HealthService;
class MetricsService;
class NotifyService;
class PackageService;
class PowerService;
class ReservationService;
class ResultsService;
class RetentionSweeper;
class ScheduleService;

struct ApiServices {
  ApiService* api;
  ReservationService* reservations;
  HealthService* health;
  PowerService* power;
  Core* core;
  ResultsService* results;
  RetentionSweeper* retention;
  PackageService* packages;
  MetricsService* metrics;
  NotifyService* notify;
  ScheduleService* schedules;
  AuthService* auth;
  store::Store* store;
  // Runs `work` on a reader thread and sends what it returns to `routing_id` (QueryPool);
  // answers Unavailable for `request_id` when too many queries wait.
  std::function<void(const std::string& routing_id, uint64_t request_id, QueryPool::Work work)>
      query;
};

void BindApiRoutes(ApiRoutes* routes, const ApiServices& services);

}  // namespace labmesh::coordinator
