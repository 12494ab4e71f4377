#include "labmesh/common/disk_space.hpp"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

namespace labmesh {
namespace {
constexpr std::string_view kPrefix = "disk full: ";
}  // namespace

Status DiskFull(const std::string& detail) {
  return Status::Unavailable(std::string(kPrefix) + detail);
}

bool IsDiskFull(const Status& status) {
  return status.code() == StatusCode::kUnavailable && status.message().rfind(kPrefix, 0) == 0;
}

bool IsNoSpaceErrno(int err) { return err == ENOSPC || err == EDQUOT; }

Result<uint64_t> AvailableBytes(const std::string& path) {
  struct statvfs fs {};
  if (::statvfs(path.c_str(), &fs) != 0) {
    return Status::Internal("statvfs " + path + ": " + std::strerror(errno));
  }
  return static_cast<uint64_t>(fs.f_bavail) * static_cast<uint64_t>(fs.f_frsize);
}

}  // namespace labmesh
