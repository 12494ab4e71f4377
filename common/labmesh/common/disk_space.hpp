#pragma once
// Running out of disk (docs/decisions.md "Running out of disk"): one spelling of the error,
// `Unavailable: disk full: ...`, for a file system without room (ENOSPC, EDQUOT) and for an
// LMDB map at its cap, so that callers can tell it from other failures, and the free space of a
// directory's file system. Pure functions; any thread.

#include <cstdint>
#include <string>

#include "labmesh/common/status.hpp"

namespace labmesh {

// Unavailable("disk full: " + detail).
Status DiskFull(const std::string& detail);
// Whether `status` is one DiskFull made.
bool IsDiskFull(const Status& status);
// Whether an errno value means "no room" (ENOSPC, EDQUOT).
bool IsNoSpaceErrno(int err);
// Bytes an unprivileged writer may still use on the file system holding `path` (statvfs).
Result<uint64_t> AvailableBytes(const std::string& path);

}  // namespace labmesh
