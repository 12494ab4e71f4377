#pragma once
// A request/reply client for the coordinator's API socket, used by the `labmesh` CLI and by the
// web server inside the coordinator (over inproc://). One ApiClient per thread: it owns a
// ZeroMQ DEALER socket.
//
// Every call has a deadline. A coordinator that does not answer in time gives Timeout and the
// socket is replaced, so a late answer can never be mistaken for the next call's.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <zmq.hpp>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/envelope.hpp"

namespace labmesh::client {

class ApiClient {
 public:
  // `context` must outlive the client. Nothing is sent until the first call.
  ApiClient(zmq::context_t& context, std::string endpoint, int64_t timeout_ms);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // Sends one encoded request and returns the raw reply frame.
  // Unavailable/Timeout when the coordinator does not answer within the timeout.
  Result<std::string> CallRaw(const std::string& frame, uint64_t request_id) {
    return CallRaw(frame, request_id, timeout_ms_);
  }
  // The same with this call's own deadline instead of the client's (a request that is answered
  // only when a long operation ends, such as a results reparse).
  Result<std::string> CallRaw(const std::string& frame, uint64_t request_id, int64_t timeout_ms);

  // Sends `request` and decodes the reply as Reply; an ErrorReply becomes its Status.
  template <typename Reply, typename Request>
  Result<Reply> Call(const Request& request) {
    return Call<Reply>(request, timeout_ms_);
  }
  template <typename Reply, typename Request>
  Result<Reply> Call(const Request& request, int64_t timeout_ms) {
    uint64_t id = next_request_id_++;
    auto raw = CallRaw(protocol::Encode(request, id, credentials_), id, timeout_ms);
    if (!raw.ok()) return raw.status();
    return protocol::DecodeAs<Reply>(*raw);
  }

  // Who every following call is sent as (the envelope's credentials; docs/security.md).
  void set_credentials(protocol::Credentials credentials) {
    credentials_ = std::move(credentials);
  }
  const protocol::Credentials& credentials() const { return credentials_; }
  // Speak CurveZMQ to a coordinator whose public key (Z85) this is, with a fresh key pair of
  // this client's own; "" = plain text (loopback). Takes effect at the next socket.
  void set_server_key(std::string server_key_z85) {
    server_key_ = std::move(server_key_z85);
    Reset();
  }

  const std::string& endpoint() const { return endpoint_; }
  int64_t timeout_ms() const { return timeout_ms_; }

 private:
  void Reset();

  zmq::context_t& context_;
  std::string endpoint_;
  int64_t timeout_ms_;
  uint64_t next_request_id_ = 1;
  protocol::Credentials credentials_;
  std::string server_key_;
  std::unique_ptr<zmq::socket_t> socket_;
};

}  // namespace labmesh::client
