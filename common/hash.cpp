#include "labmesh/common/hash.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace labmesh {
namespace {

constexpr size_t kHashBytes = 32;

// libsodium wants sodium_init() before use; it is idempotent and thread-safe.
[[maybe_unused]] const int kSodiumReady = sodium_init();

static_assert(sizeof(crypto_generichash_state) <= 384, "Blake2bHasher::state_ is too small");
static_assert(sizeof(crypto_hash_sha256_state) <= 128, "Sha256Hasher::state_ is too small");

std::string ToHex(const unsigned char* bytes, size_t n) {
  std::string hex(n * 2, '\0');
  sodium_bin2hex(hex.data(), hex.size() + 1, bytes, n);
  return hex;
}

crypto_generichash_state* State(unsigned char* raw) {
  return reinterpret_cast<crypto_generichash_state*>(raw);
}

}  // namespace

std::string HexOf(std::string_view bytes) {
  return ToHex(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

std::string Blake2bHex(std::string_view data) {
  unsigned char out[kHashBytes];
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size(), nullptr, 0);
  return ToHex(out, sizeof out);
}

Blake2bHasher::Blake2bHasher() { crypto_generichash_init(State(state_), nullptr, 0, kHashBytes); }

void Blake2bHasher::Update(std::string_view data) {
  crypto_generichash_update(State(state_), reinterpret_cast<const unsigned char*>(data.data()),
                            data.size());
}

std::string Blake2bHasher::Hex() {
  unsigned char out[kHashBytes];
  crypto_generichash_final(State(state_), out, sizeof out);
  return ToHex(out, sizeof out);
}

Sha256Hasher::Sha256Hasher() {
  crypto_hash_sha256_init(reinterpret_cast<crypto_hash_sha256_state*>(state_));
}

void Sha256Hasher::Update(std::string_view data) {
  crypto_hash_sha256_update(reinterpret_cast<crypto_hash_sha256_state*>(state_),
                            reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

std::string Sha256Hasher::Hex() {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(reinterpret_cast<crypto_hash_sha256_state*>(state_), out);
  return ToHex(out, sizeof out);
}

std::string Sha256Hex(std::string_view data) {
  Sha256Hasher hasher;
  hasher.Update(data);
  return hasher.Hex();
}

std::string HmacSha256(std::string_view key, std::string_view message) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  std::string mac(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(mac.data()));
  return mac;
}

bool SecretEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool IsHexDigest(std::string_view text) {
  return text.size() == 2 * kHashBytes &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

namespace {

template <typename Hasher>
Result<FileHash> HashFileWith(const std::string& path) {
  // O_NONBLOCK and the check after it: a FIFO put where a file was (a control's result file)
  // must not hang the caller in open() or read().
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return Status::NotFound("cannot open " + path + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument("cannot hash " + path + ": not a regular file");
  }
  Hasher hasher;
  FileHash result;
  // Sized to the file (most are a few KiB: an entry's status and logs), at most 1 MiB, and not
  // zeroed: a fresh zeroed 1 MiB per file cost an agent more than hashing its files did
  // (perf over scripts/bench-jobs.sh).
  constexpr off_t kMaxBuffer = 1 << 20;
  const size_t size = static_cast<size_t>(std::clamp<off_t>(st.st_size + 1, 4096, kMaxBuffer));
  auto buffer = std::make_unique_for_overwrite<char[]>(size);
  for (;;) {
    ssize_t n = ::read(fd, buffer.get(), size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Status::Internal("cannot read " + path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    hasher.Update(std::string_view(buffer.get(), static_cast<size_t>(n)));
    result.size += static_cast<uint64_t>(n);
  }
  ::close(fd);
  result.hex = hasher.Hex();
  return result;
}

}  // namespace

Result<FileHash> HashFile(const std::string& path, HashKind kind) {
  return kind == HashKind::kSha256 ? HashFileWith<Sha256Hasher>(path)
                                   : HashFileWith<Blake2bHasher>(path);
}

}  // namespace labmesh
