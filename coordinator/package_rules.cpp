#include "package_rules.hpp"

#include <sodium.h>

#include <algorithm>

#include "labmesh/common/hash.hpp"

namespace labmesh::coordinator {

uint32_t CanaryBucket(std::string_view hostname) {
  [[maybe_unused]] static const int sodium_ready = sodium_init();  // idempotent, thread-safe
  unsigned char hash[crypto_generichash_BYTES];  // 32: BLAKE2b-256, as everywhere in labmesh
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(hostname.data()),
                     hostname.size(), nullptr, 0);
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | hash[i];  // little-endian
  return static_cast<uint32_t>(value % 100);
}

bool InCanary(std::string_view hostname, uint32_t percent) {
  if (percent >= 100) return true;
  return CanaryBucket(hostname) < percent;
}

std::string TargetVersion(const protocol::DesiredVersion& desired, std::string_view hostname,
                          std::string_view update_failed_version, bool package_exists) {
  if (desired.version.empty() || !package_exists) return "";
  if (!InCanary(hostname, desired.canary_percent)) return "";
  if (update_failed_version == desired.version) return "";
  return desired.version;
}

std::string UpdateTaskReason(std::string_view from, std::string_view to) {
  return "version " + std::string(from.empty() ? "(unknown)" : from) + " -> " + std::string(to);
}

std::optional<std::string> ParseUpdateTarget(std::string_view reason) {
  constexpr std::string_view kArrow = " -> ";
  size_t at = reason.rfind(kArrow);
  if (reason.rfind("version ", 0) != 0 || at == std::string_view::npos) return std::nullopt;
  std::string_view target = reason.substr(at + kArrow.size());
  if (!protocol::IsValidVersion(target)) return std::nullopt;
  return std::string(target);
}

Status ValidateUploadChunk(const protocol::PackageUploadRequest& r) {
  if (!protocol::IsValidVersion(r.version)) {
    return Status::InvalidArgument(
        "bad version '" + r.version.substr(0, protocol::kMaxVersionBytes) +
        "': 1 to 64 of A-Z a-z 0-9 . _ + ~ -, starting with a letter or digit");
  }
  if (!IsHexDigest(r.sha256)) {
    return Status::InvalidArgument("bad sha256: 64 lower-case hex digits expected");
  }
  if (r.total_bytes == 0 || r.total_bytes > protocol::kMaxPackageBytes) {
    return Status::InvalidArgument("total_bytes " + std::to_string(r.total_bytes) +
                                   ": a package is 1 byte to " +
                                   std::to_string(protocol::kMaxPackageBytes) + " bytes");
  }
  if (r.data.size() > protocol::kMaxPackageChunkBytes) {
    return Status::InvalidArgument("chunk of " + std::to_string(r.data.size()) +
                                   " bytes: at most " +
                                   std::to_string(protocol::kMaxPackageChunkBytes) + " per chunk");
  }
  if (r.data.empty()) return Status::InvalidArgument("empty chunk");
  if (r.offset > r.total_bytes || r.data.size() > r.total_bytes - r.offset) {
    return Status::InvalidArgument("chunk [" + std::to_string(r.offset) + ", " +
                                   std::to_string(r.offset + r.data.size()) +
                                   ") goes past total_bytes " + std::to_string(r.total_bytes));
  }
  return Status::Ok();
}

Status ValidateDesire(const protocol::PackageDesireRequest& r) {
  if (!protocol::IsValidVersion(r.version)) {
    return Status::InvalidArgument("bad version '" +
                                   r.version.substr(0, protocol::kMaxVersionBytes) + "'");
  }
  if (r.canary_percent < 1 || r.canary_percent > 100) {
    return Status::InvalidArgument("canary percent " + std::to_string(r.canary_percent) +
                                   ": 1 to 100");
  }
  return Status::Ok();
}

}  // namespace labmesh::coordinator
