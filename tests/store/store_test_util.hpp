#pragma once
// Helpers shared by the store tests: a temporary directory that cleans itself up, sample
// values, and raw access to the LMDB files (to plant bytes the Store would never write).
// Raw access must not overlap with an open Store on the same directory: LMDB forbids opening
// one environment twice in a process.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "labmesh/store/store.hpp"
#include "process.hpp"
#include "lmdb_env.hpp"
#include "schema.hpp"

namespace labmesh::store::testing {

// The shared temporary directory (tests/support/process.hpp) plus where the store goes in it.
class TempDir : public labmesh::testing::TempDir {
 public:
  std::string db() const { return path() + "/db"; }
};

inline Host MakeHost(const std::string& name, size_t padding_bytes = 0) {
  Host host;
  host.hostname = name;
  host.public_key = "key-" + name;
  host.status = protocol::HostStatus::kRunning;
  host.status_reason = "job 42";
  host.agent_labels = {"arch:x86_64", "os:debian"};
  host.admin_labels = {"pool:fast"};
  host.facts.arch = "x86_64";
  host.facts.cpus = 8;
  host.health.load1 = 0.5;
  host.incarnation = 7;
  host.attributes["note"] = "hello";
  if (padding_bytes > 0) host.attributes["padding"] = std::string(padding_bytes, 'p');
  return host;
}

inline std::unique_ptr<Store> OpenOrDie(const std::string& dir, const StoreOptions& options = {}) {
  Result<std::unique_ptr<Store>> store = Store::Open(dir, options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

// Writes `bytes` at table[key] directly through LMDB.
inline void PutRaw(const std::string& dir, const std::string& table, const std::string& key,
                   const std::string& bytes) {
  Env::Options options;
  options.dir = dir;
  options.max_dbs = kMaxTables;
  Result<std::unique_ptr<Env>> env = Env::Open(options);
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  WriteTxn txn(**env);
  ASSERT_TRUE(txn.Begin().ok());
  Result<Dbi> dbi = txn.OpenDbi(table, /*create=*/true);
  ASSERT_TRUE(dbi.ok()) << dbi.status().ToString();
  ASSERT_TRUE(txn.Put(*dbi, key, bytes).ok());
  ASSERT_TRUE(txn.Commit().ok());
}

// The bytes at table[key], or "<absent>".
inline std::string GetRaw(const std::string& dir, const std::string& table,
                          const std::string& key) {
  Env::Options options;
  options.dir = dir;
  options.read_only = true;
  options.max_dbs = kMaxTables;
  Result<std::unique_ptr<Env>> env = Env::Open(options);
  if (!env.ok()) return "<" + env.status().ToString() + ">";
  ReadTxn txn(**env);
  if (!txn.Begin().ok()) return "<no txn>";
  Result<Dbi> dbi = txn.OpenDbi(table, /*create=*/false);
  if (!dbi.ok()) return "<" + dbi.status().ToString() + ">";
  Result<std::optional<std::string_view>> value = txn.Get(*dbi, key);
  if (!value.ok() || !value->has_value()) return "<absent>";
  return std::string(**value);
}

}  // namespace labmesh::store::testing
