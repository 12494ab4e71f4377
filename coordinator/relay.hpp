#pragma once
// A standby's relay (docs/scale-out.md): while another coordinator holds the store, a standby
// serves its own agent socket, API sockets and web page, and carries what arrives on them to
// that coordinator over one peer link (peer_link.hpp), whose endpoint it reads from the store.
// It decides nothing: registrations, work, answers all come from the active coordinator, so
// every coordinator of a lab shows the same jobs, hosts and results. When the active
// coordinator is gone and this standby claims the store, the relay closes its sockets and the
// standby starts as a coordinator on the same endpoints; its agents' connections come back
// there by themselves, and a Reregister brings each one's hello (PROTOCOL.md).
//
// Without an active coordinator to reach, agent frames are dropped (an agent then moves on
// along its --coordinator list, or is answered after the takeover) and API requests are
// answered Unavailable.

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "labmesh/common/curve_keys.hpp"
#include "labmesh/common/status.hpp"
#include "labmesh/coordinator/config.hpp"
#include "labmesh/coordinator/coordinator.hpp"
#include "labmesh/store/store.hpp"

namespace labmesh::coordinator {

class Relay {
 public:
  // Binds the agent, API and web endpoints of `config` with `keys` (the lab's key pair).
  static Result<std::unique_ptr<Relay>> Start(const CoordinatorConfig& config,
                                              const CurveKeyPair& keys);
  virtual ~Relay() = default;

  // Relays until `try_claim` returns OK (the caller now holds the store; returns OK) or an
  // error other than FailedPrecondition/Unavailable (returned), or `stop` is set (returns OK).
  // `try_claim` is asked every 250 ms, but only while the active coordinator does not answer
  // the link's pings (3 s): one that answers is alive, even when a server restart freed its
  // lock for a moment. Reads the active's relay endpoint from `store` every second (every
  // 250 ms while it is silent).
  virtual Status Run(const store::Store& store, const std::function<Status()>& try_claim,
                     const std::atomic<bool>& stop) = 0;
  virtual const BoundEndpoints& endpoints() const = 0;
};

}  // namespace labmesh::coordinator
