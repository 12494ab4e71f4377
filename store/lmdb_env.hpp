#pragma once
// Thin RAII wrappers over the LMDB C API. Every LMDB return code becomes a labmesh::Status
// here (LmdbStatus); nothing in this file throws. The raw code of the last failure stays
// available (Txn::last_rc) so that the Store can tell "map full" and "map resized by another
// process" - which it handles by growing/re-reading the map and retrying - from real errors.

#include <lmdb.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "labmesh/common/status.hpp"

namespace labmesh::store {

// Turns an LMDB (or errno) return code into a Status whose message names `what`.
// MDB_MAP_FULL -> TooLarge, MDB_BAD_VALSIZE -> InvalidArgument, MDB_NOTFOUND/ENOENT ->
// NotFound, damaged files -> Corruption, EACCES -> PermissionDenied.
Status LmdbStatus(int rc, std::string_view what);

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

  Status Put(const Dbi& dbi, std::string_view key, std::string_view value);
  // Deletes `key`; deleting an absent key is OK.
  Status Delete(const Dbi& dbi, std::string_view key);
};

}  // namespace labmesh::store
