#pragma once
// Shared by json.cpp and json_hosts.cpp (the protocol's JSON views), not public.

#include <cstdint>

#include <nlohmann/json.hpp>

namespace labmesh::protocol {

// A wall-clock time in ms as ISO-8601 UTC, or null for 0 (unknown).
nlohmann::json WallTimeMsJson(int64_t wall_ms);

}  // namespace labmesh::protocol
