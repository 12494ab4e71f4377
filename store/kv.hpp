#pragma once
// The store's tables as ordered byte maps: the one layer a backend implements (LMDB in
// lmdb_kv.cpp, PostgreSQL in pg_kv.cpp). Everything above it - the records' encoding
// (table.hpp), the indexes Apply keeps, the migrations (schema.cpp) and the Store itself
// (store.cpp) - is written once, over this, so both backends hold the same bytes under the same
// keys and pass the same tests. Keys sort as bytes (memcmp, then the shorter first) in both.
// Private to the store.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "labmesh/common/status.hpp"

namespace labmesh::store {

enum class TableId : uint8_t {
  kMeta,
  kHosts,
  kLabels,
  kRevokedKeys,
  kTests,
  kJobs,
  kEntries,
  kUsers,
  kAclGroups,
  kTasks,
  kHostTasks,    // hostname \0 IdKey(task id) -> ""
  kHostEntries,  // hostname \0 IdKey(entry id) -> ""
  kTokens,       // token hash -> user name
  kAudit,
  kPackages,
  kNotifications,
  kTemplates,
  kSchedules,
};
inline constexpr size_t kTableCount = 18;

// The table's name: an LMDB named database, a PostgreSQL table (in schema `labmesh`).
std::string_view TableName(TableId table);

// Every table, in TableId order.
std::array<TableId, kTableCount> AllTables();

// One transaction's view: a consistent snapshot for as long as it lives. Returned bytes are
// valid until the transaction ends.
class KvRead {
 public:
  virtual ~KvRead() = default;
  virtual Result<std::optional<std::string_view>> Get(TableId table, std::string_view key) const = 0;
  // Visits the rows with from <= key < to ("" = no upper end) in key order, or from the highest
  // down when `reverse`, until `fn` returns false.
  using Visit = std::function<Result<bool>(std::string_view key, std::string_view value)>;
  virtual Status Scan(TableId table, std::string_view from, std::string_view to, bool reverse,
                      const Visit& fn) const = 0;
};

class KvWrite : public KvRead {
 public:
  // An empty key, or one longer than the backend allows, is InvalidArgument.
  virtual Status Put(TableId table, std::string_view key, std::string_view value) = 0;
  // Removing an absent key is OK.
  virtual Status Delete(TableId table, std::string_view key) = 0;
};

// The first write transaction of an open, where the migrations run: it can also create tables.
class KvSchemaWrite : public KvWrite {
 public:
  virtual Status CreateTable(TableId table) = 0;
  // Whether the table exists yet (a new store has no meta table).
  virtual Result<bool> HasTable(TableId table) = 0;
};

class KvBackend {
 public:
  virtual ~KvBackend() = default;
  // Runs `fn` in a read transaction; its status is returned.
  virtual Status Read(const std::function<Status(const KvRead&)>& fn) const = 0;
  // Runs `fn` in the write transaction and commits when it returns OK (else rolls back).
  // sync = false: the commit may reach the disk later (Store::Durability::kLazy).
  virtual Status Write(const std::function<Status(KvWrite&)>& fn, bool sync) = 0;
  virtual Status Sync() = 0;
  virtual bool read_only() const = 0;
  virtual uint64_t map_size_bytes() const = 0;
  virtual uint64_t used_bytes() const = 0;
  // Store::ClaimWriter, Store::CheckClaim.
  virtual Status ClaimWriter() = 0;
  virtual Status CheckClaim() = 0;
};

// Backends. Both run the migrations (schema.hpp) in their first write transaction, or, read-only,
// check the schema version; see Store::Open.
struct StoreOptions;
Result<std::unique_ptr<KvBackend>> OpenLmdbKv(const std::string& dir, const StoreOptions& options);
Result<std::unique_ptr<KvBackend>> OpenPgKv(const std::string& url, const StoreOptions& options);
// The backend `spec` names (Store::Open).
Result<std::unique_ptr<KvBackend>> OpenKv(const std::string& spec, const StoreOptions& options);

}  // namespace labmesh::store
