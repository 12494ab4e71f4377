#pragma once
// The coordinator's persistent state, in LMDB (embedded, the default) or PostgreSQL.
//
// Tables (LMDB named databases, or PostgreSQL tables labmesh.<name> of (key bytea, value
// bytea)), keys and values:
//   meta          "schema_version" -> uint32 (MessagePack)
//   hosts         hostname (bytes)  -> Host (MessagePack map)
//   labels        label name        -> Label (MessagePack map); admin-created labels only
//   revoked_keys  Curve public key (Z85) -> RevokedKey (MessagePack map)
//   tests         test name          -> TestDef (MessagePack map); the test catalog (version 2)
//   jobs          JobKey(id)         -> Job (version 3)
//   entries       JobKey(entry id)   -> Entry: host queue entries (version 3)
//   users         user name          -> User (version 3)
//   acl_groups    group name         -> AclGroup (version 3; "Everyone" always exists)
//   tasks         IdKey(task id)     -> SpecialTask (version 4)
//   host_tasks    hostname \0 IdKey(task id)  -> "" (version 4; index, kept by Apply)
//   host_entries  hostname \0 IdKey(entry id) -> "" (version 4; index of every entry that was
//                 given that host, kept by Apply; an entry requeued to another host is in both)
//   tokens        token hash (hex)   -> user name (version 5; index of User::tokens, kept by Apply)
//   audit         IdKey(record id)   -> AuditRecord (version 5): every mutating API request
//   notifications IdKey(job id) "." 3-digit index -> Notification (version 7): the outbox of
//                 job-end notifications, written with the job's final state (docs/notifications.md);
//                 indices 0..7 are the job's end (one per target), 8..999 its host.reserved
//                 notifications (--reserve-on-failure, docs/reservations.md)
//   templates     template name      -> Template (version 8): saved job definitions
//   schedules     schedule name      -> Schedule (version 8): jobs made from a template on a cron
//                 expression's times (docs/schedules.md)
// Jobs, their entries and audit records are deleted only by retention (docs/retention.md).
// Job and entry keys are the id as 20 zero-padded decimal digits, so that key order is id order.
// Values are MessagePack maps with string keys, so fields can be added without a migration;
// a migration is needed only when a key or meaning changes (see schema_version). The records
// below are plain structs; their map keys, in stored order, are listed in store/record_codec.hpp
// (private to the store): a field added here goes there too. Enums are stored as numbers.
//
// Threading: one Store is shared by every thread of a process. Reads take their own read
// transaction (a snapshot); Apply() takes the process's single write transaction. Another
// process may open the same store read-only and sees what has been committed.
//
// Writes come in WriteBatch objects: everything in a batch is committed in one write
// transaction (group commit) or not at all. Callers change their in-memory state only after
// Apply() returned OK.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/messages.hpp"
#include "labmesh/protocol/task_messages.hpp"
#include "labmesh/protocol/types.hpp"

namespace labmesh::store {

inline constexpr uint32_t kSchemaVersion = 8;

// Every host and user starts in this ACL group.
inline constexpr char kEveryoneGroup[] = "Everyone";

// The key of a job or entry id in its table: 20 zero-padded decimal digits.
std::string IdKey(uint64_t id);

enum class Enrollment : uint8_t {
  kAccepted = 0,  // a member of the fleet
  kPending = 1,   // registered without token, waiting for `labmesh host accept`
};

struct Host {
  std::string hostname;
  std::string public_key;  // Z85 Curve key the agent authenticated with
  Enrollment enrollment = Enrollment::kAccepted;
  protocol::HostStatus status = protocol::HostStatus::kReady;
  std::string status_reason;
  int64_t status_changed_ms = 0;
  bool locked = false;
  std::string locked_by;
  std::string lock_reason;
  int64_t locked_ms = 0;
  std::vector<std::string> agent_labels;  // automatic + asked for by the agent, sorted
  std::vector<std::string> admin_labels;  // set by admins, sorted
  std::string agent_version;
  protocol::HostFacts facts;
  protocol::HostHealth health;
  int64_t last_heartbeat_ms = 0;  // wall clock
  uint64_t incarnation = 0;
  int64_t registered_ms = 0;
  std::map<std::string, std::string> attributes;
  std::vector<std::string> acl_groups;  // sorted; new hosts (and version-2 hosts) get Everyone
  // Host lifecycle (docs/lifecycle.md).
  protocol::Protection protection = protocol::Protection::kNone;
  uint64_t last_task_id = 0;      // the newest special task of this host; 0 = none
  int64_t last_verified_ms = 0;   // wall clock: the last Verify (or Repair) that passed
  std::vector<int64_t> repairs_ms;  // wall clock: when its recent Repairs were queued
  bool repair_on_return = false;  // it went Dead: repair it when the agent comes back
  // Self-update (docs/update.md): the newest version it completed an entry on, and the version
  // whose Update task failed here (not tried again until it is desired again); "" = none.
  std::string last_known_good;
  std::string update_failed_version;
  // Its reservation (docs/reservations.md): while reserved_until_ms (wall clock) is in the
  // future, only jobs owned by reserved_by are given the host. It ends by time alone, so an
  // expired one may stay in the record until the next reservation or release replaces it;
  // readers ask ReservationActive (coordinator/reservation_rules.hpp), not the fields.
  std::string reserved_by;
  std::string reserve_reason;
  int64_t reserved_ms = 0;
  int64_t reserved_until_ms = 0;
  // Quarantine (docs/quarantine.md): while quarantined_ms is not 0 the host gets only its own
  // probe jobs, and where it would go Ready it goes Quarantined (MoveStatus). probes_passed
  // counts probe jobs passed in a row, probe_job_id is the one in flight (0 = none) and
  // probes_stopped says a probe failed (only an admin releases it then). health_since_ms: its
  // history before this (its last release) does not count in its score. suspect_ms: when its
  // score first reached the threshold (0 = it is below), so that it is told once.
  std::string quarantine_reason;
  std::string quarantined_by;
  int64_t quarantined_ms = 0;
  uint32_t probes_passed = 0;
  uint64_t probe_job_id = 0;
  bool probes_stopped = false;
  int64_t health_since_ms = 0;
  int64_t suspect_ms = 0;
  // Out-of-band power and console (docs/power-console.md), set by `host power-config`. The
  // commands are templates over the host's fields and `attributes`; the attributes named in
  // secret_attributes are never shown back. power_cycles_ms: when the coordinator power cycled
  // it on its own (repair of a lost host), for the limit per --repair-window.
  std::string power_on;
  std::string power_off;
  std::string power_cycle;
  std::string power_status;
  std::string console_command;
  std::vector<std::string> panic_patterns;  // empty = the defaults
  std::vector<std::string> secret_attributes;  // sorted
  std::vector<int64_t> power_cycles_ms;
};

struct Label {
  std::string name;
  std::string created_by;
  int64_t created_ms = 0;
};

// A key that may never register again (its host was deleted or its enrollment rejected).
struct RevokedKey {
  std::string public_key;
  std::string hostname;
  std::string reason;
  int64_t revoked_ms = 0;
};

// A test of the catalog: a named control program, its text stored as given.
struct TestDef {
  std::string name;
  std::string description;
  std::string control;
  std::string created_by;
  int64_t created_ms = 0;
  std::string updated_by;
  int64_t updated_ms = 0;
};

// An API token of a user: only its hash is kept (the token itself is shown once).
struct ApiToken {
  uint32_t id = 0;   // per user, increasing
  std::string hash;  // TokenHash(token): hex BLAKE2b-256
  int64_t created_ms = 0;
};

// A user known to the coordinator (docs/security.md). Jobs of a name without a record (made
// before users existed) keep the owner's ACL view of Everyone only.
struct User {
  std::string name;
  std::vector<std::string> acl_groups;  // sorted
  bool admin = false;
  int64_t created_ms = 0;
  std::string password_hash;  // crypto_pwhash_str (Argon2id) of the web password; "" = none
  std::vector<ApiToken> tokens;
  // Notification defaults (docs/notifications.md): targets ("email:ADDR", "webhook:URL") and
  // when ("always", "failure"; "" = always) for the jobs they create without --notify.
  std::vector<std::string> notify;
  std::string notify_on;
};

// One audited API request (the wire's record as it is stored).
using AuditRecord = protocol::AuditRecord;

// An agent package (its file is DATA_DIR/packages/<sha256>.tar.gz) and the version agents
// should run, as the wire shows them (docs/update.md).
using Package = protocol::PackageInfo;
// A saved job definition and a schedule, as the wire shows them (docs/schedules.md).
using Template = protocol::TemplateInfo;
using Schedule = protocol::ScheduleInfo;
using DesiredVersion = protocol::DesiredVersion;

// An ACL group. Membership is kept on hosts and users (their acl_groups).
struct AclGroup {
  std::string name;
  std::string description;
  int64_t created_ms = 0;
};

// One move of an entry's status, kept in the entry's history.
struct StatusChange {
  protocol::EntryStatus status = protocol::EntryStatus::kQueued;
  int64_t at_us = 0;
  std::string reason;
};

// Where a finished job's results are (docs/retention.md). A job is kRemoving from the commit
// that decided the removal until its directory and index rows are gone; then kRemoved.
enum class ResultsState : uint8_t { kPresent = 0, kRemoving = 1, kRemoved = 2 };
inline constexpr int64_t kKeepForever = -1;

// A job as created: what to run, where, and how. Entries carry the progress.
struct Job {
  uint64_t id = 0;
  std::string name;
  std::string owner;
  protocol::Priority priority = protocol::Priority::kMedium;
  uint32_t synch_count = 1;
  std::string control_kind;  // "command", "control" or "test"
  std::string control;       // command line or script text (a copy: later edits do not change it)
  std::string test_name;
  std::vector<std::string> hosts;
  std::string meta_label;
  uint32_t meta_count = 0;
  std::vector<std::string> depends;
  bool run_verify = false;
  int64_t timeout_ms = 0;
  int64_t max_runtime_ms = 0;
  int64_t created_us = 0;
  int64_t finished_us = 0;  // when the last entry became final; 0 = not finished
  std::string abort_reason;
  std::vector<uint64_t> entry_ids;
  std::string cleanup = "on-failure";  // "never", "always", "on-failure"
  uint32_t retry = 0;                  // requeues of an entry whose host was lost
  // Retention (docs/retention.md). How long its results are kept after it finished:
  // 0 = the coordinator's --results-retention, kKeepForever = never removed by a policy.
  int64_t keep_results_ms = 0;
  uint64_t result_bytes = 0;  // bytes of the files its entries uploaded (their reports' sizes)
  ResultsState results_state = ResultsState::kPresent;
  int64_t results_removed_us = 0;      // when their removal was decided
  std::string results_removed_reason;  // "retention 90d", "deleted by alice", ...
  // Who is told when it ends ("email:ADDR", "webhook:URL") and when ("always", "failure").
  std::vector<std::string> notify;
  std::string notify_on;
  // Jobs that must be final before this one's entries are queued (`--after`), sorted; with
  // after_any it runs whatever they ended as, else it is aborted when one did not complete.
  // `waiting` is true until then (docs/jobs.md "Jobs that wait for jobs").
  std::vector<uint64_t> after;
  bool after_any = false;
  bool waiting = false;
  // The template it was made from and the schedule that created it; "" = none.
  std::string template_name;
  std::string schedule;
  // --reserve-on-failure (docs/reservations.md): a host whose entry of this job ends Failed is
  // reserved to the owner for this long (0 = not); reserve_notices counts the host.reserved
  // notification rows made so far (their outbox indices follow the job.finished ones).
  int64_t reserve_on_failure_ms = 0;
  uint32_t reserve_notices = 0;
  // A probe job of a quarantined host (docs/quarantine.md): its entry may run only there, and
  // only while the host is quarantined. "" for every other job.
  std::string probe_for;
};

// One notification of a job's end in the outbox (docs/notifications.md). Written kPending in
// the transaction that commits the job's final state (so a crash neither loses nor repeats
// it); from then on only the notification sender's thread writes it.
enum class NotifyState : uint8_t { kPending = 0, kDelivered = 1, kFailed = 2 };
struct Notification {
  uint64_t job_id = 0;
  uint32_t index = 0;   // its place in the job's targets
  std::string target;   // "email:ADDR" or "webhook:URL"
  std::string owner;    // the job's owner (webhooks are signed with the owner's target secret)
  NotifyState state = NotifyState::kPending;
  uint32_t attempts = 0;
  std::string last_error;
  int64_t created_us = 0;
  int64_t last_attempt_us = 0;
  int64_t next_attempt_us = 0;  // pending: not before this wall time
  int64_t delivered_us = 0;
  std::string document;  // the JSON document sent (webhooks) and rendered as text (email)
  // "job.finished" ("" in rows made before reservations) or "host.reserved"; the host of a
  // host.reserved one.
  std::string event;
  std::string hostname;
};
// The key of a notification: IdKey(job id) "." index as 3 digits (so a job's sort together).
std::string NotificationKey(uint64_t job_id, uint32_t index);

// A host queue entry: one (job, host) pair.
struct Entry {
  uint64_t id = 0;
  uint64_t job_id = 0;
  std::string hostname;    // "" until a label entry is given a host
  std::string meta_label;  // label entries: the label the host must carry
  protocol::EntryStatus status = protocol::EntryStatus::kQueued;
  std::string status_reason;
  std::string fault;  // "", "test", "infrastructure"
  int32_t exit_code = -1;
  int32_t signal = 0;
  int64_t queued_us = 0;
  int64_t started_us = 0;
  int64_t finished_us = 0;
  std::vector<StatusChange> history;  // every status this entry had, oldest first
  uint64_t report_sequence = 0;       // the highest EntryReport sequence applied
  bool abort_requested = false;
  std::string abort_reason;
  // The group it starts with: synchronous jobs, entry index / synch_count (named hosts first,
  // in the job's order, then label entries); client-side jobs, the entry's index (a group of one).
  uint32_t group = 0;
  // What the agent said when the control ended ("passed", "failed", "aborted", "error") and
  // why: the entry's final status is decided from it once its files are parsed.
  std::string outcome;
  std::string outcome_reason;
  std::map<std::string, uint64_t> result_counts;  // parsed results per status
  std::vector<std::string> parse_warnings;
  uint32_t retries = 0;  // times it was queued again after its host was lost
  // Reboots (docs/kernel-lab.md): how many the control asked for have happened; while Rebooting,
  // when the host must have booted again (wall clock, 0 = not rebooting).
  uint32_t boot_count = 0;
  int64_t reboot_deadline_us = 0;
  bool unexpected_reboot = false;  // the agent said its host rebooted without being asked
  bool crash = false;              // unexpected reboot, or a panic/oops found in crashinfo/
  std::string crash_line;          // the first panic/oops line found
};

// A special task (Verify, Repair, Cleanup, Update) on one host (docs/lifecycle.md).
struct SpecialTask {
  uint64_t id = 0;
  std::string hostname;
  protocol::TaskKind kind = protocol::TaskKind::kVerify;
  protocol::TaskStatus status = protocol::TaskStatus::kQueued;
  std::string reason;        // why queued, then how it ended
  std::string requested_by;  // a user, or "labmesh"
  uint64_t job_id = 0;       // the entry it runs for (run-verify, cleanup); 0 = none
  uint64_t entry_id = 0;
  int64_t queued_ms = 0;  // wall clock
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
  std::vector<protocol::TaskCheck> checks;
};

// Changes to commit together. Order is kept: a later change to the same key wins.
class WriteBatch {
 public:
  void PutHost(Host host) { ops_.emplace_back(std::move(host)); }
  void DeleteHost(std::string hostname) { ops_.emplace_back(DeleteHostOp{std::move(hostname)}); }
  void PutLabel(Label label) { ops_.emplace_back(std::move(label)); }
  void DeleteLabel(std::string name) { ops_.emplace_back(DeleteLabelOp{std::move(name)}); }
  void RevokeKey(RevokedKey key) { ops_.emplace_back(std::move(key)); }
  void PutTest(TestDef test) { ops_.emplace_back(std::move(test)); }
  void DeleteTest(std::string name) { ops_.emplace_back(DeleteTestOp{std::move(name)}); }
  void PutJob(Job job) { ops_.emplace_back(std::move(job)); }
  void PutEntry(Entry entry) { ops_.emplace_back(std::move(entry)); }
  // Also keeps the tokens index: the user's old token hashes go, the new ones come.
  void PutUser(User user) { ops_.emplace_back(std::move(user)); }
  void DeleteUser(std::string name) { ops_.emplace_back(DeleteUserOp{std::move(name)}); }
  void PutAclGroup(AclGroup group) { ops_.emplace_back(std::move(group)); }
  // Only the group: its members' acl_groups are the caller's to rewrite in the same batch.
  void DeleteAclGroup(std::string name) { ops_.emplace_back(DeleteAclGroupOp{std::move(name)}); }
  void PutAudit(AuditRecord record) { ops_.emplace_back(std::move(record)); }
  // Removes the job, every entry it lists, its notifications and their host_entries rows for
  // the entry's host and for each of `hosts` (the hosts an entry had before a retry).
  void DeleteJob(uint64_t id, std::vector<std::string> hosts = {}) {
    ops_.emplace_back(DeleteJobOp{id, std::move(hosts)});
  }
  // Removes the audit records with ids first..last (inclusive).
  void DeleteAudit(uint64_t first, uint64_t last) { ops_.emplace_back(DeleteAuditOp{first, last}); }
  void PutTask(SpecialTask task) { ops_.emplace_back(std::move(task)); }
  void PutPackage(Package package) { ops_.emplace_back(std::move(package)); }
  void SetDesiredVersion(DesiredVersion desired) { ops_.emplace_back(std::move(desired)); }
  void PutNotification(Notification notification) { ops_.emplace_back(std::move(notification)); }
  void PutTemplate(Template t) { ops_.emplace_back(std::move(t)); }
  void DeleteTemplate(std::string name) { ops_.emplace_back(DeleteTemplateOp{std::move(name)}); }
  void PutSchedule(Schedule schedule) { ops_.emplace_back(std::move(schedule)); }
  void DeleteSchedule(std::string name) { ops_.emplace_back(DeleteScheduleOp{std::move(name)}); }

  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }
  void Clear() { ops_.clear(); }

  struct DeleteHostOp {
    std::string hostname;
  };
  struct DeleteLabelOp {
    std::string name;
  };
  struct DeleteTestOp {
    std::string name;
  };
  struct DeleteUserOp {
    std::string name;
  };
  struct DeleteAclGroupOp {
    std::string name;
  };
  struct DeleteJobOp {
    uint64_t id = 0;
    std::vector<std::string> hosts;
  };
  struct DeleteAuditOp {
    uint64_t first = 0;
    uint64_t last = 0;
  };
  struct DeleteTemplateOp {
    std::string name;
  };
  struct DeleteScheduleOp {
    std::string name;
  };
  using Op = std::variant<Host, DeleteHostOp, Label, DeleteLabelOp, RevokedKey, TestDef,
                          DeleteTestOp, Job, Entry, User, DeleteUserOp, AclGroup,
                          DeleteAclGroupOp, SpecialTask, AuditRecord, Package, DesiredVersion,
                          DeleteJobOp, DeleteAuditOp, Notification, Template, DeleteTemplateOp,
                          Schedule, DeleteScheduleOp>;
  const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
};

struct StoreOptions {
  // LMDB only. The map size: where it starts, and how far Apply() may grow it when the map is full
  // (doubling each time) before giving up with DiskFull (`Unavailable: disk full: ...`).
  uint64_t initial_map_bytes = 64ull << 20;
  uint64_t max_map_bytes = 64ull << 30;
  bool read_only = false;  // for inspection from another process; never migrates
  // PostgreSQL only: how long a read or Apply waits for a server that cannot be reached (down,
  // restarting) before it fails Unavailable; it tries again, backing off up to 1 s.
  int64_t unavailable_wait_ms = 30'000;
};

// Whether `spec` (as Store::Open takes it) names a PostgreSQL database.
bool IsPostgresSpec(std::string_view spec);

class Store {
 public:
  // Opens the store `spec` names, creates the tables and brings the schema to kSchemaVersion,
  // running migrations in order. A store written by a newer labmesh (higher schema version) is
  // refused with FailedPrecondition. `spec`:
  //   lmdb:DIR, or a bare DIR        the embedded LMDB environment in DIR (created when allowed)
  //   postgresql://... (postgres://) a PostgreSQL database (libpq's URL; docs/scale-out.md):
  //                                  the tables live in its schema `labmesh`, made on first open.
  //                                  The server being down is Unavailable.
  static Result<std::unique_ptr<Store>> Open(const std::string& spec,
                                             const StoreOptions& options = {});
  virtual ~Store() = default;

  virtual uint32_t schema_version() const = 0;
  virtual uint64_t map_size_bytes() const = 0;
  // The part of the map in use (monitoring: docs/monitoring.md). Any thread.
  virtual uint64_t used_bytes() const = 0;

  virtual Result<std::optional<Host>> GetHost(const std::string& hostname) const = 0;
  virtual Result<std::vector<Host>> ListHosts() const = 0;  // sorted by hostname
  virtual Result<std::optional<Label>> GetLabel(const std::string& name) const = 0;
  virtual Result<std::vector<Label>> ListLabels() const = 0;  // sorted by name
  virtual Result<std::optional<RevokedKey>> GetRevokedKey(const std::string& key) const = 0;
  virtual Result<std::vector<RevokedKey>> ListRevokedKeys() const = 0;
  virtual Result<std::optional<TestDef>> GetTest(const std::string& name) const = 0;
  virtual Result<std::vector<TestDef>> ListTests() const = 0;  // sorted by name
  virtual Result<std::optional<Job>> GetJob(uint64_t id) const = 0;
  virtual Result<std::vector<Job>> ListJobs() const = 0;  // by id, oldest first
  // At most `limit` jobs with ids above `after_id`, by id (the retention sweeper's pages).
  virtual Result<std::vector<Job>> ListJobsAfter(uint64_t after_id, size_t limit) const = 0;
  virtual Result<std::optional<Entry>> GetEntry(uint64_t id) const = 0;
  // The entries of `ids`, in that order, from one read transaction; a missing id is Corruption.
  virtual Result<std::vector<Entry>> GetEntries(const std::vector<uint64_t>& ids) const = 0;
  virtual Result<std::vector<Entry>> ListEntries() const = 0;  // by id
  // The largest job / entry id ever stored (0 when none): new ids continue after it.
  virtual Result<uint64_t> MaxJobId() const = 0;
  virtual Result<uint64_t> MaxEntryId() const = 0;
  virtual Result<std::optional<User>> GetUser(const std::string& name) const = 0;
  virtual Result<std::vector<User>> ListUsers() const = 0;
  // The user holding the token whose TokenHash this is, or nullopt.
  virtual Result<std::optional<User>> FindUserByTokenHash(const std::string& hash) const = 0;
  virtual Result<std::vector<AclGroup>> ListAclGroups() const = 0;  // sorted by name
  // Audit records newest first: only `user`'s when not empty, only at or after `since_ms`, at
  // most `limit`.
  virtual Result<std::vector<AuditRecord>> ListAudit(const std::string& user, int64_t since_ms,
                                                     size_t limit) const = 0;
  virtual Result<uint64_t> MaxAuditId() const = 0;
  // The oldest `limit` audit records, oldest first.
  virtual Result<std::vector<AuditRecord>> OldestAudit(size_t limit) const = 0;
  virtual Result<std::optional<SpecialTask>> GetTask(uint64_t id) const = 0;
  virtual Result<uint64_t> MaxTaskId() const = 0;
  // A host's tasks / the entries it was given, newest (highest id) first, at most `limit`.
  virtual Result<std::vector<SpecialTask>> ListHostTasks(const std::string& hostname,
                                                         size_t limit) const = 0;
  virtual Result<std::vector<Entry>> ListHostEntries(const std::string& hostname,
                                                     size_t limit) const = 0;
  virtual Result<std::optional<Package>> GetPackage(const std::string& version) const = 0;
  virtual Result<std::vector<Package>> ListPackages() const = 0;  // sorted by version string
  // The desired version; version "" when none was ever set.
  virtual Result<DesiredVersion> GetDesiredVersion() const = 0;
  // A job's notifications by index / every pending one (the sender's work after a start).
  virtual Result<std::vector<Notification>> ListNotifications(uint64_t job_id) const = 0;
  virtual Result<std::vector<Notification>> ListPendingNotifications() const = 0;
  virtual Result<std::optional<Template>> GetTemplate(const std::string& name) const = 0;
  virtual Result<std::vector<Template>> ListTemplates() const = 0;  // sorted by name
  virtual Result<std::optional<Schedule>> GetSchedule(const std::string& name) const = 0;
  virtual Result<std::vector<Schedule>> ListSchedules() const = 0;  // sorted by name

  // Commits the whole batch in one write transaction. When LMDB's map is full the transaction
  // is aborted, the map doubled and the batch retried. Fails with FailedPrecondition on a
  // read-only store.
  // kSync returns once the transaction is on disk. kLazy skips the fsync (MDB_NOSYNC for that
  // commit): the data is visible at once and reaches the disk with the next kSync commit or the
  // OS's writeback, so a machine crash may lose it - for soft state such as heartbeats only.
  enum class Durability { kSync, kLazy };
  virtual Status Apply(const WriteBatch& batch, Durability durability = Durability::kSync) = 0;
  // Puts every batch applied so far on disk, kLazy ones included (fsync). Any thread, beside
  // Apply() too: the retention worker makes the loop's lazy `removing` marks durable this way
  // before it removes anything (docs/retention.md).
  virtual Status Sync() = 0;

  // Claims the store for this process alone for as long as it stays open: one active
  // coordinator per store, others wait as standbys (docs/scale-out.md). A store another process
  // holds is FailedPrecondition. LMDB: nothing to do (the coordinator locks its data directory).
  // PostgreSQL: a session advisory lock on a connection of its own, and a new claim epoch in
  // meta; from then on every Apply checks the epoch in its transaction, so once another process
  // has claimed the store this one's writes fail ClaimLost (fencing).
  virtual Status ClaimWriter() = 0;
  // Whether this process still holds its claim: OK, or ClaimLost when another process claimed
  // the store since (or holds its lock). A lock lost with its session (a server restart) is
  // taken again when nobody else took it. OK when the server cannot be reached (writes then
  // fail anyway) or nothing was claimed. Cheap: meant for a timer.
  virtual Status CheckClaim() = 0;

  // Where the coordinator that holds the claim takes its standbys' peer links
  // (docs/scale-out.md): it writes its endpoint once it serves; standbys read it to relay to
  // it. "" when none was written. The write is fenced like any other.
  virtual Status SetActiveRelay(const std::string& endpoint) = 0;
  virtual Result<std::string> ActiveRelay() const = 0;
};

// The status of a write or CheckClaim after another process claimed the store: the caller must
// stop using it (a coordinator exits; its standby has taken over).
Status ClaimLost(const std::string& detail);
bool IsClaimLost(const Status& status);

// Copies every row of the store `from` into the new store `to` (specs as Store::Open takes),
// byte for byte, table by table in batches: `labmesh-coordinator migrate`. `from` is read in one
// read-only snapshot, so it must be at this labmesh's schema version (a coordinator of this
// version opened it once); `to` is created or migrated and must hold nothing yet (only the
// Everyone group a new store has), else FailedPrecondition and nothing is written. `progress`
// is told each table's row count once it is copied.
Status CopyStore(const std::string& from, const std::string& to,
                 const std::function<void(std::string_view table, uint64_t rows)>& progress);

}  // namespace labmesh::store
