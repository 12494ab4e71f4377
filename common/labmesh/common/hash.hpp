#pragma once
// Content hashes, written as 64 lower-case hex digits: BLAKE2b-256 (libsodium's
// crypto_generichash with a 32-byte output) for result chunks and files, SHA-256 for agent
// packages (docs/update.md: what sha256sum prints, so people can check a package by hand).

#include <string>
#include <string_view>

#include "labmesh/common/status.hpp"

namespace labmesh {

// The hash of `data`.
std::string Blake2bHex(std::string_view data);

// Any bytes as lower-case hex, two digits a byte (libsodium's bin2hex).
std::string HexOf(std::string_view bytes);

// Hashes a stream piece by piece: Update() any number of times, then Hex() once.
class Blake2bHasher {
 public:
  Blake2bHasher();
  void Update(std::string_view data);
  std::string Hex();

 private:
  alignas(64) unsigned char state_[384];  // crypto_generichash_state (size checked in .cpp)
};

// The SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// SHA-256, piece by piece like Blake2bHasher.
class Sha256Hasher {
 public:
  Sha256Hasher();
  void Update(std::string_view data);
  std::string Hex();

 private:
  alignas(16) unsigned char state_[128];  // crypto_hash_sha256_state (size checked in .cpp)
};

// 64 lower-case hex digits and nothing else.
bool IsHexDigest(std::string_view text);

// The hash and size of the file at `path`, read in 1 MiB pieces.
struct FileHash {
  std::string hex;
  uint64_t size = 0;
};
enum class HashKind { kBlake2b, kSha256 };
Result<FileHash> HashFile(const std::string& path, HashKind kind = HashKind::kBlake2b);

// HMAC-SHA-256 of `message` keyed with `key` (any length): 32 raw bytes. The package mesh's
// fetch tickets (docs/mesh.md).
std::string HmacSha256(std::string_view key, std::string_view message);
// Compares two byte strings in constant time (for secrets); false when the sizes differ.
bool SecretEquals(std::string_view a, std::string_view b);

}  // namespace labmesh
