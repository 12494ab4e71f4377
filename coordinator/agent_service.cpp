#include "agent_service.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include "batch.hpp"
#include "core.hpp"
#include "labels.hpp"
#include "metrics.hpp"
#include "package_service.hpp"

namespace labmesh::coordinator {

using protocol::HostStatus;

AgentService::AgentService(const CoordinatorConfig& config, const Clock* clock,
                           HostRegistry* registry, Batch* batch, AgentOutbox outbox, Core* core)
    : config_(config),
      clock_(clock),
      registry_(registry),
      batch_(batch),
      outbox_(std::move(outbox)),
      core_(core) {
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
    case protocol::MessageType::kPackageChunkRequest: {
      if (packages_ != nullptr) {
        // Read-only and nothing to commit: answered at once, off the turn's batch.
        const HostState* state = registry_->FindByRoutingId(routing_id);
        if (state == nullptr || state->record.enrollment != store::Enrollment::kAccepted) {
          outbox_(routing_id, protocol::Encode(protocol::Reregister{"unknown connection"},
                                               envelope->request_id));
          return;
        }
        outbox_(routing_id, packages_->ServeChunk(state->record.hostname, *envelope));
        return;
      }
      SendError(routing_id, envelope->request_id,
                Status::Unsupported("this coordinator serves no packages"));
      break;
    }
    case protocol::MessageType::kPackageChunksRequest:
    case protocol::MessageType::kPeerBadReport: {
      const HostState* state = registry_->FindByRoutingId(routing_id);
      if (state == nullptr || state->record.enrollment != store::Enrollment::kAccepted) {
        outbox_(routing_id, protocol::Encode(protocol::Reregister{"unknown connection"},
                                             envelope->request_id));
        return;
      }
      if (packages_ == nullptr) {
        return SendError(routing_id, envelope->request_id,
                         Status::Unsupported("this coordinator serves no packages"));
      }
      std::string reply = packages_->HandleMesh(state->record.hostname, *envelope);
      if (!reply.empty()) outbox_(routing_id, reply);
      return;
    }
    default:
      if (core_ != nullptr && Core::IsWorkMessage(envelope->type)) {
        const HostState* state = registry_->FindByRoutingId(routing_id);
        if (state == nullptr || state->record.enrollment != store::Enrollment::kAccepted) {
          outbox_(routing_id, protocol::Encode(protocol::Reregister{"unknown connection"},
                                               envelope->request_id));
          return;
        }
        core_->HandleAgent(*state, *envelope);
        return;
      }
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

AgentService::StagedHello* AgentService::FindStaged(const std::string& hostname) {
  auto it = staged_by_host_.find(hostname);
  return it == staged_by_host_.end() ? nullptr : &staged_[it->second];
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

  // What we know of this host: a hello staged in this turn, else the registry's staged view.
  StagedHello* staged = FindStaged(hello->hostname);
  HostState* existing = registry_->Find(hello->hostname);
  const store::Host* known = registry_->Staged(hello->hostname);
  if (known != nullptr && known->public_key != curve_key) {
    return reject("host " + hello->hostname +
                  " is registered with another key; an admin must delete it first");
  }
  if (known == nullptr) {
    if (HostState* other = registry_->FindByKey(curve_key); other != nullptr) {
      return reject("this key is already registered as host " + other->record.hostname);
    }
    if (auto it = staged_by_key_.find(curve_key); it != staged_by_key_.end()) {
      return reject("this key is already registered as host " + staged_[it->second].host.hostname);
    }
  }

  AgentLabelResult labels =
      ComputeAgentLabels(hello->facts, hello->labels, registry_->admin_labels());
  for (size_t i = 0; i < labels.dropped.size(); ++i) {
    spdlog::warn("host={} label dropped: {}", hello->hostname, labels.reasons[i]);
  }

  int64_t now = clock_->WallMs();
  store::Host host = known ? *known : store::Host{};
  bool is_new = staged ? staged->is_new : existing == nullptr;
  host.hostname = hello->hostname;
  host.public_key = curve_key;
  host.agent_labels = labels.labels;
  host.agent_version = hello->agent_version;
  host.facts = hello->facts;
  host.incarnation = hello->incarnation;
  host.last_heartbeat_ms = now;
  bool admitted = config_.auto_accept || TokenMatches(hello->enroll_token);
  if (known == nullptr) {
    host.registered_ms = now;
    host.acl_groups = {store::kEveryoneGroup};
    host.status = HostStatus::kReady;
    host.status_changed_ms = now;
    host.enrollment = admitted ? store::Enrollment::kAccepted : store::Enrollment::kPending;
    host.status_reason = admitted ? "registered" : "waiting for approval";
  } else if (host.enrollment == store::Enrollment::kPending && admitted) {
    host.enrollment = store::Enrollment::kAccepted;
    host.status_reason = "registered with enrollment token";
    host.status_changed_ms = now;
  }
  bool came_back = staged && staged->came_back;
  if (host.enrollment == store::Enrollment::kAccepted && host.status == HostStatus::kDead &&
      host.repair_on_return && core_ != nullptr) {
    // It was lost: it stays Dead until the host tasks have repaired (or verified) it.
    came_back = true;
  } else if (host.enrollment == store::Enrollment::kAccepted && host.status == HostStatus::kDead) {
    // A Dead host that speaks again is Ready again.
    if (Status s = MoveStatus(host, HostStatus::kReady, "agent registered again", now); !s.ok()) {
      spdlog::error("host={} {}", host.hostname, s.ToString());
    } else {
      came_back = true;
    }
  }
  if (host.status != (known ? known->status : host.status)) {
    spdlog::info("host={} status {} -> {} (agent registered again)", host.hostname,
                 protocol::HostStatusName(known->status), protocol::HostStatusName(host.status));
  }
  if (packages_ != nullptr) {
    std::vector<std::string> labels_now = host.agent_labels;
    labels_now.insert(labels_now.end(), host.admin_labels.begin(), host.admin_labels.end());
    packages_->OnAgentHello(host.hostname, *hello, labels_now);
  }
  // A new host, or a changed enrollment or status, must be on disk before the Welcome; a known
  // host saying hello again (either side restarted) changes only soft state its next hello
  // brings back, so a fleet reconnecting to a restarted coordinator waits for no fsync. The
  // registry keeps a host's change durable once any part of it was (HostRegistry::WriteTo).
  registry_->StageRegistration(host, known == nullptr || host.enrollment != known->enrollment ||
                                         host.status != known->status);
  StagedHello next{routing_id, envelope.request_id, std::move(host), is_new, came_back,
                   hello->entries, hello->update_report};
  if (staged) {
    *staged = std::move(next);  // the later hello of the same agent wins
  } else {
    staged_by_host_[next.host.hostname] = staged_.size();
    staged_by_key_[next.host.public_key] = staged_.size();
    staged_.push_back(std::move(next));
  }
}

void AgentService::FinishRegistrations() {
  if (staged_.empty()) return;
  std::vector<StagedHello> hellos;
  hellos.swap(staged_);
  staged_by_host_.clear();
  staged_by_key_.clear();
  // A failed commit stores none of them: each agent hears why and says hello again.
  std::vector<std::pair<std::string, uint64_t>> asked;
  for (const auto& staged : hellos) asked.emplace_back(staged.routing_id, staged.request_id);
  batch_->OnFailure([this, asked = std::move(asked)](const Status& s) {
    spdlog::error("{} registrations not stored: {}", asked.size(), s.ToString());
    for (const auto& [routing_id, request_id] : asked) SendError(routing_id, request_id, s);
  });
  for (const auto& staged : hellos) {
    const store::Host& host = staged.host;
    registry_->SetConnection(host.hostname, staged.routing_id);
    if (host.enrollment == store::Enrollment::kPending) {
      if (staged.is_new) {
        spdlog::info("host={} key={} waits for approval (labmesh host accept {})", host.hostname,
                     host.public_key, host.hostname);
      }
      batch_->ToConnection(staged.routing_id,
                           protocol::Encode(protocol::PendingApproval{
                                                "waiting for an admin: labmesh host accept " +
                                                host.hostname},
                                            staged.request_id));
      continue;
    }
    if (staged.came_back) {
      spdlog::info("host={} came back after it was lost ({})", host.hostname,
                   protocol::HostStatusName(host.status));
    }
    spdlog::info("host={} registered (incarnation={} version={} labels={})", host.hostname,
                 host.incarnation, host.agent_version, host.agent_labels.size());
    batch_->ToConnection(staged.routing_id, WelcomeFor(host, staged.request_id));
    if (core_ != nullptr) {
      core_->OnAgentRegistered(host.hostname, staged.held, staged.update_report);
    }
  }
}

std::string AgentService::WelcomeFor(const store::Host& host, uint64_t request_id) const {
  protocol::Welcome welcome;
  welcome.hostname = host.hostname;
  welcome.heartbeat_interval_ms = static_cast<uint32_t>(config_.heartbeat_interval_ms);
  welcome.labels = EffectiveLabels(host.agent_labels, host.admin_labels);
  return protocol::Encode(welcome, request_id);
}

void AgentService::QueueWelcome(const std::string& hostname, uint64_t request_id) {
  const HostState* state = registry_->Find(hostname);
  const store::Host* host = registry_->Staged(hostname);
  if (state == nullptr || host == nullptr || state->routing_id.empty()) return;
  batch_->ToConnection(state->routing_id, WelcomeFor(*host, request_id));
}

void AgentService::QueueReject(const std::string& routing_id, const std::string& reason) {
  if (routing_id.empty()) return;
  batch_->ToConnection(routing_id, protocol::Encode(protocol::Reject{reason}));
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
  if (metrics_ != nullptr) {
    metrics_->Heartbeat(static_cast<double>(clock_->SteadyMs() - state->last_seen_steady_ms) / 1000);
  }
  registry_->RecordHeartbeat(state->record.hostname, heartbeat->health);
  if (registry_->StagedStatus(state->record.hostname) == HostStatus::kDead) {
    if (Status s = registry_->Transition(state->record.hostname, HostStatus::kReady,
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
    if (registry_->StagedStatus(hostname) == HostStatus::kDead) continue;  // staged already
    if (core_ != nullptr && core_->Rebooting(hostname)) continue;  // its entry's reboot rules
    MarkLost(hostname, "no heartbeat for " + std::to_string(config_.dead_after_ms) + " ms");
  }
}

void AgentService::MarkLost(const std::string& hostname, const std::string& reason) {
  if (registry_->StagedStatus(hostname) == HostStatus::kDead) return;
  Status s = registry_->Transition(hostname, HostStatus::kDead, reason);
  if (!s.ok()) {
    spdlog::error("host={} cannot mark Dead: {}", hostname, s.ToString());
    return;
  }
  registry_->DropConnection(hostname);
  if (packages_ != nullptr) packages_->OnAgentGone(hostname);
  if (core_ != nullptr) core_->OnHostDead(hostname);
}

}  // namespace labmesh::coordinator
