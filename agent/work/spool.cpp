// The spool on disk; see spool.hpp.

#include "work/spool.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <optional>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "labmesh/common/disk_space.hpp"

namespace labmesh::agent {
namespace fs = std::filesystem;

SpoolPaths PathsFor(const std::string& spool_dir, uint64_t entry_id) {
  SpoolPaths p;
  p.dir = spool_dir + "/" + std::to_string(entry_id);
  p.record = p.dir + "/entry.mp";
  p.control = p.dir + "/control";
  p.results = p.dir + "/results";
  p.control_log = p.results + "/debug/control.log";
  return p;
}

namespace {

// Record file layout (little-endian): magic "LMR1", u32 payload length, u64 save number,
// u64 entry id, 32-byte BLAKE2b-256 of the 24 bytes before it and the payload; then the payload.
constexpr char kRecordMagic[4] = {'L', 'M', 'R', '1'};
constexpr size_t kHashOffset = 24;
constexpr size_t kHeaderBytes = kHashOffset + crypto_generichash_BYTES;
constexpr uint32_t kMaxRecordBytes = 256u << 20;  // sanity bound for a corrupt length

void PutLe(unsigned char* out, uint64_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) out[i] = static_cast<unsigned char>(value >> (8 * i));
}
uint64_t GetLe(const unsigned char* in, size_t bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < bytes; ++i) value |= static_cast<uint64_t>(in[i]) << (8 * i);
  return value;
}

void RecordHash(const unsigned char* header, const char* payload, size_t size,
                unsigned char* hash) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, crypto_generichash_BYTES);
  crypto_generichash_update(&state, header, kHashOffset);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(payload), size);
  crypto_generichash_final(&state, hash, crypto_generichash_BYTES);
}

std::string RecordFile(const std::string& base, uint64_t save) {
  return base + "." + std::to_string(save % 2);
}

// Reads all of `path`; NotFound when it does not exist.
Result<std::string> ReadAll(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound("cannot read " + path);
    return Status::Internal("cannot read " + path + ": " + std::strerror(errno));
  }
  std::string bytes;
  char buf[1 << 16];
  while (true) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return Status::Internal("cannot read " + path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    bytes.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return bytes;
}

Result<SpoolRecord> DecodeRecord(const std::string& path, const char* data, size_t size) {
  try {
    msgpack::object_handle handle = msgpack::unpack(data, size);
    SpoolRecord record;
    handle.get().convert(record);
    return record;
  } catch (const std::exception& e) {
    return Status::Corruption(path + ": " + e.what());
  }
}

// One record file: its record and save number if the header, checksum, entry id and payload
// are all good.
Result<SpoolRecord> LoadRecordFile(const std::string& path, uint64_t entry_id, uint64_t* save) {
  auto bytes = ReadAll(path);
  if (!bytes.ok()) return bytes.status();
  const auto* header = reinterpret_cast<const unsigned char*>(bytes->data());
  if (bytes->size() < kHeaderBytes || std::memcmp(header, kRecordMagic, 4) != 0) {
    return Status::Corruption(path + ": no record");
  }
  uint64_t length = GetLe(header + 4, 4);
  if (length > kMaxRecordBytes || bytes->size() < kHeaderBytes + length) {
    return Status::Corruption(path + ": truncated record");
  }
  unsigned char hash[crypto_generichash_BYTES];
  RecordHash(header, bytes->data() + kHeaderBytes, length, hash);
  if (sodium_memcmp(hash, header + kHashOffset, sizeof hash) != 0) {
    return Status::Corruption(path + ": checksum mismatch");
  }
  if (GetLe(header + 16, 8) != entry_id) {
    return Status::Corruption(path + ": record of another entry");
  }
  auto record = DecodeRecord(path, bytes->data() + kHeaderBytes, length);
  if (!record.ok()) return record.status();
  if (record->start.entry_id != entry_id) {
    return Status::Corruption(path + ": record of another entry");
  }
  *save = GetLe(header + 8, 8);
  return record;
}

}  // namespace

Status SaveRecord(const std::string& base, const SpoolRecord& record, uint64_t* saves) {
  msgpack::sbuffer buffer;
  try {
    msgpack::pack(buffer, record);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("cannot encode entry record: ") + e.what());
  }
  if (buffer.size() > kMaxRecordBytes) return Status::Internal("entry record too large");
  const uint64_t save = *saves + 1;
  std::string bytes(kHeaderBytes + buffer.size(), '\0');
  auto* header = reinterpret_cast<unsigned char*>(bytes.data());
  std::memcpy(header, kRecordMagic, 4);
  PutLe(header + 4, buffer.size(), 4);
  PutLe(header + 8, save, 8);
  PutLe(header + 16, record.start.entry_id, 8);
  RecordHash(header, buffer.data(), buffer.size(), header + kHashOffset);
  std::memcpy(bytes.data() + kHeaderBytes, buffer.data(), buffer.size());

  // No O_TRUNC: the file keeps its inode and blocks; ftruncate drops a longer old tail.
  std::string path = RecordFile(base, save);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 && IsNoSpaceErrno(errno)) {
    return DiskFull("cannot write " + path + ": " + std::strerror(errno));
  }
  if (fd < 0) return Status::Internal("cannot write " + path + ": " + std::strerror(errno));
  size_t done = 0;
  int err = 0;
  while (done < bytes.size()) {
    ssize_t n = pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : EIO;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (err == 0 && ftruncate(fd, static_cast<off_t>(bytes.size())) != 0) err = errno;
  close(fd);
  if (IsNoSpaceErrno(err)) return DiskFull("cannot write " + path + ": " + std::strerror(err));
  if (err != 0) return Status::Internal("cannot write " + path + ": " + std::strerror(err));
  *saves = save;
  return Status::Ok();
}

Result<SpoolRecord> LoadRecord(const std::string& base, uint64_t entry_id, uint64_t* saves) {
  std::optional<SpoolRecord> best;
  uint64_t best_save = 0;
  Status failure = Status::NotFound("cannot read " + base + ".0/.1");
  for (int slot = 0; slot < 2; ++slot) {
    uint64_t save = 0;
    auto record = LoadRecordFile(base + "." + std::to_string(slot), entry_id, &save);
    if (!record.ok()) {
      if (record.status().code() != StatusCode::kNotFound) failure = record.status();
      continue;
    }
    if (!best || save > best_save) {
      best = std::move(*record);
      best_save = save;
    }
  }
  if (best) {
    if (saves) *saves = best_save;
    return std::move(*best);
  }
  // An agent of an older version wrote entry.mp with tmp + rename.
  auto bytes = ReadAll(base);
  if (!bytes.ok()) {
    return bytes.status().code() == StatusCode::kNotFound ? failure : bytes.status();
  }
  auto record = DecodeRecord(base, bytes->data(), bytes->size());
  if (!record.ok()) return record.status();
  if (record->start.entry_id != entry_id) {
    return Status::Corruption(base + ": record of another entry");
  }
  if (saves) *saves = 0;
  return record;
}

std::vector<LoadedRecord> LoadSpool(const std::string& spool_dir,
                                    std::vector<std::string>* broken) {
  std::vector<LoadedRecord> records;
  std::error_code ec;
  for (const auto& dirent : fs::directory_iterator(spool_dir, ec)) {
    if (!dirent.is_directory(ec)) continue;
    std::string name = dirent.path().filename().string();
    if (name == kFreeDir) continue;
    uint64_t id = 0;
    auto [end, parse_error] = std::from_chars(name.data(), name.data() + name.size(), id);
    bool numeric = parse_error == std::errc() && end == name.data() + name.size() &&
                   std::to_string(id) == name;
    LoadedRecord loaded;
    if (numeric) {
      auto record = LoadRecord(PathsFor(spool_dir, id).record, id, &loaded.saves);
      if (record.ok()) {
        loaded.record = std::move(*record);
        records.push_back(std::move(loaded));
        continue;
      }
    }
    if (broken) broken->push_back(dirent.path().string());
  }
  std::sort(records.begin(), records.end(), [](const LoadedRecord& a, const LoadedRecord& b) {
    return a.record.start.entry_id < b.record.start.entry_id;
  });
  return records;
}

namespace {

// Truncates `path` if it is a regular file (not following a symlink); else removes whatever
// is there. Ok when it is now an empty regular file or absent.
Status TruncateOrRemove(const fs::path& path) {
  std::error_code ec;
  fs::file_status st = fs::symlink_status(path, ec);
  if (!fs::exists(st)) return Status::Ok();
  if (fs::is_regular_file(st)) {
    if (truncate(path.c_str(), 0) == 0) return Status::Ok();
    return Status::Internal("cannot truncate " + path.string() + ": " + std::strerror(errno));
  }
  fs::remove_all(path, ec);
  if (ec) return Status::Internal("cannot remove " + path.string() + ": " + ec.message());
  return Status::Ok();
}

// Removes every entry of directory `dir` except the names in `keep` (which the caller handles).
Status RemoveAllBut(const fs::path& dir, std::initializer_list<std::string_view> keep) {
  std::error_code ec;
  std::vector<fs::path> doomed;
  for (const auto& dirent : fs::directory_iterator(dir, ec)) {
    std::string name = dirent.path().filename().string();
    if (std::find(keep.begin(), keep.end(), name) == keep.end()) doomed.push_back(dirent.path());
  }
  if (ec) return Status::Internal("cannot list " + dir.string() + ": " + ec.message());
  for (const fs::path& path : doomed) {
    fs::remove_all(path, ec);
    if (ec) return Status::Internal("cannot remove " + path.string() + ": " + ec.message());
  }
  return Status::Ok();
}

// `path` is a real directory (not a symlink to one): else whatever is there is removed. A kept
// directory gets its owner's rwx back, which the last control may have taken away (chmod), so
// that the next control can create its files in it as in a new directory.
bool KeepDirectory(const fs::path& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    if ((st.st_mode & S_IRWXU) != S_IRWXU) chmod(path.c_str(), (st.st_mode & 07777) | S_IRWXU);
    return true;
  }
  std::error_code ec;
  fs::remove_all(path, ec);
  return false;
}

}  // namespace

Status CleanSpoolForReuse(const std::string& dir) {
  const fs::path root(dir);
  if (!KeepDirectory(root)) return Status::NotFound(dir + " is not a directory");
  if (Status s = RemoveAllBut(root, {"entry.mp.0", "entry.mp.1", "control", "results"}); !s.ok()) {
    return s;
  }
  for (const char* name : {"entry.mp.0", "entry.mp.1", "control"}) {
    if (Status s = TruncateOrRemove(root / name); !s.ok()) return s;
  }
  const fs::path results = root / "results";
  if (!KeepDirectory(results)) return Status::Ok();  // Start creates what is missing
  if (Status s = RemoveAllBut(results, {"debug", "status.log"}); !s.ok()) return s;
  if (Status s = TruncateOrRemove(results / "status.log"); !s.ok()) return s;
  const fs::path debug = results / "debug";
  if (!KeepDirectory(debug)) return Status::Ok();
  if (Status s = RemoveAllBut(debug, {"control.log"}); !s.ok()) return s;
  return TruncateOrRemove(debug / "control.log");
}

Result<std::vector<SpoolFile>> ListResultFiles(const std::string& results_dir) {
  std::vector<SpoolFile> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(results_dir, fs::directory_options::none, ec);
  if (ec) return Status::Internal("cannot list " + results_dir + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Status::Internal("cannot list " + results_dir + ": " + ec.message());
    // symlink_status: a link is never followed, neither to a file nor into a directory.
    fs::file_status st = it->symlink_status(ec);
    if (ec || !fs::is_regular_file(st)) continue;
    SpoolFile file;
    file.path = fs::relative(it->path(), results_dir, ec).generic_string();
    file.size = it->file_size(ec);
    if (ec) continue;
    files.push_back(std::move(file));
  }
  std::sort(files.begin(), files.end(),
            [](const SpoolFile& a, const SpoolFile& b) { return a.path < b.path; });
  return files;
}

Result<std::vector<char>> ReadChunk(const std::string& path, uint64_t offset, size_t max) {
  // O_NONBLOCK: a file the control swapped for a FIFO after the listing must not hang the
  // agent in open(); the fstat below then refuses it.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return Status::Internal("cannot open " + path + ": " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return Status::Internal("cannot read " + path + ": no longer a regular file");
  }
  std::vector<char> data(max);
  size_t got = 0;
  while (got < max) {
    ssize_t n = pread(fd, data.data() + got, max - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return Status::Internal("cannot read " + path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  close(fd);
  data.resize(got);
  return data;
}

}  // namespace labmesh::agent
