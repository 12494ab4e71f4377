// The store's key-value layer on LMDB: each table is a named database of one environment.
// Concurrency: LMDB serializes write transactions and lets reads run beside them (MVCC);
// SharedEnv (lmdb_env.hpp) serializes our writers and guards the mapping while the map grows.

#include <algorithm>
#include <array>
#include <optional>

#include "kv.hpp"
#include "lmdb_env.hpp"
#include "schema.hpp"

namespace labmesh::store {
namespace {

using Dbis = std::array<std::optional<Dbi>, kTableCount>;

// One LMDB transaction seen as the key-value layer. Tables are looked up in `dbis`; during an
// open's first transaction the ones not opened yet are opened (or created) on first use.
class LmdbTxnKv final : public KvSchemaWrite {
 public:
  LmdbTxnKv(Txn& txn, WriteTxn* write, Dbis& dbis) : txn_(txn), write_(write), dbis_(dbis) {}

  Result<std::optional<std::string_view>> Get(TableId table,
                                              std::string_view key) const override {
    Result<const Dbi*> dbi = Table(table);
    if (!dbi.ok()) return dbi.status();
    if (key.empty()) return std::optional<std::string_view>();  // LMDB has no empty keys
    return txn_.Get(**dbi, key);
  }

  Status Scan(TableId table, std::string_view from, std::string_view to, bool reverse,
              const Visit& fn) const override {
    Result<const Dbi*> dbi = Table(table);
    if (!dbi.ok()) return dbi.status();
    Result<Cursor> cursor = txn_.OpenCursor(**dbi);
    if (!cursor.ok()) return cursor.status();
    if (reverse) {
      // The first key at or past `to` (none: the last key), then one back.
      if (to.empty()) {
        LABMESH_RETURN_IF_ERROR(cursor->Last());
      } else {
        LABMESH_RETURN_IF_ERROR(cursor->Seek(to));
        LABMESH_RETURN_IF_ERROR(cursor->valid() ? cursor->Prev() : cursor->Last());
      }
      while (cursor->valid() && cursor->key() >= from) {
        Result<bool> more = fn(cursor->key(), cursor->value());
        if (!more.ok()) return more.status();
        if (!*more) break;
        LABMESH_RETURN_IF_ERROR(cursor->Prev());
      }
      return Status::Ok();
    }
    LABMESH_RETURN_IF_ERROR(cursor->Seek(from));
    while (cursor->valid() && (to.empty() || cursor->key() < to)) {
      Result<bool> more = fn(cursor->key(), cursor->value());
      if (!more.ok()) return more.status();
      if (!*more) break;
      LABMESH_RETURN_IF_ERROR(cursor->Next());
    }
    return Status::Ok();
  }

  Status Put(TableId table, std::string_view key, std::string_view value) override {
    Result<const Dbi*> dbi = Table(table);
    if (!dbi.ok()) return dbi.status();
    if (key.empty()) return Status::InvalidArgument(std::string(TableName(table)) + ": empty key");
    return Writer().Put(**dbi, key, value);
  }

  Status Delete(TableId table, std::string_view key) override {
    Result<const Dbi*> dbi = Table(table);
    if (!dbi.ok()) return dbi.status();
    if (key.empty()) return Status::InvalidArgument(std::string(TableName(table)) + ": empty key");
    return Writer().Delete(**dbi, key);
  }

  Status CreateTable(TableId table) override {
    Result<Dbi> dbi = txn_.OpenDbi(std::string(TableName(table)), /*create=*/write_ != nullptr);
    if (!dbi.ok()) return dbi.status();
    dbis_[static_cast<size_t>(table)] = std::move(dbi).value();
    return Status::Ok();
  }

  Result<bool> HasTable(TableId table) override {
    Result<const Dbi*> dbi = Table(table);
    if (dbi.ok()) return true;
    if (dbi.status().code() == StatusCode::kNotFound) return false;
    return dbi.status();
  }

 private:
  // The table's handle, opened (not created) on first use.
  Result<const Dbi*> Table(TableId table) const {
    std::optional<Dbi>& dbi = dbis_[static_cast<size_t>(table)];
    if (!dbi.has_value()) {
      Result<Dbi> opened = txn_.OpenDbi(std::string(TableName(table)), /*create=*/false);
      if (!opened.ok()) return opened.status();
      dbi = std::move(opened).value();
    }
    return &*dbi;
  }

  WriteTxn& Writer() const { return *write_; }

  Txn& txn_;
  WriteTxn* write_;  // null in a read transaction
  Dbis& dbis_;
};

class LmdbKv final : public KvBackend {
 public:
  LmdbKv(std::unique_ptr<Env> env, Dbis dbis, const StoreOptions& options)
      : env_(std::move(env), options.max_map_bytes), dbis_(std::move(dbis)) {}

  Status Read(const std::function<Status(const KvRead&)>& fn) const override {
    return env_.Read<bool>([&](const Txn& txn) -> Result<bool> {
               // Every table was opened at Open, so the view never opens one here.
               LmdbTxnKv view(const_cast<Txn&>(txn), nullptr, dbis_);
               LABMESH_RETURN_IF_ERROR(fn(view));
               return true;
             })
        .status();
  }

  Status Write(const std::function<Status(KvWrite&)>& fn, bool sync) override {
    if (env_.env().read_only()) return Status::FailedPrecondition("store is open read-only");
    return env_.Write(
        [&](WriteTxn& txn) {
          LmdbTxnKv view(txn, &txn, dbis_);
          return fn(view);
        },
        sync);
  }

  Status Sync() override { return env_.Sync(); }
  bool read_only() const override { return env_.env().read_only(); }
  uint64_t map_size_bytes() const override { return env_.map_size(); }
  uint64_t used_bytes() const override { return env_.used_bytes(); }
  Status ClaimWriter() override { return Status::Ok(); }
  Status CheckClaim() override { return Status::Ok(); }

 private:
  SharedEnv env_;
  mutable Dbis dbis_;  // all opened at Open; never changed after
};

// Inside the open's transaction: migrates (or, read-only, checks the version), then opens every
// table so that later transactions find them all.
Status MigrateAndOpenAll(Txn& txn, WriteTxn* write, Dbis& dbis) {
  LmdbTxnKv view(txn, write, dbis);
  if (write != nullptr) {
    uint32_t from_version = 0;
    LABMESH_RETURN_IF_ERROR(Migrate(view, &from_version));
  } else {
    LABMESH_RETURN_IF_ERROR(CheckReadOnlyVersion(view));
  }
  for (TableId table : AllTables()) {
    Result<bool> present = view.HasTable(table);
    if (!present.ok()) return present.status();
    if (!*present) {
      return Status::Corruption("table " + std::string(TableName(table)) + " is missing");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<KvBackend>> OpenLmdbKv(const std::string& dir, const StoreOptions& options) {
  if (options.initial_map_bytes == 0 || options.max_map_bytes < options.initial_map_bytes) {
    return Status::InvalidArgument("need 0 < initial_map_bytes <= max_map_bytes");
  }
  if (!options.read_only) LABMESH_RETURN_IF_ERROR(MakeDirs(dir));
  Env::Options env_options;
  env_options.dir = dir;
  env_options.read_only = options.read_only;
  env_options.max_dbs = kMaxTables;
  env_options.min_map_bytes = options.initial_map_bytes;
  Result<std::unique_ptr<Env>> env = Env::Open(env_options);
  if (!env.ok()) return env.status();

  // The environment is private to this call until it returns, so plain retries are safe.
  for (int attempt = 0;; ++attempt) {
    Dbis dbis;
    Status opened;
    int rc = MDB_SUCCESS;
    if (options.read_only) {
      ReadTxn txn(**env);
      opened = txn.Begin();
      // Committing makes the table handles usable by later transactions.
      if (opened.ok()) opened = MigrateAndOpenAll(txn, nullptr, dbis);
      if (opened.ok()) opened = txn.Commit();
      rc = txn.last_rc();
    } else {
      WriteTxn txn(**env);
      opened = txn.Begin();
      if (opened.ok()) opened = MigrateAndOpenAll(txn, &txn, dbis);
      if (opened.ok()) opened = txn.Commit();
      rc = txn.last_rc();
    }
    if (opened.ok()) {
      return std::unique_ptr<KvBackend>(
          new LmdbKv(std::move(env).value(), std::move(dbis), options));
    }
    if (attempt >= SharedEnv::kMaxResizeRetries) return opened;
    if (rc == MDB_MAP_RESIZED) {
      LABMESH_RETURN_IF_ERROR((*env)->SetMapSize(0));
    } else if (rc == MDB_MAP_FULL && !options.read_only &&
               (*env)->MapSize() < options.max_map_bytes) {
      LABMESH_RETURN_IF_ERROR(
          (*env)->SetMapSize(std::min((*env)->MapSize() * 2, options.max_map_bytes)));
    } else {
      return opened;
    }
  }
}

}  // namespace labmesh::store
