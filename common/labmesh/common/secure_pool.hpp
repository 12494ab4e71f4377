#pragma once
// A pool for libsodium's guarded memory, for the processes that make many Curve handshakes (the
// coordinator after a restart, the fleet simulator).
//
// libzmq keeps each handshake's short-term keys and plaintexts in sodium_allocarray memory. Each
// such allocation maps fresh pages, puts guard pages around them (mprotect) and locks them
// (mlock); each sodium_free wipes, unlocks and unmaps them again. In a restart storm that was
// half of the coordinator's ZeroMQ I/O thread (docs/architecture.md, "A large fleet").
//
// secure_pool.cpp defines sodium_allocarray and sodium_free. Linked into an executable (the
// CMake object library labmesh_secure_pool), its definitions are found before libsodium's, so
// libzmq's calls come here. A region of up to 4 KiB is taken from a free list of regions of its
// size class; a released one is wiped (sodium_memzero) and kept for the next handshake, still
// guarded and still locked. What is kept is capped per class; the rest, larger regions and
// regions that libsodium itself allocated go to libsodium as before. What is given up: libsodium
// checks a region's canary (an underflow) only when the region is really freed.

#include <cstdint>

namespace labmesh {

struct SecurePoolCounts {
  uint64_t created = 0;  // regions allocated from libsodium for the pool
  uint64_t reused = 0;   // allocations served from a free list
  uint64_t kept = 0;     // regions the pool holds, in use or free
};

SecurePoolCounts SecurePoolCountsNow();

}  // namespace labmesh
