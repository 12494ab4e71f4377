#pragma once
// Host reservations as pure functions (tested alone; docs/reservations.md): how long one may
// last, whether one is in force, who may make, extend or end one, and the words every reader
// (host show, the page, job show's "waiting") uses for it. ReservationService and the job side
// (--reserve-on-failure) call them before they stage anything, so a refusal changes nothing.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "labmesh/common/status.hpp"
#include "labmesh/store/store.hpp"

namespace labmesh::coordinator {

// The longest reservation (`host reserve --for`, `job create --reserve-on-failure`): 7 days.
inline constexpr int64_t kMaxReservationMs = 7LL * 24 * 3600 * 1000;
inline constexpr size_t kMaxReserveReasonBytes = 256;

// A duration of 1 ms .. kMaxReservationMs; InvalidArgument naming `what` ("--for",
// "--reserve-on-failure") and the cap otherwise.
Status ValidateReservationMs(int64_t ms, std::string_view what);
// At most kMaxReserveReasonBytes of UTF-8 text without control characters.
Status ValidateReserveReason(std::string_view reason);

// Whether `host` is reserved at wall time `now_ms` (it ends by time: no one has to clear it).
bool ReservationActive(const store::Host& host, int64_t now_ms);
// Reserved, at `now_ms`, for someone other than `user`: `user`'s jobs may not run there.
bool ReservedForOther(const store::Host& host, const std::string& user, int64_t now_ms);

// "bob until 2026-12-06 17:30 UTC (kernel bisect)": who, until when and why.
std::string ReservationText(const store::Host& host);

// Whether `user` (an admin or not, in ACL groups `groups`) may reserve `host` at `now_ms`:
// the host is accepted, the user shares an ACL group with it (admins: any host), and it is not
// reserved by someone else (FailedPrecondition naming who and until when: they, or an admin,
// release it first). The same user's reservation may be replaced.
Status MayReserve(const store::Host& host, const std::string& user, bool admin,
                  const std::vector<std::string>& groups, int64_t now_ms);
// Whether `user` may end `host`'s reservation: there is one in force (FailedPrecondition), and
// `user` made it or is an admin (PermissionDenied naming the reserver).
Status MayRelease(const store::Host& host, const std::string& user, bool admin, int64_t now_ms);

// Sets / clears the reservation fields of `host` (the caller stages it through HostRegistry).
void Reserve(store::Host& host, const std::string& user, int64_t duration_ms,
             const std::string& reason, int64_t now_ms);
void Release(store::Host& host);

// The reason of a reservation --reserve-on-failure makes: "job 12 failed on lab-3".
std::string FailureReserveReason(uint64_t job_id, const std::string& hostname);

}  // namespace labmesh::coordinator
