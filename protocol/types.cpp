#include "labmesh/protocol/types.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace labmesh::protocol {
namespace {

struct TypeName {
  MessageType type;
  std::string_view name;
};

constexpr std::array kTypeNames = {
    TypeName{MessageType::kError, "Error"},
    TypeName{MessageType::kAgentHello, "AgentHello"},
    TypeName{MessageType::kWelcome, "Welcome"},
    TypeName{MessageType::kPendingApproval, "PendingApproval"},
    TypeName{MessageType::kReject, "Reject"},
    TypeName{MessageType::kHeartbeat, "Heartbeat"},
    TypeName{MessageType::kHeartbeatAck, "HeartbeatAck"},
    TypeName{MessageType::kReregister, "Reregister"},
    TypeName{MessageType::kHostListRequest, "HostListRequest"},
    TypeName{MessageType::kHostListReply, "HostListReply"},
    TypeName{MessageType::kHostShowRequest, "HostShowRequest"},
    TypeName{MessageType::kHostShowReply, "HostShowReply"},
    TypeName{MessageType::kHostPendingRequest, "HostPendingRequest"},
    TypeName{MessageType::kHostActionRequest, "HostActionRequest"},
    TypeName{MessageType::kHostLabelRequest, "HostLabelRequest"},
    TypeName{MessageType::kLabelListRequest, "LabelListRequest"},
    TypeName{MessageType::kLabelListReply, "LabelListReply"},
    TypeName{MessageType::kLabelActionRequest, "LabelActionRequest"},
    TypeName{MessageType::kOkReply, "OkReply"},
    TypeName{MessageType::kTestAddRequest, "TestAddRequest"},
    TypeName{MessageType::kTestListRequest, "TestListRequest"},
    TypeName{MessageType::kTestListReply, "TestListReply"},
    TypeName{MessageType::kTestShowRequest, "TestShowRequest"},
    TypeName{MessageType::kTestShowReply, "TestShowReply"},
};

constexpr std::array<std::string_view, 9> kHostStatusNames = {
    "Ready", "Pending", "Running", "Verifying", "Repairing",
    "Cleaning", "Updating", "Repair Failed", "Dead"};

std::string Normalize(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '-' || c == '_') c = ' ';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

bool IsKnownMessageType(uint32_t type) {
  return std::any_of(kTypeNames.begin(), kTypeNames.end(),
                     [&](const TypeName& t) { return static_cast<uint32_t>(t.type) == type; });
}

std::string_view MessageTypeName(MessageType type) {
  for (const auto& t : kTypeNames) {
    if (t.type == type) return t.name;
  }
  return "Unknown";
}

std::string_view HostStatusName(HostStatus status) {
  auto i = static_cast<size_t>(status);
  return i < kHostStatusNames.size() ? kHostStatusNames[i] : "Unknown";
}

std::optional<HostStatus> ParseHostStatus(std::string_view text) {
  std::string wanted = Normalize(text);
  for (size_t i = 0; i < kHostStatusNames.size(); ++i) {
    if (Normalize(kHostStatusNames[i]) == wanted) return static_cast<HostStatus>(i);
  }
  return std::nullopt;
}

}  // namespace labmesh::protocol
