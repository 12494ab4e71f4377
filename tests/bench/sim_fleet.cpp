#include "sim_fleet.hpp"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>

#include "labmesh/common/backoff.hpp"

namespace labmesh::bench {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t WallUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  size_t rank = static_cast<size_t>(q * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(rank),
                   values.end());
  return values[rank];
}

SimFleet::SimFleet(int agents, std::string prefix, int io_threads, int extra_sockets)
    : prefix_(std::move(prefix)),
      io_threads_(io_threads),
      extra_sockets_(extra_sockets),
      identities_(static_cast<size_t>(std::max(agents, 0))) {}

SimFleet::~SimFleet() {
  slots_.clear();  // sockets before the context
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

Status SimFleet::Init() {
  std::mt19937_64 rng{std::random_device{}()};
  for (size_t i = 0; i < identities_.size(); ++i) {
    SimIdentity& identity = identities_[i];
    char name[64];
    std::snprintf(name, sizeof name, "%s%05zu", prefix_.c_str(), i);
    identity.hostname = name;
    identity.incarnation = rng();
    identity.reconnect_ivl_ms = static_cast<int>(AgentReconnectIntervalMs(rng()));
    char public_z85[41], secret_z85[41];
    if (zmq_curve_keypair(public_z85, secret_z85) != 0) {
      return Status::Internal(std::string("zmq_curve_keypair: ") + zmq_strerror(zmq_errno()));
    }
    identity.keys = {public_z85, secret_z85};
  }
  try {
    context_ = zmq::context_t(io_threads_,
                              static_cast<int>(identities_.size()) + 16 + extra_sockets_);
  } catch (const zmq::error_t& e) {
    return Status::Internal(std::string("zmq context: ") + e.what());
  }
  // Never reallocated: a handler may add a slot while Drain holds a reference to another.
  slots_.reserve(identities_.size() + 16 + static_cast<size_t>(extra_sockets_));
  slots_.resize(identities_.size());
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return Status::Internal(std::string("epoll: ") + std::strerror(errno));
  return Status::Ok();
}

void SimFleet::ConnectAgent(size_t index, const std::string& endpoint,
                            const std::string& server_key) {
  slots_[index].socket = CurveDealer(index, endpoint, server_key);
  Watch(index);
}

zmq::socket_t SimFleet::CurveDealer(size_t index, const std::string& endpoint,
                                    const std::string& server_key, bool immediate) {
  const SimIdentity& identity = identities_[index];
  zmq::socket_t socket(context_, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  if (immediate) socket.set(zmq::sockopt::immediate, 1);  // before connect, or it does not apply
  // Reconnect as labmesh-agent does (labmesh/common/backoff.hpp): after a coordinator restart a
  // fleet that retried every 100 ms would be a storm of its own making.
  socket.set(zmq::sockopt::reconnect_ivl, identity.reconnect_ivl_ms);
  socket.set(zmq::sockopt::reconnect_ivl_max, static_cast<int>(kAgentReconnectMaxMs));
  socket.set(zmq::sockopt::curve_serverkey, server_key);
  socket.set(zmq::sockopt::curve_publickey, identity.keys.public_z85);
  socket.set(zmq::sockopt::curve_secretkey, identity.keys.secret_z85);
  socket.connect(endpoint);
  return socket;
}

size_t SimFleet::AddPlain(const std::string& endpoint) {
  size_t slot = slots_.size();
  if (slot == slots_.capacity()) throw zmq::error_t();  // more sockets than Init reserved
  slots_.emplace_back();
  zmq::socket_t& socket = slots_[slot].socket;
  socket = zmq::socket_t(context_, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  socket.connect(endpoint);
  Watch(slot);
  return slot;
}

size_t SimFleet::AddRouter(const std::string& endpoint, const std::string& secret_z85,
                           std::string* bound) {
  size_t slot = slots_.size();
  if (slot == slots_.capacity()) throw zmq::error_t();  // more sockets than Init reserved
  slots_.emplace_back();
  Slot& s = slots_[slot];
  s.router = true;
  s.socket = zmq::socket_t(context_, zmq::socket_type::router);
  s.socket.set(zmq::sockopt::linger, 0);
  s.socket.set(zmq::sockopt::curve_server, 1);
  s.socket.set(zmq::sockopt::curve_secretkey, secret_z85);
  s.socket.bind(endpoint);
  *bound = s.socket.get(zmq::sockopt::last_endpoint);
  Watch(slot);
  return slot;
}

size_t SimFleet::AddCurveDealer(size_t index, const std::string& endpoint,
                                const std::string& server_key) {
  size_t slot = slots_.size();
  if (slot == slots_.capacity()) throw zmq::error_t();  // more sockets than Init reserved
  slots_.emplace_back();
  slots_[slot].socket = CurveDealer(index, endpoint, server_key, /*immediate=*/true);
  Watch(slot);
  return slot;
}

void SimFleet::Close(size_t slot) {
  Slot& s = slots_[slot];
  if (!s.socket) return;
  int fd = s.socket.get(zmq::sockopt::fd);
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  s.socket.close();
  s.drain_pending = false;
}

bool SimFleet::SendTo(size_t slot, const std::string& routing_id, const std::string& frame) {
  Slot& s = slots_[slot];
  if (!s.socket.send(zmq::buffer(routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait) ||
      !s.socket.send(zmq::buffer(frame), zmq::send_flags::dontwait)) {
    ++send_failures_;
    return false;
  }
  Touch(slot);
  return true;
}

bool SimFleet::TrySend(size_t slot, const std::string& frame) {
  if (!slots_[slot].socket.send(zmq::buffer(frame), zmq::send_flags::dontwait)) return false;
  Touch(slot);
  return true;
}

void SimFleet::Touch(size_t slot) {
  Slot& s = slots_[slot];
  if (slot != draining_ && !s.drain_pending) {
    s.drain_pending = true;
    touched_.push_back(slot);
  }
}

void SimFleet::Watch(size_t slot) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = slot;
  int fd = slots_[slot].socket.get(zmq::sockopt::fd);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
    throw zmq::error_t();  // errno is set; reported as the run's failure
  }
}

protocol::AgentHello SimFleet::Hello(size_t index, std::vector<std::string> labels) const {
  const SimIdentity& identity = identities_[index];
  protocol::AgentHello hello;
  hello.hostname = identity.hostname;
  hello.agent_version = LABMESH_VERSION;
  hello.incarnation = identity.incarnation;
  hello.public_key = identity.keys.public_z85;
  hello.labels = std::move(labels);
  hello.facts = {"x86_64", "fleetsim", "1", "6.1.0-sim", 4, 8ull << 30, "127.0.0.1"};
  return hello;
}

protocol::Heartbeat SimFleet::Heartbeat(size_t index, uint64_t sequence, uint64_t uptime_s) const {
  protocol::Heartbeat heartbeat;
  heartbeat.incarnation = identities_[index].incarnation;
  heartbeat.sequence = sequence;
  protocol::HostHealth& health = heartbeat.health;
  health.load1 = 0.42;
  health.load5 = 0.38;
  health.load15 = 0.35;
  health.mem_total_bytes = 8ull << 30;
  health.mem_available_bytes = 5ull << 30;
  health.disk_total_bytes = 100ull << 30;
  health.disk_free_bytes = 60ull << 30;
  health.uptime_s = uptime_s;
  return heartbeat;
}

bool SimFleet::Send(size_t slot, const std::string& frame) {
  Slot& s = slots_[slot];
  if (!s.socket.send(zmq::buffer(frame), zmq::send_flags::dontwait)) {
    ++send_failures_;
    return false;
  }
  Touch(slot);
  return true;
}

void SimFleet::Drain(size_t slot) {
  Slot& s = slots_[slot];
  s.drain_pending = false;
  draining_ = slot;
  for (;;) {
    if (!s.socket) break;  // closed by a handler
    zmq::message_t message;
    if (!s.socket.recv(message, zmq::recv_flags::dontwait)) break;
    if (s.router) {
      zmq::message_t frame;
      if (!message.more() || !s.socket.recv(frame, zmq::recv_flags::dontwait)) continue;
      if (on_routed_) on_routed_(slot, message.to_string(), frame.to_string_view(), NowUs());
      continue;
    }
    if (on_frame_) on_frame_(slot, message.to_string_view(), NowUs());
  }
  draining_ = kNone;
}

void SimFleet::DrainTouched() {
  std::vector<size_t> touched;
  touched.swap(touched_);
  for (size_t slot : touched) {
    if (slots_[slot].drain_pending && slots_[slot].socket) Drain(slot);
  }
}

void SimFleet::Poll(int timeout_ms) {
  epoll_event events[256];
  int n = epoll_wait(epoll_fd_, events, 256, timeout_ms);
  if (n < 0 && errno != EINTR) throw zmq::error_t();
  for (int i = 0; i < n; ++i) Drain(static_cast<size_t>(events[i].data.u64));
}

}  // namespace labmesh::bench
