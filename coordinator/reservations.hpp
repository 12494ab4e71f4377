#pragma once
// ReservationService: `host reserve` and `host release` (docs/reservations.md). A reservation
// lives on the host's record (store::Host reserved_*), so it is staged through the
// HostRegistry - the only writer of host records - and commits with the loop turn's batch;
// the reply (the host as it will be) leaves after that commit. Who may do what is decided by
// reservation_rules.hpp; the scheduler reads the fields (Scheduler::Eligible).
//
// Owned and called only by the event-loop thread.

#include <string>

#include "host_registry.hpp"
#include "labmesh/common/clock.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "labmesh/store/store.hpp"
#include "principal.hpp"

namespace labmesh::coordinator {

class ReservationService {
 public:
  ReservationService(const Clock* clock, store::Store* store, HostRegistry* registry);

  // HostReserveRequest or HostReleaseRequest: returns the reply (HostShowReply or an error).
  // A refused request changes nothing.
  std::string Handle(const protocol::Envelope& e, const Principal& who);

 private:
  std::string HandleReserve(const protocol::Envelope& e, const Principal& who);
  std::string HandleRelease(const protocol::Envelope& e, const Principal& who);

  const Clock* clock_;
  store::Store* store_;
  HostRegistry* registry_;
};

}  // namespace labmesh::coordinator
