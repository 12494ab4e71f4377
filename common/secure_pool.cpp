// The guarded-memory pool; labmesh/common/secure_pool.hpp says why and what it gives up.
#include "labmesh/common/secure_pool.hpp"

#include <dlfcn.h>
#include <sodium.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace labmesh {
namespace {

// libzmq's handshake buffers: 32-byte keys, 64-200 byte boxes, metadata of a few hundred bytes.
constexpr std::array<size_t, 4> kClassBytes = {64, 256, 1024, 4096};
// Free regions kept per class: more than a storm's handshakes in flight at once on this machine
// (each region is a locked page, two for the largest class, between two guard pages).
constexpr size_t kMaxFreePerClass = 1024;

using FreeFn = void (*)(void*);

struct Pool {
  std::mutex mu;
  struct Region {
    uint8_t klass;
    bool in_use;
  };
  std::unordered_map<void*, Region> regions;  // every region the pool holds
  std::array<std::vector<void*>, kClassBytes.size()> free;
  SecurePoolCounts counts;  // created and reused; kept is regions.size()
};

// Never destroyed: libzmq's I/O threads may release a region while the process exits.
Pool& ThePool() {
  static Pool* pool = new Pool;
  return *pool;
}

// libsodium's own sodium_free, the one this file's definition hides.
FreeFn RealFree() {
  static const FreeFn fn = reinterpret_cast<FreeFn>(dlsym(RTLD_NEXT, "sodium_free"));
  if (fn == nullptr) std::abort();  // a static link: nothing to forward to
  return fn;
}

int ClassFor(size_t bytes) {
  for (size_t i = 0; i < kClassBytes.size(); ++i) {
    if (bytes <= kClassBytes[i]) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

SecurePoolCounts SecurePoolCountsNow() {
  Pool& pool = ThePool();
  std::lock_guard lock(pool.mu);
  SecurePoolCounts counts = pool.counts;
  counts.kept = pool.regions.size();
  return counts;
}

}  // namespace labmesh

extern "C" {

void* sodium_allocarray(size_t count, size_t size) {
  if (count > 0 && size >= SIZE_MAX / count) {
    errno = ENOMEM;
    return nullptr;
  }
  const size_t bytes = count * size;
  const int klass = labmesh::ClassFor(bytes);
  if (klass < 0) return sodium_malloc(bytes);
  labmesh::Pool& pool = labmesh::ThePool();
  {
    std::lock_guard lock(pool.mu);
    auto& free = pool.free[klass];
    if (!free.empty()) {
      void* region = free.back();
      free.pop_back();
      pool.regions[region].in_use = true;
      ++pool.counts.reused;
      return region;
    }
  }
  // libsodium fills a fresh region with garbage bytes (0xdb); a reused one is zeros. Neither is
  // promised to the caller.
  void* region = sodium_malloc(labmesh::kClassBytes[klass]);
  if (region == nullptr) return nullptr;
  std::lock_guard lock(pool.mu);
  pool.regions.emplace(region, labmesh::Pool::Region{static_cast<uint8_t>(klass), true});
  ++pool.counts.created;
  return region;
}

void sodium_free(void* ptr) {
  if (ptr == nullptr) return;
  labmesh::Pool& pool = labmesh::ThePool();
  {
    std::lock_guard lock(pool.mu);
    auto it = pool.regions.find(ptr);
    if (it != pool.regions.end()) {
      // A second release would hand one region to two owners; libsodium's would fault on the
      // unmapped pages. Stop as loudly.
      if (!it->second.in_use) std::abort();
      it->second.in_use = false;
      const uint8_t klass = it->second.klass;
      sodium_memzero(ptr, labmesh::kClassBytes[klass]);
      auto& free = pool.free[klass];
      if (free.size() < labmesh::kMaxFreePerClass) {
        free.push_back(ptr);
        return;
      }
      pool.regions.erase(it);
    }
  }
  labmesh::RealFree()(ptr);
}

}  // extern "C"
