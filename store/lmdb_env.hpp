#pragma once
// Thin RAII wrappers over the LMDB C API. Every LMDB return code becomes a labmesh::Status
// here (LmdbStatus); nothing in this file throws. The raw code of the last failure stays
// available (Txn::last_rc) so that the Store can tell "map full" and "map resized by another
// process" - which it handles by growing/re-reading the map and retrying - from real errors.

#include <lmdb.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "labmesh/common/status.hpp"

namespace labmesh::store {

// Turns an LMDB (or errno) return code into a Status whose message names `what`.
// MDB_MAP_FULL -> TooLarge, ENOSPC/EDQUOT -> DiskFull (Unavailable, common/disk_space.hpp),
// MDB_BAD_VALSIZE -> InvalidArgument, MDB_NOTFOUND/ENOENT ->
// NotFound, damaged files -> Corruption, EACCES -> PermissionDenied.
Status LmdbStatus(int rc, std::string_view what);

// Creates `dir` and missing parents with mode 0700. An existing directory is fine; an existing
// non-directory is FailedPrecondition.
Status MakeDirs(const std::string& dir);

// An open LMDB environment (one directory: data.mdb + lock.mdb). Opened with MDB_NOTLS, so
// read transactions are not tied to threads and one Env is shared by all threads of a process.
// Thread-safety: mdb_env_set_mapsize (SetMapSize) may only run while this process has no
// transaction open; the Store guarantees that with a shared_mutex.
class Env {
 public:
  struct Options {
    std::string dir;             // must exist
    bool read_only = false;      // MDB_RDONLY
    unsigned max_dbs = 16;       // named databases (tables)
    uint64_t min_map_bytes = 0;  // map at least this big; an existing larger map is kept
  };

  static Result<std::unique_ptr<Env>> Open(const Options& options);
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  MDB_env* get() const { return env_; }
  bool read_only() const { return read_only_; }
  // The current map size of this process's mapping.
  uint64_t MapSize() const;
  // Remaps to `bytes` (0: adopt the size last committed by any process, never below the data
  // in use). Precondition: no transaction of this process is open.
  Status SetMapSize(uint64_t bytes);
  // The largest key LMDB accepts (511 bytes with the default build).
  uint32_t MaxKeySize() const;

 private:
  Env(MDB_env* env, bool read_only) : env_(env), read_only_(read_only) {}
  MDB_env* env_;
  bool read_only_;
};

// A named database handle. Handles live as long as the Env (LMDB closes them with the
// environment; closing one early is unsafe while other threads may use it), so this is a plain
// value without a destructor.
struct Dbi {
  MDB_dbi handle = 0;
  std::string name;
};

class Cursor;

// A transaction; aborted by the destructor unless committed. Not thread-safe: one thread uses
// a transaction at a time (with MDB_NOTLS it may be handed between threads).
class Txn {
 public:
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn() { Abort(); }

  // Starts the transaction. On failure last_rc() is the LMDB code (e.g. MDB_MAP_RESIZED).
  Status Begin();
  Status Commit();
  void Abort();
  bool active() const { return txn_ != nullptr; }

  // Opens (or, with `create` in a write transaction, creates) the named database `name`.
  Result<Dbi> OpenDbi(const std::string& name, bool create);

  // The value stored at `key`, or nullopt. The view points into the map and is valid only
  // until this transaction ends.
  Result<std::optional<std::string_view>> Get(const Dbi& dbi, std::string_view key) const;

  // Calls `fn` for every entry of `dbi` in key order; stops at and returns the first non-OK
  // Status `fn` returns.
  Status ForEach(
      const Dbi& dbi,
      const std::function<Status(std::string_view key, std::string_view value)>& fn) const;

  // The largest key of `dbi`, or nullopt when it is empty.
  Result<std::optional<std::string>> LastKey(const Dbi& dbi) const;

  // A cursor over `dbi`, valid until this transaction ends (close it first).
  Result<Cursor> OpenCursor(const Dbi& dbi) const;

  // The LMDB code of the most recent failure (MDB_SUCCESS when none failed).
  int last_rc() const { return last_rc_; }

 protected:
  Txn(const Env& env, bool read_only) : env_(env), read_only_(read_only) {}
  // Records a failing code and converts it.
  Status Check(int rc, std::string_view what) const;

  const Env& env_;
  bool read_only_;
  MDB_txn* txn_ = nullptr;
  mutable int last_rc_ = MDB_SUCCESS;
};

class ReadTxn : public Txn {
 public:
  explicit ReadTxn(const Env& env) : Txn(env, /*read_only=*/true) {}
};

// The single write transaction of the environment (LMDB serializes writers across threads and
// processes; Begin blocks while another writer is active).
class WriteTxn : public Txn {
 public:
  explicit WriteTxn(const Env& env) : Txn(env, /*read_only=*/false) {}

  // `flags` are mdb_put flags (e.g. MDB_APPEND when the caller knows the key sorts last).
  Status Put(const Dbi& dbi, std::string_view key, std::string_view value, unsigned flags = 0);
  // Stores `value` at `key` unless the key exists; then returns the stored value instead
  // (one B-tree descent either way). The view is valid until the next write.
  Result<std::optional<std::string_view>> PutIfAbsent(const Dbi& dbi, std::string_view key,
                                                      std::string_view value);
  // Deletes `key`; deleting an absent key is OK.
  Status Delete(const Dbi& dbi, std::string_view key);
};

// A position in one table of a transaction. Every move returns OK and sets valid() to false
// when it runs off the table; errors are Status. key()/value() point into the map and are only
// meaningful while valid() and the transaction lives.
class Cursor {
 public:
  Cursor(Cursor&&) = default;
  Cursor& operator=(Cursor&&) = default;

  Status First() { return Move(MDB_FIRST); }
  Status Last() { return Move(MDB_LAST); }
  Status Next() { return Move(MDB_NEXT); }
  Status Prev() { return Move(MDB_PREV); }
  // The first key >= `key` ("" = the first key).
  Status Seek(std::string_view key);

  bool valid() const { return valid_; }
  std::string_view key() const {
    return {static_cast<const char*>(key_.mv_data), key_.mv_size};
  }
  std::string_view value() const {
    return {static_cast<const char*>(value_.mv_data), value_.mv_size};
  }

 private:
  friend class Txn;
  struct Closer {
    void operator()(MDB_cursor* cursor) const { mdb_cursor_close(cursor); }
  };
  Cursor(MDB_cursor* cursor, std::string table) : cursor_(cursor), table_(std::move(table)) {}
  Status Move(MDB_cursor_op op);
  Status Settle(int rc);

  std::unique_ptr<MDB_cursor, Closer> cursor_;
  std::string table_;  // for messages
  MDB_val key_{}, value_{};
  bool valid_ = false;
};

// A std::shared_mutex whose exclusive side cannot be starved: glibc's rwlock lets new readers
// in while a writer waits, so with busy reader threads a map resize would wait indefinitely.
// A resizer raises `pending_` and holds the turnstile; readers arriving meanwhile queue on the
// turnstile instead of joining the shared side.
class MapGate {
 public:
  void lock_shared() const {
    if (pending_.load(std::memory_order_acquire)) {
      std::lock_guard queue(turnstile_);
    }
    mu_.lock_shared();
  }
  void unlock_shared() const { mu_.unlock_shared(); }
  void lock() const {
    turnstile_.lock();
    pending_.store(true, std::memory_order_release);
    mu_.lock();
  }
  void unlock() const {
    mu_.unlock();
    pending_.store(false, std::memory_order_release);
    turnstile_.unlock();
  }

 private:
  mutable std::shared_mutex mu_;
  mutable std::mutex turnstile_;
  mutable std::atomic<bool> pending_{false};
};

// An Env shared by every thread of a process, with the rules for its map size in one place
// (the Store and the ResultsIndex both run their transactions through one):
//   - write_mu_ serializes Write() within this process, so at most one write transaction of
//     ours exists and map growth is decided by one thread;
//   - gate_ is held shared by every transaction for its whole life; mdb_env_set_mapsize runs
//     only under it exclusively, i.e. when this process has no transaction open (LMDB's rule);
//   - a full map is doubled (capped at max_map_bytes) and the write retried; a map grown by
//     another process is adopted and the transaction retried;
//   - a map at its cap, or a file system without room, fails the write with DiskFull
//     (`Unavailable: disk full: ...`) and changes nothing (LMDB's short write, EIO, counts as
//     one when the file system has less than 16 MiB left).
class SharedEnv {
 public:
  SharedEnv(std::unique_ptr<Env> env, uint64_t max_map_bytes);

  const Env& env() const { return *env_; }
  uint64_t map_size() const { return map_size_.load(); }
  // The part of the map in use: the pages up to the highest one written (freed pages inside
  // are reused, so this only grows); 0 when LMDB cannot say. Any thread.
  uint64_t used_bytes() const;

  // Runs `fn` in a fresh read transaction, re-mapping and retrying when another process grew
  // the map past ours (MDB_MAP_RESIZED).
  template <typename T, typename Fn>
  Result<T> Read(Fn&& fn) const {
    for (int attempt = 0;; ++attempt) {
      {
        std::shared_lock lock(gate_);
        ReadTxn txn(*env_);
        Status begun = txn.Begin();
        if (begun.ok()) return fn(static_cast<const Txn&>(txn));
        if (txn.last_rc() != MDB_MAP_RESIZED || attempt >= kMaxResizeRetries) return begun;
      }
      LABMESH_RETURN_IF_ERROR(AdoptMapSize());
    }
  }

  // Runs `fn` in the write transaction and commits. `fn` may run more than once (after the
  // map grew), each time in a fresh transaction, so it must change nothing outside `txn`.
  // sync=false skips the fsync of this commit (MDB_NOSYNC): visible at once, on disk with the
  // next synced commit or the OS's writeback.
  Status Write(const std::function<Status(WriteTxn&)>& fn, bool sync = true);

  // Puts every commit made so far on disk (fsync), those made with sync=false included. Any
  // thread, beside a write transaction too (mdb_env_sync takes no lock).
  Status Sync() const;

  // How often a transaction is retried after another process grew the map.
  static constexpr int kMaxResizeRetries = 8;

 private:
  // Re-maps to the size another process committed (never smaller than ours).
  Status AdoptMapSize() const;
  // Doubles the map (capped at max_map_bytes_); TooLarge when it is already at the cap.
  Status GrowMap();

  std::unique_ptr<Env> env_;
  uint64_t max_map_bytes_;
  mutable std::atomic<uint64_t> map_size_;
  std::mutex write_mu_;
  MapGate gate_;  // shared: any transaction of ours; exclusive: remapping
};

}  // namespace labmesh::store
