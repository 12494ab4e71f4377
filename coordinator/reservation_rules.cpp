#include "reservation_rules.hpp"

#include <algorithm>
#include <ctime>

#include "catalog_rules.hpp"
#include "labmesh/common/duration.hpp"

namespace labmesh::coordinator {
namespace {

// "2026-12-06 17:30:05 UTC": the words a person reads, in the coordinator's one time zone.
std::string UtcText(int64_t wall_ms) {
  std::time_t seconds = static_cast<std::time_t>(wall_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buffer;
}

bool Shares(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::any_of(a.begin(), a.end(), [&](const std::string& x) {
    return std::find(b.begin(), b.end(), x) != b.end();
  });
}

}  // namespace

Status ValidateReservationMs(int64_t ms, std::string_view what) {
  if (ms <= 0) {
    return Status::InvalidArgument(std::string(what) + " must be a positive duration");
  }
  if (ms > kMaxReservationMs) {
    return Status::InvalidArgument(std::string(what) + " " + FormatDurationMs(ms) +
                                   " is longer than a reservation may last (at most 7d)");
  }
  return Status::Ok();
}

Status ValidateReserveReason(std::string_view reason) {
  if (reason.size() > kMaxReserveReasonBytes) {
    return Status::InvalidArgument("--reason may be at most " +
                                   std::to_string(kMaxReserveReasonBytes) + " bytes");
  }
  if (!IsUtf8(reason) || std::any_of(reason.begin(), reason.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
      })) {
    return Status::InvalidArgument("--reason must be UTF-8 text without control characters");
  }
  return Status::Ok();
}

bool ReservationActive(const store::Host& host, int64_t now_ms) {
  return !host.reserved_by.empty() && host.reserved_until_ms > now_ms;
}

bool ReservedForOther(const store::Host& host, const std::string& user, int64_t now_ms) {
  return ReservationActive(host, now_ms) && host.reserved_by != user;
}

std::string ReservationText(const store::Host& host) {
  return host.reserved_by + " until " + UtcText(host.reserved_until_ms) +
         (host.reserve_reason.empty() ? "" : " (" + host.reserve_reason + ")");
}

Status MayReserve(const store::Host& host, const std::string& user, bool admin,
                  const std::vector<std::string>& groups, int64_t now_ms) {
  if (host.enrollment != store::Enrollment::kAccepted) {
    return Status::FailedPrecondition("host " + host.hostname + " is waiting for approval");
  }
  if (!admin && !Shares(host.acl_groups, groups)) {
    return Status::PermissionDenied("host " + host.hostname + " is in ACL groups none of which " +
                                    user +
                                    " belongs to: only users who may run jobs there (or "
                                    "an admin) may reserve it");
  }
  if (ReservedForOther(host, user, now_ms)) {
    return Status::FailedPrecondition("host " + host.hostname + " is reserved by " +
                                      ReservationText(host) + "; " + host.reserved_by +
                                      " or an admin may release it");
  }
  return Status::Ok();
}

Status MayRelease(const store::Host& host, const std::string& user, bool admin, int64_t now_ms) {
  if (!ReservationActive(host, now_ms)) {
    return Status::FailedPrecondition("host " + host.hostname + " is not reserved");
  }
  if (!admin && host.reserved_by != user) {
    return Status::PermissionDenied("host " + host.hostname + " is reserved by " +
                                    host.reserved_by + "; only " + host.reserved_by +
                                    " or an admin may release it");
  }
  return Status::Ok();
}

void Reserve(store::Host& host, const std::string& user, int64_t duration_ms,
             const std::string& reason, int64_t now_ms) {
  host.reserved_by = user;
  host.reserve_reason = reason;
  host.reserved_ms = now_ms;
  host.reserved_until_ms = now_ms + duration_ms;
}

void Release(store::Host& host) {
  host.reserved_by.clear();
  host.reserve_reason.clear();
  host.reserved_ms = 0;
  host.reserved_until_ms = 0;
}

std::string FailureReserveReason(uint64_t job_id, const std::string& hostname) {
  return "job " + std::to_string(job_id) + " failed on " + hostname;
}

}  // namespace labmesh::coordinator
