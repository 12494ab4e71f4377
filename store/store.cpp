// The Store over the key-value layer (kv.hpp): the records, the indexes Apply keeps and the
// queries, written once for both backends (LMDB, PostgreSQL). Each read runs in one read
// transaction of the backend, each Apply in one write transaction.

#include "labmesh/store/store.hpp"

#include <algorithm>
#include <type_traits>

#include "kv.hpp"
#include "schema.hpp"
#include "table.hpp"

namespace labmesh::store {
namespace {

template <class>
inline constexpr bool kAlwaysFalse = false;

// Decoded enums come from an integer; reject values this labmesh does not know.
Status CheckHost(const Host& host, std::string_view key) {
  if (static_cast<uint8_t>(host.status) > static_cast<uint8_t>(protocol::HostStatus::kQuarantined) ||
      static_cast<uint8_t>(host.enrollment) > static_cast<uint8_t>(Enrollment::kPending)) {
    return Status::Corruption("hosts[" + std::string(key) + "]: unknown status or enrollment");
  }
  return Status::Ok();
}

Status CheckEntry(const Entry& entry) {
  bool bad = static_cast<uint8_t>(entry.status) > protocol::kMaxEntryStatus;
  for (const StatusChange& change : entry.history) {
    bad = bad || static_cast<uint8_t>(change.status) > protocol::kMaxEntryStatus;
  }
  if (bad) return Status::Corruption("entries[" + IdKey(entry.id) + "]: unknown status");
  return Status::Ok();
}

Status CheckJob(const Job& job) {
  if (static_cast<uint8_t>(job.priority) > static_cast<uint8_t>(protocol::Priority::kUrgent)) {
    return Status::Corruption("jobs[" + IdKey(job.id) + "]: unknown priority");
  }
  return Status::Ok();
}

Status CheckTask(const SpecialTask& task) {
  if (static_cast<uint8_t>(task.kind) > static_cast<uint8_t>(protocol::TaskKind::kPower) ||
      static_cast<uint8_t>(task.status) > static_cast<uint8_t>(protocol::TaskStatus::kAborted)) {
    return Status::Corruption("tasks[" + IdKey(task.id) + "]: unknown kind or status");
  }
  return Status::Ok();
}

// The ids of `table` (an index keyed HostIndexKey) under `hostname`, highest first, at most
// `limit`.
Result<std::vector<uint64_t>> HostIndexIds(const KvRead& txn, TableId table,
                                           const std::string& hostname, size_t limit) {
  std::string prefix = hostname;
  prefix.push_back('\0');
  std::string after = hostname;
  after.push_back('\1');  // sorts after every hostname\0... key
  std::vector<uint64_t> ids;
  if (limit == 0) return ids;
  Status status = txn.Scan(table, prefix, after, /*reverse=*/true,
                           [&](std::string_view key, std::string_view) -> Result<bool> {
                             uint64_t id = 0;
                             for (char c : key.substr(prefix.size())) {
                               if (c < '0' || c > '9') {
                                 return Status::Corruption(std::string(TableName(table)) +
                                                           ": key is not host+id");
                               }
                               id = id * 10 + static_cast<uint64_t>(c - '0');
                             }
                             ids.push_back(id);
                             return ids.size() < limit;
                           });
  if (!status.ok()) return status;
  return ids;
}

// The end of the range of keys that start with `prefix` ("" = none: the prefix is all 0xff).
std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

// Every key of `table` that starts with `prefix`, in order.
Result<std::vector<std::string>> KeysWithPrefix(const KvRead& txn, TableId table,
                                                const std::string& prefix) {
  std::vector<std::string> keys;
  Status status = txn.Scan(table, prefix, PrefixEnd(prefix), /*reverse=*/false,
                           [&](std::string_view key, std::string_view) -> Result<bool> {
                             keys.emplace_back(key);
                             return true;
                           });
  if (!status.ok()) return status;
  return keys;
}

// Every key of `table` under `hostname` (for removing a deleted host's index rows).
Result<std::vector<std::string>> HostIndexKeys(const KvRead& txn, TableId table,
                                               const std::string& hostname) {
  std::string prefix = hostname;
  prefix.push_back('\0');
  return KeysWithPrefix(txn, table, prefix);
}

// The store's typed tables.
struct Tables {
  KvTable<Host> hosts{TableId::kHosts};
  KvTable<Label> labels{TableId::kLabels};
  KvTable<RevokedKey> revoked_keys{TableId::kRevokedKeys};
  KvTable<TestDef> tests{TableId::kTests};
  KvTable<Job> jobs{TableId::kJobs};
  KvTable<Entry> entries{TableId::kEntries};
  KvTable<User> users{TableId::kUsers};
  KvTable<AclGroup> acl_groups{TableId::kAclGroups};
  KvTable<SpecialTask> tasks{TableId::kTasks};
  KvTable<AuditRecord> audit{TableId::kAudit};
  KvTable<Package> packages{TableId::kPackages};
  KvTable<Notification> notifications{TableId::kNotifications};
  KvTable<Template> templates{TableId::kTemplates};
  KvTable<Schedule> schedules{TableId::kSchedules};
};

class KvStore final : public Store {
 public:
  explicit KvStore(std::unique_ptr<KvBackend> kv) : kv_(std::move(kv)) {}

  uint32_t schema_version() const override { return kSchemaVersion; }
  uint64_t map_size_bytes() const override { return kv_->map_size_bytes(); }
  uint64_t used_bytes() const override { return kv_->used_bytes(); }

  Result<std::optional<Host>> GetHost(const std::string& hostname) const override {
    Result<std::optional<Host>> host =
        Read<std::optional<Host>>([&](const KvRead& txn) { return tables_.hosts.Get(txn, hostname); });
    if (host.ok() && host->has_value()) LABMESH_RETURN_IF_ERROR(CheckHost(**host, hostname));
    return host;
  }
  Result<std::vector<Host>> ListHosts() const override {
    Result<std::vector<Host>> hosts =
        Read<std::vector<Host>>([&](const KvRead& txn) { return tables_.hosts.List(txn); });
    if (!hosts.ok()) return hosts;
    for (const Host& host : *hosts) LABMESH_RETURN_IF_ERROR(CheckHost(host, host.hostname));
    return hosts;
  }
  Result<std::optional<Label>> GetLabel(const std::string& name) const override {
    return Read<std::optional<Label>>(
        [&](const KvRead& txn) { return tables_.labels.Get(txn, name); });
  }
  Result<std::vector<Label>> ListLabels() const override {
    return Read<std::vector<Label>>([&](const KvRead& txn) { return tables_.labels.List(txn); });
  }
  Result<std::optional<RevokedKey>> GetRevokedKey(const std::string& key) const override {
    return Read<std::optional<RevokedKey>>(
        [&](const KvRead& txn) { return tables_.revoked_keys.Get(txn, key); });
  }
  Result<std::vector<RevokedKey>> ListRevokedKeys() const override {
    return Read<std::vector<RevokedKey>>(
        [&](const KvRead& txn) { return tables_.revoked_keys.List(txn); });
  }
  Result<std::optional<TestDef>> GetTest(const std::string& name) const override {
    return Read<std::optional<TestDef>>(
        [&](const KvRead& txn) { return tables_.tests.Get(txn, name); });
  }
  Result<std::vector<TestDef>> ListTests() const override {
    return Read<std::vector<TestDef>>([&](const KvRead& txn) { return tables_.tests.List(txn); });
  }

  Result<std::optional<Job>> GetJob(uint64_t id) const override {
    Result<std::optional<Job>> job =
        Read<std::optional<Job>>([&](const KvRead& txn) { return tables_.jobs.Get(txn, IdKey(id)); });
    if (job.ok() && job->has_value()) LABMESH_RETURN_IF_ERROR(CheckJob(**job));
    return job;
  }
  Result<std::vector<Job>> ListJobs() const override {
    Result<std::vector<Job>> jobs =
        Read<std::vector<Job>>([&](const KvRead& txn) { return tables_.jobs.List(txn); });
    if (!jobs.ok()) return jobs;
    for (const Job& job : *jobs) LABMESH_RETURN_IF_ERROR(CheckJob(job));
    return jobs;
  }
  Result<std::vector<Job>> ListJobsAfter(uint64_t after_id, size_t limit) const override {
    if (limit == 0) return std::vector<Job>();
    Result<std::vector<Job>> jobs = Read<std::vector<Job>>([&](const KvRead& txn) {
      return tables_.jobs.Range(txn, IdKey(after_id + 1), "", /*reverse=*/false, limit);
    });
    if (!jobs.ok()) return jobs;
    for (const Job& job : *jobs) LABMESH_RETURN_IF_ERROR(CheckJob(job));
    return jobs;
  }
  Result<std::optional<Entry>> GetEntry(uint64_t id) const override {
    Result<std::optional<Entry>> entry = Read<std::optional<Entry>>(
        [&](const KvRead& txn) { return tables_.entries.Get(txn, IdKey(id)); });
    if (entry.ok() && entry->has_value()) LABMESH_RETURN_IF_ERROR(CheckEntry(**entry));
    return entry;
  }
  Result<std::vector<Entry>> GetEntries(const std::vector<uint64_t>& ids) const override {
    return Read<std::vector<Entry>>([&](const KvRead& txn) -> Result<std::vector<Entry>> {
      std::vector<Entry> entries;
      entries.reserve(ids.size());
      for (uint64_t id : ids) {
        Result<std::optional<Entry>> entry = tables_.entries.Get(txn, IdKey(id));
        if (!entry.ok()) return entry.status();
        if (!entry->has_value()) {
          return Status::Corruption("entries[" + IdKey(id) + "] is missing");
        }
        LABMESH_RETURN_IF_ERROR(CheckEntry(**entry));
        entries.push_back(std::move(**entry));
      }
      return entries;
    });
  }
  Result<std::vector<Entry>> ListEntries() const override {
    Result<std::vector<Entry>> entries =
        Read<std::vector<Entry>>([&](const KvRead& txn) { return tables_.entries.List(txn); });
    if (!entries.ok()) return entries;
    for (const Entry& entry : *entries) LABMESH_RETURN_IF_ERROR(CheckEntry(entry));
    return entries;
  }
  Result<uint64_t> MaxJobId() const override { return MaxId(TableId::kJobs); }
  Result<uint64_t> MaxEntryId() const override { return MaxId(TableId::kEntries); }
  Result<std::optional<User>> GetUser(const std::string& name) const override {
    return Read<std::optional<User>>([&](const KvRead& txn) { return tables_.users.Get(txn, name); });
  }
  Result<std::vector<User>> ListUsers() const override {
    return Read<std::vector<User>>([&](const KvRead& txn) { return tables_.users.List(txn); });
  }
  Result<std::optional<User>> FindUserByTokenHash(const std::string& hash) const override {
    if (hash.empty()) return std::optional<User>();
    return Read<std::optional<User>>([&](const KvRead& txn) -> Result<std::optional<User>> {
      Result<std::optional<std::string_view>> name = txn.Get(TableId::kTokens, hash);
      if (!name.ok()) return name.status();
      if (!name->has_value()) return std::optional<User>();
      return tables_.users.Get(txn, **name);
    });
  }
  Result<std::vector<AuditRecord>> ListAudit(const std::string& user, int64_t since_ms,
                                             size_t limit) const override {
    return Read<std::vector<AuditRecord>>([&](const KvRead& txn) -> Result<std::vector<AuditRecord>> {
      std::vector<AuditRecord> records;
      if (limit == 0) return records;
      Status status = txn.Scan(
          TableId::kAudit, "", "", /*reverse=*/true,
          [&](std::string_view key, std::string_view bytes) -> Result<bool> {
            Result<AuditRecord> record =
                DecodeValue<AuditRecord>(bytes, "audit[" + std::string(key) + "]");
            if (!record.ok()) return record.status();
            // Ids grow with time (one writer, wall clock): older records cannot follow.
            if (since_ms > 0 && record->time_ms < since_ms) return false;
            if (user.empty() || record->user == user) records.push_back(std::move(*record));
            return records.size() < limit;
          });
      if (!status.ok()) return status;
      return records;
    });
  }
  Result<uint64_t> MaxAuditId() const override { return MaxId(TableId::kAudit); }
  Result<std::vector<AuditRecord>> OldestAudit(size_t limit) const override {
    if (limit == 0) return std::vector<AuditRecord>();
    return Read<std::vector<AuditRecord>>([&](const KvRead& txn) {
      return tables_.audit.Range(txn, "", "", /*reverse=*/false, limit);
    });
  }
  Result<std::vector<AclGroup>> ListAclGroups() const override {
    return Read<std::vector<AclGroup>>(
        [&](const KvRead& txn) { return tables_.acl_groups.List(txn); });
  }

  Result<std::optional<SpecialTask>> GetTask(uint64_t id) const override {
    Result<std::optional<SpecialTask>> task = Read<std::optional<SpecialTask>>(
        [&](const KvRead& txn) { return tables_.tasks.Get(txn, IdKey(id)); });
    if (task.ok() && task->has_value()) LABMESH_RETURN_IF_ERROR(CheckTask(**task));
    return task;
  }
  Result<uint64_t> MaxTaskId() const override { return MaxId(TableId::kTasks); }
  Result<std::vector<SpecialTask>> ListHostTasks(const std::string& hostname,
                                                 size_t limit) const override {
    return Read<std::vector<SpecialTask>>([&](const KvRead& txn) -> Result<std::vector<SpecialTask>> {
      Result<std::vector<uint64_t>> ids = HostIndexIds(txn, TableId::kHostTasks, hostname, limit);
      if (!ids.ok()) return ids.status();
      std::vector<SpecialTask> tasks;
      for (uint64_t id : *ids) {
        Result<std::optional<SpecialTask>> task = tables_.tasks.Get(txn, IdKey(id));
        if (!task.ok()) return task.status();
        if (!task->has_value()) continue;  // index row without a task: skip
        LABMESH_RETURN_IF_ERROR(CheckTask(**task));
        tasks.push_back(std::move(**task));
      }
      return tasks;
    });
  }
  Result<std::optional<Package>> GetPackage(const std::string& version) const override {
    return Read<std::optional<Package>>(
        [&](const KvRead& txn) { return tables_.packages.Get(txn, version); });
  }
  Result<std::vector<Package>> ListPackages() const override {
    return Read<std::vector<Package>>([&](const KvRead& txn) { return tables_.packages.List(txn); });
  }
  Result<DesiredVersion> GetDesiredVersion() const override {
    return Read<DesiredVersion>([&](const KvRead& txn) -> Result<DesiredVersion> {
      Result<std::optional<std::string_view>> bytes = txn.Get(TableId::kMeta, kDesiredVersionKey);
      if (!bytes.ok()) return bytes.status();
      if (!bytes->has_value()) return DesiredVersion{};
      return DecodeValue<DesiredVersion>(**bytes, "meta[desired_version]");
    });
  }
  Result<std::vector<Entry>> ListHostEntries(const std::string& hostname,
                                             size_t limit) const override {
    return Read<std::vector<Entry>>([&](const KvRead& txn) -> Result<std::vector<Entry>> {
      Result<std::vector<uint64_t>> ids = HostIndexIds(txn, TableId::kHostEntries, hostname, limit);
      if (!ids.ok()) return ids.status();
      std::vector<Entry> entries;
      for (uint64_t id : *ids) {
        Result<std::optional<Entry>> entry = tables_.entries.Get(txn, IdKey(id));
        if (!entry.ok()) return entry.status();
        if (!entry->has_value()) continue;
        LABMESH_RETURN_IF_ERROR(CheckEntry(**entry));
        entries.push_back(std::move(**entry));
      }
      return entries;
    });
  }

  Result<std::vector<Notification>> ListNotifications(uint64_t job_id) const override {
    return Read<std::vector<Notification>>(
        [&](const KvRead& txn) -> Result<std::vector<Notification>> {
          Result<std::vector<std::string>> keys = JobNotificationKeys(txn, job_id);
          if (!keys.ok()) return keys.status();
          std::vector<Notification> out;
          for (const std::string& key : *keys) {
            Result<std::optional<Notification>> n = tables_.notifications.Get(txn, key);
            if (!n.ok()) return n.status();
            if (n->has_value()) out.push_back(std::move(**n));
          }
          return out;
        });
  }
  Result<std::optional<Template>> GetTemplate(const std::string& name) const override {
    return Read<std::optional<Template>>(
        [&](const KvRead& txn) { return tables_.templates.Get(txn, name); });
  }
  Result<std::vector<Template>> ListTemplates() const override {
    return Read<std::vector<Template>>([&](const KvRead& txn) { return tables_.templates.List(txn); });
  }
  Result<std::optional<Schedule>> GetSchedule(const std::string& name) const override {
    return Read<std::optional<Schedule>>(
        [&](const KvRead& txn) { return tables_.schedules.Get(txn, name); });
  }
  Result<std::vector<Schedule>> ListSchedules() const override {
    return Read<std::vector<Schedule>>([&](const KvRead& txn) { return tables_.schedules.List(txn); });
  }
  Result<std::vector<Notification>> ListPendingNotifications() const override {
    Result<std::vector<Notification>> all = Read<std::vector<Notification>>(
        [&](const KvRead& txn) { return tables_.notifications.List(txn); });
    if (!all.ok()) return all;
    std::erase_if(*all, [](const Notification& n) { return n.state != NotifyState::kPending; });
    return all;
  }

  Status Apply(const WriteBatch& batch, Durability durability) override;
  Status Sync() override { return kv_->Sync(); }
  Status ClaimWriter() override { return kv_->ClaimWriter(); }
  Status CheckClaim() override { return kv_->CheckClaim(); }
  Status SetActiveRelay(const std::string& endpoint) override {
    Result<std::string> bytes = EncodeValue(endpoint);
    if (!bytes.ok()) return bytes.status();
    return kv_->Write([&](KvWrite& txn) { return txn.Put(TableId::kMeta, kActiveRelayKey, *bytes); },
                      /*sync=*/true);
  }
  Result<std::string> ActiveRelay() const override {
    return Read<std::string>([&](const KvRead& txn) -> Result<std::string> {
      Result<std::optional<std::string_view>> bytes = txn.Get(TableId::kMeta, kActiveRelayKey);
      if (!bytes.ok()) return bytes.status();
      if (!bytes->has_value()) return std::string();
      return DecodeValue<std::string>(**bytes, "meta[active_relay]");
    });
  }

 private:
  // Runs `fn` (KvRead -> Result<T>) in one read transaction.
  template <typename T, typename Fn>
  Result<T> Read(Fn&& fn) const {
    std::optional<Result<T>> out;
    Status status = kv_->Read([&](const KvRead& txn) {
      out.emplace(fn(txn));
      return out->ok() ? Status::Ok() : out->status();
    });
    if (!out.has_value()) return status;
    if (!status.ok() && out->ok()) return status;  // the read failed after fn (commit)
    return std::move(*out);
  }

  // The last key of an id-keyed table, parsed; 0 for an empty table.
  Result<uint64_t> MaxId(TableId table) const {
    return Read<uint64_t>([&](const KvRead& txn) -> Result<uint64_t> {
      uint64_t id = 0;
      Status status = txn.Scan(table, "", "", /*reverse=*/true,
                               [&](std::string_view key, std::string_view) -> Result<bool> {
                                 for (char c : key) {
                                   if (c < '0' || c > '9') {
                                     return Status::Corruption(std::string(TableName(table)) +
                                                               ": key is not an id");
                                   }
                                   id = id * 10 + static_cast<uint64_t>(c - '0');
                                 }
                                 return false;
                               });
      if (!status.ok()) return status;
      return id;
    });
  }

  // Removes the tokens index rows of the stored record of `name` (none when there is none).
  Status DropTokenIndex(KvWrite& txn, const std::string& name) const {
    Result<std::optional<User>> old = tables_.users.Get(txn, name);
    if (!old.ok()) return old.status();
    if (!old->has_value()) return Status::Ok();
    for (const ApiToken& token : (*old)->tokens) {
      LABMESH_RETURN_IF_ERROR(txn.Delete(TableId::kTokens, token.hash));
    }
    return Status::Ok();
  }

  // The keys of a job's notifications, in index order.
  Result<std::vector<std::string>> JobNotificationKeys(const KvRead& txn, uint64_t job_id) const {
    return KeysWithPrefix(txn, TableId::kNotifications, IdKey(job_id) + ".");
  }

  // A job, its entries, its notifications and their host_entries rows; an unknown job is no
  // error.
  Status DeleteJobInTxn(KvWrite& txn, const WriteBatch::DeleteJobOp& op) const {
    Result<std::optional<Job>> job = tables_.jobs.Get(txn, IdKey(op.id));
    if (!job.ok()) return job.status();
    if (!job->has_value()) return Status::Ok();
    for (uint64_t entry_id : (*job)->entry_ids) {
      Result<std::optional<Entry>> entry = tables_.entries.Get(txn, IdKey(entry_id));
      if (!entry.ok()) return entry.status();
      if (entry->has_value() && !(*entry)->hostname.empty()) {
        LABMESH_RETURN_IF_ERROR(
            txn.Delete(TableId::kHostEntries, HostIndexKey((*entry)->hostname, entry_id)));
      }
      for (const std::string& host : op.hosts) {
        LABMESH_RETURN_IF_ERROR(txn.Delete(TableId::kHostEntries, HostIndexKey(host, entry_id)));
      }
      LABMESH_RETURN_IF_ERROR(tables_.entries.Delete(txn, IdKey(entry_id)));
    }
    Result<std::vector<std::string>> notifications = JobNotificationKeys(txn, op.id);
    if (!notifications.ok()) return notifications.status();
    for (const std::string& key : *notifications) {
      LABMESH_RETURN_IF_ERROR(tables_.notifications.Delete(txn, key));
    }
    return tables_.jobs.Delete(txn, IdKey(op.id));
  }

  // Writes every op of `batch` into `txn`; the first failure names the op.
  Status WriteOps(KvWrite& txn, const WriteBatch& batch) const;

  std::unique_ptr<KvBackend> kv_;
  Tables tables_;
};

Status KvStore::WriteOps(KvWrite& txn, const WriteBatch& batch) const {
  size_t index = 0;
  for (const WriteBatch::Op& op : batch.ops()) {
    Status status = std::visit(
        [&](const auto& o) -> Status {
          using T = std::decay_t<decltype(o)>;
          if constexpr (std::is_same_v<T, Host>) {
            return tables_.hosts.Put(txn, o.hostname, o);
          } else if constexpr (std::is_same_v<T, WriteBatch::DeleteHostOp>) {
            for (TableId index : {TableId::kHostTasks, TableId::kHostEntries}) {
              Result<std::vector<std::string>> keys = HostIndexKeys(txn, index, o.hostname);
              if (!keys.ok()) return keys.status();
              for (const std::string& key : *keys) LABMESH_RETURN_IF_ERROR(txn.Delete(index, key));
            }
            return tables_.hosts.Delete(txn, o.hostname);
          } else if constexpr (std::is_same_v<T, Label>) {
            return tables_.labels.Put(txn, o.name, o);
          } else if constexpr (std::is_same_v<T, WriteBatch::DeleteLabelOp>) {
            return tables_.labels.Delete(txn, o.name);
          } else if constexpr (std::is_same_v<T, RevokedKey>) {
            return tables_.revoked_keys.Put(txn, o.public_key, o);
          } else if constexpr (std::is_same_v<T, TestDef>) {
            return tables_.tests.Put(txn, o.name, o);
          } else if constexpr (std::is_same_v<T, WriteBatch::DeleteTestOp>) {
            return tables_.tests.Delete(txn, o.name);
          } else if constexpr (std::is_same_v<T, Job>) {
            return tables_.jobs.Put(txn, IdKey(o.id), o);
          } else if constexpr (std::is_same_v<T, Entry>) {
            if (!o.hostname.empty()) {
              LABMESH_RETURN_IF_ERROR(
                  txn.Put(TableId::kHostEntries, HostIndexKey(o.hostname, o.id), ""));
            }
            return tables_.entries.Put(txn, IdKey(o.id), o);
          } else if constexpr (std::is_same_v<T, SpecialTask>) {
            LABMESH_RETURN_IF_ERROR(txn.Put(TableId::kHostTasks, HostIndexKey(o.hostname, o.id), ""));
            return tables_.tasks.Put(txn, IdKey(o.id), o);
          } else if constexpr (std::is_same_v<T, User>) {
            LABMESH_RETURN_IF_ERROR(DropTokenIndex(txn, o.name));
            for (const ApiToken& token : o.tokens) {
              LABMESH_RETURN_IF_ERROR(txn.Put(TableId::kTokens, token.hash, o.name));
            }
            return tables_.users.Put(txn, o.name, o);
          } else if constexpr (std::is_same_v<T, WriteBatch::DeleteUserOp>) {
            LABMESH_RETURN_IF_ERROR(DropTokenIndex(txn, o.name));
            return tables_.users.Delete(txn, o.name);
          } else if constexpr (std::is_same_v<T, AclGroup>) {
            return tables_.acl_groups.Put(txn, o.name, o);
          } else if constexpr (std::is_same_v<T, WriteBatch::DeleteAclGroupOp>) {
            return tables_.acl_groups.Delete(txn, o.name);
          } else if constexpr (std::is_same_v<T, AuditRecord>) {
            return tables_.audit.Put(txn, IdKey(o.id), o);
          } else if constexpr (std::is_same_v<T, Package>) {
            return tables_.packages.Put(txn, o.version, o);
          } else if constexpr (std::is_same_v<T, WriteBatch::DeleteJobOp>) {
            return DeleteJobInTxn(txn, o);
          } else if constexpr (std::is_same_v<T, Notification>) {
            return tables_.notifications.Put(txn, NotificationKey(o.job_id, o.index), o);
          } else if constexpr (std::is_same_v<T, WriteBatch::DeleteAuditOp>) {
            for (uint64_t id = o.first; id <= o.last && id != 0; ++id) {
              LABMESH_RETURN_IF_ERROR(tables_.audit.Delete(txn, IdKey(id)));
            }
            return Status::Ok();
          } else if constexpr (std::is_same_v<T, Template>) {
            return tables_.templates.Put(txn, o.name, o);
          } else if constexpr (std::is_same_v<T, WriteBatch::DeleteTemplateOp>) {
            return tables_.templates.Delete(txn, o.name);
          } else if constexpr (std::is_same_v<T, Schedule>) {
            return tables_.schedules.Put(txn, o.name, o);
          } else if constexpr (std::is_same_v<T, WriteBatch::DeleteScheduleOp>) {
            return tables_.schedules.Delete(txn, o.name);
          } else if constexpr (std::is_same_v<T, DesiredVersion>) {
            Result<std::string> bytes = EncodeValue(o);
            if (!bytes.ok()) return bytes.status();
            return txn.Put(TableId::kMeta, kDesiredVersionKey, *bytes);
          } else {
            static_assert(kAlwaysFalse<T>, "WriteBatch::Op not handled");
          }
        },
        op);
    if (!status.ok()) {
      return Status(status.code(), "batch op " + std::to_string(index) + ": " + status.message());
    }
    ++index;
  }
  return Status::Ok();
}

Status KvStore::Apply(const WriteBatch& batch, Durability durability) {
  if (kv_->read_only()) return Status::FailedPrecondition("store is open read-only");
  if (batch.empty()) return Status::Ok();
  return kv_->Write([&](KvWrite& txn) { return WriteOps(txn, batch); },
                    /*sync=*/durability == Durability::kSync);
}

}  // namespace

std::string IdKey(uint64_t id) {
  std::string digits = std::to_string(id);
  return std::string(20 - digits.size(), '0') + digits;
}

namespace {
constexpr char kClaimLostPrefix[] = "claim lost: ";
}  // namespace

Status ClaimLost(const std::string& detail) {
  return Status::FailedPrecondition(kClaimLostPrefix + detail);
}

bool IsClaimLost(const Status& status) {
  return status.code() == StatusCode::kFailedPrecondition &&
         status.message().rfind(kClaimLostPrefix, 0) == 0;
}

std::string NotificationKey(uint64_t job_id, uint32_t index) {
  std::string digits = std::to_string(index);
  return IdKey(job_id) + "." + std::string(digits.size() < 3 ? 3 - digits.size() : 0, '0') + digits;
}

bool IsPostgresSpec(std::string_view spec) {
  return spec.starts_with("postgresql://") || spec.starts_with("postgres://");
}

Result<std::unique_ptr<KvBackend>> OpenKv(const std::string& spec, const StoreOptions& options) {
  if (IsPostgresSpec(spec)) {
    return OpenPgKv(spec, options);
  }
  return OpenLmdbKv(spec.starts_with("lmdb:") ? spec.substr(5) : spec, options);
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& spec, const StoreOptions& options) {
  Result<std::unique_ptr<KvBackend>> kv = OpenKv(spec, options);
  if (!kv.ok()) return kv.status();
  return std::unique_ptr<Store>(new KvStore(std::move(kv).value()));
}

}  // namespace labmesh::store
