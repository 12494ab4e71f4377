#pragma once
// Helpers shared by the store tests: a temporary directory that cleans itself up and the store
// spec to open in it, sample values, and raw access to the tables (to plant bytes the Store
// would never write). The same tests run on both backends: in the PostgreSQL run
// (pg_test_db.hpp) TempDir::db() is a fresh database's URL and raw access goes through SQL.
// Raw access to LMDB must not overlap with an open Store on the same directory: LMDB forbids
// opening one environment twice in a process.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "labmesh/store/store.hpp"
#include "pg_test_db.hpp"
#include "process.hpp"
#include "lmdb_env.hpp"
#include "schema.hpp"

namespace labmesh::store::testing {


// Skips a test of what only LMDB has (its map, its files, other processes on one directory).
#define LABMESH_LMDB_ONLY()                                               \
  do {                                                                    \
    if (::labmesh::testing::PgMode()) GTEST_SKIP() << "LMDB only: this run is on PostgreSQL"; \
  } while (false)

// The shared temporary directory (tests/support/process.hpp) plus the store to open: the LMDB
// directory in it, or in the PostgreSQL run a database of its own (made on first use).
class TempDir : public labmesh::testing::TempDir {
 public:
  std::string db() const {
    if (!labmesh::testing::PgMode()) return path() + "/db";
    if (!database_) database_ = std::make_unique<labmesh::testing::TestDatabase>();
    return database_->url();
  }

 private:
  mutable std::unique_ptr<labmesh::testing::TestDatabase> database_;
};

inline bool IsPgSpec(const std::string& spec) { return spec.starts_with("postgresql://"); }

// bytes as a bytea literal.
inline std::string ByteaLiteral(const std::string& bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "'\\x";
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out + "'::bytea";
}

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
  if (IsPgSpec(dir)) {  // as LMDB's OpenDbi(create): the table is made when missing
    std::string error = labmesh::testing::PgRun(
        dir, "CREATE SCHEMA IF NOT EXISTS labmesh; CREATE TABLE IF NOT EXISTS labmesh." + table +
                 " (key bytea PRIMARY KEY, value bytea NOT NULL); INSERT INTO labmesh." + table +
                 " VALUES (" + ByteaLiteral(key) + ", " + ByteaLiteral(bytes) +
                 ") ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value");
    ASSERT_EQ(error, "");
    return;
  }
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

// GetRaw on PostgreSQL: a missing table reads "<NotFound: ...>", as from LMDB.
inline std::string GetRawPg(const std::string& url, const std::string& table,
                            const std::string& key) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) return "<no connection>";
  std::string sql = "SELECT to_regclass('labmesh." + table + "') IS NOT NULL";
  std::unique_ptr<PGresult, decltype(&PQclear)> exists(PQexec(conn.get(), sql.c_str()), &PQclear);
  if (PQresultStatus(exists.get()) != PGRES_TUPLES_OK) return "<error>";
  if (std::string(PQgetvalue(exists.get(), 0, 0)) != "t") return "<NotFound: table " + table + ">";
  sql = "SELECT value FROM labmesh." + table + " WHERE key = " + ByteaLiteral(key);
  std::unique_ptr<PGresult, decltype(&PQclear)> rows(
      PQexecParams(conn.get(), sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 1), &PQclear);
  if (PQresultStatus(rows.get()) != PGRES_TUPLES_OK) return "<error>";
  if (PQntuples(rows.get()) == 0) return "<absent>";
  return std::string(PQgetvalue(rows.get(), 0, 0), PQgetlength(rows.get(), 0, 0));
}

// The bytes at table[key], or "<absent>".
inline std::string GetRaw(const std::string& dir, const std::string& table,
                          const std::string& key) {
  if (IsPgSpec(dir)) return GetRawPg(dir, table, key);
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
