#pragma once
// ExpectSame for the messages compared by their encoding: the users/ACL/audit/session messages
// (auth_messages.hpp) and the lab-workflow ones (workflow_messages.hpp, schedule_messages.hpp,
// the reservations). Their encodings must match byte for byte. With
// SamplesLeaveNoFieldAtItsDefault this proves every field survives a round trip (a field the
// decoder dropped would come back at its default and encode differently).

#include <gtest/gtest.h>

#include <string>
#include <type_traits>

#include "labmesh/protocol/auth_messages.hpp"
#include "labmesh/protocol/schedule_messages.hpp"
#include "labmesh/protocol/workflow_messages.hpp"
#include "protocol_codec.hpp"  // packs both sides with the wire encoders

namespace labmesh::protocol::testing {

template <typename M, typename... Family>
inline constexpr bool kOneOf = (std::is_same_v<M, Family> || ...);

template <typename M>
concept ComparedByEncoding =
    // auth_messages.hpp
    kOneOf<M, UserListRequest, UserListReply, UserCreateRequest, UserTokenReply,
           UserDeleteRequest, UserTokenRequest, UserPasswdRequest, AclListRequest, AclListReply,
           AclCreateRequest, AclDeleteRequest, AclMemberRequest, AuditListRequest,
           AuditListReply, LoginRequest, LoginReply, WhoAmIRequest, WhoAmIReply,
           LogoutRequest> ||
    // workflow_messages.hpp, schedule_messages.hpp
    kOneOf<M, NotificationInfo, UserModRequest, NotifySecretRequest, NotifySecretReply,
           TemplateInfo, TemplateSaveRequest, TemplateListRequest, TemplateListReply,
           TemplateShowRequest, TemplateShowReply, TemplateDeleteRequest, ScheduleInfo,
           ScheduleCreateRequest, ScheduleListRequest, ScheduleListReply, ScheduleShowRequest,
           ScheduleShowReply, ScheduleActionRequest, HostReserveRequest, HostReleaseRequest> ||
    // health_messages.hpp
    kOneOf<M, HealthEvidenceInfo, HostHealthInfo, FlakyTestInfo, HostFlakyRequest,
           HostFlakyReply, HostQuarantineRequest> ||
    // power_messages.hpp
    kOneOf<M, PowerConfigInfo, HostPowerConfigRequest, HostPowerShowRequest, HostPowerShowReply,
           HostPowerRequest, HostPowerReply, HostConsoleRequest, HostConsoleReply> ||
    // mesh_messages.hpp
    kOneOf<M, PeerSource, PackageChunksRequest, PackageChunks, PeerBadReport, PeerChunkRequest,
           PeerChunk>;

template <ComparedByEncoding M>
void ExpectSame(const M& a, const M& b) {
  msgpack::sbuffer left, right;
  msgpack::pack(left, a);
  msgpack::pack(right, b);
  EXPECT_EQ(std::string(left.data(), left.size()), std::string(right.data(), right.size()));
}

}  // namespace labmesh::protocol::testing
