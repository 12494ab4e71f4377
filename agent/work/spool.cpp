// The spool on disk; see spool.hpp.

#include "work/spool.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

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

Status SaveRecord(const std::string& path, const SpoolRecord& record) {
  msgpack::sbuffer buffer;
  try {
    msgpack::pack(buffer, record);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("cannot encode entry record: ") + e.what());
  }
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("cannot write " + tmp + ": " + std::strerror(errno));
  ssize_t n = write(fd, buffer.data(), buffer.size());
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(buffer.size())) {
    return Status::Internal("cannot write " + tmp + ": " +
                            (n < 0 ? std::strerror(err) : "short write"));
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::Internal("cannot rename " + tmp + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Result<SpoolRecord> LoadRecord(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string bytes = ss.str();
  try {
    msgpack::object_handle handle = msgpack::unpack(bytes.data(), bytes.size());
    SpoolRecord record;
    handle.get().convert(record);
    return record;
  } catch (const std::exception& e) {
    return Status::Corruption(path + ": " + e.what());
  }
}

std::vector<SpoolRecord> LoadSpool(const std::string& spool_dir, std::vector<std::string>* broken) {
  std::vector<SpoolRecord> records;
  std::error_code ec;
  for (const auto& dirent : fs::directory_iterator(spool_dir, ec)) {
    if (!dirent.is_directory()) continue;
    auto record = LoadRecord(dirent.path().string() + "/entry.mp");
    std::string name = dirent.path().filename().string();
    if (!record.ok() || std::to_string(record->start.entry_id) != name) {
      if (broken) broken->push_back(dirent.path().string());
      continue;
    }
    records.push_back(std::move(*record));
  }
  std::sort(records.begin(), records.end(), [](const SpoolRecord& a, const SpoolRecord& b) {
    return a.start.entry_id < b.start.entry_id;
  });
  return records;
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

namespace {
std::string Hex(const unsigned char* hash, size_t n) {
  std::string hex(n * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), hash, n);
  hex.resize(n * 2);
  return hex;
}
}  // namespace

std::string HashBytes(std::string_view data) {
  unsigned char hash[crypto_generichash_BYTES];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size(), nullptr, 0);
  return Hex(hash, sizeof hash);
}

Result<std::string> HashFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Status::Internal("cannot open " + path + ": " + std::strerror(errno));
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, crypto_generichash_BYTES);
  std::vector<unsigned char> buf(1 << 16);
  while (true) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return Status::Internal("cannot read " + path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    crypto_generichash_update(&state, buf.data(), static_cast<size_t>(n));
  }
  close(fd);
  unsigned char hash[crypto_generichash_BYTES];
  crypto_generichash_final(&state, hash, sizeof hash);
  return Hex(hash, sizeof hash);
}

Result<std::vector<char>> ReadChunk(const std::string& path, uint64_t offset, size_t max) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Status::Internal("cannot open " + path + ": " + std::strerror(errno));
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
