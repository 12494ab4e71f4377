#pragma once
// The store's schema: the version kept in meta["schema_version"] and the ordered list of
// migrations that bring an older store up to kSchemaVersion. Written over the key-value layer
// (kv.hpp), so LMDB and PostgreSQL run the same steps: a new PostgreSQL store is made by running
// every migration from version 1, as a new LMDB one is.
//
// Adding a migration: bump kSchemaVersion in store.hpp and append {new_version, "what", Fn} to
// the list in schema.cpp. Each migration runs inside the same write transaction as the version
// bump, so an interrupted upgrade leaves the old version intact.

#include <cstdint>
#include <span>
#include <string_view>

#include "kv.hpp"
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
inline constexpr char kActiveRelayKey[] = "active_relay";  // meta: a string (Store::ActiveRelay)
inline constexpr unsigned kMaxTables = 32;  // LMDB: room for the tables later versions add

// The key of an index row (host_tasks, host_entries): hostname, a NUL, IdKey(id).
std::string HostIndexKey(const std::string& hostname, uint64_t id);

struct Migration {
  uint32_t to_version;           // the version the store has after this step
  std::string_view description;  // for the log
  Status (*apply)(KvSchemaWrite& txn);
};

// The migrations in order; to_version runs 1, 2, ... kSchemaVersion.
std::span<const Migration> Migrations();

// Inside a backend's first write transaction: creates meta when missing, refuses a newer schema
// (FailedPrecondition), runs the migrations above the stored version in order and writes
// kSchemaVersion. `from_version` receives the version found. The caller commits.
Status Migrate(KvSchemaWrite& txn, uint32_t* from_version);

// For a read-only open: a store that is missing, older (needs a read-write open to migrate) or
// newer is FailedPrecondition.
Status CheckReadOnlyVersion(KvSchemaWrite& txn);

// meta["schema_version"] of an LMDB environment (the results index keeps its own), 0 when none.
Result<uint32_t> ReadSchemaVersion(const Txn& txn, const Dbi& meta);
Status WriteSchemaVersion(WriteTxn& txn, const Dbi& meta, uint32_t version);

}  // namespace labmesh::store
