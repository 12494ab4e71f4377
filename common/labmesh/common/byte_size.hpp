#pragma once
// Byte counts for people: "100 B", "256.0 MiB", "12.3 GiB" (powers of 1024). One spelling for the
// agent's checks and flags, the coordinator's logs and the CLI's tables.

#include <cstdint>
#include <string>

namespace labmesh {

std::string FormatBytes(uint64_t bytes);

}  // namespace labmesh
