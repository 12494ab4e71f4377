#pragma once
// The store's schema: the version kept in meta["schema_version"] and the ordered list of
// migrations that bring an older store up to kSchemaVersion.
//
// Adding a migration: bump kSchemaVersion in store.hpp and append {new_version, "what", Fn} to
// the list in schema.cpp. Each migration runs inside the same write transaction as the version
// bump, so an interrupted upgrade leaves the old version intact.

#include <cstdint>
#include <span>
#include <string_view>

#include "labmesh/common/status.hpp"
#include "labmesh/store/store.hpp"
#include "lmdb_env.hpp"
#include "table.hpp"

namespace labmesh::store {

inline constexpr char kMetaTable[] = "meta";
inline constexpr char kHostsTable[] = "hosts";
inline constexpr char kLabelsTable[] = "labels";
inline constexpr char kRevokedKeysTable[] = "revoked_keys";
inline constexpr char kTestsTable[] = "tests";
inline constexpr char kJobsTable[] = "jobs";
inline constexpr char kEntriesTable[] = "entries";
inline constexpr char kUsersTable[] = "users";
inline constexpr char kAclGroupsTable[] = "acl_groups";
inline constexpr char kTasksTable[] = "tasks";
inline constexpr char kHostTasksTable[] = "host_tasks";
inline constexpr char kHostEntriesTable[] = "host_entries";
inline constexpr char kTokensTable[] = "tokens";
inline constexpr char kAuditTable[] = "audit";
inline constexpr char kPackagesTable[] = "packages";
inline constexpr char kNotificationsTable[] = "notifications";
inline constexpr char kTemplatesTable[] = "templates";
inline constexpr char kSchedulesTable[] = "schedules";
inline constexpr char kSchemaVersionKey[] = "schema_version";
inline constexpr char kDesiredVersionKey[] = "desired_version";  // meta: a DesiredVersion
inline constexpr unsigned kMaxTables = 32;  // room for the tables later versions add

// Every table of the current schema, opened.
struct Tables {
  Dbi meta;
  Table<Host> hosts;
  Table<Label> labels;
  Table<RevokedKey> revoked_keys;
  Table<TestDef> tests;
  Table<Job> jobs;
  Table<Entry> entries;
  Table<User> users;
  Table<AclGroup> acl_groups;
  Table<SpecialTask> tasks;
  Dbi host_tasks;    // hostname \0 IdKey(task id) -> ""
  Dbi host_entries;  // hostname \0 IdKey(entry id) -> ""
  Dbi tokens;        // token hash -> user name
  Table<AuditRecord> audit;
  Table<Package> packages;  // version -> Package
  Table<Notification> notifications;  // NotificationKey(job, index) -> Notification
  Table<Template> templates;          // name -> Template
  Table<Schedule> schedules;          // name -> Schedule
};

// The key of an index row (host_tasks, host_entries): hostname, a NUL, IdKey(id).
std::string HostIndexKey(const std::string& hostname, uint64_t id);

struct Migration {
  uint32_t to_version;           // the version the store has after this step
  std::string_view description;  // for the log
  Status (*apply)(WriteTxn& txn);
};

// The migrations in order; to_version runs 1, 2, ... kSchemaVersion.
std::span<const Migration> Migrations();

// meta["schema_version"], or 0 when the store is new (no version written yet).
Result<uint32_t> ReadSchemaVersion(const Txn& txn, const Dbi& meta);
Status WriteSchemaVersion(WriteTxn& txn, const Dbi& meta, uint32_t version);

// Inside `txn`: creates meta when missing, refuses a newer schema (FailedPrecondition), runs
// the migrations above the stored version in order, writes kSchemaVersion and opens every table.
// `from_version` receives the version found. The caller commits.
Result<Tables> MigrateAndOpen(WriteTxn& txn, uint32_t* from_version);

// For a read-only store: opens every table without creating or migrating anything; a store
// that is missing, older (needs a read-write open to migrate) or newer is FailedPrecondition.
Result<Tables> OpenReadOnly(ReadTxn& txn);

}  // namespace labmesh::store
