#include "schema.hpp"

#include <array>
#include <initializer_list>
#include <string>

#include "table.hpp"

namespace labmesh::store {
namespace {

// Creates each of `tables`.
Status CreateTables(KvSchemaWrite& txn, std::initializer_list<TableId> tables) {
  for (TableId table : tables) LABMESH_RETURN_IF_ERROR(txn.CreateTable(table));
  return Status::Ok();
}

// Version 1: the tables described in store.hpp.
Status CreateTablesV1(KvSchemaWrite& txn) {
  return CreateTables(txn, {TableId::kHosts, TableId::kLabels, TableId::kRevokedKeys});
}

// Version 2: the test catalog.
Status CreateTestsTable(KvSchemaWrite& txn) { return CreateTables(txn, {TableId::kTests}); }

// Version 3: jobs, entries, users and ACL groups; the Everyone group is made and every host
// joins it.
Status CreateJobTablesV3(KvSchemaWrite& txn) {
  LABMESH_RETURN_IF_ERROR(CreateTables(
      txn, {TableId::kJobs, TableId::kEntries, TableId::kUsers, TableId::kAclGroups}));
  AclGroup everyone;
  everyone.name = kEveryoneGroup;
  everyone.description = "every host and user";
  LABMESH_RETURN_IF_ERROR(KvTable<AclGroup>(TableId::kAclGroups).Put(txn, everyone.name, everyone));
  KvTable<Host> hosts(TableId::kHosts);
  Result<std::vector<Host>> all = hosts.List(txn);
  if (!all.ok()) return all.status();
  for (Host& host : *all) {
    if (!host.acl_groups.empty()) continue;
    host.acl_groups = {kEveryoneGroup};
    LABMESH_RETURN_IF_ERROR(hosts.Put(txn, host.hostname, host));
  }
  return Status::Ok();
}

// Version 4: special tasks and the per-host indexes, host_entries filled from the entries.
Status CreateTaskTablesV4(KvSchemaWrite& txn) {
  LABMESH_RETURN_IF_ERROR(
      CreateTables(txn, {TableId::kTasks, TableId::kHostTasks, TableId::kHostEntries}));
  Result<std::vector<Entry>> entries = KvTable<Entry>(TableId::kEntries).List(txn);
  if (!entries.ok()) return entries.status();
  for (const Entry& entry : *entries) {
    if (entry.hostname.empty()) continue;
    LABMESH_RETURN_IF_ERROR(
        txn.Put(TableId::kHostEntries, HostIndexKey(entry.hostname, entry.id), ""));
  }
  return Status::Ok();
}

// Version 5: API tokens (an index of User::tokens) and the audit log.
Status CreateAuthTablesV5(KvSchemaWrite& txn) {
  return CreateTables(txn, {TableId::kTokens, TableId::kAudit});
}

// Version 6: agent packages.
Status CreatePackagesTableV6(KvSchemaWrite& txn) { return CreateTables(txn, {TableId::kPackages}); }

// Version 7: the notification outbox.
Status CreateNotificationsTableV7(KvSchemaWrite& txn) {
  return CreateTables(txn, {TableId::kNotifications});
}

// Version 8: templates and schedules.
Status CreateScheduleTablesV8(KvSchemaWrite& txn) {
  return CreateTables(txn, {TableId::kTemplates, TableId::kSchedules});
}

constexpr std::array<Migration, 8> kMigrations = {{
    {1, "create tables hosts, labels, revoked_keys", &CreateTablesV1},
    {2, "create table tests (the test catalog)", &CreateTestsTable},
    {3, "create tables jobs, entries, users, acl_groups", &CreateJobTablesV3},
    {4, "create tables tasks, host_tasks, host_entries (indexed from entries)",
     &CreateTaskTablesV4},
    {5, "create tables tokens, audit", &CreateAuthTablesV5},
    {6, "create table packages", &CreatePackagesTableV6},
    {7, "create table notifications", &CreateNotificationsTableV7},
    {8, "create tables templates, schedules", &CreateScheduleTablesV8},
}};
static_assert(kMigrations.back().to_version == kSchemaVersion,
              "the last migration must bring the store to kSchemaVersion");

// Opens the tables of the current schema, which must all exist.
// meta["schema_version"], 0 when the store is new.
Result<uint32_t> ReadSchemaVersion(const KvRead& txn) {
  Result<std::optional<std::string_view>> bytes = txn.Get(TableId::kMeta, kSchemaVersionKey);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return uint32_t{0};
  return DecodeValue<uint32_t>(**bytes, "meta[schema_version]");
}

Status RefuseNewer(uint32_t version) {
  return Status::FailedPrecondition("store has schema version " + std::to_string(version) +
                                    ", newer than this labmesh (" + std::to_string(kSchemaVersion) +
                                    "); upgrade labmesh instead of opening it");
}

}  // namespace

std::string HostIndexKey(const std::string& hostname, uint64_t id) {
  std::string key = hostname;
  key.push_back('\0');
  key += IdKey(id);
  return key;
}

std::span<const Migration> Migrations() { return kMigrations; }

std::string_view TableName(TableId table) {
  static constexpr std::array<const char*, kTableCount> kNames = {
      kMetaTable,     kHostsTable,      kLabelsTable,      kRevokedKeysTable, kTestsTable,
      kJobsTable,     kEntriesTable,    kUsersTable,       kAclGroupsTable,   kTasksTable,
      kHostTasksTable, kHostEntriesTable, kTokensTable,    kAuditTable,       kPackagesTable,
      kNotificationsTable, kTemplatesTable, kSchedulesTable};
  return kNames[static_cast<size_t>(table)];
}

std::array<TableId, kTableCount> AllTables() {
  std::array<TableId, kTableCount> tables{};
  for (size_t i = 0; i < kTableCount; ++i) tables[i] = static_cast<TableId>(i);
  return tables;
}

Result<uint32_t> ReadSchemaVersion(const Txn& txn, const Dbi& meta) {
  Result<std::optional<std::string_view>> bytes = txn.Get(meta, kSchemaVersionKey);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return uint32_t{0};
  return DecodeValue<uint32_t>(**bytes, "meta[schema_version]");
}

Status WriteSchemaVersion(WriteTxn& txn, const Dbi& meta, uint32_t version) {
  Result<std::string> bytes = EncodeValue(version);
  if (!bytes.ok()) return bytes.status();
  return txn.Put(meta, kSchemaVersionKey, *bytes);
}

Status Migrate(KvSchemaWrite& txn, uint32_t* from_version) {
  Result<bool> has_meta = txn.HasTable(TableId::kMeta);
  if (!has_meta.ok()) return has_meta.status();
  if (!*has_meta) LABMESH_RETURN_IF_ERROR(txn.CreateTable(TableId::kMeta));
  Result<uint32_t> version = ReadSchemaVersion(txn);
  if (!version.ok()) return version.status();
  *from_version = *version;
  if (*version > kSchemaVersion) return RefuseNewer(*version);
  uint32_t expected = 1;
  for (const Migration& migration : kMigrations) {
    if (migration.to_version != expected++) {
      return Status::Internal("migrations out of order at version " +
                              std::to_string(migration.to_version));
    }
    if (migration.to_version <= *version) continue;
    Status status = migration.apply(txn);
    if (!status.ok()) {
      return Status(status.code(),
                    "migration to schema version " + std::to_string(migration.to_version) + " (" +
                        std::string(migration.description) + "): " + status.message());
    }
  }
  if (*version == kSchemaVersion) return Status::Ok();
  Result<std::string> bytes = EncodeValue(kSchemaVersion);
  if (!bytes.ok()) return bytes.status();
  return txn.Put(TableId::kMeta, kSchemaVersionKey, *bytes);
}

Status CheckReadOnlyVersion(KvSchemaWrite& txn) {
  Result<bool> has_meta = txn.HasTable(TableId::kMeta);
  if (!has_meta.ok()) return has_meta.status();
  if (!*has_meta) return Status::FailedPrecondition("not a labmesh store (no meta table)");
  Result<uint32_t> version = ReadSchemaVersion(txn);
  if (!version.ok()) return version.status();
  if (*version > kSchemaVersion) return RefuseNewer(*version);
  if (*version < kSchemaVersion) {
    return Status::FailedPrecondition("store has schema version " + std::to_string(*version) +
                                      ", older than " + std::to_string(kSchemaVersion) +
                                      "; open it read-write once to migrate");
  }
  return Status::Ok();
}

}  // namespace labmesh::store
