#include "reservations.hpp"

#include <spdlog/spdlog.h>

#include "labmesh/common/duration.hpp"
#include "reservation_rules.hpp"

namespace labmesh::coordinator {

ReservationService::ReservationService(const Clock* clock, store::Store* store,
                                       HostRegistry* registry)
    : clock_(clock), store_(store), registry_(registry) {}

std::string ReservationService::Handle(const protocol::Envelope& e, const Principal& who) {
  if (e.type == protocol::MessageType::kHostReserveRequest) return HandleReserve(e, who);
  if (e.type == protocol::MessageType::kHostReleaseRequest) return HandleRelease(e, who);
  return protocol::ErrorFrame(e.request_id, Status::Unsupported("not a reservation request"));
}

std::string ReservationService::HandleReserve(const protocol::Envelope& e, const Principal& who) {
  auto req = protocol::DecodeBody<protocol::HostReserveRequest>(e);
  if (!req.ok()) return protocol::ErrorFrame(e.request_id, req.status());
  if (Status s = ValidateReservationMs(req->duration_ms, "--for"); !s.ok()) {
    return protocol::ErrorFrame(e.request_id, s);
  }
  if (Status s = ValidateReserveReason(req->reason); !s.ok()) {
    return protocol::ErrorFrame(e.request_id, s);
  }
  HostState* state = registry_->Find(req->hostname);
  const store::Host* staged = registry_->Staged(req->hostname);
  if (state == nullptr || staged == nullptr) {
    return protocol::ErrorFrame(e.request_id,
                                Status::NotFound("host " + req->hostname + " not found"));
  }
  std::vector<std::string> groups{store::kEveryoneGroup};
  auto user = store_->GetUser(who.user);
  if (!user.ok()) return protocol::ErrorFrame(e.request_id, user.status());
  if (user->has_value()) groups = (*user)->acl_groups;
  const int64_t now = clock_->WallMs();
  if (Status s = MayReserve(*staged, who.user, who.admin, groups, now); !s.ok()) {
    return protocol::ErrorFrame(e.request_id, s);
  }
  const bool extended = ReservationActive(*staged, now);
  store::Host* host = registry_->Stage(req->hostname);
  Reserve(*host, who.user, req->duration_ms, req->reason, now);
  spdlog::info("host={} {} by {} for {}{}", req->hostname,
               extended ? "reservation renewed" : "reserved", who.user,
               FormatDurationMs(req->duration_ms),
               req->reason.empty() ? "" : " (" + req->reason + ")");
  return protocol::Encode(protocol::HostShowReply{registry_->ToInfo(*state, *host), {}},
                          e.request_id);
}

std::string ReservationService::HandleRelease(const protocol::Envelope& e, const Principal& who) {
  auto req = protocol::DecodeBody<protocol::HostReleaseRequest>(e);
  if (!req.ok()) return protocol::ErrorFrame(e.request_id, req.status());
  HostState* state = registry_->Find(req->hostname);
  const store::Host* staged = registry_->Staged(req->hostname);
  if (state == nullptr || staged == nullptr) {
    return protocol::ErrorFrame(e.request_id,
                                Status::NotFound("host " + req->hostname + " not found"));
  }
  if (Status s = MayRelease(*staged, who.user, who.admin, clock_->WallMs()); !s.ok()) {
    return protocol::ErrorFrame(e.request_id, s);
  }
  store::Host* host = registry_->Stage(req->hostname);
  std::string was = host->reserved_by;
  Release(*host);
  spdlog::info("host={} reservation of {} released by {}", req->hostname, was, who.user);
  return protocol::Encode(protocol::HostShowReply{registry_->ToInfo(*state, *host), {}},
                          e.request_id);
}

}  // namespace labmesh::coordinator
