// The store's key-value layer on PostgreSQL (libpq): each table is `labmesh.<name> (key bytea
// PRIMARY KEY, value bytea)`, holding the same MessagePack bytes under the same keys as LMDB, so
// the Store above (store.cpp) and the migrations (schema.cpp) are the same code for both. bytea
// sorts as LMDB's keys do (memcmp, then the shorter first).
//
// Transactions: a read is one REPEATABLE READ READ ONLY transaction (a consistent snapshot, as
// an LMDB read transaction); a write is one READ COMMITTED transaction, serialized within the
// process like LMDB's single writer. Durability::kLazy commits with synchronous_commit off;
// Sync() commits a transaction with it on, which flushes the WAL past every earlier commit.
// Connections come from a small pool; one that broke is dropped and the next use reconnects, so
// a restarted server is picked up by the next transaction (the failed one is Unavailable).
// One process at a time claims the store (a lock and an epoch: ClaimWriter, CheckClaim).
// docs/scale-out.md has the design this is the first part of.

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <thread>
#include <mutex>
#include <string>
#include <vector>

#include "kv.hpp"
#include "labmesh/common/disk_space.hpp"
#include "schema.hpp"
#include "table.hpp"

namespace labmesh::store {
namespace {

constexpr Oid kByteaOid = 17;
// LMDB's key limit, kept here so that both backends refuse the same keys.
constexpr size_t kMaxKeyBytes = 511;
// Rows fetched per round trip by Scan.
constexpr int kScanPage = 256;
// Serializes the migrations of coordinators that open one database at the same time.
constexpr char kMigrationLock[] = "SELECT pg_advisory_xact_lock(7120521)";
// Held by the coordinator that claimed the store (Store::ClaimWriter), and the meta key of its
// claim's epoch: the fence every write checks.
constexpr char kClaimLock[] = "SELECT pg_try_advisory_lock(7120522)";
constexpr char kClaimEpochKey[] = "claim_epoch";

struct ResultCloser {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultCloser>;
struct ConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using PgConn = std::unique_ptr<PGconn, ConnCloser>;

std::string Qualified(TableId table) { return "labmesh." + std::string(TableName(table)); }

// A failed command as a Status: a lost or refused connection is Unavailable (the caller may try
// again), a full disk DiskFull, anything else Internal.
Status PgStatus(PGconn* conn, const PGresult* result, std::string_view what) {
  std::string message = "postgresql: " + std::string(what) + ": ";
  const char* error = result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn);
  std::string text = error != nullptr ? error : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  message += text.empty() ? "failed" : text;
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string sqlstate = state != nullptr ? state : "";
  if (PQstatus(conn) != CONNECTION_OK || sqlstate.starts_with("08") ||
      sqlstate.starts_with("57P") || sqlstate == "53300") {
    return Status::Unavailable(std::move(message));
  }
  if (sqlstate == "53100") return DiskFull(message);
  if (sqlstate == "25006") return Status::FailedPrecondition(std::move(message));
  return Status::Internal(std::move(message));
}

// One transaction on one connection, seen as the key-value layer.
class PgTxn final : public KvSchemaWrite {
 public:
  PgTxn(PGconn* conn, bool writable) : conn_(conn), writable_(writable) {}

  // Runs `sql` with bytea parameters (binary); results come back binary too.
  Result<PGresult*> Exec(const std::string& sql, std::initializer_list<std::string_view> params,
                         std::string_view what) const {
    std::array<const char*, 4> values{};
    std::array<int, 4> lengths{};
    std::array<int, 4> formats{};
    std::array<Oid, 4> types{};
    size_t n = 0;
    for (std::string_view param : params) {
      values[n] = param.data() != nullptr ? param.data() : "";
      lengths[n] = static_cast<int>(param.size());
      formats[n] = 1;
      types[n] = kByteaOid;
      ++n;
    }
    PgResult result(PQexecParams(conn_, sql.c_str(), static_cast<int>(n), types.data(),
                                 values.data(), lengths.data(), formats.data(), /*binary=*/1));
    ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      return PgStatus(conn_, result.get(), what);
    }
    results_.push_back(std::move(result));
    return results_.back().get();
  }

  Result<std::optional<std::string_view>> Get(TableId table, std::string_view key) const override {
    if (key.empty() || key.size() > kMaxKeyBytes) return std::optional<std::string_view>();
    Result<PGresult*> rows =
        Exec("SELECT value FROM " + Qualified(table) + " WHERE key = $1", {key},
             "get from " + std::string(TableName(table)));
    if (!rows.ok()) return rows.status();
    if (PQntuples(*rows) == 0) return std::optional<std::string_view>();
    return std::optional<std::string_view>(
        std::string_view(PQgetvalue(*rows, 0, 0), PQgetlength(*rows, 0, 0)));
  }

  Status Scan(TableId table, std::string_view from, std::string_view to, bool reverse,
              const Visit& fn) const override {
    // Keyset pages: each continues past the last key of the one before.
    std::string lower(from), upper(to);
    bool lower_inclusive = true;
    const std::string what = "scan " + std::string(TableName(table));
    for (;;) {
      std::string sql = "SELECT key, value FROM " + Qualified(table) + " WHERE key " +
                        (lower_inclusive ? ">=" : ">") + " $1";
      if (!upper.empty()) sql += " AND key < $2";
      sql += reverse ? " ORDER BY key DESC" : " ORDER BY key";
      sql += " LIMIT " + std::to_string(kScanPage);
      Result<PGresult*> rows = upper.empty() ? Exec(sql, {lower}, what)
                                             : Exec(sql, {lower, upper}, what);
      if (!rows.ok()) return rows.status();
      const int count = PQntuples(*rows);
      for (int i = 0; i < count; ++i) {
        Result<bool> more = fn(std::string_view(PQgetvalue(*rows, i, 0), PQgetlength(*rows, i, 0)),
                               std::string_view(PQgetvalue(*rows, i, 1), PQgetlength(*rows, i, 1)));
        if (!more.ok()) return more.status();
        if (!*more) return Status::Ok();
      }
      if (count < kScanPage) return Status::Ok();
      std::string last(PQgetvalue(*rows, count - 1, 0), PQgetlength(*rows, count - 1, 0));
      results_.pop_back();  // a page's bytes are needed only while fn reads them
      if (reverse) {
        upper = std::move(last);
      } else {
        lower = std::move(last);
        lower_inclusive = false;
      }
    }
  }

  Status Put(TableId table, std::string_view key, std::string_view value) override {
    LABMESH_RETURN_IF_ERROR(CheckKey(table, key));
    Result<PGresult*> done =
        Exec("INSERT INTO " + Qualified(table) +
                 " (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = "
                 "EXCLUDED.value",
             {key, value}, "put into " + std::string(TableName(table)));
    return done.ok() ? Status::Ok() : done.status();
  }

  Status Delete(TableId table, std::string_view key) override {
    LABMESH_RETURN_IF_ERROR(CheckKey(table, key));
    Result<PGresult*> done = Exec("DELETE FROM " + Qualified(table) + " WHERE key = $1", {key},
                                  "delete from " + std::string(TableName(table)));
    return done.ok() ? Status::Ok() : done.status();
  }

  Status CreateTable(TableId table) override {
    if (!writable_) return Status::FailedPrecondition("store is open read-only");
    Result<PGresult*> done =
        Exec("CREATE TABLE IF NOT EXISTS " + Qualified(table) +
                 " (key bytea PRIMARY KEY, value bytea NOT NULL)",
             {}, "create table " + std::string(TableName(table)));
    return done.ok() ? Status::Ok() : done.status();
  }

  Result<bool> HasTable(TableId table) override {
    Result<PGresult*> rows =
        Exec("SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = 'labmesh' AND tablename = "
             "convert_from($1, 'UTF8')",
             {TableName(table)}, "look up table " + std::string(TableName(table)));
    if (!rows.ok()) return rows.status();
    return PQntuples(*rows) > 0;
  }

  Status Command(const std::string& sql, std::string_view what) const {
    Result<PGresult*> done = Exec(sql, {}, what);
    return done.ok() ? Status::Ok() : done.status();
  }

 private:
  Status CheckKey(TableId table, std::string_view key) const {
    if (key.empty()) return Status::InvalidArgument(std::string(TableName(table)) + ": empty key");
    if (key.size() > kMaxKeyBytes) {
      return Status::InvalidArgument(std::string(TableName(table)) + ": key of " +
                                     std::to_string(key.size()) + " bytes is over " +
                                     std::to_string(kMaxKeyBytes));
    }
    return Status::Ok();
  }

  PGconn* conn_;
  bool writable_;
  mutable std::vector<PgResult> results_;  // kept until the transaction ends (Get's bytes)
};

class PgKv final : public KvBackend {
 public:
  PgKv(std::string url, const StoreOptions& options)
      : url_(std::move(url)),
        read_only_(options.read_only),
        wait_(std::chrono::milliseconds(std::max<int64_t>(0, options.unavailable_wait_ms))) {}

  // Runs `fn` in a transaction begun with `begin`; commits when it returns OK. While the server
  // cannot be reached (down, restarting, out of connections: Unavailable) the whole transaction
  // is tried again, backing off, for up to --store-wait: the caller waits instead of failing.
  // Running `fn` again is safe: puts and deletes are idempotent, so even a write whose COMMIT
  // went through but whose answer was lost ends in the same state.
  Status Transact(const std::string& begin, bool writable,
                  const std::function<Status(PgTxn&)>& fn) const {
    const auto deadline = std::chrono::steady_clock::now() + wait_;
    auto delay = std::chrono::milliseconds(50);
    for (;;) {
      Status status = TransactOnce(begin, writable, fn);
      if (status.code() != StatusCode::kUnavailable || IsDiskFull(status) ||
          std::chrono::steady_clock::now() + delay > deadline) {
        return status;
      }
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, std::chrono::milliseconds(1000));
    }
  }

  // One try of Transact. A pooled connection the server closed (it restarted) fails at BEGIN,
  // before anything ran: that one is dropped and the transaction begun again on the next, up to
  // a fresh connection.
  Status TransactOnce(const std::string& begin, bool writable,
                      const std::function<Status(PgTxn&)>& fn) const {
    for (size_t attempt = 0;; ++attempt) {
      Result<PgConn> conn = Acquire();
      if (!conn.ok()) return conn.status();
      Status begun;
      {
        PgTxn txn(conn->get(), writable);
        begun = txn.Command(begin, "begin");
      }
      if (begun.ok()) return RunBegun(std::move(conn).value(), writable, fn);
      bool lost = PQstatus(conn->get()) != CONNECTION_OK;
      Release(std::move(conn).value());
      if (!lost || attempt > kMaxIdle) return begun;
    }
  }

  // The rest of Transact, on a connection whose transaction has begun.
  Status RunBegun(PgConn conn, bool writable, const std::function<Status(PgTxn&)>& fn) const {
    Status status;
    {
      PgTxn txn(conn.get(), writable);
      status = fn(txn);
      if (status.ok()) {
        status = txn.Command("COMMIT", "commit");
      } else if (PQstatus(conn.get()) == CONNECTION_OK) {
        (void)txn.Command("ROLLBACK", "rollback");
      }
    }
    Release(std::move(conn));
    return status;
  }

  Status Read(const std::function<Status(const KvRead&)>& fn) const override {
    return Transact("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", /*writable=*/false,
                    [&](PgTxn& txn) { return fn(txn); });
  }

  Status Write(const std::function<Status(KvWrite&)>& fn, bool sync) override {
    if (read_only_) return Status::FailedPrecondition("store is open read-only");
    std::lock_guard lock(write_mu_);
    return Transact("BEGIN", /*writable=*/true, [&](PgTxn& txn) -> Status {
      if (epoch_ != 0) {
        Result<uint64_t> epoch = ReadEpoch(txn, "FOR SHARE");
        if (!epoch.ok()) return epoch.status();
        if (*epoch != epoch_) return ClaimLost(EpochMessage(*epoch));
      }
      if (!sync) {
        LABMESH_RETURN_IF_ERROR(
            txn.Command("SET LOCAL synchronous_commit TO off", "lazy commit"));
      }
      return fn(txn);
    });
  }

  Status Sync() override {
    if (read_only_) return Status::FailedPrecondition("store is open read-only");
    // A transaction with an id commits with a WAL flush that covers every commit before it.
    return Transact("BEGIN", /*writable=*/true, [](PgTxn& txn) {
      return txn.Command("SELECT pg_catalog.txid_current()", "sync");
    });
  }

  bool read_only() const override { return read_only_; }
  uint64_t map_size_bytes() const override { return 0; }  // no map: the server's disk

  // A session advisory lock on a connection kept for it alone (the server drops it when that
  // session ends: this process died, or the connection broke), then a new claim epoch.
  Status ClaimWriter() override {
    if (read_only_) return Status::FailedPrecondition("store is open read-only");
    std::lock_guard lock(write_mu_);
    if (epoch_ != 0) return Status::Ok();
    LABMESH_RETURN_IF_ERROR(TakeLock());
    // The new epoch commits on the lock's own connection; a writer of the old one holds the row
    // FOR SHARE until it commits, so no write of the old holder lands after this.
    uint64_t epoch = 0;
    PgTxn txn(claim_.get(), /*writable=*/true);
    Status bumped = txn.Command("BEGIN", "begin");
    if (bumped.ok()) {
      Result<uint64_t> old = ReadEpoch(txn, "FOR UPDATE");
      bumped = old.ok() ? Status::Ok() : old.status();
      if (bumped.ok()) {
        epoch = *old + 1;
        Result<std::string> bytes = EncodeValue(epoch);
        bumped = bytes.ok() ? txn.Put(TableId::kMeta, kClaimEpochKey, *bytes) : bytes.status();
      }
      bumped = bumped.ok() ? txn.Command("COMMIT", "commit") : bumped;
    }
    if (!bumped.ok()) {
      claim_.reset();
      return bumped;
    }
    epoch_ = epoch;
    return Status::Ok();
  }

  Status CheckClaim() override {
    std::lock_guard lock(write_mu_);
    if (epoch_ == 0) return Status::Ok();
    Status alive = claim_ ? PgTxn(claim_.get(), false).Command("SELECT 1", "claim") : Status::Ok();
    if (!claim_ || !alive.ok()) {
      // The session, and so the lock, is gone (a server restart): take it again unless another
      // process did.
      claim_.reset();
      Status taken = TakeLock();
      if (taken.code() == StatusCode::kFailedPrecondition) return ClaimLost(taken.message());
      if (!taken.ok()) return Status::Ok();  // unreachable: writes fail on their own
    }
    Result<uint64_t> epoch = Status::Internal("unread");
    Status read = Transact("BEGIN READ ONLY", /*writable=*/false, [&](PgTxn& txn) -> Status {
      epoch = ReadEpoch(txn, "");
      return epoch.status();
    });
    if (!read.ok()) return Status::Ok();
    if (*epoch != epoch_) return ClaimLost(EpochMessage(*epoch));
    return Status::Ok();
  }
  uint64_t used_bytes() const override {
    uint64_t bytes = 0;
    (void)Transact("BEGIN READ ONLY", /*writable=*/false, [&](PgTxn& txn) -> Status {
      Result<PGresult*> rows = txn.Exec(
          "SELECT pg_catalog.pg_database_size(pg_catalog.current_database())::text", {}, "size");
      if (!rows.ok()) return rows.status();
      if (PQntuples(*rows) == 1) bytes = std::strtoull(PQgetvalue(*rows, 0, 0), nullptr, 10);
      return Status::Ok();
    });
    return bytes;
  }

  // A connection from the pool, or a new one.
  Result<PgConn> Acquire() const {
    {
      std::lock_guard lock(pool_mu_);
      if (!idle_.empty()) {
        PgConn conn = std::move(idle_.back());
        idle_.pop_back();
        return conn;
      }
    }
    // A server that does not answer at all (a host gone from the network) must not hold the
    // caller for TCP's minutes: 10 s unless the URL says otherwise (its parameters come later,
    // so they win).
    const char* keywords[] = {"connect_timeout", "dbname", nullptr};
    const char* values[] = {"10", url_.c_str(), nullptr};
    PgConn conn(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
    if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
      return Status::Unavailable("postgresql: connect to " + Redacted() + ": " +
                                 (conn ? TrimmedError(conn.get()) : std::string("out of memory")));
    }
    // Quiet the server's NOTICEs (CREATE ... IF NOT EXISTS says it skipped).
    PQsetNoticeProcessor(conn.get(), [](void*, const char*) {}, nullptr);
    return conn;
  }

  // Back to the pool when it still works; a broken one is closed.
  void Release(PgConn conn) const {
    if (PQstatus(conn.get()) != CONNECTION_OK ||
        PQtransactionStatus(conn.get()) != PQTRANS_IDLE) {
      return;
    }
    std::lock_guard lock(pool_mu_);
    if (idle_.size() < kMaxIdle) idle_.push_back(std::move(conn));
  }

  // The URL without its password, for messages.
  std::string Redacted() const {
    size_t scheme = url_.find("://");
    size_t at = url_.find('@');
    if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url_;
    std::string user = url_.substr(scheme + 3, at - scheme - 3);
    size_t colon = user.find(':');
    if (colon == std::string::npos) return url_;
    return url_.substr(0, scheme + 3) + user.substr(0, colon) + ":***" + url_.substr(at);
  }

 private:
  // The lock of ClaimWriter, on a new connection kept in claim_; FailedPrecondition when another
  // session holds it.
  Status TakeLock() {
    Result<PgConn> conn = Acquire();
    if (!conn.ok()) return conn.status();
    PgResult result(PQexec(conn->get(), kClaimLock));
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
      return PgStatus(conn->get(), result.get(), "claim the store");
    }
    if (std::string_view(PQgetvalue(result.get(), 0, 0)) != "t") {
      return Status::FailedPrecondition("another coordinator holds the store " + Redacted() +
                                        " (docs/scale-out.md)");
    }
    claim_ = std::move(conn).value();
    return Status::Ok();
  }

  // meta[claim_epoch] (0 when never claimed), read with `lock` ("", "FOR SHARE", "FOR UPDATE").
  static Result<uint64_t> ReadEpoch(PgTxn& txn, const std::string& lock) {
    Result<PGresult*> rows = txn.Exec(
        "SELECT value FROM " + Qualified(TableId::kMeta) + " WHERE key = $1 " + lock,
        {kClaimEpochKey}, "read the claim epoch");
    if (!rows.ok()) return rows.status();
    if (PQntuples(*rows) == 0) return uint64_t{0};
    return DecodeValue<uint64_t>(
        std::string_view(PQgetvalue(*rows, 0, 0), PQgetlength(*rows, 0, 0)), "meta[claim_epoch]");
  }

  std::string EpochMessage(uint64_t now) const {
    return "another coordinator claimed " + Redacted() + " (claim " + std::to_string(now) +
           ", ours " + std::to_string(epoch_) + ")";
  }

  static std::string TrimmedError(PGconn* conn) {
    std::string text = PQerrorMessage(conn);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
  }

  static constexpr size_t kMaxIdle = 8;

  std::string url_;
  bool read_only_;
  std::chrono::milliseconds wait_;  // StoreOptions::unavailable_wait_ms
  std::mutex write_mu_;
  PgConn claim_;        // holds ClaimWriter's lock
  uint64_t epoch_ = 0;  // the claim epoch this process wrote; 0 = not claimed
  mutable std::mutex pool_mu_;
  mutable std::vector<PgConn> idle_;
};

}  // namespace

Result<std::unique_ptr<KvBackend>> OpenPgKv(const std::string& url, const StoreOptions& options) {
  auto kv = std::make_unique<PgKv>(url, options);
  Status opened;
  if (options.read_only) {
    opened = kv->Transact("BEGIN READ ONLY", /*writable=*/false, [](PgTxn& txn) {
      return CheckReadOnlyVersion(txn);
    });
  } else {
    opened = kv->Transact("BEGIN", /*writable=*/true, [](PgTxn& txn) -> Status {
      LABMESH_RETURN_IF_ERROR(txn.Command(kMigrationLock, "lock the schema"));
      LABMESH_RETURN_IF_ERROR(txn.Command("CREATE SCHEMA IF NOT EXISTS labmesh", "create schema"));
      uint32_t from_version = 0;
      return Migrate(txn, &from_version);
    });
  }
  if (!opened.ok()) return opened;
  return std::unique_ptr<KvBackend>(std::move(kv));
}

}  // namespace labmesh::store
