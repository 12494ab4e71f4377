#include "schema.hpp"

#include <array>
#include <string>

namespace labmesh::store {
namespace {

// Version 1: the tables described in store.hpp.
Status CreateTablesV1(WriteTxn& txn) {
  for (const char* name : {kHostsTable, kLabelsTable, kRevokedKeysTable}) {
    Result<Dbi> dbi = txn.OpenDbi(name, /*create=*/true);
    if (!dbi.ok()) return dbi.status();
  }
  return Status::Ok();
}

// Version 2: the test catalog.
Status CreateTestsTable(WriteTxn& txn) {
  Result<Dbi> dbi = txn.OpenDbi(kTestsTable, /*create=*/true);
  return dbi.ok() ? Status::Ok() : dbi.status();
}

// Version 3: jobs, host queue entries, users and ACL groups; every host joins Everyone.
Status CreateJobTablesV3(WriteTxn& txn) {
  for (const char* name : {kJobsTable, kEntriesTable, kUsersTable}) {
    Result<Dbi> dbi = txn.OpenDbi(name, /*create=*/true);
    if (!dbi.ok()) return dbi.status();
  }
  Result<Dbi> groups = txn.OpenDbi(kAclGroupsTable, /*create=*/true);
  if (!groups.ok()) return groups.status();
  AclGroup everyone;
  everyone.name = kEveryoneGroup;
  everyone.description = "every host and user";
  LABMESH_RETURN_IF_ERROR(Table<AclGroup>(*groups).Put(txn, everyone.name, everyone));
  Result<Dbi> hosts_dbi = txn.OpenDbi(kHostsTable, /*create=*/false);
  if (!hosts_dbi.ok()) return hosts_dbi.status();
  Table<Host> hosts(*hosts_dbi);
  Result<std::vector<Host>> all = hosts.List(txn);
  if (!all.ok()) return all.status();
  for (Host& host : *all) {
    if (!host.acl_groups.empty()) continue;
    host.acl_groups = {kEveryoneGroup};
    LABMESH_RETURN_IF_ERROR(hosts.Put(txn, host.hostname, host));
  }
  return Status::Ok();
}

// Version 4: special tasks, and the per-host indexes of tasks and entries (host history),
// the entries index filled from every entry that has a host.
Status CreateTaskTablesV4(WriteTxn& txn) {
  for (const char* name : {kTasksTable, kHostTasksTable}) {
    Result<Dbi> dbi = txn.OpenDbi(name, /*create=*/true);
    if (!dbi.ok()) return dbi.status();
  }
  Result<Dbi> index = txn.OpenDbi(kHostEntriesTable, /*create=*/true);
  if (!index.ok()) return index.status();
  Result<Dbi> entries_dbi = txn.OpenDbi(kEntriesTable, /*create=*/false);
  if (!entries_dbi.ok()) return entries_dbi.status();
  Result<std::vector<Entry>> entries = Table<Entry>(*entries_dbi).List(txn);
  if (!entries.ok()) return entries.status();
  for (const Entry& entry : *entries) {
    if (entry.hostname.empty()) continue;
    LABMESH_RETURN_IF_ERROR(txn.Put(*index, HostIndexKey(entry.hostname, entry.id), ""));
  }
  return Status::Ok();
}

// Version 5: the API tokens index and the audit log (users gain tokens and passwords in place).
Status CreateAuthTablesV5(WriteTxn& txn) {
  for (const char* name : {kTokensTable, kAuditTable}) {
    Result<Dbi> dbi = txn.OpenDbi(name, /*create=*/true);
    if (!dbi.ok()) return dbi.status();
  }
  return Status::Ok();
}

// Version 6: agent packages (hosts gain last_known_good and update_failed_version in place; the
// desired version is a meta key).
Status CreatePackagesTableV6(WriteTxn& txn) {
  Result<Dbi> dbi = txn.OpenDbi(kPackagesTable, /*create=*/true);
  return dbi.ok() ? Status::Ok() : dbi.status();
}

// Version 7: the notifications outbox (jobs and users gain notify fields in place).
Status CreateNotificationsTableV7(WriteTxn& txn) {
  Result<Dbi> dbi = txn.OpenDbi(kNotificationsTable, /*create=*/true);
  return dbi.ok() ? Status::Ok() : dbi.status();
}

// Version 8: job templates and schedules (jobs gain template_name and schedule in place).
Status CreateScheduleTablesV8(WriteTxn& txn) {
  for (const char* name : {kTemplatesTable, kSchedulesTable}) {
    Result<Dbi> dbi = txn.OpenDbi(name, /*create=*/true);
    if (!dbi.ok()) return dbi.status();
  }
  return Status::Ok();
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
Result<Tables> OpenTables(Txn& txn, Dbi meta) {
  Tables tables;
  tables.meta = std::move(meta);
  Result<Dbi> hosts = txn.OpenDbi(kHostsTable, /*create=*/false);
  if (!hosts.ok()) return hosts.status();
  Result<Dbi> labels = txn.OpenDbi(kLabelsTable, /*create=*/false);
  if (!labels.ok()) return labels.status();
  Result<Dbi> revoked = txn.OpenDbi(kRevokedKeysTable, /*create=*/false);
  if (!revoked.ok()) return revoked.status();
  Result<Dbi> tests = txn.OpenDbi(kTestsTable, /*create=*/false);
  if (!tests.ok()) return tests.status();
  tables.hosts = Table<Host>(std::move(hosts).value());
  tables.labels = Table<Label>(std::move(labels).value());
  tables.revoked_keys = Table<RevokedKey>(std::move(revoked).value());
  tables.tests = Table<TestDef>(std::move(tests).value());
  Result<Dbi> jobs = txn.OpenDbi(kJobsTable, /*create=*/false);
  if (!jobs.ok()) return jobs.status();
  Result<Dbi> entries = txn.OpenDbi(kEntriesTable, /*create=*/false);
  if (!entries.ok()) return entries.status();
  Result<Dbi> users = txn.OpenDbi(kUsersTable, /*create=*/false);
  if (!users.ok()) return users.status();
  Result<Dbi> groups = txn.OpenDbi(kAclGroupsTable, /*create=*/false);
  if (!groups.ok()) return groups.status();
  tables.jobs = Table<Job>(std::move(jobs).value());
  tables.entries = Table<Entry>(std::move(entries).value());
  tables.users = Table<User>(std::move(users).value());
  tables.acl_groups = Table<AclGroup>(std::move(groups).value());
  Result<Dbi> tasks = txn.OpenDbi(kTasksTable, /*create=*/false);
  if (!tasks.ok()) return tasks.status();
  Result<Dbi> host_tasks = txn.OpenDbi(kHostTasksTable, /*create=*/false);
  if (!host_tasks.ok()) return host_tasks.status();
  Result<Dbi> host_entries = txn.OpenDbi(kHostEntriesTable, /*create=*/false);
  if (!host_entries.ok()) return host_entries.status();
  tables.tasks = Table<SpecialTask>(std::move(tasks).value());
  tables.host_tasks = std::move(host_tasks).value();
  tables.host_entries = std::move(host_entries).value();
  Result<Dbi> tokens = txn.OpenDbi(kTokensTable, /*create=*/false);
  if (!tokens.ok()) return tokens.status();
  Result<Dbi> audit = txn.OpenDbi(kAuditTable, /*create=*/false);
  if (!audit.ok()) return audit.status();
  tables.tokens = std::move(tokens).value();
  tables.audit = Table<AuditRecord>(std::move(audit).value());
  Result<Dbi> packages = txn.OpenDbi(kPackagesTable, /*create=*/false);
  if (!packages.ok()) return packages.status();
  tables.packages = Table<Package>(std::move(packages).value());
  Result<Dbi> notifications = txn.OpenDbi(kNotificationsTable, /*create=*/false);
  if (!notifications.ok()) return notifications.status();
  tables.notifications = Table<Notification>(std::move(notifications).value());
  Result<Dbi> templates = txn.OpenDbi(kTemplatesTable, /*create=*/false);
  if (!templates.ok()) return templates.status();
  tables.templates = Table<Template>(std::move(templates).value());
  Result<Dbi> schedules = txn.OpenDbi(kSchedulesTable, /*create=*/false);
  if (!schedules.ok()) return schedules.status();
  tables.schedules = Table<Schedule>(std::move(schedules).value());
  return tables;
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

Result<Tables> MigrateAndOpen(WriteTxn& txn, uint32_t* from_version) {
  Result<Dbi> meta = txn.OpenDbi(kMetaTable, /*create=*/true);
  if (!meta.ok()) return meta.status();
  Result<uint32_t> version = ReadSchemaVersion(txn, *meta);
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
  if (*version != kSchemaVersion) {
    LABMESH_RETURN_IF_ERROR(WriteSchemaVersion(txn, *meta, kSchemaVersion));
  }
  return OpenTables(txn, std::move(meta).value());
}

Result<Tables> OpenReadOnly(ReadTxn& txn) {
  Result<Dbi> meta = txn.OpenDbi(kMetaTable, /*create=*/false);
  if (!meta.ok()) {
    if (meta.status().code() != StatusCode::kNotFound) return meta.status();
    return Status::FailedPrecondition("not a labmesh store (no meta table)");
  }
  Result<uint32_t> version = ReadSchemaVersion(txn, *meta);
  if (!version.ok()) return version.status();
  if (*version > kSchemaVersion) return RefuseNewer(*version);
  if (*version < kSchemaVersion) {
    return Status::FailedPrecondition("store has schema version " + std::to_string(*version) +
                                      ", older than " + std::to_string(kSchemaVersion) +
                                      "; open it read-write once to migrate");
  }
  return OpenTables(txn, std::move(meta).value());
}

}  // namespace labmesh::store
