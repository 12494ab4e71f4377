// The API's route table (api_routes.hpp): every request type of the protocol has exactly one
// row, replies and agent messages have none, and its flags agree with the protocol's own
// classification (PROTOCOL.md; the web server's test double uses that), so the two cannot drift.

#include "api_routes.hpp"

#include <gtest/gtest.h>

#include <set>

namespace labmesh::coordinator {
namespace {

using protocol::MessageType;

TEST(ApiRoutes, EveryApiRequestHasOneRowAndNothingElseHasAny) {
  std::set<MessageType> seen;
  for (const ApiRouteFlags& route : ApiRouteTable()) {
    EXPECT_TRUE(seen.insert(route.type).second) << protocol::MessageTypeName(route.type);
    EXPECT_NE(protocol::MessageTypeName(route.type).find("Request"), std::string_view::npos)
        << protocol::MessageTypeName(route.type);
    EXPECT_GE(static_cast<uint32_t>(route.type), 100u);  // the API's numbers
  }
  for (uint32_t n = 0; n < 1000; ++n) {
    if (!protocol::IsKnownMessageType(n)) continue;
    auto type = static_cast<MessageType>(n);
    bool api_request = n >= 100 && protocol::MessageTypeName(type).ends_with("Request");
    EXPECT_EQ(FindApiRoute(type) != nullptr, api_request) << protocol::MessageTypeName(type);
  }
}

TEST(ApiRoutes, FlagsAgreeWithTheProtocolsClassification) {
  for (const ApiRouteFlags& route : ApiRouteTable()) {
    EXPECT_EQ(route.mutating, protocol::IsMutatingRequest(route.type))
        << protocol::MessageTypeName(route.type);
    EXPECT_EQ(route.admin_only, protocol::IsAdminRequest(route.type))
        << protocol::MessageTypeName(route.type);
  }
}

TEST(ApiRoutes, ReservationsAreAuditedChangesAnyUserMaySend) {
  // Who may reserve or release is the handler's decision (reservation_rules.hpp), not the
  // gate's: users who may use the host, and the reserver or an admin.
  for (MessageType type : {MessageType::kHostReserveRequest, MessageType::kHostReleaseRequest}) {
    const ApiRouteFlags* route = FindApiRoute(type);
    ASSERT_NE(route, nullptr) << protocol::MessageTypeName(type);
    EXPECT_EQ(route->owner, ApiOwner::kReservations);
    EXPECT_TRUE(route->mutating);
    EXPECT_FALSE(route->admin_only);
  }
  EXPECT_EQ(protocol::MessageTypeName(MessageType::kHostReserveRequest), "HostReserveRequest");
  EXPECT_EQ(protocol::MessageTypeName(MessageType::kHostReleaseRequest), "HostReleaseRequest");
  EXPECT_EQ(static_cast<int>(MessageType::kHostReserveRequest), 165);
  EXPECT_EQ(static_cast<int>(MessageType::kHostReleaseRequest), 166);
}

TEST(ApiRoutes, HealthScoresAnyoneReadsQuarantineAdminsChange) {
  const ApiRouteFlags* flaky = FindApiRoute(MessageType::kHostFlakyRequest);
  ASSERT_NE(flaky, nullptr);
  EXPECT_EQ(flaky->owner, ApiOwner::kHealth);
  EXPECT_FALSE(flaky->mutating);
  EXPECT_FALSE(flaky->admin_only);
  const ApiRouteFlags* quarantine = FindApiRoute(MessageType::kHostQuarantineRequest);
  ASSERT_NE(quarantine, nullptr);
  EXPECT_EQ(quarantine->owner, ApiOwner::kHealth);
  EXPECT_TRUE(quarantine->mutating);
  EXPECT_TRUE(quarantine->admin_only);
  EXPECT_EQ(FindApiRoute(MessageType::kHostFlakyReply), nullptr);  // a reply, not a request
  EXPECT_EQ(static_cast<int>(MessageType::kHostFlakyRequest), 167);
  EXPECT_EQ(static_cast<int>(MessageType::kHostQuarantineRequest), 169);
}

TEST(ApiRoutes, PowerRequestsAreTheirOwnersAndPowerIsCheckedByItsHandler) {
  // Configuration is an admin's; an operation is for admins and the reservation holder, which
  // the handler decides (power_service.cpp); reads are anyone's.
  struct Row {
    MessageType type;
    int number;
    bool mutating;
    bool admin_only;
  };
  for (const Row& row : {Row{MessageType::kHostPowerConfigRequest, 214, true, true},
                         Row{MessageType::kHostPowerShowRequest, 215, false, false},
                         Row{MessageType::kHostPowerRequest, 217, true, false},
                         Row{MessageType::kHostConsoleRequest, 219, false, false}}) {
    const ApiRouteFlags* route = FindApiRoute(row.type);
    ASSERT_NE(route, nullptr) << row.number;
    EXPECT_EQ(static_cast<int>(row.type), row.number);
    EXPECT_EQ(route->owner, ApiOwner::kPower);
    EXPECT_EQ(route->mutating, row.mutating) << row.number;
    EXPECT_EQ(route->admin_only, row.admin_only) << row.number;
  }
  EXPECT_EQ(static_cast<int>(MessageType::kHostPowerShowReply), 216);
  EXPECT_EQ(static_cast<int>(MessageType::kHostPowerReply), 218);
  EXPECT_EQ(static_cast<int>(MessageType::kHostConsoleReply), 220);
}

TEST(ApiRoutes, DispatchRunsTheOwnersHandlerAndRefusesAnUnboundOwner) {
  ApiRoutes routes;
  EXPECT_FALSE(routes.Complete());
  std::vector<std::string> calls;
  for (ApiOwner owner : {ApiOwner::kHosts, ApiOwner::kCatalog, ApiOwner::kJobs,
                         ApiOwner::kHostTasks, ApiOwner::kResults, ApiOwner::kAuth}) {
    routes.Bind(owner, [&calls, owner](const std::string& id, const protocol::Envelope&,
                                       const Principal&, const std::string&,
                                       const ApiRoutes::Reply& reply) {
      calls.push_back(std::string(ApiOwnerName(owner)) + ":" + id);
      reply("ok");
    });
  }
  EXPECT_FALSE(routes.Complete());  // packages are not bound
  protocol::Envelope e;
  e.type = MessageType::kJobShowRequest;
  e.request_id = 5;
  std::string replied;
  auto reply = [&](std::string frame) { replied = std::move(frame); };
  routes.Dispatch(*FindApiRoute(MessageType::kJobShowRequest), "p1", e, Principal{}, "", reply);
  EXPECT_EQ(calls, std::vector<std::string>{"jobs:p1"});
  EXPECT_EQ(replied, "ok");
  routes.Dispatch(*FindApiRoute(MessageType::kPackageListRequest), "p2", e, Principal{}, "",
                  reply);
  auto error = protocol::DecodeAs<protocol::OkReply>(replied);
  EXPECT_EQ(error.status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(calls.size(), 1u);
}

}  // namespace
}  // namespace labmesh::coordinator
