#pragma once
// SyncRelay: the agent's end of `labmesh-sync` (docs/sync.md "Agent side").
//
// It binds a ZeroMQ ROUTER on WORK_DIR/sync.sock, the endpoint controls get as LABMESH_SYNC
// (mode 0600: bound inside a fresh 0700 directory, then renamed into place, so no other user
// can connect even for an instant; a stale file from an earlier run is replaced). A helper
// sends one SyncRequest there; the relay checks it (ValidateSyncRequest, the entry's control
// runs on this host, per-entry bounds), numbers the uses of each barrier name per entry (the
// generation: 1, 2, ...), forwards it to the coordinator with a request id of its own and hands
// the coordinator's SyncReply (or Error) back to the helper that asked, under the helper's own
// request id. Refusals are answered at once with SyncReply{ok=false, error}.
//
// Delivery: while disconnected requests wait; after every Welcome the relay sends again every
// value its entries had stored (the coordinator may have restarted) and then every request not
// yet answered (same request id). Both are idempotent on the coordinator. A request with a
// timeout that has no answer `local_grace_ms` after its timeout (coordinator unreachable) is
// answered ok=false by the relay itself and not sent again. When an entry's control ends or the
// entry is aborted (EntryEnded), its waiting helpers get ok=false "the entry ended" and its state
// (generations, stored values) is dropped.
//
// Ownership and threads: the agent's event loop owns the relay and is the only caller of every
// method; the relay owns its socket. It is one of the loop's Managers (manager.hpp). Nothing
// blocks. The loop polls the socket (AppendPollItems) for ZMQ_POLLIN beside its other sockets;
// OnPolled() calls OnReadable() when it is readable, before any manager's Service(); the loop
// calls Service() at every turn, wakes no later than NextDeadlineMs(), and offers the relay
// every coordinator message no manager before it took (Handle). ZeroMQ exceptions on the local
// socket are caught here: they never reach the loop (which would take them for a broken
// coordinator connection).

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "labmesh/common/clock.hpp"
#include "labmesh/common/status.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "manager.hpp"

namespace labmesh::agent {

// Every bound of the relay, with its default (docs/sync.md).
struct SyncRelayLimits {
  size_t max_outstanding_per_entry = 256;  // requests forwarded and not yet answered
  size_t max_values_per_entry = 256;       // values stored (and resent after a reconnect)
  size_t max_barrier_names_per_entry = 16'384;
  // A request with a timeout gets the relay's own failure this long after the timeout when the
  // coordinator has not answered by then.
  int64_t local_grace_ms = 5'000;
  size_t max_helper_frame_bytes = 1 << 20;  // ZMQ_MAXMSGSIZE of the local socket
};

class SyncRelay final : public Manager {
 public:
  // Sends a frame to the coordinator over the agent socket; false when it was not taken.
  using SendFn = std::function<bool(const std::string& frame)>;
  // True while the entry's control runs on this agent (WorkManager::ControlRunning).
  using RunningFn = std::function<bool(uint64_t entry_id)>;
  // A fresh request id on the agent socket (the agent's one counter).
  using RequestIdFn = std::function<uint64_t()>;

  SyncRelay(zmq::context_t& context, const Clock* clock, std::string hostname,
            std::string socket_path, SendFn send, RunningFn running, RequestIdFn next_request_id,
            SyncRelayLimits limits = {});
  ~SyncRelay();  // closes the socket and removes the socket file if it is still ours
  SyncRelay(const SyncRelay&) = delete;
  SyncRelay& operator=(const SyncRelay&) = delete;

  // Binds the local socket (see above). Fails with the reason (path too long for a unix
  // socket, directory not writable, ...); the relay then stays unbound and does nothing.
  Status Bind();
  // For zmq::poll (ZMQ_POLLIN); nullptr while unbound.
  void* socket_handle() const { return socket_ ? socket_->handle() : nullptr; }

  // The local socket, while bound.
  void AppendPollItems(std::vector<zmq_pollitem_t>* items) const override;
  // OnReadable() when the local socket is readable.
  void OnPolled(std::span<const zmq_pollitem_t> items) override;
  // Takes the helpers' requests waiting on the socket (a bounded number per call).
  void OnReadable();
  // A coordinator message: a SyncReply, or an Error whose request id is one of the relay's.
  // False for anything else (the caller handles it).
  bool Handle(const protocol::Envelope& envelope) override;
  void OnWelcome() override;       // connected (again): resend stored values, then unanswered
                                   // requests
  void OnDisconnected() override;  // nothing is sent until the next OnWelcome()
  // `labmesh-test reboot` (docs/kernel-lab.md) asks over the same socket: a SyncRequest with op
  // "reboot" and the reboot's timeout, answered here at once and never forwarded. The hook
  // (WorkManager::RequestReboot) says "done" (this reboot of the control happened already) or
  // "rebooting" (asked now), or why not; without a hook the request is refused.
  using RebootFn = std::function<Result<std::string>(uint64_t entry_id, int64_t timeout_ms)>;
  void SetRebootHook(RebootFn hook) { reboot_ = std::move(hook); }
  // The entry's control ended or is being stopped: answer its helpers, forget the entry.
  // `why` (may be empty) is added to "the entry ended".
  void EntryEnded(uint64_t entry_id, const std::string& why);

  void Service() override;                  // send retries, local timeouts
  int64_t NextDeadlineMs() const override;  // INT64_MAX = no timer

  size_t outstanding() const { return pending_.size(); }
  const std::string& socket_path() const { return socket_path_; }

 private:
  struct Pending {
    std::string helper;  // the helper's routing id on the local socket
    uint64_t helper_request_id = 0;
    protocol::SyncRequest request;  // as forwarded (generation filled in)
    std::string frame;              // encoded with the relay's request id
    bool sent = false;              // on the current connection
    int64_t give_up_at_ms = 0;      // 0 = never
  };
  struct EntryState {
    std::map<std::string, uint32_t> barrier_uses;
    std::vector<std::pair<std::string, std::vector<char>>> values;  // stored, in order
    size_t outstanding = 0;
    size_t sends_outstanding = 0;
  };

  void HandleHelper(const std::string& helper, std::string_view frame);
  void Accept(const std::string& helper, uint64_t helper_request_id, protocol::SyncRequest request);
  void RebootAsked(const std::string& helper, uint64_t helper_request_id,
                   const protocol::SyncRequest& request);
  void Refuse(const std::string& helper, uint64_t helper_request_id,
              const protocol::SyncRequest& request, const std::string& error);
  void ReplyToHelper(const std::string& helper, uint64_t helper_request_id,
                     const protocol::SyncReply& reply);
  // Answers the helper of pending request `id` and forgets the request.
  void Complete(std::map<uint64_t, Pending>::iterator it, const protocol::SyncReply& reply);
  void Flush();  // sends what is due while connected

  zmq::context_t& context_;
  const Clock* clock_;
  std::string hostname_;
  std::string socket_path_;
  SendFn send_;
  RebootFn reboot_;
  RunningFn running_;
  RequestIdFn next_request_id_;
  SyncRelayLimits limits_;
  protocol::DecodeLimits decode_limits_;
  std::unique_ptr<zmq::socket_t> socket_;
  uint64_t socket_inode_ = 0;  // of the file we renamed into place
  bool connected_ = false;
  int64_t retry_at_ms_ = 0;  // a send was refused (queue full): try again then; 0 = none
  std::map<uint64_t, Pending> pending_;  // by the relay's request id (= arrival order)
  std::map<uint64_t, EntryState> entries_;
  std::deque<std::string> resend_;  // stored values to send again after a Welcome
};

}  // namespace labmesh::agent
