#include "lmdb_env.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "labmesh/common/disk_space.hpp"

namespace labmesh::store {
namespace {

MDB_val ToVal(std::string_view bytes) {
  return MDB_val{bytes.size(), const_cast<char*>(bytes.data())};
}

std::string_view FromVal(const MDB_val& val) {
  return {static_cast<const char*>(val.mv_data), val.mv_size};
}

// Closes a cursor when the scope ends.
struct CursorCloser {
  void operator()(MDB_cursor* cursor) const { mdb_cursor_close(cursor); }
};

// Under this much room left on the environment's file system, a failed write is a full disk.
constexpr uint64_t kLowSpaceBytes = 16ull << 20;

bool LowOnSpace(const Env& env) {
  const char* path = nullptr;
  if (mdb_env_get_path(env.get(), &path) != MDB_SUCCESS || path == nullptr) return false;
  Result<uint64_t> available = AvailableBytes(path);
  return available.ok() && *available < kLowSpaceBytes;
}

}  // namespace

Status LmdbStatus(int rc, std::string_view what) {
  if (rc == MDB_SUCCESS) return Status::Ok();
  std::string message(what);
  message += ": ";
  message += mdb_strerror(rc);
  switch (rc) {
    case MDB_NOTFOUND:
    case ENOENT:
      return Status::NotFound(std::move(message));
    case MDB_MAP_FULL:
      return Status::TooLarge(std::move(message));
    case ENOSPC:
    case EDQUOT:
      return DiskFull(std::move(message));
    case MDB_BAD_VALSIZE:
      return Status::InvalidArgument(std::move(message));
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_INCOMPATIBLE:
      return Status::Corruption(std::move(message));
    case EACCES:
    case EPERM:
    case EROFS:
      return Status::PermissionDenied(std::move(message));
    case EAGAIN:
    case MDB_READERS_FULL:
    case MDB_MAP_RESIZED:
      return Status::Unavailable(std::move(message));
    default:
      return Status::Internal(std::move(message));
  }
}

Status MakeDirs(const std::string& dir) {
  if (dir.empty()) return Status::InvalidArgument("db directory is empty");
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return LmdbStatus(errno, "create directory " + prefix);
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::FailedPrecondition(dir + " is not a directory");
  }
  return Status::Ok();
}

Result<std::unique_ptr<Env>> Env::Open(const Options& options) {
  MDB_env* raw = nullptr;
  int rc = mdb_env_create(&raw);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_env_create");
  std::unique_ptr<Env> env(new Env(raw, options.read_only));
  rc = mdb_env_set_maxdbs(raw, options.max_dbs);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "mdb_env_set_maxdbs");
  // No mapsize before open: an existing environment then opens with the size last committed
  // (kept when it grew earlier), a new one with LMDB's default; we raise it below.
  unsigned flags = MDB_NOTLS | (options.read_only ? MDB_RDONLY : 0u);
  rc = mdb_env_open(raw, options.dir.c_str(), flags, 0600);
  if (rc != MDB_SUCCESS) return LmdbStatus(rc, "open LMDB environment in " + options.dir);
  if (!options.read_only && env->MapSize() < options.min_map_bytes) {
    LABMESH_RETURN_IF_ERROR(env->SetMapSize(options.min_map_bytes));
  }
  return env;
}

Env::~Env() {
  if (env_ != nullptr) mdb_env_close(env_);
}

uint64_t Env::MapSize() const {
  MDB_envinfo info{};
  mdb_env_info(env_, &info);
  return info.me_mapsize;
}

Status Env::SetMapSize(uint64_t bytes) {
  return LmdbStatus(mdb_env_set_mapsize(env_, static_cast<size_t>(bytes)), "mdb_env_set_mapsize");
}

uint32_t Env::MaxKeySize() const { return static_cast<uint32_t>(mdb_env_get_maxkeysize(env_)); }

Status Txn::Check(int rc, std::string_view what) const {
  if (rc != MDB_SUCCESS) last_rc_ = rc;
  return LmdbStatus(rc, what);
}

Status Txn::Begin() {
  Abort();
  return Check(mdb_txn_begin(env_.get(), nullptr, read_only_ ? MDB_RDONLY : 0, &txn_),
               read_only_ ? "begin read transaction" : "begin write transaction");
}

Status Txn::Commit() {
  if (txn_ == nullptr) return Status::FailedPrecondition("commit without a transaction");
  MDB_txn* txn = txn_;
  txn_ = nullptr;  // mdb_txn_commit frees the transaction even when it fails
  return Check(mdb_txn_commit(txn), "commit");
}

void Txn::Abort() {
  if (txn_ != nullptr) mdb_txn_abort(txn_);
  txn_ = nullptr;
}

Result<Dbi> Txn::OpenDbi(const std::string& name, bool create) {
  Dbi dbi;
  dbi.name = name;
  int rc = mdb_dbi_open(txn_, name.c_str(), create ? MDB_CREATE : 0u, &dbi.handle);
  if (rc != MDB_SUCCESS) return Check(rc, "open table " + name);
  return dbi;
}

Result<std::optional<std::string_view>> Txn::Get(const Dbi& dbi, std::string_view key) const {
  MDB_val k = ToVal(key);
  MDB_val v{};
  int rc = mdb_get(txn_, dbi.handle, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string_view>();
  if (rc != MDB_SUCCESS) return Check(rc, "get from " + dbi.name);
  return std::optional<std::string_view>(FromVal(v));
}

Status Txn::ForEach(
    const Dbi& dbi,
    const std::function<Status(std::string_view key, std::string_view value)>& fn) const {
  MDB_cursor* raw = nullptr;
  LABMESH_RETURN_IF_ERROR(Check(mdb_cursor_open(txn_, dbi.handle, &raw), "cursor on " + dbi.name));
  std::unique_ptr<MDB_cursor, CursorCloser> cursor(raw);
  MDB_val k{}, v{};
  int rc = mdb_cursor_get(raw, &k, &v, MDB_FIRST);
  while (rc == MDB_SUCCESS) {
    LABMESH_RETURN_IF_ERROR(fn(FromVal(k), FromVal(v)));
    rc = mdb_cursor_get(raw, &k, &v, MDB_NEXT);
  }
  if (rc != MDB_NOTFOUND) return Check(rc, "scan " + dbi.name);
  return Status::Ok();
}

Result<std::optional<std::string>> Txn::LastKey(const Dbi& dbi) const {
  MDB_cursor* raw = nullptr;
  LABMESH_RETURN_IF_ERROR(Check(mdb_cursor_open(txn_, dbi.handle, &raw), "cursor on " + dbi.name));
  std::unique_ptr<MDB_cursor, CursorCloser> cursor(raw);
  MDB_val k{}, v{};
  int rc = mdb_cursor_get(raw, &k, &v, MDB_LAST);
  if (rc == MDB_NOTFOUND) return std::optional<std::string>();
  if (rc != MDB_SUCCESS) return Check(rc, "last key of " + dbi.name);
  return std::optional<std::string>(std::string(FromVal(k)));
}

Result<Cursor> Txn::OpenCursor(const Dbi& dbi) const {
  MDB_cursor* raw = nullptr;
  LABMESH_RETURN_IF_ERROR(Check(mdb_cursor_open(txn_, dbi.handle, &raw), "cursor on " + dbi.name));
  return Cursor(raw, dbi.name);
}

Status WriteTxn::Put(const Dbi& dbi, std::string_view key, std::string_view value,
                     unsigned flags) {
  MDB_val k = ToVal(key);
  MDB_val v = ToVal(value);
  int rc = mdb_put(txn_, dbi.handle, &k, &v, flags);
  if (rc == MDB_SUCCESS) return Status::Ok();
  return Check(rc, "put into " + dbi.name);
}

Result<std::optional<std::string_view>> WriteTxn::PutIfAbsent(const Dbi& dbi,
                                                               std::string_view key,
                                                               std::string_view value) {
  MDB_val k = ToVal(key);
  MDB_val v = ToVal(value);
  int rc = mdb_put(txn_, dbi.handle, &k, &v, MDB_NOOVERWRITE);
  if (rc == MDB_SUCCESS) return std::optional<std::string_view>();
  if (rc == MDB_KEYEXIST) return std::optional<std::string_view>(FromVal(v));
  return Check(rc, "put into " + dbi.name);
}

Status WriteTxn::Delete(const Dbi& dbi, std::string_view key) {
  MDB_val k = ToVal(key);
  int rc = mdb_del(txn_, dbi.handle, &k, nullptr);
  if (rc == MDB_NOTFOUND) return Status::Ok();
  return Check(rc, "delete from " + dbi.name);
}

Status Cursor::Settle(int rc) {
  valid_ = rc == MDB_SUCCESS;
  if (rc == MDB_SUCCESS || rc == MDB_NOTFOUND) return Status::Ok();
  return LmdbStatus(rc, "cursor on " + table_);
}

Status Cursor::Move(MDB_cursor_op op) {
  return Settle(mdb_cursor_get(cursor_.get(), &key_, &value_, op));
}

Status Cursor::Seek(std::string_view key) {
  if (key.empty()) return First();  // LMDB refuses empty keys, and every key is >= ""
  key_ = ToVal(key);
  return Settle(mdb_cursor_get(cursor_.get(), &key_, &value_, MDB_SET_RANGE));
}

SharedEnv::SharedEnv(std::unique_ptr<Env> env, uint64_t max_map_bytes)
    : env_(std::move(env)), max_map_bytes_(max_map_bytes), map_size_(env_->MapSize()) {}

uint64_t SharedEnv::used_bytes() const {
  std::shared_lock lock(gate_);
  MDB_envinfo info{};
  MDB_stat stat{};
  if (mdb_env_info(env_->get(), &info) != MDB_SUCCESS ||
      mdb_env_stat(env_->get(), &stat) != MDB_SUCCESS) {
    return 0;
  }
  return (static_cast<uint64_t>(info.me_last_pgno) + 1) * stat.ms_psize;
}

Status SharedEnv::AdoptMapSize() const {
  std::unique_lock lock(gate_);
  uint64_t before = env_->MapSize();
  LABMESH_RETURN_IF_ERROR(env_->SetMapSize(0));
  if (env_->MapSize() < before) LABMESH_RETURN_IF_ERROR(env_->SetMapSize(before));
  map_size_ = env_->MapSize();
  return Status::Ok();
}

Status SharedEnv::GrowMap() {
  std::unique_lock lock(gate_);
  uint64_t current = env_->MapSize();
  if (current >= max_map_bytes_) {
    const char* path = nullptr;
    mdb_env_get_path(env_->get(), &path);
    return DiskFull("the LMDB map of " + std::string(path != nullptr ? path : "?") +
                    " is at its limit of " + std::to_string(max_map_bytes_ >> 20) + " MiB");
  }
  uint64_t next = std::min(current * 2, max_map_bytes_);
  LABMESH_RETURN_IF_ERROR(env_->SetMapSize(next));
  map_size_ = env_->MapSize();
  return Status::Ok();
}

Status SharedEnv::Sync() const {
  if (env_->read_only()) return Status::FailedPrecondition("LMDB environment is read-only");
  std::shared_lock lock(gate_);  // not while the map is being resized
  int rc = mdb_env_sync(env_->get(), 1);
  if (rc == 0) return Status::Ok();
  if (rc == EIO && LowOnSpace(*env_)) return DiskFull("sync: " + std::string(mdb_strerror(rc)));
  return Status::Internal("mdb_env_sync: " + std::string(mdb_strerror(rc)));
}

Status SharedEnv::Write(const std::function<Status(WriteTxn&)>& fn, bool sync) {
  if (env_->read_only()) return Status::FailedPrecondition("LMDB environment is read-only");
  std::lock_guard write_lock(write_mu_);
  // The sync flag is per environment; write_mu_ makes this the only commit while it is off.
  if (!sync) mdb_env_set_flags(env_->get(), MDB_NOSYNC, 1);
  struct RestoreSync {
    MDB_env* env;
    bool sync;
    ~RestoreSync() {
      if (!sync) mdb_env_set_flags(env, MDB_NOSYNC, 0);
    }
  } restore{env_->get(), sync};
  for (int resized = 0;;) {
    int rc = MDB_SUCCESS;
    Status status;
    {
      std::shared_lock lock(gate_);
      WriteTxn txn(*env_);
      status = txn.Begin();
      if (status.ok()) status = fn(txn);
      if (status.ok()) status = txn.Commit();
      rc = txn.last_rc();
    }  // an uncommitted transaction is aborted here, before any resize
    if (status.ok()) return status;
    if (rc == MDB_MAP_FULL) {
      LABMESH_RETURN_IF_ERROR(GrowMap());
    } else if (rc == EIO && LowOnSpace(*env_)) {
      // LMDB reports a short write ("filesystem full?") as EIO.
      return DiskFull(status.message());
    } else if (rc == MDB_MAP_RESIZED && resized++ < kMaxResizeRetries) {
      LABMESH_RETURN_IF_ERROR(AdoptMapSize());
    } else {
      return status;
    }
  }
}

}  // namespace labmesh::store
