#include "agent_service.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include "labels.hpp"

namespace labmesh::coordinator {

using protocol::HostStatus;

AgentService::AgentService(const CoordinatorConfig& config, const Clock* clock,
                           HostRegistry* registry, AgentOutbox outbox)
    : config_(config), clock_(clock), registry_(registry), outbox_(std::move(outbox)) {
  limits_.max_frame_bytes = config.max_frame_bytes;
}

void AgentService::SendError(const std::string& routing_id, uint64_t request_id,
                             const Status& status) {
  // Bad frames can come in floods; log at most one line a second about them.
  int64_t now = clock_->SteadyMs();
  if (now - last_bad_frame_log_ms_ >= 1000) {
    last_bad_frame_log_ms_ = now;
    spdlog::warn("agent socket: refused a message: {}", status.ToString());
  }
  outbox_(routing_id, protocol::Encode(protocol::ErrorReply::FromStatus(status), request_id));
}

void AgentService::HandleFrame(const std::string& routing_id, const std::string& curve_key,
                               std::string_view frame) {
  auto envelope = protocol::DecodeEnvelope(frame, limits_);
  if (!envelope.ok()) {
    SendError(routing_id, protocol::PeekRequestId(frame, limits_), envelope.status());
    return;
  }
  switch (envelope->type) {
    case protocol::MessageType::kAgentHello:
      HandleHello(routing_id, curve_key, *envelope);
      break;
    case protocol::MessageType::kHeartbeat:
      HandleHeartbeat(routing_id, *envelope);
      break;
    default:
      SendError(routing_id, envelope->request_id,
                Status::Unsupported(std::string(protocol::MessageTypeName(envelope->type)) +
                                    " is not accepted on the agent socket"));
  }
}

bool AgentService::TokenMatches(const std::string& token) const {
  const std::string& want = config_.enroll_token;
  if (want.empty() || token.size() != want.size()) return false;
  return sodium_memcmp(token.data(), want.data(), want.size()) == 0;
}

void AgentService::HandleHello(const std::string& routing_id, const std::string& curve_key,
                               const protocol::Envelope& envelope) {
  auto hello = protocol::DecodeBody<protocol::AgentHello>(envelope);
  if (!hello.ok()) {
    SendError(routing_id, envelope.request_id, hello.status());
    return;
  }
  auto reject = [&](const std::string& reason) {
    spdlog::warn("host={} key={} registration refused: {}", hello->hostname.substr(0, 80),
                 curve_key, reason);
    outbox_(routing_id, protocol::Encode(protocol::Reject{reason}, envelope.request_id));
  };
  if (Status s = ValidateHostname(hello->hostname); !s.ok()) return reject(s.message());
  if (curve_key.empty()) return reject("no authenticated Curve key on this connection");
  if (!hello->public_key.empty() && hello->public_key != curve_key) {
    return reject("the hello's public key is not the key this connection authenticated with");
  }
  if (registry_->IsKeyRevoked(curve_key)) return reject("this agent's key has been revoked");

  HostState* existing = registry_->Find(hello->hostname);
  if (existing != nullptr && existing->record.public_key != curve_key) {
    return reject("host " + hello->hostname +
                  " is registered with another key; an admin must delete it first");
  }
  if (existing == nullptr) {
    if (HostState* other = registry_->FindByKey(curve_key); other != nullptr) {
      return reject("this key is already registered as host " + other->record.hostname);
    }
  }

  AgentLabelResult labels =
      ComputeAgentLabels(hello->facts, hello->labels, registry_->admin_labels());
  for (size_t i = 0; i < labels.dropped.size(); ++i) {
    spdlog::warn("host={} label dropped: {}", hello->hostname, labels.reasons[i]);
  }

  store::Host host = existing ? existing->record : store::Host{};
  bool is_new = existing == nullptr;
  host.hostname = hello->hostname;
  host.public_key = curve_key;
  host.agent_labels = labels.labels;
  host.agent_version = hello->agent_version;
  host.facts = hello->facts;
  host.incarnation = hello->incarnation;
  host.last_heartbeat_ms = clock_->WallMs();
  if (is_new) {
    host.registered_ms = clock_->WallMs();
    host.status = HostStatus::kReady;
    host.status_changed_ms = clock_->WallMs();
    bool admitted = config_.auto_accept || TokenMatches(hello->enroll_token);
    host.enrollment = admitted ? store::Enrollment::kAccepted : store::Enrollment::kPending;
    host.status_reason = admitted ? "registered" : "waiting for approval";
  } else if (host.enrollment == store::Enrollment::kPending &&
             (config_.auto_accept || TokenMatches(hello->enroll_token))) {
    host.enrollment = store::Enrollment::kAccepted;
    host.status = HostStatus::kReady;
    host.status_reason = "registered with enrollment token";
    host.status_changed_ms = clock_->WallMs();
  }
  // A Dead host that speaks again goes back to Ready through SetStatus, after the commit below.
  bool came_back = !is_new && host.enrollment == store::Enrollment::kAccepted &&
                   host.status == HostStatus::kDead;

  if (Status s = registry_->Put(host); !s.ok()) {
    spdlog::error("host={} registration not stored: {}", host.hostname, s.ToString());
    SendError(routing_id, envelope.request_id, s);
    return;
  }
  registry_->SetConnection(host.hostname, routing_id);
  HostState* state = registry_->Find(host.hostname);

  if (host.enrollment == store::Enrollment::kPending) {
    if (is_new) {
      spdlog::info("host={} key={} waits for approval (labmesh host accept {})", host.hostname,
                   curve_key, host.hostname);
    }
    outbox_(routing_id,
            protocol::Encode(protocol::PendingApproval{"waiting for an admin: labmesh host accept " +
                                                       host.hostname},
                             envelope.request_id));
    return;
  }
  if (came_back) {
    if (Status s = registry_->SetStatus(host.hostname, HostStatus::kReady, "agent registered again");
        !s.ok()) {
      spdlog::error("host={} {}", host.hostname, s.ToString());
    }
  }
  spdlog::info("host={} registered (incarnation={} version={} labels={})", host.hostname,
               host.incarnation, host.agent_version, host.agent_labels.size());
  SendWelcome(*state, envelope.request_id);
}

void AgentService::SendWelcome(const HostState& state, uint64_t request_id) {
  if (state.routing_id.empty()) return;
  protocol::Welcome welcome;
  welcome.hostname = state.record.hostname;
  welcome.heartbeat_interval_ms = static_cast<uint32_t>(config_.heartbeat_interval_ms);
  welcome.labels = EffectiveLabels(state.record.agent_labels, state.record.admin_labels);
  outbox_(state.routing_id, protocol::Encode(welcome, request_id));
}

void AgentService::SendReject(const std::string& routing_id, const std::string& reason) {
  if (routing_id.empty()) return;
  outbox_(routing_id, protocol::Encode(protocol::Reject{reason}));
}

void AgentService::HandleHeartbeat(const std::string& routing_id,
                                   const protocol::Envelope& envelope) {
  auto heartbeat = protocol::DecodeBody<protocol::Heartbeat>(envelope);
  if (!heartbeat.ok()) {
    SendError(routing_id, envelope.request_id, heartbeat.status());
    return;
  }
  HostState* state = registry_->FindByRoutingId(routing_id);
  if (state == nullptr || state->record.enrollment != store::Enrollment::kAccepted ||
      state->record.incarnation != heartbeat->incarnation) {
    // A connection we have no registration for: after a coordinator restart, or an agent
    // restarted behind the same connection. Ask for a fresh hello.
    outbox_(routing_id, protocol::Encode(protocol::Reregister{"unknown connection"},
                                         envelope.request_id));
    return;
  }
  ++heartbeats_received_;
  registry_->RecordHeartbeat(state->record.hostname, heartbeat->health);
  if (state->record.status == HostStatus::kDead) {
    if (Status s = registry_->SetStatus(state->record.hostname, HostStatus::kReady,
                                        "heartbeat resumed");
        !s.ok()) {
      spdlog::error("host={} {}", state->record.hostname, s.ToString());
    }
  }
  outbox_(routing_id,
          protocol::Encode(protocol::HeartbeatAck{heartbeat->sequence}, envelope.request_id));
}

void AgentService::CheckDeadHosts() {
  for (const std::string& hostname : registry_->SilentHosts(config_.dead_after_ms)) {
    Status s = registry_->SetStatus(hostname, HostStatus::kDead,
                                    "no heartbeat for " + std::to_string(config_.dead_after_ms) +
                                        " ms");
    if (!s.ok()) {
      spdlog::error("host={} cannot mark Dead: {}", hostname, s.ToString());
      continue;
    }
    registry_->DropConnection(hostname);
  }
}

}  // namespace labmesh::coordinator
