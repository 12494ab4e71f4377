#pragma once
// ExpectSame for the users/ACL/audit/session messages (auth_messages.hpp): their encodings must
// match byte for byte. With SamplesLeaveNoFieldAtItsDefault this proves every field survives a
// round trip (a field the decoder dropped would come back at its default and encode differently).

#include <gtest/gtest.h>

#include <string>
#include <type_traits>

#include "labmesh/protocol/auth_messages.hpp"
#include "protocol_codec.hpp"  // packs both sides with the wire encoders

namespace labmesh::protocol::testing {

template <typename M>
concept AuthMessage =
    std::is_same_v<M, UserListRequest> || std::is_same_v<M, UserListReply> ||
    std::is_same_v<M, UserCreateRequest> || std::is_same_v<M, UserTokenReply> ||
    std::is_same_v<M, UserDeleteRequest> || std::is_same_v<M, UserTokenRequest> ||
    std::is_same_v<M, UserPasswdRequest> || std::is_same_v<M, AclListRequest> ||
    std::is_same_v<M, AclListReply> || std::is_same_v<M, AclCreateRequest> ||
    std::is_same_v<M, AclDeleteRequest> || std::is_same_v<M, AclMemberRequest> ||
    std::is_same_v<M, AuditListRequest> || std::is_same_v<M, AuditListReply> ||
    std::is_same_v<M, LoginRequest> || std::is_same_v<M, LoginReply> ||
    std::is_same_v<M, WhoAmIRequest> || std::is_same_v<M, WhoAmIReply> ||
    std::is_same_v<M, LogoutRequest>;

template <AuthMessage M>
void ExpectSame(const M& a, const M& b) {
  msgpack::sbuffer left, right;
  msgpack::pack(left, a);
  msgpack::pack(right, b);
  EXPECT_EQ(std::string(left.data(), left.size()), std::string(right.data(), right.size()));
}

}  // namespace labmesh::protocol::testing
