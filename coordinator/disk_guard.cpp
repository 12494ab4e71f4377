#include "disk_guard.hpp"

#include <spdlog/spdlog.h>

#include "labmesh/common/disk_space.hpp"

namespace labmesh::coordinator {
namespace {

std::string MiB(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

}  // namespace

DiskGuard::DiskGuard(std::string data_dir, uint64_t min_free_bytes, const Clock* clock)
    : data_dir_(std::move(data_dir)), min_free_bytes_(min_free_bytes), clock_(clock) {}

void DiskGuard::Check() {
  const int64_t now = clock_->SteadyMs();
  if (now < next_check_ms_) return;
  next_check_ms_ = now + kCheckEveryMs;
  Result<uint64_t> available = AvailableBytes(data_dir_);
  if (!available.ok()) {
    spdlog::warn("free space of {} unknown: {}", data_dir_, available.status().ToString());
    return;
  }
  low_ = *available < min_free_bytes_;
  if (low_) {
    low_reason_ = MiB(*available) + " free on the file system of " + data_dir_ +
                  ", less than --min-free-space " + MiB(min_free_bytes_);
  }
  // A failed write is given another try once its time is up and the threshold is met.
  if (failed_until_ms_ != 0 && now >= failed_until_ms_ && !low_) failed_until_ms_ = 0;
  Update(!Admit().ok(), Admit().ok() ? MiB(*available) + " free" : Admit().message());
}

void DiskGuard::OnWriteFailed(const Status& status) {
  if (!IsDiskFull(status)) return;
  failed_until_ms_ = clock_->SteadyMs() + kRetryAfterFailureMs;
  failed_reason_ = status.message();
  next_check_ms_ = 0;
  Update(true, failed_reason_);
}

Status DiskGuard::Admit() const {
  // failed_reason_ already starts with "disk full: ".
  if (failed_until_ms_ != 0) return Status::Unavailable(failed_reason_);
  if (low_) return DiskFull(low_reason_);
  return Status::Ok();
}

void DiskGuard::Update(bool full, const std::string& why) {
  if (full == refusing_) return;
  refusing_ = full;
  if (full) {
    spdlog::error("{}; new jobs, test additions and uploads are refused until there is room",
                  why);
  } else {
    spdlog::info("room on the data directory's file system again ({}); new work accepted", why);
  }
}

}  // namespace labmesh::coordinator
