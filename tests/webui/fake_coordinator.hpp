#pragma once
// A stand-in for the coordinator's API socket, for the webui unit tests ONLY: a ROUTER bound to
// an inproc endpoint, answered by a thread with canned protocol replies. The real coordinator is
// exercised end to end elsewhere.

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "labmesh/protocol/envelope.hpp"
#include "labmesh/protocol/messages.hpp"

namespace labmesh::webui::testing {

// The one user ServeAuth knows, with a web session that exists once a login succeeded.
struct FakeUser {
  std::string user = "alice";
  std::string token = "tok-alice";
  std::string password = "pw-alice";
  std::string session = "sess-alice-1";
  std::string csrf = "csrf-alice-1";
  bool admin = false;
  std::vector<std::string> acl_groups = {"Everyone"};
  int64_t expires_ms = 0;  // the session's end (wall clock)
};

class FakeCoordinator {
 public:
  // Returns the reply frame for a request, or "" to stay silent (the client then times out).
  using Responder = std::function<std::string(const protocol::Envelope& request)>;

  // Binds `endpoint` in `context` before returning, so clients can connect at once.
  FakeCoordinator(zmq::context_t& context, std::string endpoint);
  ~FakeCoordinator();
  FakeCoordinator(const FakeCoordinator&) = delete;
  FakeCoordinator& operator=(const FakeCoordinator&) = delete;

  // Answers requests of `type` with `responder`; unconfigured types get an Unsupported error.
  void On(protocol::MessageType type, Responder responder);
  // Answers every request of the reply's request type with `reply` (with the request's id).
  template <typename Request, typename ReplyMessage>
  void Reply(const ReplyMessage& reply) {
    On(Request::kType, [reply](const protocol::Envelope& request) {
      return protocol::Encode(reply, request.request_id);
    });
  }
  template <typename Request>
  void Fail(const Status& status) {
    On(Request::kType, [status](const protocol::Envelope& request) {
      return protocol::Encode(protocol::ErrorReply::FromStatus(status), request.request_id);
    });
  }

  // Refuses, before any responder, every request for which `gate` returns an error (that error
  // is the reply). Unset: every request is answered.
  void Gate(std::function<Status(const protocol::Envelope& request)> gate);

  // Authenticates as the coordinator would, for one user: LoginRequest with `user.user` and its
  // token or password gets a LoginReply with `user.session`/`csrf`/`expires_ms` (anything else
  // Unauthenticated); every other request needs `user.token`, or `user.session` until a
  // LogoutRequest ended it, and then for a mutating request (IsMutatingRequest) `user.csrf`
  // (PermissionDenied otherwise, as docs/security.md has it);
  // WhoAmIRequest and LogoutRequest are answered. Replaces any earlier Gate.
  void ServeAuth(FakeUser user);

  // Every request frame received so far, oldest first.
  std::vector<std::string> Requests() const;
  // How many requests of `type` were received.
  size_t Count(protocol::MessageType type) const;
  // The last request of type M, decoded; fails the caller's test if there is none.
  template <typename M>
  Result<M> LastRequest() const {
    auto frames = Requests();
    for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
      auto decoded = protocol::DecodeAs<M>(*it);
      if (decoded.ok()) return decoded;
    }
    return Status::NotFound("no such request received");
  }
  // The credentials the last request of type M came with (the envelope's fifth element).
  template <typename M>
  Result<protocol::Credentials> LastCredentials() const {
    auto frames = Requests();
    for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
      auto envelope = protocol::DecodeEnvelope(*it);
      if (envelope.ok() && envelope->type == M::kType) return envelope->credentials;
    }
    return Status::NotFound("no such request received");
  }

  // Answers JobListRequest (owner/status/limit applied, newest first: the order given) and
  // JobShowRequest (by id; NotFound "no job N" otherwise) from `jobs`, as the coordinator would.
  void ServeJobs(std::vector<protocol::JobInfo> jobs);

  const std::string& endpoint() const { return endpoint_; }

 private:
  void Run();

  const std::string endpoint_;
  zmq::socket_t socket_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::map<protocol::MessageType, Responder> responders_;  // guarded by mu_
  std::function<Status(const protocol::Envelope&)> gate_;  // guarded by mu_
  std::vector<std::string> requests_;                       // guarded by mu_
  std::thread thread_;
};

// A host with every field set, as a coordinator would report it.
protocol::HostInfo SampleHost(const std::string& hostname, const std::string& status = "Ready");

// A finished special task with every field set: a Verify of `hostname` that Failed, with one
// passed and two failed checks ("verify.d/disk" first), finished 3 s before 1'700'000'000'000.
protocol::TaskInfo SampleTask(uint64_t id, const std::string& hostname);

// A job with every field set and two entries (one Completed, one Failed with a test fault).
protocol::JobInfo SampleJob(uint64_t id, const std::string& owner = "alice",
                            const std::string& status = "Failed");

}  // namespace labmesh::webui::testing
