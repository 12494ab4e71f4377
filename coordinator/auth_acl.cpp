// AuthService, ACL groups and the audit list (docs/security.md). See auth_service.hpp; the gate,
// sessions and users are in auth_service.cpp.

#include <spdlog/spdlog.h>

#include <algorithm>

#include "auth_service.hpp"
#include "auth_util.hpp"
#include "job_rules.hpp"
#include "text_util.hpp"

namespace labmesh::coordinator {

using auth_detail::OneOrAll;
using protocol::Encode;

namespace {

constexpr size_t kMaxGroupNameBytes = 64;
constexpr uint32_t kDefaultAuditLimit = 100;
constexpr uint32_t kMaxAuditLimit = 10'000;

void InsertSorted(std::vector<std::string>& v, const std::string& s) {
  auto it = std::lower_bound(v.begin(), v.end(), s);
  if (it == v.end() || *it != s) v.insert(it, s);
}

bool EraseSorted(std::vector<std::string>& v, const std::string& s) {
  auto it = std::lower_bound(v.begin(), v.end(), s);
  if (it == v.end() || *it != s) return false;
  v.erase(it);
  return true;
}

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::binary_search(v.begin(), v.end(), s);
}

// Group names follow user names' rules (letters, digits, '.', '_', '-').
Status ValidateGroupName(const std::string& name) {
  if (name.size() > kMaxGroupNameBytes) {
    return Status::InvalidArgument("ACL group name must be at most " +
                                   std::to_string(kMaxGroupNameBytes) + " characters");
  }
  Status s = ValidateUserName(name);
  if (s.ok()) return s;
  std::string message = s.message();
  if (message.rfind("user name", 0) == 0) message.replace(0, 9, "ACL group name");
  return Status::InvalidArgument(message);
}

}  // namespace

// ---- ACL groups ----

protocol::AclInfo AuthService::ToInfo(const store::AclGroup& group) const {
  protocol::AclInfo info;
  info.name = group.name;
  info.description = group.description;
  info.created_ms = group.created_ms;
  for (const auto& [name, user] : users_) {
    if (Has(user.acl_groups, group.name)) info.users.push_back(name);
  }
  for (const auto& [name, host] : registry_->hosts()) {
    if (Has(host.record.acl_groups, group.name)) info.hosts.push_back(name);
  }
  return info;
}

std::string AuthService::AclList(const protocol::Envelope& e) {
  auto r = protocol::DecodeBody<protocol::AclListRequest>(e);
  if (!r.ok()) return protocol::ErrorFrame(e.request_id, r.status());
  auto groups = OneOrAll(groups_, r->name, "ACL group",
                         [this](const store::AclGroup& group) { return ToInfo(group); });
  if (!groups.ok()) return protocol::ErrorFrame(e.request_id, groups.status());
  return Encode(protocol::AclListReply{std::move(*groups)}, e.request_id);
}

std::string AuthService::AclCreate(const protocol::Envelope& e, const Principal& who) {
  auto r = protocol::DecodeBody<protocol::AclCreateRequest>(e);
  if (!r.ok()) return protocol::ErrorFrame(e.request_id, r.status());
  if (Status s = ValidateGroupName(r->name); !s.ok()) return protocol::ErrorFrame(e.request_id, s);
  if (r->description.size() > 1024) {
    return protocol::ErrorFrame(e.request_id,
                                Status::InvalidArgument("description longer than 1024 bytes"));
  }
  if (groups_.count(r->name) > 0) {
    return protocol::ErrorFrame(e.request_id,
                                Status::AlreadyExists("ACL group " + r->name + " already exists"));
  }
  store::AclGroup group{r->name, r->description, clock_->WallMs()};
  store::WriteBatch batch;
  batch.PutAclGroup(group);
  if (Status s = store_->Apply(batch); !s.ok()) return protocol::ErrorFrame(e.request_id, s);
  groups_[group.name] = group;
  spdlog::info("ACL group {} created by {}", group.name, who.user);
  return protocol::OkFrame(e.request_id, "ACL group " + group.name + " created");
}

std::string AuthService::AclDelete(const protocol::Envelope& e, const Principal& who) {
  auto r = protocol::DecodeBody<protocol::AclDeleteRequest>(e);
  if (!r.ok()) return protocol::ErrorFrame(e.request_id, r.status());
  if (r->name == store::kEveryoneGroup) {
    return protocol::ErrorFrame(
        e.request_id,
        Status::FailedPrecondition("Everyone cannot be deleted (remove members from it instead)"));
  }
  if (groups_.count(r->name) == 0) {
    return protocol::ErrorFrame(e.request_id,
                                Status::NotFound("ACL group " + r->name + " does not exist"));
  }
  // The group and every membership of it go in one commit.
  store::WriteBatch batch;
  batch.DeleteAclGroup(r->name);
  std::vector<store::User> users;
  for (const auto& [name, user] : users_) {
    if (!Has(user.acl_groups, r->name)) continue;
    users.push_back(user);
    EraseSorted(users.back().acl_groups, r->name);
  }
  std::vector<store::Host> hosts;
  for (const auto& [name, state] : registry_->hosts()) {
    const store::Host* host = registry_->Staged(name);
    if (host == nullptr || !Has(host->acl_groups, r->name)) continue;
    hosts.push_back(*host);
    EraseSorted(hosts.back().acl_groups, r->name);
  }
  for (const auto& user : users) batch.PutUser(user);
  if (Status s = registry_->CommitNow(hosts, std::move(batch)); !s.ok()) {
    return protocol::ErrorFrame(e.request_id, s);
  }
  for (const auto& user : users) users_[user.name] = user;
  groups_.erase(r->name);
  spdlog::info("ACL group {} deleted by {} ({} users, {} hosts lost it)", r->name, who.user,
               users.size(), hosts.size());
  return protocol::OkFrame(e.request_id, "ACL group " + r->name + " deleted");
}

std::string AuthService::AclMember(const protocol::Envelope& e, const Principal& who) {
  auto r = protocol::DecodeBody<protocol::AclMemberRequest>(e);
  if (!r.ok()) return protocol::ErrorFrame(e.request_id, r.status());
  if (groups_.count(r->name) == 0) {
    return protocol::ErrorFrame(e.request_id,
                                Status::NotFound("ACL group " + r->name + " does not exist"));
  }
  if (r->users.empty() && r->hosts.empty()) {
    return protocol::ErrorFrame(e.request_id,
                                Status::InvalidArgument("name at least one user or host"));
  }
  // Every name must exist before anything changes.
  std::vector<store::User> users;
  for (const auto& name : r->users) {
    auto it = users_.find(name);
    if (it == users_.end()) {
      return protocol::ErrorFrame(e.request_id,
                                  Status::NotFound("user " + name + " does not exist"));
    }
    users.push_back(it->second);
  }
  std::vector<store::Host> hosts;
  for (const auto& name : r->hosts) {
    const store::Host* host = registry_->Staged(name);
    if (host == nullptr) {
      return protocol::ErrorFrame(e.request_id,
                                  Status::NotFound("host " + name + " does not exist"));
    }
    hosts.push_back(*host);
  }
  for (auto& user : users) {
    r->remove ? (void)EraseSorted(user.acl_groups, r->name) : InsertSorted(user.acl_groups, r->name);
  }
  for (auto& host : hosts) {
    r->remove ? (void)EraseSorted(host.acl_groups, r->name) : InsertSorted(host.acl_groups, r->name);
  }
  store::WriteBatch batch;
  for (const auto& user : users) batch.PutUser(user);
  if (Status s = registry_->CommitNow(hosts, std::move(batch)); !s.ok()) {
    return protocol::ErrorFrame(e.request_id, s);
  }
  for (const auto& user : users) users_[user.name] = user;
  spdlog::info("ACL group {}: {} users [{}] hosts [{}] by {}", r->name,
               r->remove ? "removed" : "added", Join(r->users),
               Join(r->hosts), who.user);
  protocol::AclListReply reply;
  reply.groups.push_back(ToInfo(groups_.at(r->name)));
  return Encode(reply, e.request_id);
}

// ---- audit ----

std::string AuthService::AuditList(const protocol::Envelope& e, const Principal& who) {
  auto r = protocol::DecodeBody<protocol::AuditListRequest>(e);
  if (!r.ok()) return protocol::ErrorFrame(e.request_id, r.status());
  std::string user = r->user;
  if (!who.admin) {
    // A user reads their own records only.
    if (!user.empty() && user != who.user) {
      return protocol::ErrorFrame(
          e.request_id,
          Status::PermissionDenied("only admins may read other users' audit records"));
    }
    user = who.user;
  }
  uint32_t limit = r->limit == 0 ? kDefaultAuditLimit : std::min(r->limit, kMaxAuditLimit);
  auto records = store_->ListAudit(user, r->since_ms, limit);
  if (!records.ok()) return protocol::ErrorFrame(e.request_id, records.status());
  protocol::AuditListReply reply;
  reply.records = std::move(*records);
  return Encode(reply, e.request_id);
}

}  // namespace labmesh::coordinator
