#include "zap_handler.hpp"

#include <spdlog/spdlog.h>

#include <vector>

namespace labmesh::coordinator {

ZapHandler::ZapHandler(zmq::context_t& context, KeyCheck allowed, const Clock* clock,
                       Limits limits)
    : socket_(context, zmq::socket_type::rep),
      allowed_(std::move(allowed)),
      clock_(clock),
      limits_(limits) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind("inproc://zeromq.zap.01");
}

std::string ZapHandler::CheckAgent(const std::string& key, const std::string& address) {
  int64_t now = clock_->SteadyMs();
  auto it = failures_.find(address);
  if (it != failures_.end() && now - it->second.window_start_ms >= limits_.window_ms) {
    if (it->second.blocked > 0) {
      spdlog::warn("address={} {} more handshakes refused outright in the last window",
                   address, it->second.blocked);
    }
    failures_.erase(it);
    it = failures_.end();
  }
  if (it != failures_.end() && it->second.count >= limits_.max_failures) {
    ++it->second.blocked;
    return "too many refused handshakes from this address";
  }
  if (allowed_(key)) return "";
  if (it == failures_.end()) {
    if (failures_.size() >= kMaxAddresses) {
      std::erase_if(failures_, [&](const auto& f) {
        return now - f.second.window_start_ms >= limits_.window_ms;
      });
      if (failures_.size() >= kMaxAddresses) failures_.erase(failures_.begin());
    }
    it = failures_.emplace(address, Failures{now, 0, 0}).first;
  }
  uint32_t count = ++it->second.count;
  if (count == 1) {
    spdlog::warn("key={} address={} refused at the Curve handshake: key revoked", key, address);
  } else if (count == limits_.max_failures) {
    spdlog::warn("address={} refused {} handshakes within {} ms: refusing it outright until the "
                 "window ends",
                 address, count, limits_.window_ms);
  } else {
    spdlog::debug("key={} address={} refused at the Curve handshake: key revoked", key, address);
  }
  return "key revoked";
}

void ZapHandler::HandleReady() {
  for (;;) {
    std::vector<zmq::message_t> frames;
    zmq::message_t frame;
    if (!socket_.recv(frame, zmq::recv_flags::dontwait)) return;
    frames.push_back(std::move(frame));
    while (frames.back().more()) {
      zmq::message_t next;
      if (!socket_.recv(next, zmq::recv_flags::none)) break;
      frames.push_back(std::move(next));
    }
    std::string status_code = "400";
    std::string status_text = "malformed ZAP request";
    std::string user_id;
    // version, request id, domain, address, routing id, mechanism, credentials...
    if (frames.size() >= 6 && frames[0].to_string_view() == "1.0") {
      std::string mechanism = frames[5].to_string();
      if (mechanism == "CURVE" && frames.size() >= 7 && frames[6].size() == 32) {
        char z85[41];
        zmq_z85_encode(z85, static_cast<const uint8_t*>(frames[6].data()), 32);
        user_id = z85;
        std::string_view domain = frames[2].to_string_view();
        std::string why = domain == kApiZapDomain ? ""
                          : domain == kPeerZapDomain
                              ? (!peer_key_.empty() && user_id == peer_key_
                                     ? ""
                                     : "not this lab's coordinator key")
                              : CheckAgent(user_id, frames[3].to_string());
        if (why.empty()) {
          status_code = "200";
          status_text = "OK";
        } else {
          status_text = why;
          user_id.clear();
        }
      } else if (mechanism == "NULL") {
        status_code = "200";  // plain sockets (the loopback API) are not Curve-authenticated
        status_text = "OK";
      } else {
        status_text = "mechanism not allowed";
      }
    }
    std::string request_id = frames.size() > 1 ? frames[1].to_string() : "";
    socket_.send(zmq::str_buffer("1.0"), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(status_code), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(status_text), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(user_id), zmq::send_flags::sndmore);
    socket_.send(zmq::str_buffer(""), zmq::send_flags::none);
  }
}

}  // namespace labmesh::coordinator
