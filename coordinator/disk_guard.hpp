#pragma once
// DiskGuard: whether the coordinator has room for new work (docs/decisions.md "Running out of
// disk"). The data directory's file system is full when it has less than --min-free-space
// available, or when a write there failed with DiskFull (ENOSPC, or the store's LMDB map at
// --store-map-size). While it is full, new jobs, test additions, package uploads and result
// chunks are refused with `Unavailable: disk full: ...`; everything else (reads, heartbeats,
// reports, aborts, registrations) goes on, using the reserve the threshold keeps. It resumes by
// itself: Check() looks at the file system again every second, and a failed write is given
// another try kRetryAfterFailureMs later (a map at its cap only frees up when something in it
// is deleted, which no check can see).
//
// Owned and called by the coordinator's event-loop thread only.

#include <cstdint>
#include <string>

#include "labmesh/common/clock.hpp"
#include "labmesh/common/status.hpp"

namespace labmesh::coordinator {

class DiskGuard {
 public:
  static constexpr int64_t kCheckEveryMs = 1'000;
  static constexpr int64_t kRetryAfterFailureMs = 5'000;
  // What a refused result chunk tells the agent to wait before sending it again.
  static constexpr int64_t kChunkRetryMs = 2'000;

  DiskGuard(std::string data_dir, uint64_t min_free_bytes, const Clock* clock);

  // Looks at the file system when the last look is kCheckEveryMs old; logs when the
  // coordinator starts or stops refusing.
  void Check();
  // Space was freed (retention removed results): the next Check() looks at once.
  void Recheck() { next_check_ms_ = 0; }
  // A write under the data directory failed: when `status` is DiskFull, refuse new work until
  // the file system has room again and kRetryAfterFailureMs passed.
  void OnWriteFailed(const Status& status);
  // OK while there is room; otherwise the DiskFull status to answer new work with.
  Status Admit() const;
  bool full() const { return !Admit().ok(); }

 private:
  void Update(bool full, const std::string& why);

  std::string data_dir_;
  uint64_t min_free_bytes_;
  const Clock* clock_;
  int64_t next_check_ms_ = 0;
  bool low_ = false;             // below min_free_bytes at the last check
  std::string low_reason_;
  int64_t failed_until_ms_ = 0;  // a write failed: full at least until then
  std::string failed_reason_;
  bool refusing_ = false;        // as last logged
};

}  // namespace labmesh::coordinator
