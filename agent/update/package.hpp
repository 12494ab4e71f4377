#pragma once
// An agent package on the agent's side (docs/update.md "The package"): the
// MANIFEST parser and the check of an unpacked package directory. Pure functions over bytes
// and files; no sockets, no state. Callable from any thread.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "labmesh/common/hash.hpp"
#include "labmesh/common/status.hpp"

namespace labmesh::agent {

inline constexpr const char* kPackageAgentName = "labmesh-agent";
inline constexpr size_t kMaxManifestBytes = 64 * 1024;

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
