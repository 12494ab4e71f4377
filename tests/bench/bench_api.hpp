#pragma once
// What the API benchmarks (labmesh-jobbench, labmesh-querybench) share: the client - one
// DEALER to the coordinator's plain API socket with an admin token, and a blocking call
// (request, then its reply within 30 s; throws on anything else) - and their percentile.

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "labmesh/protocol/envelope.hpp"
#include "labmesh/protocol/messages.hpp"

namespace labmesh::bench {

class Api {
 public:
  Api(const std::string& endpoint, const std::string& token)
      : socket_(context_, zmq::socket_type::dealer), credentials_{"", token, "", "", ""} {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::rcvtimeo, 30'000);
    socket_.set(zmq::sockopt::sndhwm, 0);
    socket_.connect(endpoint);
  }

  void Send(const std::string& frame) { socket_.send(zmq::buffer(frame), zmq::send_flags::none); }

  std::string Receive() {
    zmq::message_t message;
    if (!socket_.recv(message)) throw std::runtime_error("no reply within 30 s");
    return message.to_string();
  }

  template <typename Reply, typename Request>
  Reply Call(const Request& request) {
    Send(protocol::Encode(request, ++request_id_, credentials_));
    auto reply = protocol::DecodeAs<Reply>(Receive());
    if (!reply.ok()) throw std::runtime_error(reply.status().ToString());
    return *reply;
  }

  uint64_t next_request_id() { return ++request_id_; }
  const protocol::Credentials& credentials() const { return credentials_; }

 private:
  zmq::context_t context_;
  zmq::socket_t socket_;
  protocol::Credentials credentials_;
  uint64_t request_id_ = 0;
};

// The value at fraction `p` (0..1) of `values`, nearest rank; 0 when there are none.
inline double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

}  // namespace labmesh::bench
