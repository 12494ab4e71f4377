#pragma once
// ExpectSame for the lab-workflow messages (workflow_messages.hpp, schedule_messages.hpp): their
// encodings must match byte for byte, as for the auth messages (auth_expect_same.hpp).

#include <gtest/gtest.h>

#include <string>
#include <type_traits>

#include "labmesh/protocol/schedule_messages.hpp"
#include "labmesh/protocol/workflow_messages.hpp"
#include "protocol_codec.hpp"

namespace labmesh::protocol::testing {

template <typename M>
concept WorkflowMessage =
    std::is_same_v<M, NotificationInfo> || std::is_same_v<M, UserModRequest> ||
    std::is_same_v<M, NotifySecretRequest> || std::is_same_v<M, NotifySecretReply> ||
    std::is_same_v<M, TemplateInfo> || std::is_same_v<M, TemplateSaveRequest> ||
    std::is_same_v<M, TemplateListRequest> || std::is_same_v<M, TemplateListReply> ||
    std::is_same_v<M, TemplateShowRequest> || std::is_same_v<M, TemplateShowReply> ||
    std::is_same_v<M, TemplateDeleteRequest> || std::is_same_v<M, ScheduleInfo> ||
    std::is_same_v<M, ScheduleCreateRequest> || std::is_same_v<M, ScheduleListRequest> ||
    std::is_same_v<M, ScheduleListReply> || std::is_same_v<M, ScheduleShowRequest> ||
    std::is_same_v<M, ScheduleShowReply> || std::is_same_v<M, ScheduleActionRequest> ||
    std::is_same_v<M, HostReserveRequest> || std::is_same_v<M, HostReleaseRequest>;

template <WorkflowMessage M>
void ExpectSame(const M& a, const M& b) {
  msgpack::sbuffer left, right;
  msgpack::pack(left, a);
  msgpack::pack(right, b);
  EXPECT_EQ(std::string(left.data(), left.size()), std::string(right.data(), right.size()));
}

}  // namespace labmesh::protocol::testing
