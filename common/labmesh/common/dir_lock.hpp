#pragma once
// DirLock: one process per directory. A daemon takes an exclusive flock(2) on DIR/labmesh.lock
// at start and holds it for its life (the kernel drops it when the process ends, however it
// ends), so a second coordinator on the same --data-dir or a second agent on the same
// --work-dir refuses to start instead of sharing the first one's store or spool.
//
// The file holds the holder's pid (for the refusal's message and for people). The descriptor
// is close-on-exec: an exec'd successor (the agent's self-update, its start-up hop) takes the
// lock anew, waiting for it with `wait_ms` while its predecessor finishes dying.
//
// Any thread; a DirLock is not shared between threads.

#include <cstdint>
#include <memory>
#include <string>

#include "labmesh/common/status.hpp"

namespace labmesh {

class DirLock {
 public:
  static constexpr const char* kFileName = "labmesh.lock";

  // Locks `dir` (which must exist). `what` names the program in messages ("coordinator").
  // When another process holds the lock, tries again every 20 ms for up to `wait_ms`, then
  // fails with FailedPrecondition naming the holder's pid when the file says it.
  static Result<std::unique_ptr<DirLock>> Acquire(const std::string& dir, const std::string& what,
                                                  int64_t wait_ms = 0);
  ~DirLock();  // unlocks (also for a child forked meanwhile) and closes
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  DirLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

}  // namespace labmesh
