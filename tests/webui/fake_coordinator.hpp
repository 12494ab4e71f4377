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

  // Every request frame received so far, oldest first.
  std::vector<std::string> Requests() const;
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
