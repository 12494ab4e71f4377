// PeerServer: chunks of packages for other agents; see peer_server.hpp and docs/mesh.md.

#include "update/peer_server.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "labmesh/common/hash.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "labmesh/protocol/messages.hpp"

namespace labmesh::agent {
namespace fs = std::filesystem;

namespace {

// The largest request accepted on the peer socket (a PeerChunkRequest is ~200 bytes).
constexpr int64_t kMaxRequestBytes = 4096;

// "tcp://HOST:PORT" -> HOST, "" when it is not one.
std::string HostOf(const std::string& endpoint) {
  if (!endpoint.starts_with("tcp://")) return "";
  const size_t colon = endpoint.rfind(':');
  if (colon == std::string::npos || colon < 6) return "";
  return endpoint.substr(6, colon - 6);
}

}  // namespace

PeerServer::PeerServer(PeerServerConfig config, zmq::context_t* context, const Clock* clock,
                       std::string hostname,
                       std::function<std::optional<HeldPackage>(const std::string&)> partial)
    : config_(std::move(config)),
      context_(context),
      clock_(clock),
      hostname_(std::move(hostname)),
      partial_(std::move(partial)) {}

PeerServer::~PeerServer() = default;

Status PeerServer::Bind() {
  if (config_.listen.empty()) return Status::Ok();
  char public_z85[41], secret_z85[41];
  if (zmq_curve_keypair(public_z85, secret_z85) != 0) {
    return Status::Internal(std::string("zmq_curve_keypair: ") + zmq_strerror(zmq_errno()));
  }
  secret_.resize(protocol::kPeerSecretBytes);
  randombytes_buf(secret_.data(), secret_.size());
  try {
    auto socket = std::make_unique<zmq::socket_t>(*context_, zmq::socket_type::router);
    socket->set(zmq::sockopt::linger, 0);
    socket->set(zmq::sockopt::curve_server, 1);
    socket->set(zmq::sockopt::curve_secretkey, std::string(secret_z85));
    socket->set(zmq::sockopt::maxmsgsize, kMaxRequestBytes);
    socket->set(zmq::sockopt::sndhwm, 64);
    socket->bind(config_.listen);
    std::string bound = socket->get(zmq::sockopt::last_endpoint);
    std::string host = HostOf(bound);
    if (host.empty() || host == "0.0.0.0" || host == "[::]" || host == "*") {
      host = config_.advertise;
    }
    const size_t colon = bound.rfind(':');
    if (host.empty() || colon == std::string::npos) {
      return Status::InvalidArgument("--peer-listen " + config_.listen +
                                     ": no address other agents reach (set --peer-advertise)");
    }
    endpoint_ = "tcp://" + host + bound.substr(colon);
    socket_ = std::move(socket);
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("--peer-listen " + config_.listen + ": " + e.what());
  }
  public_z85_ = public_z85;
  sodium_memzero(secret_z85, sizeof secret_z85);
  spdlog::info("host={} serves package chunks to peers on {} (bound {})", hostname_, endpoint_,
               config_.listen);
  return Status::Ok();
}

void PeerServer::FillHello(protocol::AgentHello* hello) const {
  if (!socket_) return;
  hello->peer_endpoint = endpoint_;
  hello->peer_public_key = public_z85_;
  hello->peer_secret.assign(secret_.begin(), secret_.end());
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(config_.cache_dir, ec)) {
    const std::string name = item.path().filename().string();
    if (name.size() == 64 + 7 && name.ends_with(".tar.gz") && IsHexDigest(name.substr(0, 64))) {
      hello->packages_held.push_back(name.substr(0, 64));
    }
  }
}

void PeerServer::AppendPollItems(std::vector<zmq_pollitem_t>* items) const {
  if (socket_) items->push_back(zmq_pollitem_t{socket_->handle(), 0, ZMQ_POLLIN, 0});
}

void PeerServer::OnPolled(std::span<const zmq_pollitem_t> items) {
  if (!items.empty() && (items[0].revents & ZMQ_POLLIN) != 0) Receive();
}

void PeerServer::Send(const std::string& routing_id, const std::string& frame) {
  try {
    zmq::message_t id(routing_id.data(), routing_id.size());
    if (!socket_->send(id, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) return;
    socket_->send(zmq::buffer(frame), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    spdlog::debug("host={} peer socket: cannot answer: {}", hostname_, e.what());
  }
}

void PeerServer::Receive() {
  protocol::DecodeLimits limits;
  limits.max_frame_bytes = kMaxRequestBytes;
  for (int n = 0; n < 256; ++n) {
    std::vector<zmq::message_t> parts;
    try {
      zmq::message_t part;
      if (!socket_->recv(part, zmq::recv_flags::dontwait)) return;
      parts.push_back(std::move(part));
      while (parts.back().more()) {
        zmq::message_t more;
        if (!socket_->recv(more, zmq::recv_flags::dontwait)) break;
        parts.push_back(std::move(more));
      }
    } catch (const zmq::error_t& e) {
      spdlog::warn("host={} peer socket: {}", hostname_, e.what());
      return;
    }
    if (parts.size() != 2) continue;  // [routing id, frame]; anything else is not ours
    const std::string routing_id = parts[0].to_string();
    const std::string_view frame = parts[1].to_string_view();
    auto refuse = [&](uint64_t request_id, const Status& status) {
      spdlog::info("host={} peer request refused: {}", hostname_, status.message());
      Send(routing_id, protocol::ErrorFrame(request_id, status));
    };
    auto envelope = protocol::DecodeEnvelope(frame, limits);
    if (!envelope.ok()) {
      refuse(protocol::PeekRequestId(frame, limits), envelope.status());
      continue;
    }
    if (envelope->type != protocol::MessageType::kPeerChunkRequest) {
      refuse(envelope->request_id, Status::Unsupported("only PeerChunkRequest is served here"));
      continue;
    }
    auto request = protocol::DecodeBody<protocol::PeerChunkRequest>(*envelope);
    if (!request.ok()) {
      refuse(envelope->request_id, request.status());
      continue;
    }
    const std::string ticket(request->ticket.begin(), request->ticket.end());
    if (!IsHexDigest(request->sha256) ||
        !SecretEquals(ticket, protocol::MeshTicket(secret_, request->sha256, request->fetcher))) {
      refuse(envelope->request_id,
             Status::PermissionDenied("no ticket of the coordinator for " +
                                      request->fetcher.substr(0, 80) + " and this package"));
      continue;
    }
    if (queue_.size() >= config_.max_fetchers) {
      refuse(envelope->request_id, Status::Unavailable("busy: " +
                                                       std::to_string(queue_.size()) +
                                                       " fetches waiting"));
      continue;
    }
    queue_.push_back({routing_id, envelope->request_id, request->sha256, request->index});
  }
}

std::optional<HeldPackage> PeerServer::Find(const std::string& sha256) const {
  const std::string path = config_.cache_dir + "/" + sha256 + ".tar.gz";
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  if (!ec) return HeldPackage{path, size, size};
  return partial_ ? partial_(sha256) : std::nullopt;
}

void PeerServer::Answer(const Pending& p) {
  auto held = Find(p.sha256);
  const uint64_t offset = uint64_t{p.index} * protocol::kMeshChunkBytes;
  if (!held || offset >= held->total) {
    return Send(p.routing_id,
                protocol::ErrorFrame(p.request_id, Status::NotFound("no such package here")));
  }
  const uint64_t size = std::min<uint64_t>(protocol::kMeshChunkBytes, held->total - offset);
  if (offset + size > held->have) {
    return Send(p.routing_id, protocol::ErrorFrame(
                                  p.request_id, Status::NotFound("chunk " +
                                                                 std::to_string(p.index) +
                                                                 " is not here yet")));
  }
  protocol::PeerChunk chunk;
  chunk.sha256 = p.sha256;
  chunk.index = p.index;
  chunk.data.resize(size);
  int fd = ::open(held->path.c_str(), O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : ::pread(fd, chunk.data.data(), size, static_cast<off_t>(offset));
  if (fd >= 0) ::close(fd);
  if (n != static_cast<ssize_t>(size)) {
    return Send(p.routing_id, protocol::ErrorFrame(
                                  p.request_id, Status::Internal("cannot read " + held->path)));
  }
  Send(p.routing_id, protocol::Encode(chunk, p.request_id));
  ++served_;
  if (config_.upload_rate > 0) {
    const int64_t now = clock_->SteadyMs();
    const int64_t cost = static_cast<int64_t>((size * 1000 + config_.upload_rate - 1) /
                                              config_.upload_rate);
    next_send_ms_ = std::max(next_send_ms_, now) + cost;
  }
}

void PeerServer::Service() {
  while (!queue_.empty() && (config_.upload_rate == 0 || clock_->SteadyMs() >= next_send_ms_)) {
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    Answer(p);
  }
}

int64_t PeerServer::NextDeadlineMs() const {
  if (queue_.empty()) return INT64_MAX;
  return config_.upload_rate == 0 ? clock_->SteadyMs() : next_send_ms_;
}

}  // namespace labmesh::agent
