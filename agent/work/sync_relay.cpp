// SyncRelay: labmesh-sync's requests to the coordinator and back; see sync_relay.hpp.

#include "work/sync_relay.hpp"

#include "labmesh/agent/config.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>

#include "labmesh/common/duration.hpp"
#include "work/sync_rules.hpp"

namespace labmesh::agent {
namespace fs = std::filesystem;

namespace {

constexpr int kMaxRequestsPerRead = 64;  // then the loop gets a turn
constexpr const char* kBindDirPrefix = ".sync-";

uint64_t InodeOf(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

protocol::SyncReply ReplyFor(const protocol::SyncRequest& request) {
  protocol::SyncReply reply;
  reply.entry_id = request.entry_id;
  reply.op = request.op;
  reply.name = request.name;
  reply.generation = request.generation;
  return reply;
}

}  // namespace

SyncRelay::SyncRelay(zmq::context_t& context, const Clock* clock, std::string hostname,
                     std::string socket_path, SendFn send, RunningFn running,
                     RequestIdFn next_request_id, SyncRelayLimits limits)
    : context_(context),
      clock_(clock),
      hostname_(std::move(hostname)),
      socket_path_(std::move(socket_path)),
      send_(std::move(send)),
      running_(std::move(running)),
      next_request_id_(std::move(next_request_id)),
      limits_(limits) {
  decode_limits_.max_frame_bytes = limits_.max_helper_frame_bytes;
}

SyncRelay::~SyncRelay() {
  socket_.reset();
  // Another agent given the same work directory may have replaced the file: only ours goes.
  if (socket_inode_ != 0 && InodeOf(socket_path_) == socket_inode_) unlink(socket_path_.c_str());
}

Status SyncRelay::Bind() {
  const fs::path target(socket_path_);
  const std::string dir = target.parent_path().string();
  // The temporary name below is longer than the final one: check both against sun_path.
  const std::string temp_template = dir + "/" + kBindDirPrefix + "XXXXXX";
  const size_t limit = sizeof(sockaddr_un{}.sun_path) - 1;
  if (socket_path_.size() > limit || temp_template.size() + 2 > limit) {
    const size_t dir_limit = limit - (temp_template.size() + 2 - dir.size());
    return Status::InvalidArgument("sync socket path " + socket_path_ +
                                   " is too long for a unix socket (the work directory may have " +
                                   std::to_string(dir_limit) + " bytes at most)");
  }
  std::error_code ec;
  // Directories left by a run that died between mkdtemp and rmdir.
  for (const auto& dirent : fs::directory_iterator(dir, ec)) {
    if (dirent.path().filename().string().rfind(kBindDirPrefix, 0) == 0) {
      fs::remove_all(dirent.path(), ec);
    }
  }
  std::string temp_dir = temp_template;
  if (mkdtemp(temp_dir.data()) == nullptr) {  // mode 0700: nobody else reaches what is inside
    return Status::Internal("cannot create a directory in " + dir + ": " + std::strerror(errno));
  }
  const std::string temp_path = temp_dir + "/s";
  auto cleanup = [&] {
    unlink(temp_path.c_str());
    rmdir(temp_dir.c_str());
  };
  try {
    socket_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::router);
    socket_->set(zmq::sockopt::linger, 0);
    socket_->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(limits_.max_helper_frame_bytes));
    socket_->bind("ipc://" + temp_path);
  } catch (const zmq::error_t& e) {
    socket_.reset();
    cleanup();
    return Status::Internal("cannot bind the sync socket in " + temp_dir + ": " + e.what());
  }
  // chmod, then rename: the file is 0600 before anyone outside the 0700 directory can see it,
  // and rename replaces a stale sync.sock atomically.
  if (chmod(temp_path.c_str(), 0600) != 0 || rename(temp_path.c_str(), socket_path_.c_str()) != 0) {
    std::string error = std::strerror(errno);
    socket_.reset();
    cleanup();
    return Status::Internal("cannot put the sync socket at " + socket_path_ + ": " + error);
  }
  rmdir(temp_dir.c_str());
  socket_inode_ = InodeOf(socket_path_);
  spdlog::info("host={} sync socket at ipc://{}", hostname_, socket_path_);
  return Status::Ok();
}

void SyncRelay::AppendPollItems(std::vector<zmq_pollitem_t>* items) const {
  if (socket_) items->push_back(zmq_pollitem_t{socket_->handle(), 0, ZMQ_POLLIN, 0});
}

void SyncRelay::OnPolled(std::span<const zmq_pollitem_t> items) {
  if (!items.empty() && (items.front().revents & ZMQ_POLLIN)) OnReadable();
}

void SyncRelay::OnReadable() {
  if (!socket_) return;
  try {
    for (int i = 0; i < kMaxRequestsPerRead; ++i) {
      std::vector<zmq::message_t> parts;
      zmq::message_t part;
      if (!socket_->recv(part, zmq::recv_flags::dontwait)) return;
      parts.push_back(std::move(part));
      while (parts.back().more()) {
        zmq::message_t next;
        if (!socket_->recv(next, zmq::recv_flags::none)) break;
        parts.push_back(std::move(next));
      }
      // ROUTER: [helper routing id, request]. labmesh-sync uses a DEALER: no empty delimiter.
      if (parts.size() != 2) {
        spdlog::warn("host={} sync: dropped a local message of {} frames", hostname_, parts.size());
        continue;
      }
      HandleHelper(parts[0].to_string(), parts[1].to_string_view());
    }
  } catch (const zmq::error_t& e) {
    spdlog::warn("host={} sync socket: {}", hostname_, e.what());
  }
}

void SyncRelay::HandleHelper(const std::string& helper, std::string_view frame) {
  protocol::SyncRequest unknown;
  auto envelope = protocol::DecodeEnvelope(frame, decode_limits_);
  if (!envelope.ok()) {
    Refuse(helper, protocol::PeekRequestId(frame, decode_limits_), unknown,
           "bad request: " + envelope.status().message());
    return;
  }
  if (envelope->type != protocol::MessageType::kSyncRequest) {
    Refuse(helper, envelope->request_id, unknown,
           std::string("bad request: expected a SyncRequest, got ") +
               std::string(protocol::MessageTypeName(envelope->type)));
    return;
  }
  auto request = protocol::DecodeBody<protocol::SyncRequest>(*envelope);
  if (!request.ok()) {
    Refuse(helper, envelope->request_id, unknown, "bad request: " + request.status().message());
    return;
  }
  if (request->op == "reboot") {
    RebootAsked(helper, envelope->request_id, *request);
    return;
  }
  Accept(helper, envelope->request_id, std::move(*request));
}

void SyncRelay::RebootAsked(const std::string& helper, uint64_t helper_request_id,
                            const protocol::SyncRequest& request) {
  if (request.timeout_ms < 0) return Refuse(helper, helper_request_id, request, "negative timeout");
  if (!reboot_) return Refuse(helper, helper_request_id, request, "this agent cannot reboot");
  if (request.entry_id == 0 || !running_(request.entry_id)) {
    return Refuse(helper, helper_request_id, request,
                  "reboot: entry " + std::to_string(request.entry_id) +
                      " has no control running on " + hostname_);
  }
  auto answer = reboot_(request.entry_id, request.timeout_ms);
  if (!answer.ok()) return Refuse(helper, helper_request_id, request, answer.status().message());
  protocol::SyncReply reply = ReplyFor(request);
  reply.ok = true;
  reply.value.assign(answer->begin(), answer->end());
  ReplyToHelper(helper, helper_request_id, reply);
}

void SyncRelay::Accept(const std::string& helper, uint64_t helper_request_id,
                       protocol::SyncRequest request) {
  request.generation = 0;  // ours to count
  if (Status s = ValidateSyncRequest(request); !s.ok()) {
    Refuse(helper, helper_request_id, request, s.message());
    return;
  }
  if (request.entry_id == 0 || !running_(request.entry_id)) {
    Refuse(helper, helper_request_id, request,
           DescribeSyncRequest(request) + ": entry " + std::to_string(request.entry_id) +
               " has no control running on " + hostname_);
    return;
  }
  EntryState& state = entries_[request.entry_id];
  const std::string entry = "entry " + std::to_string(request.entry_id);
  if (state.outstanding >= limits_.max_outstanding_per_entry) {
    Refuse(helper, helper_request_id, request,
           DescribeSyncRequest(request) + ": " + entry + " already has " +
               std::to_string(state.outstanding) + " sync requests waiting (the most allowed)");
    return;
  }
  if (request.op == "send" &&
      state.values.size() + state.sends_outstanding >= limits_.max_values_per_entry) {
    Refuse(helper, helper_request_id, request,
           DescribeSyncRequest(request) + ": " + entry + " already sent " +
               std::to_string(limits_.max_values_per_entry) + " values (the most allowed)");
    return;
  }
  if (request.op == "barrier") {
    auto uses = state.barrier_uses.find(request.name);
    if (uses == state.barrier_uses.end()) {
      if (state.barrier_uses.size() >= limits_.max_barrier_names_per_entry) {
        Refuse(helper, helper_request_id, request,
               DescribeSyncRequest(request) + ": " + entry + " already used " +
                   std::to_string(state.barrier_uses.size()) + " barrier names (the most allowed)");
        return;
      }
      uses = state.barrier_uses.emplace(request.name, 0).first;
    }
    request.generation = ++uses->second;
  }
  // Only the fields of the op travel on.
  if (request.op != "send") request.value.clear();
  if (request.op != "wait") request.from_host.clear();
  if (request.op == "send") request.timeout_ms = 0;

  const uint64_t id = next_request_id_();
  Pending pending;
  pending.helper = helper;
  pending.helper_request_id = helper_request_id;
  pending.frame = protocol::Encode(request, id);
  if (request.timeout_ms > 0) {
    pending.give_up_at_ms = clock_->SteadyMs() + request.timeout_ms + limits_.local_grace_ms;
  }
  spdlog::debug("host={} entry={} sync {} request={}", hostname_, request.entry_id,
                DescribeSyncRequest(request), id);
  pending.request = std::move(request);
  state.outstanding++;
  if (pending.request.op == "send") state.sends_outstanding++;
  pending_.emplace(id, std::move(pending));
  Flush();
}

void SyncRelay::Refuse(const std::string& helper, uint64_t helper_request_id,
                       const protocol::SyncRequest& request, const std::string& error) {
  spdlog::info("host={} entry={} sync request refused: {}", hostname_, request.entry_id, error);
  protocol::SyncReply reply = ReplyFor(request);
  reply.ok = false;
  reply.error = error;
  ReplyToHelper(helper, helper_request_id, reply);
}

void SyncRelay::ReplyToHelper(const std::string& helper, uint64_t helper_request_id,
                              const protocol::SyncReply& reply) {
  if (!socket_) return;
  const std::string frame = protocol::Encode(reply, helper_request_id);
  try {
    // A helper that went away (killed, its guard expired) is not there: ROUTER drops silently.
    if (socket_->send(zmq::buffer(helper), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      (void)socket_->send(zmq::buffer(frame), zmq::send_flags::dontwait);
    }
  } catch (const zmq::error_t& e) {
    spdlog::warn("host={} entry={} cannot answer a sync helper: {}", hostname_, reply.entry_id,
                 e.what());
  }
}

void SyncRelay::Complete(std::map<uint64_t, Pending>::iterator it,
                         const protocol::SyncReply& reply) {
  Pending& pending = it->second;
  auto state = entries_.find(pending.request.entry_id);
  if (state != entries_.end()) {
    EntryState& s = state->second;
    if (s.outstanding > 0) s.outstanding--;
    if (pending.request.op == "send") {
      if (s.sends_outstanding > 0) s.sends_outstanding--;
      std::pair<std::string, std::vector<char>> value{pending.request.name, pending.request.value};
      if (reply.ok && std::find(s.values.begin(), s.values.end(), value) == s.values.end()) {
        s.values.push_back(std::move(value));
      }
    }
  }
  ReplyToHelper(pending.helper, pending.helper_request_id, reply);
  pending_.erase(it);
}

bool SyncRelay::Handle(const protocol::Envelope& envelope) {
  using T = protocol::MessageType;
  if (envelope.type != T::kSyncReply && envelope.type != T::kError) return false;
  auto it = pending_.find(envelope.request_id);
  if (envelope.type == T::kError && it == pending_.end()) return false;  // not ours
  protocol::SyncReply reply;
  if (envelope.type == T::kSyncReply) {
    auto decoded = protocol::DecodeBody<protocol::SyncReply>(envelope);
    if (!decoded.ok()) {
      if (it == pending_.end()) return true;
      reply = ReplyFor(it->second.request);
      reply.error = "unreadable answer from the coordinator: " + decoded.status().message();
    } else {
      reply = std::move(*decoded);
    }
  } else {
    auto error = protocol::DecodeBody<protocol::ErrorReply>(envelope);
    reply = ReplyFor(it->second.request);
    reply.error = DescribeSyncRequest(it->second.request) + ": refused by the coordinator: " +
                  (error.ok() ? error->message : "(unreadable error)");
  }
  if (it == pending_.end()) {
    // A value sent again after a reconnect, or a request answered twice: nobody waits.
    if (!reply.ok) {
      spdlog::warn("host={} entry={} sync {} not stored again: {}", hostname_, reply.entry_id,
                   reply.op, reply.error);
    }
    return true;
  }
  // The helper learns what it asked, whatever the coordinator echoed.
  const protocol::SyncRequest& request = it->second.request;
  reply.entry_id = request.entry_id;
  reply.op = request.op;
  reply.name = request.name;
  reply.generation = request.generation;
  if (!reply.ok && reply.error.empty()) reply.error = DescribeSyncRequest(request) + ": failed";
  Complete(it, reply);
  return true;
}

void SyncRelay::OnWelcome() {
  connected_ = true;
  retry_at_ms_ = 0;
  resend_.clear();
  // Values first: a coordinator that restarted has lost them, and waits may depend on them.
  for (const auto& [entry_id, state] : entries_) {
    for (const auto& [key, value] : state.values) {
      protocol::SyncRequest send;
      send.entry_id = entry_id;
      send.op = "send";
      send.name = key;
      send.value = value;
      resend_.push_back(protocol::Encode(send, next_request_id_()));
    }
  }
  for (auto& [id, pending] : pending_) pending.sent = false;
  if (!resend_.empty() || !pending_.empty()) {
    spdlog::info("host={} sync: sending {} stored values and {} waiting requests again", hostname_,
                 resend_.size(), pending_.size());
  }
  Flush();
}

void SyncRelay::OnDisconnected() {
  connected_ = false;
  retry_at_ms_ = 0;
  resend_.clear();
}

void SyncRelay::Flush() {
  if (!connected_ || retry_at_ms_ != 0) return;
  auto refused = [&] { retry_at_ms_ = clock_->SteadyMs() + kSendRetryMs; };
  while (!resend_.empty()) {
    if (!send_(resend_.front())) return refused();
    resend_.pop_front();
  }
  for (auto& [id, pending] : pending_) {
    if (pending.sent) continue;
    if (!send_(pending.frame)) return refused();
    pending.sent = true;
  }
}

void SyncRelay::EntryEnded(uint64_t entry_id, const std::string& why) {
  size_t answered = 0;
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto next = std::next(it);
    if (it->second.request.entry_id == entry_id) {
      protocol::SyncReply reply = ReplyFor(it->second.request);
      reply.error = "the entry ended" + (why.empty() ? std::string() : ": " + why);
      Complete(it, reply);
      answered++;
    }
    it = next;
  }
  if (entries_.erase(entry_id) > 0 || answered > 0) {
    spdlog::info("host={} entry={} sync state dropped ({} waiting requests answered)", hostname_,
                 entry_id, answered);
  }
}

void SyncRelay::Service() {
  const int64_t now = clock_->SteadyMs();
  if (retry_at_ms_ != 0 && now >= retry_at_ms_) {
    retry_at_ms_ = 0;
    Flush();
  }
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto next = std::next(it);
    const Pending& pending = it->second;
    if (pending.give_up_at_ms != 0 && now >= pending.give_up_at_ms) {
      protocol::SyncReply reply = ReplyFor(pending.request);
      reply.error = DescribeSyncRequest(pending.request) + ": no answer from the coordinator " +
                    FormatDurationMs(limits_.local_grace_ms) + " after the timeout of " +
                    FormatDurationMs(pending.request.timeout_ms) +
                    (connected_ ? "" : " (the agent is not connected to it)");
      spdlog::warn("host={} entry={} sync {}", hostname_, pending.request.entry_id, reply.error);
      Complete(it, reply);
    }
    it = next;
  }
}

int64_t SyncRelay::NextDeadlineMs() const {
  int64_t next = retry_at_ms_ != 0 ? retry_at_ms_ : INT64_MAX;
  for (const auto& [id, pending] : pending_) {
    if (pending.give_up_at_ms != 0) next = std::min(next, pending.give_up_at_ms);
  }
  return next;
}

}  // namespace labmesh::agent
