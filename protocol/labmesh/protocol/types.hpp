#pragma once
// Message type numbers and the shared vocabulary (host status names) of the wire format.
// Type numbers are explicit and never reused: retire a number, do not recycle it.

#include <cstdint>
#include <optional>
#include <string_view>

namespace labmesh::protocol {

enum class MessageType : uint16_t {
  kError = 1,  // either direction: the request failed; body ErrorReply

  // Agent socket (agent DEALER <-> coordinator ROUTER, CurveZMQ).
  kAgentHello = 10,       // agent -> coordinator: register (every connect and restart)
  kWelcome = 11,          // coordinator -> agent: registered, go ahead
  kPendingApproval = 12,  // coordinator -> agent: enrolled, waiting for an admin
  kReject = 13,           // coordinator -> agent: refused (rejected, revoked, host taken)
  kHeartbeat = 14,        // agent -> coordinator: alive, with health
  kHeartbeatAck = 15,     // coordinator -> agent: heartbeat seen
  kReregister = 16,       // coordinator -> agent: I do not know you (restart): send hello again
  // Work (see docs/jobs.md for the whole flow).
  kWorkRequest = 20,  // agent -> coordinator: idle, give me work (long poll; no reply until then)
  kStartEntry = 21,   // coordinator -> agent: run this host queue entry
  kEntryReport = 22,  // agent -> coordinator: an entry's phase (running/exited/uploaded)
  kEntryReportAck = 23,  // coordinator -> agent: report applied (done = drop the spool)
  kResultChunk = 24,     // agent -> coordinator: bytes of one results file at an offset
  kResultAck = 25,       // coordinator -> agent: how much of that file the coordinator holds
  kAbortEntry = 26,      // coordinator -> agent: kill the entry's control, upload what exists
  // Multi-host sync (docs/sync.md). The same two messages travel on the agent's local sync
  // socket between `labmesh-sync` and its agent.
  kSyncRequest = 27,  // agent -> coordinator: a barrier arrival, a value sent, a value awaited
  kSyncReply = 28,    // coordinator -> agent: the barrier released / the value / the failure
  // Special tasks (docs/lifecycle.md).
  kRunTask = 29,     // coordinator -> agent: verify, repair or clean this host
  kTaskReport = 30,  // agent -> coordinator: how the task went, check by check
  // Self-update (package_messages.hpp, docs/update.md).
  kPackageChunkRequest = 31,  // agent -> coordinator: bytes of the package to install
  kPackageChunk = 32,         // coordinator -> agent: those bytes
  // The package mesh (mesh_messages.hpp, docs/mesh.md). 33-35 travel on the agent socket,
  // 36-37 on an agent's peer socket (7712).
  kPackageChunksRequest = 33,  // agent -> coordinator: the chunk SHA-256s of a package
  kPackageChunks = 34,
  kPeerBadReport = 35,     // agent -> coordinator: a peer served a bad chunk or none; no reply
  kPeerChunkRequest = 36,  // agent -> agent: one chunk of a package
  kPeerChunk = 37,

  // API socket (CLI / web page DEALER <-> coordinator ROUTER).
  kHostListRequest = 100,
  kHostListReply = 101,
  kHostShowRequest = 102,
  kHostShowReply = 103,
  kHostPendingRequest = 104,  // reply: kHostListReply
  kHostActionRequest = 105,   // accept / reject / lock / unlock / delete; reply: kOkReply
  kHostLabelRequest = 106,    // reply: kHostShowReply
  kLabelListRequest = 107,
  kLabelListReply = 108,
  kLabelActionRequest = 109,  // create / delete; reply: kOkReply
  kOkReply = 110,
  // Host lifecycle (docs/lifecycle.md).
  kHostTaskRequest = 111,  // queue a Verify or Repair
  kHostTaskReply = 112,
  kHostHistoryRequest = 113,
  kHostHistoryReply = 114,
  kHostModRequest = 115,  // protection level; reply: kHostShowReply
  // Queue visibility (docs/jobs.md "Why is my job waiting?").
  kHostAvailRequest = 116,
  kHostAvailReply = 117,
  // The test catalog (named control programs that jobs run with `--test NAME`).
  kTestAddRequest = 120,  // add or replace; reply: kOkReply
  kTestListRequest = 121,
  kTestListReply = 122,
  kTestShowRequest = 123,
  kTestShowReply = 124,
  // Jobs.
  kJobCreateRequest = 130,
  kJobCreateReply = 131,
  kJobListRequest = 132,
  kJobListReply = 133,
  kJobShowRequest = 134,
  kJobShowReply = 135,
  kJobAbortRequest = 136,  // reply: kOkReply
  kJobLogRequest = 137,
  kJobLogReply = 138,
  kJobDeleteRequest = 139,  // remove a finished job's results now; reply: kJobDeleteReply
  kJobDeleteReply = 129,
  // The results index (docs/results.md).
  kResultsListRequest = 140,
  kResultsListReply = 141,
  kResultsSummaryRequest = 142,
  kResultsSummaryReply = 143,
  kResultsSeriesRequest = 144,
  kResultsSeriesReply = 145,
  kResultsReparseRequest = 146,  // reply (when the reparse is done): kResultsReparseReply
  kResultsReparseReply = 147,
  kResultsUsageRequest = 148,  // bytes of results by owner, by month, in total
  kResultsUsageReply = 149,
  // Users, ACL groups, audit, web sessions (auth_messages.hpp, docs/security.md).
  kUserListRequest = 150,
  kUserListReply = 151,
  kUserCreateRequest = 152,  // reply: kUserTokenReply
  kUserTokenReply = 153,
  kUserDeleteRequest = 154,  // reply: kOkReply
  kUserTokenRequest = 155,   // reply: kUserTokenReply
  kUserPasswdRequest = 156,  // reply: kOkReply
  // Lab workflow (workflow_messages.hpp, docs/notifications.md).
  kUserModRequest = 157,       // a user's default notification targets; reply: kOkReply
  kNotifySecretRequest = 158,  // a webhook target's signing secret
  kNotifySecretReply = 159,
  kAclListRequest = 160,
  kAclListReply = 161,
  kAclCreateRequest = 162,  // reply: kOkReply
  kAclDeleteRequest = 163,  // reply: kOkReply
  kAclMemberRequest = 164,  // reply: kAclListReply
  // Reservations (workflow_messages.hpp, docs/reservations.md).
  kHostReserveRequest = 165,  // reserve a host for the asking user; reply: kHostShowReply
  kHostReleaseRequest = 166,  // end a reservation; reply: kHostShowReply
  // Host health and quarantine (health_messages.hpp, docs/quarantine.md).
  kHostFlakyRequest = 167,       // host scores with their evidence, flaky tests
  kHostFlakyReply = 168,
  kHostQuarantineRequest = 169,  // quarantine a host by hand, or release it; reply: kHostShowReply
  kAuditListRequest = 170,
  kAuditListReply = 171,
  kLoginRequest = 180,
  kLoginReply = 181,
  kWhoAmIRequest = 182,
  kWhoAmIReply = 183,
  kLogoutRequest = 184,  // reply: kOkReply
  // Agent packages (package_messages.hpp, docs/update.md). Admins only.
  kPackageUploadRequest = 190,
  kPackageUploadReply = 191,
  kPackageListRequest = 192,
  kPackageListReply = 193,
  kPackageDesireRequest = 194,  // reply: kPackageListReply
  // Metrics (metrics_messages.hpp, docs/monitoring.md): the scrape token or loopback only.
  kMetricsRequest = 200,
  kMetricsReply = 201,
  // Job templates and schedules (workflow_messages.hpp, docs/schedules.md).
  kTemplateSaveRequest = 202,  // reply: kOkReply
  kTemplateListRequest = 203,
  kTemplateListReply = 204,
  kTemplateShowRequest = 205,
  kTemplateShowReply = 206,
  kTemplateDeleteRequest = 207,  // reply: kOkReply
  kScheduleCreateRequest = 208,  // reply: kScheduleShowReply
  kScheduleListRequest = 209,
  kScheduleListReply = 210,
  kScheduleShowRequest = 211,
  kScheduleShowReply = 212,
  kScheduleActionRequest = 213,  // pause, resume, delete; reply: kOkReply
  // Out-of-band power and serial consoles (power_messages.hpp, docs/power-console.md).
  kHostPowerConfigRequest = 214,  // set a host's power method / console; reply: kHostPowerShowReply
  kHostPowerShowRequest = 215,
  kHostPowerShowReply = 216,
  kHostPowerRequest = 217,  // on / off / cycle / status; reply (once the command ended): 218
  kHostPowerReply = 218,
  kHostConsoleRequest = 219,  // a piece of the host's rolling console log
  kHostConsoleReply = 220,
  // A hand run's results directory (`labmesh-test local`) put in the results repository and
  // index as a finished job (results_messages.hpp, docs/kernel-lab.md): begin, chunks, done.
  kResultsImportRequest = 240,  // reply: kResultsImportReply
  kResultsImportReply = 241,
  kResultsImportChunkRequest = 242,  // reply: kResultsImportChunkReply
  kResultsImportChunkReply = 243,
  kResultsImportDoneRequest = 244,  // reply: kResultsImportReply
};

// True for every type above; decoders refuse anything else.
bool IsKnownMessageType(uint32_t type);
std::string_view MessageTypeName(MessageType type);
// The protocol's classification of API requests (PROTOCOL.md). The coordinator decides by its
// route table (coordinator/api_routes.cpp), which a test keeps in agreement with these; they
// serve clients and test doubles that do not link the coordinator.
// API requests that change something (audited; web sessions must carry their CSRF token).
// Login and Logout count: they are audited too.
bool IsMutatingRequest(MessageType type);
// API requests only admins may send (host, label, user, ACL and package administration).
bool IsAdminRequest(MessageType type);

// Host status, spelled on the wire and in every output exactly as in DESIGN.md.
enum class HostStatus : uint8_t {
  kReady = 0,
  kPending = 1,
  kRunning = 2,
  kVerifying = 3,
  kRepairing = 4,
  kCleaning = 5,
  kUpdating = 6,
  kRepairFailed = 7,
  kDead = 8,
  // Taken out by its result history or an admin (docs/quarantine.md): no work but probe jobs
  // until released. Where a host would go Ready, a quarantined one goes Quarantined.
  kQuarantined = 9,
};

std::string_view HostStatusName(HostStatus status);
// Accepts the exact spelling ("Repair Failed") and, for command lines, case-insensitive forms
// with '-' or '_' for the space ("repair-failed").
std::optional<HostStatus> ParseHostStatus(std::string_view text);

// Host queue entry status, spelled as in DESIGN.md.
enum class EntryStatus : uint8_t {
  kQueued = 0,
  kStarting = 1,
  kVerifying = 2,
  kPending = 3,
  kRunning = 4,
  kGathering = 5,
  kParsing = 6,
  kCompleted = 7,
  kFailed = 8,
  kAborted = 9,
  kStopped = 10,
  // The control asked for a reboot (`labmesh-test reboot`): the host is expected to be silent
  // until it booted again or the reboot's timeout passed (docs/kernel-lab.md).
  kRebooting = 11,
};
inline constexpr uint8_t kMaxEntryStatus = 11;

std::string_view EntryStatusName(EntryStatus status);
std::optional<EntryStatus> ParseEntryStatus(std::string_view text);  // like ParseHostStatus
// Completed, Failed, Aborted and Stopped: nothing happens to the entry any more.
bool IsFinal(EntryStatus status);

// A job's priority: higher runs first.
enum class Priority : uint8_t { kLow = 0, kMedium = 1, kHigh = 2, kUrgent = 3 };
std::string_view PriorityName(Priority priority);  // "low", "medium", "high", "urgent"
std::optional<Priority> ParsePriority(std::string_view text);  // case-insensitive names

}  // namespace labmesh::protocol
