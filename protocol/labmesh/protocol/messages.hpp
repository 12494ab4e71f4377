#pragma once
// Every message body of labmesh, one struct each. Field names are the wire's map keys, in the
// order protocol/protocol_codec.hpp lists them (the MessagePack adaptors live there and in
// protocol/*.cpp, so naming a message costs no msgpack templates): a new field goes in both.
// Families: agent registration and health (agent socket), host and label administration and
// the test catalog (API socket), and the shared error/ok replies.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/auth_messages.hpp"
#include "labmesh/protocol/health_messages.hpp"
#include "labmesh/protocol/job_messages.hpp"
#include "labmesh/protocol/mesh_messages.hpp"
#include "labmesh/protocol/metrics_messages.hpp"
#include "labmesh/protocol/package_messages.hpp"
#include "labmesh/protocol/power_messages.hpp"
#include "labmesh/protocol/results_messages.hpp"
#include "labmesh/protocol/sync_messages.hpp"
#include "labmesh/protocol/task_messages.hpp"
#include "labmesh/protocol/types.hpp"
#include "labmesh/protocol/schedule_messages.hpp"
#include "labmesh/protocol/workflow_messages.hpp"

namespace labmesh::protocol {

// ---- shared value types ----

// What an agent knows about its machine; reported at every hello. Becomes automatic labels.
struct HostFacts {
  std::string arch;        // "x86_64" (uname machine)
  std::string os;          // "debian" (os-release ID)
  std::string os_version;  // "12" (os-release VERSION_ID)
  std::string kernel;      // "6.1.0-18-amd64" (uname release)
  uint32_t cpus = 0;
  uint64_t memory_bytes = 0;
  std::string address;  // the address other hosts can reach this one at, as the agent sees it
};

// A heartbeat's health sample, read from /proc and statvfs.
struct HostHealth {
  double load1 = 0, load5 = 0, load15 = 0;
  uint64_t mem_total_bytes = 0;
  uint64_t mem_available_bytes = 0;
  uint64_t disk_total_bytes = 0;  // file system of the agent's work dir
  uint64_t disk_free_bytes = 0;
  uint64_t uptime_s = 0;
};

// One host as every reader (CLI, web page) sees it.
struct HostInfo {
  std::string hostname;
  std::string status;      // HostStatusName(), or "Pending Approval" for an enrollment
  std::string status_reason;
  bool locked = false;
  std::string locked_by;
  std::string lock_reason;
  std::vector<std::string> labels;        // effective: agent labels + admin labels, sorted
  std::vector<std::string> agent_labels;  // automatic (facts) + asked for with --labels
  std::vector<std::string> admin_labels;  // set with `labmesh host label`
  std::vector<std::string> acl_groups;
  std::string agent_version;
  int64_t last_heartbeat_ms = 0;  // wall clock, ms since epoch; 0 = never
  int64_t registered_ms = 0;
  uint64_t incarnation = 0;
  bool connected = false;  // has a live registration right now
  std::string public_key;
  HostFacts facts;
  HostHealth health;
  std::string protection = "none";  // ProtectionName
  // The host's latest special task (id 0 = none yet); its checks are left out (host history).
  TaskInfo last_task;
  // Self-update (docs/update.md): the newest version this host completed an entry on, and a
  // version whose update failed here (not tried again until it is desired again); "" = none.
  std::string last_known_good;
  std::string update_failed_version;
  // Its reservation (docs/reservations.md) while one is in force: only jobs of reserved_by
  // run here until reserved_until_ms (wall clock). All empty / 0 when none is, also when one
  // has expired.
  std::string reserved_by;
  std::string reserve_reason;
  int64_t reserved_ms = 0;        // when it was made
  int64_t reserved_until_ms = 0;  // when it ends by itself
  // Its health (docs/quarantine.md): the score of the latest computation (-1 = not computed
  // yet), whether it is past the threshold, and the quarantine in force ("" / 0 when none).
  double health_score = -1;
  bool suspect = false;
  std::string quarantine_reason;
  std::string quarantined_by;  // "labmesh" when the score did it
  int64_t quarantined_ms = 0;
  uint32_t probes_passed = 0;  // probe jobs passed in a row since it was quarantined
  // Out-of-band access (docs/power-console.md): it has a power method (a cycle command) / a
  // console source. The commands themselves: HostPowerShowRequest.
  bool power = false;
  bool console = false;
  // The package mesh (docs/mesh.md): the peer socket its agent serves chunks on ("" = none),
  // how often fetchers reported it bad, the latest such report, and whether the tracker avoids
  // it now (a corrupt chunk: for the rest of that package; else for a while).
  std::string peer_endpoint;
  uint32_t mesh_bad_reports = 0;
  std::string mesh_last_bad;
  bool mesh_avoided = false;
};

struct LabelInfo {
  std::string name;
  std::string kind;  // "admin" (created with `label create`), "agent" or "auto"
  uint32_t hosts = 0;
};

// One test of the catalog: a named control program (its text, stored as given).
struct TestInfo {
  std::string name;
  std::string description;
  std::string control;         // the program's text; empty in TestListReply (see control_bytes)
  uint64_t control_bytes = 0;  // size of the control, also when `control` is left out
  std::string created_by;
  int64_t created_ms = 0;  // wall clock, ms since epoch
  std::string updated_by;  // who last replaced it (== created_by until then)
  int64_t updated_ms = 0;
};

// ---- either direction ----

struct ErrorReply {
  static constexpr MessageType kType = MessageType::kError;
  uint32_t code = 0;  // labmesh::StatusCode
  std::string message;

  static ErrorReply FromStatus(const Status& status);
  Status ToStatus() const;
};

struct OkReply {
  static constexpr MessageType kType = MessageType::kOkReply;
  std::string message;
};

// The frames every handler answers with most: an ErrorReply for `status`, an OkReply.
std::string ErrorFrame(uint64_t request_id, const Status& status);
std::string OkFrame(uint64_t request_id, std::string message);

// ---- agent socket ----

struct AgentHello {
  static constexpr MessageType kType = MessageType::kAgentHello;
  std::string hostname;
  std::string agent_version;
  uint64_t incarnation = 0;  // random at every agent start: tells a restart from a reconnect
  std::string public_key;    // Z85; must equal the key the Curve handshake authenticated
  std::string enroll_token;  // empty = none
  std::vector<std::string> labels;  // asked-for labels (--labels)
  HostFacts facts;
  // Entries this agent runs or holds results of (a restarted coordinator re-attaches them; an
  // entry the coordinator expected on this host but is missing here failed).
  std::vector<HeldEntry> entries;
  // How an Update task ended when this process is the one a rollback brought back (task_id 0 =
  // nothing to report): the coordinator ends that task with it (package_messages.hpp).
  TaskReport update_report;
  // The package mesh (mesh_messages.hpp): the agent's peer socket ("" = it serves no chunks),
  // that socket's Curve server key (Z85), the secret the coordinator makes fetch tickets with
  // (kPeerSecretBytes, drawn at every start) and the packages (SHA-256) it holds whole.
  std::string peer_endpoint;
  std::string peer_public_key;
  std::vector<char> peer_secret;
  std::vector<std::string> packages_held;
};

struct Welcome {
  static constexpr MessageType kType = MessageType::kWelcome;
  std::string hostname;
  uint32_t heartbeat_interval_ms = 0;  // the coordinator's wish; the agent follows it
  std::vector<std::string> labels;     // effective labels after the coordinator's rules
};

struct PendingApproval {
  static constexpr MessageType kType = MessageType::kPendingApproval;
  std::string message;
};

struct Reject {
  static constexpr MessageType kType = MessageType::kReject;
  std::string reason;
};

struct Heartbeat {
  static constexpr MessageType kType = MessageType::kHeartbeat;
  uint64_t incarnation = 0;
  uint64_t sequence = 0;
  HostHealth health;
};

struct HeartbeatAck {
  static constexpr MessageType kType = MessageType::kHeartbeatAck;
  uint64_t sequence = 0;
};

struct Reregister {
  static constexpr MessageType kType = MessageType::kReregister;
  std::string reason;
};

// ---- API socket ----

struct HostListRequest {
  static constexpr MessageType kType = MessageType::kHostListRequest;
  std::string status;  // filter; empty = any
  std::string label;   // filter; empty = any
};

struct HostListReply {
  static constexpr MessageType kType = MessageType::kHostListReply;
  std::vector<HostInfo> hosts;
};

struct HostShowRequest {
  static constexpr MessageType kType = MessageType::kHostShowRequest;
  std::string hostname;
};

// One heartbeat's health, as the coordinator received it (wall clock, ms since the epoch).
struct HealthSample {
  int64_t time_ms = 0;
  HostHealth health;
};

struct HostShowReply {
  static constexpr MessageType kType = MessageType::kHostShowReply;
  HostInfo host;
  // HostShowRequest only (empty in the replies to label and mod requests): the host's recent
  // health, oldest first. Kept in the coordinator's memory, not the store: one sample per 30 s
  // of heartbeats for the last hour; empty after a coordinator restart until heartbeats come.
  std::vector<HealthSample> health_history;
};

struct HostPendingRequest {
  static constexpr MessageType kType = MessageType::kHostPendingRequest;
  std::string label;  // filter; empty = any
};

struct HostActionRequest {
  static constexpr MessageType kType = MessageType::kHostActionRequest;
  std::string hostname;
  std::string action;  // "accept", "reject", "lock", "unlock", "delete"
  std::string reason;  // lock reason (required for lock), reject/delete note
  std::string user;    // who asks (recorded as locked_by)
};

struct HostLabelRequest {
  static constexpr MessageType kType = MessageType::kHostLabelRequest;
  std::string hostname;
  std::vector<std::string> add;
  std::vector<std::string> remove;
};

struct LabelListRequest {
  static constexpr MessageType kType = MessageType::kLabelListRequest;
  std::string kind;  // filter: "admin", "agent", "auto"; empty = all
};

struct LabelListReply {
  static constexpr MessageType kType = MessageType::kLabelListReply;
  std::vector<LabelInfo> labels;
};

struct LabelActionRequest {
  static constexpr MessageType kType = MessageType::kLabelActionRequest;
  std::string name;
  std::string action;  // "create", "delete"
  std::string user;
};

// Adds a test to the catalog, or replaces the one of that name (created_* are kept).
struct TestAddRequest {
  static constexpr MessageType kType = MessageType::kTestAddRequest;
  std::string name;
  std::string control;  // the program's text, byte for byte
  std::string description;
  std::string user;  // who asks (recorded as created_by / updated_by)
};

struct TestListRequest {
  static constexpr MessageType kType = MessageType::kTestListRequest;
  std::string prefix;  // only tests whose name starts with this; empty = all
};

struct TestListReply {
  static constexpr MessageType kType = MessageType::kTestListReply;
  std::vector<TestInfo> tests;  // sorted by name; `control` left empty to keep replies small
};

struct TestShowRequest {
  static constexpr MessageType kType = MessageType::kTestShowRequest;
  std::string name;
};

struct TestShowReply {
  static constexpr MessageType kType = MessageType::kTestShowReply;
  TestInfo test;  // with its control
};

}  // namespace labmesh::protocol
