// The helpers' side of the agent's sync socket; see sync_client.hpp.

#include "sync_client.hpp"

#include <sys/stat.h>

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <zmq.hpp>

#include "labmesh/common/duration.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "work/sync_rules.hpp"

namespace labmesh::agent {

namespace {
constexpr uint64_t kRequestId = 1;  // one request per process
}  // namespace

Result<LocalAgent> FindLocalAgent() {
  const char* sync = std::getenv("LABMESH_SYNC");
  const char* entry = std::getenv("LABMESH_ENTRY_ID");
  if (sync == nullptr || *sync == '\0' || entry == nullptr || *entry == '\0') {
    return Status::FailedPrecondition(
        "not inside a labmesh control (LABMESH_SYNC and LABMESH_ENTRY_ID are not set)");
  }
  LocalAgent agent;
  std::string_view entry_text(entry);
  auto [end, ec] =
      std::from_chars(entry_text.data(), entry_text.data() + entry_text.size(), agent.entry_id);
  if (ec != std::errc() || end != entry_text.data() + entry_text.size() || agent.entry_id == 0) {
    return Status::InvalidArgument("LABMESH_ENTRY_ID '" + std::string(entry_text) +
                                   "' is not an entry id");
  }
  agent.endpoint = sync;
  constexpr std::string_view kIpc = "ipc://";
  if (agent.endpoint.rfind(kIpc, 0) != 0) {
    return Status::InvalidArgument("LABMESH_SYNC '" + agent.endpoint +
                                   "' is not an ipc:// endpoint");
  }
  // Connecting to a missing socket would wait forever: say so instead.
  const std::string path = agent.endpoint.substr(kIpc.size());
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
    return Status::Unavailable("the agent's sync socket " + path +
                               " is not there (is the agent running?)");
  }
  return agent;
}

Result<protocol::SyncReply> AskAgent(const std::string& endpoint,
                                     const protocol::SyncRequest& request, int64_t guard_ms) {
  const std::string what = DescribeSyncRequest(request);
  try {
    zmq::context_t context(1);
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::maxmsgsize,
               static_cast<int64_t>(protocol::kMaxSyncValueBytes + 64 * 1024));
    socket.set(zmq::sockopt::sndtimeo, 5'000);
    socket.connect(endpoint);
    const std::string frame = protocol::Encode(request, kRequestId);
    if (!socket.send(zmq::buffer(frame), zmq::send_flags::none)) {
      return Status::Unavailable(what + ": the agent did not take the request (" + endpoint + ")");
    }
    using Clock = std::chrono::steady_clock;
    std::optional<Clock::time_point> deadline;
    if (guard_ms > 0) deadline = Clock::now() + std::chrono::milliseconds(guard_ms);
    while (true) {
      long wait_ms = -1;
      if (deadline) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
        if (left.count() <= 0) {
          return Status::Timeout(what + ": no answer from the agent within " +
                                          FormatDurationMs(guard_ms));
        }
        wait_ms = static_cast<long>(left.count());
      }
      zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(wait_ms));
      if ((item.revents & ZMQ_POLLIN) == 0) continue;
      zmq::message_t message;
      if (!socket.recv(message, zmq::recv_flags::dontwait)) continue;
      auto envelope = protocol::DecodeEnvelope(message.to_string_view());
      if (!envelope.ok() || envelope->request_id != kRequestId) continue;
      auto reply = protocol::DecodeAs<protocol::SyncReply>(message.to_string_view());
      if (!reply.ok()) return Status::Internal(what + ": " + reply.status().message());
      return *reply;
    }
  } catch (const zmq::error_t& e) {
    return Status::Unavailable(what + ": " + e.what());
  }
}

}  // namespace labmesh::agent
