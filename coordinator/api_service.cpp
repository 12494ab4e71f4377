#include "api_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "labels.hpp"

namespace labmesh::coordinator {

using protocol::Encode;
using protocol::ErrorReply;
using protocol::HostStatus;

namespace {

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

ApiService::ApiService(const Clock* clock, HostRegistry* registry, AgentService* agents,
                       TestCatalog* catalog)
    : clock_(clock), registry_(registry), agents_(agents), catalog_(catalog) {}

std::string ApiService::Handle(const protocol::Envelope& request, const Principal& who) {
  const protocol::Envelope* envelope = &request;
  using T = protocol::MessageType;
  switch (envelope->type) {
    case T::kHostListRequest: return HostList(*envelope);
    case T::kHostShowRequest: return HostShow(*envelope);
    case T::kHostPendingRequest: return HostPending(*envelope);
    case T::kHostActionRequest: return HostAction(*envelope, who);
    case T::kHostLabelRequest: return HostLabel(*envelope);
    case T::kHostModRequest: return HostMod(*envelope, who);
    case T::kLabelListRequest: return LabelList(*envelope);
    case T::kLabelActionRequest: return LabelAction(*envelope, who);
    case T::kTestAddRequest: return TestAdd(*envelope, who);
    case T::kTestListRequest: return TestList(*envelope);
    case T::kTestShowRequest: return TestShow(*envelope);
    default:
      return protocol::ErrorFrame(
          envelope->request_id,
          Status::Unsupported(std::string(protocol::MessageTypeName(envelope->type)) +
                              " is not a request the API socket takes"));
  }
}

std::string ApiService::HostList(const protocol::Envelope& e) {
  auto req = protocol::DecodeBody<protocol::HostListRequest>(e);
  if (!req.ok()) return protocol::ErrorFrame(e.request_id, req.status());
  std::optional<HostStatus> status;
  if (!req->status.empty()) {
    status = protocol::ParseHostStatus(req->status);
    if (!status) {
      return protocol::ErrorFrame(
          e.request_id, Status::InvalidArgument("unknown host status '" + req->status + "'"));
    }
  }
  protocol::HostListReply reply;
  for (const auto& [name, state] : registry_->hosts()) {
    if (state.record.enrollment != store::Enrollment::kAccepted) continue;
    if (status && state.record.status != *status) continue;
    protocol::HostInfo info = registry_->ToInfo(state);
    if (!req->label.empty() && !Contains(info.labels, req->label)) continue;
    reply.hosts.push_back(std::move(info));
  }
  return Encode(reply, e.request_id);
}

std::string ApiService::HostShow(const protocol::Envelope& e) {
  auto req = protocol::DecodeBody<protocol::HostShowRequest>(e);
  if (!req.ok()) return protocol::ErrorFrame(e.request_id, req.status());
  HostState* state = registry_->Find(req->hostname);
  if (state == nullptr) {
    return protocol::ErrorFrame(e.request_id,
                                Status::NotFound("host " + req->hostname + " not found"));
  }
  protocol::HostShowReply reply{registry_->ToInfo(*state), {}};
  reply.health_history.assign(state->health_history.begin(), state->health_history.end());
  return Encode(reply, e.request_id);
}

std::string ApiService::HostPending(const protocol::Envelope& e) {
  auto req = protocol::DecodeBody<protocol::HostPendingRequest>(e);
  if (!req.ok()) return protocol::ErrorFrame(e.request_id, req.status());
  protocol::HostListReply reply;
  for (const auto& [name, state] : registry_->hosts()) {
    if (state.record.enrollment != store::Enrollment::kPending) continue;
    protocol::HostInfo info = registry_->ToInfo(state);
    if (!req->label.empty() && !Contains(info.labels, req->label)) continue;
    reply.hosts.push_back(std::move(info));
  }
  return Encode(reply, e.request_id);
}

Status ApiService::Accept(HostState& host) {
  const std::string hostname = host.record.hostname;
  LABMESH_RETURN_IF_ERROR(registry_->Accept(hostname, "accepted by an admin"));
  // The waiting agent becomes Ready at once, without a restart.
  agents_->QueueWelcome(hostname);
  return Status::Ok();
}

Status ApiService::Reject(HostState& host, const std::string& reason) {
  if (host.record.enrollment != store::Enrollment::kPending) {
    return Status::FailedPrecondition("host " + host.record.hostname +
                                      " is not waiting for approval (use host delete)");
  }
  std::string routing_id = host.routing_id;
  std::string hostname = host.record.hostname;
  LABMESH_RETURN_IF_ERROR(registry_->DeleteAndRevoke(hostname, reason));
  spdlog::info("host={} enrollment rejected", hostname);
  agents_->QueueReject(routing_id, "enrollment rejected by an admin");
  return Status::Ok();
}

std::string ApiService::HostAction(const protocol::Envelope& e, const Principal& who) {
  auto req = protocol::DecodeBody<protocol::HostActionRequest>(e);
  if (!req.ok()) return protocol::ErrorFrame(e.request_id, req.status());
  HostState* host = registry_->Find(req->hostname);
  if (host == nullptr || registry_->Staged(req->hostname) == nullptr) {
    return protocol::ErrorFrame(e.request_id,
                                Status::NotFound("host " + req->hostname + " not found"));
  }
  const std::string& action = req->action;
  const store::Host& staged = *registry_->Staged(req->hostname);
  Status status;
  std::string done;
  if (action == "accept") {
    status = Accept(*host);
    done = "accepted";
  } else if (action == "reject") {
    status = Reject(*host, req->reason.empty() ? "rejected" : req->reason);
    done = "rejected";
  } else if (action == "lock" || action == "unlock") {
    bool lock = action == "lock";
    if (lock && req->reason.empty()) {
      status = Status::InvalidArgument("locking a host needs a reason");
    } else if (!lock && !staged.locked && staged.status == protocol::HostStatus::kRepairFailed) {
      // Someone looked at a Repair Failed host and vouches for it: back into scheduling.
      std::string by = who.user;
      status = registry_->Transition(req->hostname, protocol::HostStatus::kReady,
                                     "released from Repair Failed by " + by);
      if (status.ok()) spdlog::info("host={} released from Repair Failed by {}", req->hostname, by);
    } else if (staged.locked == lock) {
      status = Status::FailedPrecondition("host " + req->hostname + " is already " +
                                          (lock ? "locked" : "unlocked"));
    } else {
      store::Host* updated = registry_->Stage(req->hostname);
      updated->locked = lock;
      updated->locked_by = lock ? who.user : "";
      updated->lock_reason = lock ? req->reason : "";
      updated->locked_ms = lock ? clock_->WallMs() : 0;
      spdlog::info("host={} {} by {} ({})", req->hostname, action, who.user, req->reason);
    }
    done = lock ? "locked" : "unlocked";
  } else if (action == "delete") {
    std::string routing_id = host->routing_id;
    status = registry_->DeleteAndRevoke(req->hostname,
                                        req->reason.empty() ? "deleted" : req->reason);
    if (status.ok()) {
      spdlog::info("host={} deleted and its key revoked", req->hostname);
      agents_->QueueReject(routing_id, "host deleted by an admin");
      if (on_host_deleted_) on_host_deleted_(req->hostname);
    }
    done = "deleted";
  } else {
    status = Status::InvalidArgument("unknown host action '" + action +
                                     "' (accept, reject, lock, unlock, delete)");
  }
  if (!status.ok()) return protocol::ErrorFrame(e.request_id, status);
  return protocol::OkFrame(e.request_id, "host " + req->hostname + " " + done);
}

std::string ApiService::HostMod(const protocol::Envelope& e, const Principal& who) {
  auto req = protocol::DecodeBody<protocol::HostModRequest>(e);
  if (!req.ok()) return protocol::ErrorFrame(e.request_id, req.status());
  HostState* host = registry_->Find(req->hostname);
  if (host == nullptr) {
    return protocol::ErrorFrame(e.request_id,
                                Status::NotFound("host " + req->hostname + " not found"));
  }
  if (req->protection.empty()) {
    return protocol::ErrorFrame(e.request_id,
                                Status::InvalidArgument("nothing to change: give --protection"));
  }
  std::optional<protocol::Protection> protection = protocol::ParseProtection(req->protection);
  if (!protection) {
    return protocol::ErrorFrame(
        e.request_id, Status::InvalidArgument("unknown protection '" + req->protection +
                                              "' (none, repair-software-only, do-not-repair, "
                                              "do-not-verify)"));
  }
  store::Host* updated = registry_->Stage(req->hostname);
  if (updated == nullptr) {
    return protocol::ErrorFrame(e.request_id,
                                Status::NotFound("host " + req->hostname + " not found"));
  }
  if (updated->protection != *protection) {
    updated->protection = *protection;
    spdlog::info("host={} protection {} (by {})", req->hostname,
                 protocol::ProtectionName(*protection), who.user);
  }
  return protocol::Encode(protocol::HostShowReply{registry_->ToInfo(*host, *updated), {}},
                          e.request_id);
}

std::string ApiService::HostLabel(const protocol::Envelope& e) {
  auto req = protocol::DecodeBody<protocol::HostLabelRequest>(e);
  if (!req.ok()) return protocol::ErrorFrame(e.request_id, req.status());
  HostState* host = registry_->Find(req->hostname);
  if (host == nullptr) {
    return protocol::ErrorFrame(e.request_id,
                                Status::NotFound("host " + req->hostname + " not found"));
  }
  if (req->add.empty() && req->remove.empty()) {
    return protocol::ErrorFrame(
        e.request_id, Status::InvalidArgument("nothing to change: give --add or --remove"));
  }
  for (const auto& label : req->add) {
    if (Contains(req->remove, label)) {
      return protocol::ErrorFrame(
          e.request_id, Status::InvalidArgument("label " + label + " is both added and removed"));
    }
  }
  const store::Host* current = registry_->Staged(req->hostname);
  if (current == nullptr) {
    return protocol::ErrorFrame(e.request_id,
                                Status::NotFound("host " + req->hostname + " not found"));
  }
  store::Host updated = *current;
  std::vector<store::Label> new_labels;
  for (const auto& label : req->add) {
    if (Status s = ValidateLabelName(label); !s.ok()) return protocol::ErrorFrame(e.request_id, s);
    if (HasAutomaticPrefix(label)) {
      return protocol::ErrorFrame(
          e.request_id,
          Status::InvalidArgument("'" + label + "' uses a prefix reserved for automatic labels"));
    }
    if (!Contains(updated.admin_labels, label)) updated.admin_labels.push_back(label);
    // An admin label must be reserved for admins from now on.
    if (!registry_->IsAdminLabel(label)) {
      new_labels.push_back(store::Label{label, "host label", clock_->WallMs()});
    }
    std::erase(updated.agent_labels, label);
  }
  for (const auto& label : req->remove) {
    if (Contains(updated.admin_labels, label)) {
      std::erase(updated.admin_labels, label);
    } else if (Contains(updated.agent_labels, label)) {
      return protocol::ErrorFrame(
          e.request_id,
          Status::FailedPrecondition("label " + label + " on " + req->hostname +
                                     " comes from the agent (facts or --labels); change "
                                     "the agent's configuration instead"));
    } else {
      return protocol::ErrorFrame(
          e.request_id, Status::NotFound("host " + req->hostname + " has no label " + label));
    }
  }
  std::sort(updated.admin_labels.begin(), updated.admin_labels.end());
  registry_->StageMany({updated}, new_labels);
  HostState* state = registry_->Find(req->hostname);
  protocol::HostShowReply reply{registry_->ToInfo(*state, *registry_->Staged(req->hostname)), {}};
  reply.health_history.assign(state->health_history.begin(), state->health_history.end());
  return Encode(reply, e.request_id);
}

std::string ApiService::LabelList(const protocol::Envelope& e) {
  auto req = protocol::DecodeBody<protocol::LabelListRequest>(e);
  if (!req.ok()) return protocol::ErrorFrame(e.request_id, req.status());
  std::map<std::string, protocol::LabelInfo> labels;
  for (const auto& name : registry_->admin_labels()) labels[name] = {name, "admin", 0};
  for (const auto& [hostname, state] : registry_->hosts()) {
    if (state.record.enrollment != store::Enrollment::kAccepted) continue;
    for (const auto& name : EffectiveLabels(state.record.agent_labels, state.record.admin_labels)) {
      auto [it, inserted] = labels.try_emplace(name);
      if (inserted) {
        it->second.name = name;
        it->second.kind = HasAutomaticPrefix(name) ? "auto" : "agent";
      }
      ++it->second.hosts;
    }
  }
  protocol::LabelListReply reply;
  for (auto& [name, info] : labels) {
    if (!req->kind.empty() && info.kind != req->kind) continue;
    reply.labels.push_back(std::move(info));
  }
  return Encode(reply, e.request_id);
}

std::string ApiService::LabelAction(const protocol::Envelope& e, const Principal& who) {
  auto req = protocol::DecodeBody<protocol::LabelActionRequest>(e);
  if (!req.ok()) return protocol::ErrorFrame(e.request_id, req.status());
  if (Status s = ValidateLabelName(req->name); !s.ok())
    return protocol::ErrorFrame(e.request_id, s);
  Status status;
  if (req->action == "create") {
    if (HasAutomaticPrefix(req->name)) {
      status = Status::InvalidArgument("'" + req->name + "' uses a prefix reserved for automatic labels");
    } else {
      status = registry_->CreateAdminLabel(req->name, who.user);
    }
  } else if (req->action == "delete") {
    status = registry_->DeleteAdminLabel(req->name);
  } else {
    status = Status::InvalidArgument("unknown label action '" + req->action + "' (create, delete)");
  }
  if (!status.ok()) return protocol::ErrorFrame(e.request_id, status);
  return protocol::OkFrame(e.request_id, "label " + req->name + " " + req->action + "d");
}

std::string ApiService::TestAdd(const protocol::Envelope& e, const Principal& who) {
  auto req = protocol::DecodeBody<protocol::TestAddRequest>(e);
  if (!req.ok()) return protocol::ErrorFrame(e.request_id, req.status());
  auto added = catalog_->Add(req->name, req->control, req->description, who.user);
  if (!added.ok()) return protocol::ErrorFrame(e.request_id, added.status());
  return protocol::OkFrame(
      e.request_id,
      "test " + req->name + (*added == TestCatalog::Added::kReplaced ? " replaced" : " added"));
}

std::string ApiService::TestList(const protocol::Envelope& e) {
  auto req = protocol::DecodeBody<protocol::TestListRequest>(e);
  if (!req.ok()) return protocol::ErrorFrame(e.request_id, req.status());
  auto tests = catalog_->List(req->prefix);
  if (!tests.ok()) return protocol::ErrorFrame(e.request_id, tests.status());
  return Encode(protocol::TestListReply{std::move(tests).value()}, e.request_id);
}

std::string ApiService::TestShow(const protocol::Envelope& e) {
  auto req = protocol::DecodeBody<protocol::TestShowRequest>(e);
  if (!req.ok()) return protocol::ErrorFrame(e.request_id, req.status());
  auto test = catalog_->Show(req->name);
  if (!test.ok()) return protocol::ErrorFrame(e.request_id, test.status());
  return Encode(protocol::TestShowReply{std::move(test).value()}, e.request_id);
}

}  // namespace labmesh::coordinator
