// WorkManager, spool slots: spool directories of finished entries kept in spool/free/ and
// given to the next entries (no inode allocated and freed per entry; docs/jobs.md
// "Performance"). See work_manager.hpp.

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "work/entry.hpp"
#include "work/work_manager.hpp"

namespace labmesh::agent {
namespace fs = std::filesystem;

namespace {

// Spool directories of finished entries kept in spool/free/ for reuse. One entry runs at a time
// and at most one more waits for its done ack, so a few are plenty.
constexpr size_t kMaxFreeSlots = 4;

}  // namespace

Result<size_t> WorkManager::DropFreeSlots() {
  free_slots_.clear();
  const std::string free_dir = spool_dir_ + "/" + kFreeDir;
  std::error_code ec;
  size_t removed = 0;
  std::string errors;
  std::vector<fs::path> slots;
  for (const auto& dirent : fs::directory_iterator(free_dir, ec)) slots.push_back(dirent.path());
  for (const fs::path& slot : slots) {
    std::error_code rm_ec;
    fs::remove_all(slot, rm_ec);
    if (rm_ec) {
      errors += (errors.empty() ? "" : "; ") + ("cannot remove " + slot.string() + ": " +
                                                rm_ec.message());
    } else {
      ++removed;
    }
  }
  if (!errors.empty()) return Status::Internal(errors);
  return removed;
}

void WorkManager::LoadFreeSlots() {
  free_slots_.clear();
  const std::string free_dir = spool_dir_ + "/" + kFreeDir;
  std::error_code ec;
  fs::file_status st = fs::symlink_status(free_dir, ec);
  if (!fs::exists(st)) return;
  if (!fs::is_directory(st)) {
    fs::remove_all(free_dir, ec);
    return;
  }
  free_dir_ready_ = true;
  std::vector<fs::path> slots;
  for (const auto& dirent : fs::directory_iterator(free_dir, ec)) slots.push_back(dirent.path());
  for (const fs::path& slot : slots) {
    uint64_t n = 0;
    std::string name = slot.filename().string();
    auto [end, parse_error] = std::from_chars(name.data(), name.data() + name.size(), n);
    // Cleaned again: idempotent, and cheap once per start.
    if (parse_error == std::errc() && end == name.data() + name.size() &&
        free_slots_.size() < kMaxFreeSlots && CleanSpoolForReuse(slot.string()).ok()) {
      free_slots_.push_back(slot.string());
      next_free_slot_ = std::max(next_free_slot_, n + 1);
      continue;
    }
    fs::remove_all(slot, ec);
  }
}

void WorkManager::TakeFreeSlot(const std::string& dir) {
  while (!free_slots_.empty()) {
    std::string slot = std::move(free_slots_.back());
    free_slots_.pop_back();
    if (rename(slot.c_str(), dir.c_str()) == 0) return;
    spdlog::warn("host={} cannot reuse {} as {}: {}", hostname_, slot, dir, std::strerror(errno));
    std::error_code ec;
    fs::remove_all(slot, ec);
  }
}

bool WorkManager::RecycleSlot(const std::string& dir) {
  if (free_slots_.size() >= kMaxFreeSlots) return false;
  const std::string free_dir = spool_dir_ + "/" + kFreeDir;
  std::error_code ec;
  if (!free_dir_ready_) {
    fs::create_directories(free_dir, ec);
    if (ec) {
      spdlog::warn("host={} cannot create {}: {}", hostname_, free_dir, ec.message());
      return false;
    }
    free_dir_ready_ = true;
  }
  if (Status s = CleanSpoolForReuse(dir); !s.ok()) {
    spdlog::warn("host={} spool {} not reused: {}", hostname_, dir, s.ToString());
    return false;
  }
  std::string slot = free_dir + "/" + std::to_string(next_free_slot_++);
  if (rename(dir.c_str(), slot.c_str()) != 0) {
    spdlog::warn("host={} cannot move {} to {}: {}", hostname_, dir, slot, std::strerror(errno));
    return false;
  }
  free_slots_.push_back(std::move(slot));
  return true;
}

}  // namespace labmesh::agent
