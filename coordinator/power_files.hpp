#pragma once
// What PowerService's two files share (power_service.cpp: the operations, power_console.cpp: the
// consoles); defined in power_console.cpp.

#include <cstdint>
#include <string>
#include <vector>

namespace labmesh::coordinator {

// Bytes [from, from + count) of a file (fewer at its end; empty when it cannot be read).
std::string FileRange(const std::string& path, uint64_t from, uint64_t count);
// Its size; 0 when it cannot be read.
uint64_t FileSize(const std::string& path);
// The environment power and console commands start with (PATH, LANG, LABMESH_HOST).
std::vector<std::string> BaseEnvironment(const std::string& hostname);

}  // namespace labmesh::coordinator
