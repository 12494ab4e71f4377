#pragma once
// ApiRoutes: the API's route table - for each request type, the service that owns it, whether
// it changes something (audited; a web session needs its CSRF token; its reply leaves after
// the loop turn's commit) and whether only admins may send it, and the handler. The coordinator
// dispatches every admitted request through it; adding a message touches the protocol, this
// table and its handler (docs/architecture.md).
//
// Event-loop thread only.

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "labmesh/protocol/envelope.hpp"
#include "principal.hpp"

namespace labmesh::coordinator {

// Who answers a request: the owning service.
enum class ApiOwner {
  kHosts, kCatalog, kJobs, kHostTasks, kResults, kAuth, kPackages, kMetrics, kRetention,
  kWorkflow, kReservations, kHealth, kPower
};
std::string_view ApiOwnerName(ApiOwner owner);

// A request's place in the table, without its handler: what the gate and the audit need.
struct ApiRouteFlags {
  protocol::MessageType type;
  ApiOwner owner;
  bool mutating;
  bool admin_only;
};
// The table's rows, in message type order.
const std::vector<ApiRouteFlags>& ApiRouteTable();
// The row of `type`, or nullptr when the API takes no such request.
const ApiRouteFlags* FindApiRoute(protocol::MessageType type);

// The handlers. A handler answers through the sender it is given; a mutating request's answer
// is held until the turn's commit by that sender.
class ApiRoutes {
 public:
  using Reply = std::function<void(std::string frame)>;
  using Handler = std::function<void(const std::string& routing_id, const protocol::Envelope& e,
                                     const Principal& who, const std::string& from,
                                     const Reply& reply)>;
  // Binds every row of `owner` to `handler`.
  void Bind(ApiOwner owner, Handler handler) { handlers_[owner] = std::move(handler); }
  // Every owner in the table has a handler.
  bool Complete() const;
  // Runs the handler of `route`.
  void Dispatch(const ApiRouteFlags& route, const std::string& routing_id,
                const protocol::Envelope& e, const Principal& who, const std::string& from,
                const Reply& reply) const;

 private:
  std::map<ApiOwner, Handler> handlers_;
};

}  // namespace labmesh::coordinator
