#include "labmesh/client/api_client.hpp"

#include <algorithm>
#include <chrono>

namespace labmesh::client {

ApiClient::ApiClient(zmq::context_t& context, std::string endpoint, int64_t timeout_ms)
    : context_(context), endpoint_(std::move(endpoint)), timeout_ms_(timeout_ms) {}

ApiClient::~ApiClient() = default;

void ApiClient::Reset() { socket_.reset(); }

Result<std::string> ApiClient::CallRaw(const std::string& frame, uint64_t request_id,
                                       int64_t timeout_ms) {
  try {
    if (!socket_) {
      socket_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
      socket_->set(zmq::sockopt::linger, 0);
      socket_->set(zmq::sockopt::immediate, 1);
      if (!server_key_.empty()) {
        char public_key[41], secret_key[41];
        if (zmq_curve_keypair(public_key, secret_key) != 0) {
          socket_.reset();
          return Status::Unavailable("cannot make a Curve key pair: " +
                                     std::string(zmq_strerror(zmq_errno())));
        }
        socket_->set(zmq::sockopt::curve_serverkey, server_key_);
        socket_->set(zmq::sockopt::curve_publickey, std::string(public_key));
        socket_->set(zmq::sockopt::curve_secretkey, std::string(secret_key));
      }
      socket_->connect(endpoint_);
    }
    auto start = std::chrono::steady_clock::now();
    auto deadline = start + std::chrono::milliseconds(timeout_ms);
    // Reaching the coordinator never waits longer than the client's own timeout, even when
    // this call's answer may take longer.
    auto send_deadline = start + std::chrono::milliseconds(std::min(timeout_ms, timeout_ms_));
    // With ZMQ_IMMEDIATE the send blocks (EAGAIN when non-blocking) until a connection exists:
    // that is how an absent coordinator is noticed.
    for (;;) {
      auto sent = socket_->send(zmq::buffer(frame), zmq::send_flags::dontwait);
      if (sent) break;
      if (std::chrono::steady_clock::now() >= send_deadline) {
        Reset();
        return Status::Unavailable("coordinator at " + endpoint_ + " is not reachable");
      }
      zmq::pollitem_t item{socket_->handle(), 0, ZMQ_POLLOUT, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(20));
    }
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        Reset();
        return Status::Timeout("coordinator at " + endpoint_ + " did not answer within " +
                               std::to_string(timeout_ms) + " ms");
      }
      zmq::pollitem_t item{socket_->handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, left);
      if (!(item.revents & ZMQ_POLLIN)) continue;
      zmq::message_t reply;
      if (!socket_->recv(reply, zmq::recv_flags::dontwait)) continue;
      std::string bytes = reply.to_string();
      auto envelope = protocol::DecodeEnvelope(bytes);
      // A reply to an earlier, timed-out call cannot reach this socket (it is replaced on
      // timeout), but check the id anyway.
      if (envelope.ok() && envelope->request_id != request_id) continue;
      return bytes;
    }
  } catch (const zmq::error_t& e) {
    Reset();
    return Status::Unavailable("cannot talk to " + endpoint_ + ": " + e.what());
  }
}

}  // namespace labmesh::client
