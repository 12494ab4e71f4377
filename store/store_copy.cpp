// CopyStore (`labmesh-coordinator migrate`): every row of one store into a new one, at the
// key-value layer, so the copy is byte for byte whichever backends the two are.

#include <string>
#include <utility>
#include <vector>

#include "kv.hpp"
#include "labmesh/store/store.hpp"
#include "schema.hpp"

namespace labmesh::store {

namespace {

// The first row of `table` that a new store would not have, as "table[key]"; "" when none.
Result<std::string> FirstNewRow(const KvRead& txn, TableId table) {
  std::string found;
  Status status = txn.Scan(table, "", "", /*reverse=*/false,
                           [&](std::string_view key, std::string_view) -> Result<bool> {
                             if (table == TableId::kMeta) return true;  // version, desired
                             if (table == TableId::kAclGroups && key == kEveryoneGroup) return true;
                             found = std::string(TableName(table)) + "[" + std::string(key) + "]";
                             return false;
                           });
  if (!status.ok()) return status;
  return found;
}

}  // namespace

Status CopyStore(const std::string& from, const std::string& to,
                 const std::function<void(std::string_view table, uint64_t rows)>& progress) {
  constexpr size_t kBatchRows = 1000;
  StoreOptions read_only;
  read_only.read_only = true;
  Result<std::unique_ptr<KvBackend>> source = OpenKv(from, read_only);
  if (!source.ok()) return Status(source.status().code(), from + ": " + source.status().message());
  Result<std::unique_ptr<KvBackend>> target = OpenKv(to, StoreOptions{});
  if (!target.ok()) return Status(target.status().code(), to + ": " + target.status().message());
  LABMESH_RETURN_IF_ERROR((*target)->ClaimWriter());
  LABMESH_RETURN_IF_ERROR((*target)->Read([&](const KvRead& txn) -> Status {
    for (TableId table : AllTables()) {
      Result<std::string> row = FirstNewRow(txn, table);
      if (!row.ok()) return row.status();
      if (!row->empty()) {
        return Status::FailedPrecondition(to + " is not empty (it has " + *row +
                                          "): migrate only into a new store");
      }
    }
    return Status::Ok();
  }));
  // One snapshot of the source; the target is written a batch at a time.
  return (*source)->Read([&](const KvRead& txn) -> Status {
    for (TableId table : AllTables()) {
      std::vector<std::pair<std::string, std::string>> rows;
      uint64_t copied = 0;
      auto flush = [&]() -> Status {
        if (rows.empty()) return Status::Ok();
        LABMESH_RETURN_IF_ERROR((*target)->Write(
            [&](KvWrite& out) -> Status {
              for (const auto& [key, value] : rows) {
                LABMESH_RETURN_IF_ERROR(out.Put(table, key, value));
              }
              return Status::Ok();
            },
            /*sync=*/false));
        copied += rows.size();
        rows.clear();
        return Status::Ok();
      };
      LABMESH_RETURN_IF_ERROR(txn.Scan(
          table, "", "", /*reverse=*/false,
          [&](std::string_view key, std::string_view value) -> Result<bool> {
            if (table == TableId::kMeta && key == kSchemaVersionKey) return true;  // both current
            if (table == TableId::kMeta && key == kActiveRelayKey) return true;  // the source's
            rows.emplace_back(key, value);
            if (rows.size() >= kBatchRows) LABMESH_RETURN_IF_ERROR(flush());
            return true;
          }));
      LABMESH_RETURN_IF_ERROR(flush());
      if (progress) progress(TableName(table), copied);
    }
    return (*target)->Sync();
  });
}

}  // namespace labmesh::store
