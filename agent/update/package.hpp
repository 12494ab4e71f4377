#pragma once
// An agent package on the agent's side (docs/update.md "The package"): SHA-256 helpers, the
// MANIFEST parser and the check of an unpacked package directory. Pure functions over bytes
// and files; no sockets, no state. Callable from any thread.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "labmesh/common/status.hpp"

namespace labmesh::agent {

inline constexpr const char* kPackageAgentName = "labmesh-agent";
inline constexpr size_t kMaxManifestBytes = 64 * 1024;

// SHA-256 of `data` / of a file's bytes, 64 lower-hex digits (libsodium crypto_hash_sha256).
std::string Sha256Hex(std::string_view data);
Result<std::string> Sha256File(const std::string& path);

// Hashes a stream piece by piece: Update() any number of times, then Hex() once.
class Sha256Hasher {
 public:
  Sha256Hasher();
  void Update(std::string_view data);
  std::string Hex();

 private:
  alignas(16) unsigned char state_[128];  // crypto_hash_sha256_state (size checked in .cpp)
};

// 64 lower-hex digits.
bool IsSha256Hex(std::string_view text);

struct Manifest {
  std::string version;
  std::map<std::string, std::string> files;  // name -> sha256 (lower hex)
};

// Parses MANIFEST text: first line "labmesh-agent-package 1", one "version V" line, then
// "sha256 <hex> NAME" lines (NAME a plain file name: no '/', not "." or "..", not MANIFEST;
// each at most once). Empty lines and a missing final newline are fine; anything else is
// InvalidArgument naming the line.
Result<Manifest> ParseManifest(std::string_view text);

// Checks an unpacked package directory against its MANIFEST: the version is `version`, every
// listed file is a regular file with that hash, labmesh-agent is listed, and there is nothing
// else but MANIFEST (no other files, directories or symlinks). Reads and hashes every file
// (blocking; a package is a few tens of MiB). InvalidArgument/NotFound say what is wrong.
Status CheckPackageDir(const std::string& dir, const std::string& version);

}  // namespace labmesh::agent
