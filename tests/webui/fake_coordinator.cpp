#include "fake_coordinator.hpp"

#include <chrono>

namespace labmesh::webui::testing {

FakeCoordinator::FakeCoordinator(zmq::context_t& context, std::string endpoint)
    : endpoint_(std::move(endpoint)), socket_(context, zmq::socket_type::router) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind(endpoint_);
  // The socket moves to the thread here; thread start is the hand-over barrier.
  thread_ = std::thread([this] { Run(); });
}

FakeCoordinator::~FakeCoordinator() {
  stop_ = true;
  thread_.join();
  socket_.close();
}

void FakeCoordinator::On(protocol::MessageType type, Responder responder) {
  std::lock_guard<std::mutex> lock(mu_);
  responders_[type] = std::move(responder);
}

std::vector<std::string> FakeCoordinator::Requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void FakeCoordinator::Run() {
  while (!stop_) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(20));
    if (!(item.revents & ZMQ_POLLIN)) continue;
    zmq::message_t identity;
    zmq::message_t payload;
    if (!socket_.recv(identity, zmq::recv_flags::dontwait)) continue;
    if (!identity.more() || !socket_.recv(payload, zmq::recv_flags::dontwait)) continue;
    std::string frame = payload.to_string();
    Responder responder;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(frame);
    }
    auto envelope = protocol::DecodeEnvelope(frame);
    std::string reply;
    if (!envelope.ok()) {
      reply = protocol::Encode(protocol::ErrorReply::FromStatus(envelope.status()), 0);
    } else {
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = responders_.find(envelope->type);
        if (it != responders_.end()) responder = it->second;
      }
      reply = responder ? responder(*envelope)
                        : protocol::Encode(protocol::ErrorReply::FromStatus(Status::Unsupported(
                                               "fake coordinator has no canned reply")),
                                           envelope->request_id);
    }
    if (reply.empty()) continue;  // stay silent
    socket_.send(identity, zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(reply), zmq::send_flags::none);
  }
}

protocol::HostInfo SampleHost(const std::string& hostname, const std::string& status) {
  protocol::HostInfo host;
  host.hostname = hostname;
  host.status = status;
  host.status_reason = "heartbeat ok";
  host.locked = true;
  host.locked_by = "alice";
  host.lock_reason = "kernel <b>bisect</b>";  // markup must show as text on the page
  host.labels = {"arch:x86_64", "gpu", "os:debian"};
  host.agent_labels = {"arch:x86_64", "os:debian"};
  host.admin_labels = {"gpu"};
  host.acl_groups = {"everyone"};
  host.agent_version = "0.1.0";
  host.last_heartbeat_ms = 1'700'000'000'000 - 3'000;
  host.registered_ms = 1'690'000'000'000;
  host.incarnation = 42;
  host.connected = true;
  host.public_key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
  host.facts = {"x86_64", "debian", "12", "6.1.0-18-amd64", 8, 16ull << 30, "10.0.0.7"};
  host.health.load1 = 0.42;
  host.health.load5 = 0.3;
  host.health.load15 = 0.25;
  host.health.mem_total_bytes = 16ull << 30;
  host.health.mem_available_bytes = 9ull << 30;
  host.health.disk_total_bytes = 500ull << 30;
  host.health.disk_free_bytes = 120ull << 30;
  host.health.uptime_s = 86400;
  return host;
}

}  // namespace labmesh::webui::testing
