#pragma once
// Content hashes: BLAKE2b-256 (libsodium's crypto_generichash with a 32-byte output), written
// as 64 lower-case hex digits. Used for result chunks and files and, later, agent packages.

#include <string>
#include <string_view>

#include "labmesh/common/status.hpp"

namespace labmesh {

// The hash of `data`.
std::string Blake2bHex(std::string_view data);

// Hashes a stream piece by piece: Update() any number of times, then Hex() once.
class Blake2bHasher {
 public:
  Blake2bHasher();
  void Update(std::string_view data);
  std::string Hex();

 private:
  alignas(64) unsigned char state_[384];  // crypto_generichash_state (size checked in .cpp)
};

// The hash and size of the file at `path`, read in 1 MiB pieces.
struct FileHash {
  std::string hex;
  uint64_t size = 0;
};
Result<FileHash> HashFile(const std::string& path);

}  // namespace labmesh
