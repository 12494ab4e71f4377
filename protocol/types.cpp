#include "labmesh/protocol/types.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "labmesh/protocol/package_messages.hpp"
#include "labmesh/protocol/task_messages.hpp"

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
    TypeName{MessageType::kWorkRequest, "WorkRequest"},
    TypeName{MessageType::kStartEntry, "StartEntry"},
    TypeName{MessageType::kEntryReport, "EntryReport"},
    TypeName{MessageType::kEntryReportAck, "EntryReportAck"},
    TypeName{MessageType::kResultChunk, "ResultChunk"},
    TypeName{MessageType::kResultAck, "ResultAck"},
    TypeName{MessageType::kAbortEntry, "AbortEntry"},
    TypeName{MessageType::kSyncRequest, "SyncRequest"},
    TypeName{MessageType::kSyncReply, "SyncReply"},
    TypeName{MessageType::kRunTask, "RunTask"},
    TypeName{MessageType::kTaskReport, "TaskReport"},
    TypeName{MessageType::kPackageChunkRequest, "PackageChunkRequest"},
    TypeName{MessageType::kPackageChunk, "PackageChunk"},
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
    TypeName{MessageType::kHostTaskRequest, "HostTaskRequest"},
    TypeName{MessageType::kHostTaskReply, "HostTaskReply"},
    TypeName{MessageType::kHostHistoryRequest, "HostHistoryRequest"},
    TypeName{MessageType::kHostHistoryReply, "HostHistoryReply"},
    TypeName{MessageType::kHostModRequest, "HostModRequest"},
    TypeName{MessageType::kHostAvailRequest, "HostAvailRequest"},
    TypeName{MessageType::kHostAvailReply, "HostAvailReply"},
    TypeName{MessageType::kTestAddRequest, "TestAddRequest"},
    TypeName{MessageType::kTestListRequest, "TestListRequest"},
    TypeName{MessageType::kTestListReply, "TestListReply"},
    TypeName{MessageType::kTestShowRequest, "TestShowRequest"},
    TypeName{MessageType::kTestShowReply, "TestShowReply"},
    TypeName{MessageType::kJobCreateRequest, "JobCreateRequest"},
    TypeName{MessageType::kJobCreateReply, "JobCreateReply"},
    TypeName{MessageType::kJobListRequest, "JobListRequest"},
    TypeName{MessageType::kJobListReply, "JobListReply"},
    TypeName{MessageType::kJobShowRequest, "JobShowRequest"},
    TypeName{MessageType::kJobShowReply, "JobShowReply"},
    TypeName{MessageType::kJobAbortRequest, "JobAbortRequest"},
    TypeName{MessageType::kJobLogRequest, "JobLogRequest"},
    TypeName{MessageType::kJobLogReply, "JobLogReply"},
    TypeName{MessageType::kResultsListRequest, "ResultsListRequest"},
    TypeName{MessageType::kResultsListReply, "ResultsListReply"},
    TypeName{MessageType::kResultsSummaryRequest, "ResultsSummaryRequest"},
    TypeName{MessageType::kResultsSummaryReply, "ResultsSummaryReply"},
    TypeName{MessageType::kResultsSeriesRequest, "ResultsSeriesRequest"},
    TypeName{MessageType::kResultsSeriesReply, "ResultsSeriesReply"},
    TypeName{MessageType::kResultsReparseRequest, "ResultsReparseRequest"},
    TypeName{MessageType::kResultsReparseReply, "ResultsReparseReply"},
    TypeName{MessageType::kResultsUsageRequest, "ResultsUsageRequest"},
    TypeName{MessageType::kResultsUsageReply, "ResultsUsageReply"},
    TypeName{MessageType::kJobDeleteRequest, "JobDeleteRequest"},
    TypeName{MessageType::kJobDeleteReply, "JobDeleteReply"},
    TypeName{MessageType::kUserListRequest, "UserListRequest"},
    TypeName{MessageType::kUserListReply, "UserListReply"},
    TypeName{MessageType::kUserCreateRequest, "UserCreateRequest"},
    TypeName{MessageType::kUserTokenReply, "UserTokenReply"},
    TypeName{MessageType::kUserDeleteRequest, "UserDeleteRequest"},
    TypeName{MessageType::kUserTokenRequest, "UserTokenRequest"},
    TypeName{MessageType::kUserPasswdRequest, "UserPasswdRequest"},
    TypeName{MessageType::kUserModRequest, "UserModRequest"},
    TypeName{MessageType::kNotifySecretRequest, "NotifySecretRequest"},
    TypeName{MessageType::kNotifySecretReply, "NotifySecretReply"},
    TypeName{MessageType::kAclListRequest, "AclListRequest"},
    TypeName{MessageType::kAclListReply, "AclListReply"},
    TypeName{MessageType::kAclCreateRequest, "AclCreateRequest"},
    TypeName{MessageType::kAclDeleteRequest, "AclDeleteRequest"},
    TypeName{MessageType::kAclMemberRequest, "AclMemberRequest"},
    TypeName{MessageType::kHostReserveRequest, "HostReserveRequest"},
    TypeName{MessageType::kHostReleaseRequest, "HostReleaseRequest"},
    TypeName{MessageType::kHostFlakyRequest, "HostFlakyRequest"},
    TypeName{MessageType::kHostFlakyReply, "HostFlakyReply"},
    TypeName{MessageType::kHostQuarantineRequest, "HostQuarantineRequest"},
    TypeName{MessageType::kAuditListRequest, "AuditListRequest"},
    TypeName{MessageType::kAuditListReply, "AuditListReply"},
    TypeName{MessageType::kLoginRequest, "LoginRequest"},
    TypeName{MessageType::kLoginReply, "LoginReply"},
    TypeName{MessageType::kWhoAmIRequest, "WhoAmIRequest"},
    TypeName{MessageType::kWhoAmIReply, "WhoAmIReply"},
    TypeName{MessageType::kLogoutRequest, "LogoutRequest"},
    TypeName{MessageType::kPackageUploadRequest, "PackageUploadRequest"},
    TypeName{MessageType::kPackageUploadReply, "PackageUploadReply"},
    TypeName{MessageType::kPackageListRequest, "PackageListRequest"},
    TypeName{MessageType::kPackageListReply, "PackageListReply"},
    TypeName{MessageType::kPackageDesireRequest, "PackageDesireRequest"},
    TypeName{MessageType::kMetricsRequest, "MetricsRequest"},
    TypeName{MessageType::kMetricsReply, "MetricsReply"},
    TypeName{MessageType::kTemplateSaveRequest, "TemplateSaveRequest"},
    TypeName{MessageType::kTemplateListRequest, "TemplateListRequest"},
    TypeName{MessageType::kTemplateListReply, "TemplateListReply"},
    TypeName{MessageType::kTemplateShowRequest, "TemplateShowRequest"},
    TypeName{MessageType::kTemplateShowReply, "TemplateShowReply"},
    TypeName{MessageType::kTemplateDeleteRequest, "TemplateDeleteRequest"},
    TypeName{MessageType::kScheduleCreateRequest, "ScheduleCreateRequest"},
    TypeName{MessageType::kScheduleListRequest, "ScheduleListRequest"},
    TypeName{MessageType::kScheduleListReply, "ScheduleListReply"},
    TypeName{MessageType::kScheduleShowRequest, "ScheduleShowRequest"},
    TypeName{MessageType::kHostPowerConfigRequest, "HostPowerConfigRequest"},
    TypeName{MessageType::kHostPowerShowRequest, "HostPowerShowRequest"},
    TypeName{MessageType::kHostPowerShowReply, "HostPowerShowReply"},
    TypeName{MessageType::kHostPowerRequest, "HostPowerRequest"},
    TypeName{MessageType::kHostPowerReply, "HostPowerReply"},
    TypeName{MessageType::kHostConsoleRequest, "HostConsoleRequest"},
    TypeName{MessageType::kHostConsoleReply, "HostConsoleReply"},
    TypeName{MessageType::kPackageChunksRequest, "PackageChunksRequest"},
    TypeName{MessageType::kPackageChunks, "PackageChunks"},
    TypeName{MessageType::kPeerBadReport, "PeerBadReport"},
    TypeName{MessageType::kPeerChunkRequest, "PeerChunkRequest"},
    TypeName{MessageType::kPeerChunk, "PeerChunk"},
    TypeName{MessageType::kScheduleShowReply, "ScheduleShowReply"},
    TypeName{MessageType::kScheduleActionRequest, "ScheduleActionRequest"},
    TypeName{MessageType::kResultsImportRequest, "ResultsImportRequest"},
    TypeName{MessageType::kResultsImportReply, "ResultsImportReply"},
    TypeName{MessageType::kResultsImportChunkRequest, "ResultsImportChunkRequest"},
    TypeName{MessageType::kResultsImportChunkReply, "ResultsImportChunkReply"},
    TypeName{MessageType::kResultsImportDoneRequest, "ResultsImportDoneRequest"},
};

constexpr std::array<std::string_view, kMaxEntryStatus + 1> kEntryStatusNames = {
    "Queued",    "Starting",  "Verifying", "Pending", "Running", "Gathering",
    "Parsing",   "Completed", "Failed",    "Aborted", "Stopped", "Rebooting"};

constexpr std::array<std::string_view, 4> kPriorityNames = {"low", "medium", "high", "urgent"};

constexpr std::array<std::string_view, 10> kHostStatusNames = {
    "Ready", "Pending", "Running", "Verifying", "Repairing",
    "Cleaning", "Updating", "Repair Failed", "Dead", "Quarantined"};

std::string Normalize(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '-' || c == '_') c = ' ';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// The index of `text` in `names`, compared as Normalize() does; nullopt when absent.
template <size_t N>
std::optional<size_t> FindName(const std::array<std::string_view, N>& names, std::string_view text) {
  std::string wanted = Normalize(text);
  for (size_t i = 0; i < N; ++i) {
    if (Normalize(names[i]) == wanted) return i;
  }
  return std::nullopt;
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

bool IsMutatingRequest(MessageType type) {
  switch (type) {
    case MessageType::kHostActionRequest:
    case MessageType::kHostLabelRequest:
    case MessageType::kLabelActionRequest:
    case MessageType::kHostTaskRequest:
    case MessageType::kHostModRequest:
    case MessageType::kTestAddRequest:
    case MessageType::kJobCreateRequest:
    case MessageType::kJobAbortRequest:
    case MessageType::kJobDeleteRequest:
    case MessageType::kResultsReparseRequest:
    case MessageType::kUserCreateRequest:
    case MessageType::kUserDeleteRequest:
    case MessageType::kUserTokenRequest:
    case MessageType::kUserPasswdRequest:
    case MessageType::kUserModRequest:
    case MessageType::kHostReserveRequest:
    case MessageType::kHostReleaseRequest:
    case MessageType::kHostQuarantineRequest:
    case MessageType::kAclCreateRequest:
    case MessageType::kAclDeleteRequest:
    case MessageType::kAclMemberRequest:
    case MessageType::kLoginRequest:
    case MessageType::kLogoutRequest:
    case MessageType::kPackageUploadRequest:
    case MessageType::kPackageDesireRequest:
    case MessageType::kResultsImportRequest:
    case MessageType::kResultsImportDoneRequest:
    case MessageType::kTemplateSaveRequest:
    case MessageType::kTemplateDeleteRequest:
    case MessageType::kScheduleCreateRequest:
    case MessageType::kScheduleActionRequest:
    case MessageType::kHostPowerConfigRequest:
    case MessageType::kHostPowerRequest:
      return true;
    default:
      return false;
  }
}

bool IsAdminRequest(MessageType type) {
  switch (type) {
    case MessageType::kHostActionRequest:
    case MessageType::kHostLabelRequest:
    case MessageType::kLabelActionRequest:
    case MessageType::kHostTaskRequest:
    case MessageType::kHostModRequest:
    case MessageType::kHostQuarantineRequest:
    case MessageType::kUserCreateRequest:
    case MessageType::kUserDeleteRequest:
    case MessageType::kAclCreateRequest:
    case MessageType::kAclDeleteRequest:
    case MessageType::kAclMemberRequest:
    case MessageType::kPackageUploadRequest:
    case MessageType::kPackageListRequest:
    case MessageType::kPackageDesireRequest:
    case MessageType::kHostPowerConfigRequest:
      return true;
    default:
      return false;
  }
}

std::string_view HostStatusName(HostStatus status) {
  auto i = static_cast<size_t>(status);
  return i < kHostStatusNames.size() ? kHostStatusNames[i] : "Unknown";
}

std::optional<HostStatus> ParseHostStatus(std::string_view text) {
  auto i = FindName(kHostStatusNames, text);
  if (!i) return std::nullopt;
  return static_cast<HostStatus>(*i);
}

std::string_view EntryStatusName(EntryStatus status) {
  auto i = static_cast<size_t>(status);
  return i < kEntryStatusNames.size() ? kEntryStatusNames[i] : "Unknown";
}

std::optional<EntryStatus> ParseEntryStatus(std::string_view text) {
  auto i = FindName(kEntryStatusNames, text);
  if (!i) return std::nullopt;
  return static_cast<EntryStatus>(*i);
}

bool IsFinal(EntryStatus status) {
  return status == EntryStatus::kCompleted || status == EntryStatus::kFailed ||
         status == EntryStatus::kAborted || status == EntryStatus::kStopped;
}

std::string_view PriorityName(Priority priority) {
  auto i = static_cast<size_t>(priority);
  return i < kPriorityNames.size() ? kPriorityNames[i] : "unknown";
}

std::optional<Priority> ParsePriority(std::string_view text) {
  auto i = FindName(kPriorityNames, text);
  if (!i) return std::nullopt;
  return static_cast<Priority>(*i);
}

namespace {
constexpr std::array<std::string_view, 4> kProtectionNames = {
    "none", "repair-software-only", "do-not-repair", "do-not-verify"};
constexpr std::array<std::string_view, 5> kTaskKindNames = {"Verify", "Repair", "Cleanup",
                                                            "Update", "Power"};
constexpr std::array<std::string_view, 5> kTaskStatusNames = {"Queued", "Running", "Completed",
                                                              "Failed", "Aborted"};
}  // namespace

std::string_view ProtectionName(Protection protection) {
  auto i = static_cast<size_t>(protection);
  return i < kProtectionNames.size() ? kProtectionNames[i] : "unknown";
}

std::optional<Protection> ParseProtection(std::string_view text) {
  auto i = FindName(kProtectionNames, text);
  if (!i) return std::nullopt;
  return static_cast<Protection>(*i);
}

std::string_view TaskKindName(TaskKind kind) {
  auto i = static_cast<size_t>(kind);
  return i < kTaskKindNames.size() ? kTaskKindNames[i] : "Unknown";
}

std::optional<TaskKind> ParseTaskKind(std::string_view text) {
  auto i = FindName(kTaskKindNames, text);
  if (!i) return std::nullopt;
  return static_cast<TaskKind>(*i);
}

std::string_view TaskStatusName(TaskStatus status) {
  auto i = static_cast<size_t>(status);
  return i < kTaskStatusNames.size() ? kTaskStatusNames[i] : "Unknown";
}

bool IsFinal(TaskStatus status) {
  return status == TaskStatus::kCompleted || status == TaskStatus::kFailed ||
         status == TaskStatus::kAborted;
}

bool IsValidVersion(std::string_view version) {
  if (version.empty() || version.size() > kMaxVersionBytes) return false;
  if (!std::isalnum(static_cast<unsigned char>(version[0]))) return false;
  return std::all_of(version.begin(), version.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '+' ||
           c == '~' || c == '-';
  });
}

}  // namespace labmesh::protocol
