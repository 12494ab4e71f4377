#include "auth_service.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "auth_util.hpp"
#include "job_rules.hpp"
#include "notify_rules.hpp"
#include "scrape_rules.hpp"
#include "secrets.hpp"
#include "text_util.hpp"

namespace labmesh::coordinator {

using protocol::Encode;
using auth_detail::OneOrAll;
using protocol::MessageType;

namespace {

constexpr char kAdminUser[] = "admin";
constexpr char kTokenPrefix[] = "lmt_";
constexpr size_t kMaxTokensPerUser = 16;
constexpr size_t kMinPasswordBytes = 8;
constexpr size_t kMaxPasswordBytes = 1024;
constexpr size_t kMaxSessions = 10'000;
constexpr uint32_t kMaxLoginFailures = 10;
constexpr int64_t kLoginWindowMs = 60'000;
constexpr size_t kMaxLoginAddresses = 10'000;

}  // namespace

AuthService::AuthService(const CoordinatorConfig& config, const Clock* clock, store::Store* store,
                         HostRegistry* registry)
    : config_(config), clock_(clock), store_(store), registry_(registry) {}

Status AuthService::Load() {
  auto users = store_->ListUsers();
  if (!users.ok()) return users.status();
  auto groups = store_->ListAclGroups();
  if (!groups.ok()) return groups.status();
  users_.clear();
  token_users_.clear();
  groups_.clear();
  for (auto& user : *users) {
    for (const auto& token : user.tokens) token_users_[token.hash] = user.name;
    users_.emplace(user.name, std::move(user));
  }
  for (auto& group : *groups) groups_.emplace(group.name, std::move(group));
  bool has_admin = std::any_of(users_.begin(), users_.end(),
                               [](const auto& u) { return u.second.admin; });
  if (has_admin) return Status::Ok();

  // First start (or every admin deleted by hand): user `admin` with a token in keys/.
  store::User admin;
  auto found = users_.find(kAdminUser);
  if (found != users_.end()) {
    admin = found->second;
  } else {
    admin.name = kAdminUser;
    admin.acl_groups = {store::kEveryoneGroup};
    admin.created_ms = clock_->WallMs();
  }
  admin.admin = true;
  std::string token = AddToken(admin, /*revoke_others=*/false);
  LABMESH_RETURN_IF_ERROR(WriteAdminToken(token));
  LABMESH_RETURN_IF_ERROR(PutUsers({admin}, {}));
  spdlog::warn("created admin user '{}'; its API token is in {}/keys/admin.token", kAdminUser,
               config_.data_dir);
  return Status::Ok();
}

Status AuthService::WriteAdminToken(const std::string& token) const {
  std::string path = config_.data_dir + "/keys/admin.token";
  std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("cannot write " + tmp + ": " + std::strerror(errno));
  std::string line = token + "\n";
  bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) return Status::Internal("cannot write " + tmp);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::Internal("cannot write " + path + ": " + ec.message());
  return Status::Ok();
}

std::string AuthService::AddToken(store::User& user, bool revoke_others) {
  if (revoke_others) user.tokens.clear();
  uint32_t id = 1;
  for (const auto& t : user.tokens) id = std::max(id, t.id + 1);
  while (user.tokens.size() >= kMaxTokensPerUser) user.tokens.erase(user.tokens.begin());
  std::string token = RandomToken(kTokenPrefix);
  user.tokens.push_back(store::ApiToken{id, TokenHash(token), clock_->WallMs()});
  return token;
}

Status AuthService::PutUsers(const std::vector<store::User>& users, store::WriteBatch batch) {
  for (const auto& user : users) batch.PutUser(user);
  LABMESH_RETURN_IF_ERROR(store_->Apply(batch));
  for (const auto& user : users) {
    auto old = users_.find(user.name);
    if (old != users_.end()) {
      for (const auto& t : old->second.tokens) token_users_.erase(t.hash);
    }
    for (const auto& t : user.tokens) token_users_[t.hash] = user.name;
    users_[user.name] = user;
  }
  return Status::Ok();
}

std::vector<std::string> AuthService::GroupsOf(const std::string& user) const {
  auto it = users_.find(user);
  if (it == users_.end()) return {store::kEveryoneGroup};
  return it->second.acl_groups;
}

void AuthService::ExpireSessions() {
  int64_t now = clock_->WallMs();
  std::erase_if(sessions_, [&](const auto& s) { return s.second.expires_ms <= now; });
}

void AuthService::DropSessionsOf(const std::string& user) {
  std::erase_if(sessions_, [&](const auto& s) { return s.second.user == user; });
}

// ---- the gate ----

Result<Principal> AuthService::Authenticate(const protocol::Envelope& request, ApiOrigin origin) {
  if (request.type == MessageType::kLoginRequest) return Principal{};
  if (request.type == MessageType::kMetricsRequest) {
    // A scraper is no user: the scrape token, or a client on this machine.
    auto scrape = protocol::DecodeBody<protocol::MetricsRequest>(request);
    if (!scrape.ok()) return scrape.status();
    bool loopback = origin == ApiOrigin::kLocal ||  // the plain socket: loopback or ipc only
                    (origin == ApiOrigin::kWeb && IsLoopbackAddress(request.credentials.from));
    LABMESH_RETURN_IF_ERROR(AdmitScrape(config_.metrics_token, scrape->token, loopback));
    return Principal{};
  }
  const protocol::Credentials& c = request.credentials;
  Principal who;
  if (!c.token.empty()) {
    auto it = token_users_.find(TokenHash(c.token));
    if (it == token_users_.end()) {
      return Status::Unauthenticated("the API token is not valid (unknown, revoked or its user "
                                     "deleted)");
    }
    if (!c.user.empty() && c.user != it->second) {
      return Status::Unauthenticated("the API token does not belong to user " + c.user);
    }
    who.user = it->second;
  } else if (!c.session.empty()) {
    if (origin != ApiOrigin::kWeb) {
      return Status::Unauthenticated("web sessions are accepted from the web server only");
    }
    auto it = sessions_.find(c.session);
    if (it == sessions_.end() || it->second.expires_ms <= clock_->WallMs()) {
      if (it != sessions_.end()) sessions_.erase(it);
      return Status::Unauthenticated("the web session has expired or ended; log in again");
    }
    who.user = it->second.user;
    who.session = c.session;
  } else {
    return Status::Unauthenticated("no credentials: every request needs an API token or a web "
                                   "session");
  }
  auto user = users_.find(who.user);
  if (user == users_.end()) return Status::Unauthenticated("user " + who.user + " was deleted");
  who.admin = user->second.admin;
  return who;
}

Status AuthService::Authorize(const Principal& who, const protocol::Envelope& request,
                             const ApiRouteFlags& route) const {
  if (!who.session.empty() && route.mutating) {
    auto session = sessions_.find(who.session);
    if (session == sessions_.end() ||
        !SecretEquals(request.credentials.csrf, session->second.csrf)) {
      return Status::PermissionDenied(
          "missing or wrong CSRF token (X-CSRF-Token) for a change made with a web session");
    }
  }
  if (route.admin_only && !who.admin) {
    return Status::PermissionDenied(std::string(protocol::MessageTypeName(request.type)) +
                                    " needs an admin; " + who.user + " is not one");
  }
  return Status::Ok();
}

Result<Principal> AuthService::Admit(const protocol::Envelope& request, ApiOrigin origin) {
  const ApiRouteFlags* route = FindApiRoute(request.type);
  if (route == nullptr) {
    return Status::Unsupported(std::string(protocol::MessageTypeName(request.type)) +
                               " is not a request the API socket takes");
  }
  auto who = Authenticate(request, origin);
  if (!who.ok()) return who;
  LABMESH_RETURN_IF_ERROR(Authorize(*who, request, *route));
  return who;
}

std::string AuthService::Handle(const protocol::Envelope& e, const Principal& who,
                                const std::string& from) {
  switch (e.type) {
    case MessageType::kLoginRequest: return Login(e, from);
    case MessageType::kWhoAmIRequest: return WhoAmI(e, who);
    case MessageType::kLogoutRequest: return Logout(e, who);
    case MessageType::kUserListRequest: return UserList(e);
    case MessageType::kUserCreateRequest: return UserCreate(e, who);
    case MessageType::kUserDeleteRequest: return UserDelete(e, who);
    case MessageType::kUserTokenRequest: return UserToken(e, who);
    case MessageType::kUserPasswdRequest: return UserPasswd(e, who);
    case MessageType::kUserModRequest: return UserMod(e, who);
    case MessageType::kAclListRequest: return AclList(e);
    case MessageType::kAclCreateRequest: return AclCreate(e, who);
    case MessageType::kAclDeleteRequest: return AclDelete(e, who);
    case MessageType::kAclMemberRequest: return AclMember(e, who);
    case MessageType::kAuditListRequest: return AuditList(e, who);
    default:
      return protocol::ErrorFrame(e.request_id, Status::Unsupported("not an auth request"));
  }
}

// ---- sessions ----

std::string AuthService::Login(const protocol::Envelope& e, const std::string& from) {
  auto r = protocol::DecodeBody<protocol::LoginRequest>(e);
  if (!r.ok()) return protocol::ErrorFrame(e.request_id, r.status());
  const Status refused = Status::Unauthenticated("wrong user, token or password");
  if (r->user.empty() || (r->token.empty() == r->password.empty())) {
    return protocol::ErrorFrame(
        e.request_id,
        Status::InvalidArgument("log in with a user and either a token or a password"));
  }
  int64_t now = clock_->SteadyMs();
  auto failures = login_failures_.find(from);
  if (failures != login_failures_.end() &&
      now - failures->second.window_start_ms >= kLoginWindowMs) {
    login_failures_.erase(failures);
    failures = login_failures_.end();
  }
  if (failures != login_failures_.end() && failures->second.count >= kMaxLoginFailures) {
    int64_t wait_s = (failures->second.window_start_ms + kLoginWindowMs - now + 999) / 1000;
    return protocol::ErrorFrame(
        e.request_id, Status::Unauthenticated("too many failed logins from here; try again in " +
                                              std::to_string(wait_s) + " s"));
  }
  auto user = users_.find(r->user);
  bool ok = false;
  if (user == users_.end()) {
    ok = false;
  } else if (!r->token.empty()) {
    auto holder = token_users_.find(TokenHash(r->token));
    ok = holder != token_users_.end() && holder->second == r->user;
  } else if (r->password.size() <= kMaxPasswordBytes) {
    ok = VerifyPassword(user->second.password_hash, r->password);
  }
  if (!ok) {
    if (failures == login_failures_.end()) {
      if (login_failures_.size() >= kMaxLoginAddresses) {
        std::erase_if(login_failures_, [&](const auto& f) {
          return now - f.second.window_start_ms >= kLoginWindowMs;
        });
        if (login_failures_.size() >= kMaxLoginAddresses) login_failures_.clear();
      }
      failures = login_failures_.emplace(from, LoginFailures{now, 0}).first;
    }
    if (++failures->second.count == kMaxLoginFailures) {
      spdlog::warn("{} failed logins from {} within {} s: refusing its logins until then",
                   kMaxLoginFailures, from, kLoginWindowMs / 1000);
    } else if (failures->second.count < kMaxLoginFailures) {
      spdlog::warn("web login of {} from {} refused", r->user, from);
    }
    return protocol::ErrorFrame(e.request_id, refused);
  }
  if (failures != login_failures_.end()) login_failures_.erase(failures);
  ExpireSessions();
  if (sessions_.size() >= kMaxSessions) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a,
                                                                           const auto& b) {
      return a.second.expires_ms < b.second.expires_ms;
    });
    sessions_.erase(oldest);
  }
  protocol::LoginReply reply;
  reply.user = r->user;
  reply.admin = user->second.admin;
  reply.session = RandomToken("");
  reply.csrf = RandomToken("");
  reply.expires_ms = clock_->WallMs() + config_.session_ttl_ms;
  sessions_[reply.session] = Session{r->user, reply.csrf, reply.expires_ms};
  spdlog::info("web login of {} from {}", r->user, from);
  return Encode(reply, e.request_id);
}

std::string AuthService::WhoAmI(const protocol::Envelope& e, const Principal& who) {
  auto r = protocol::DecodeBody<protocol::WhoAmIRequest>(e);
  if (!r.ok()) return protocol::ErrorFrame(e.request_id, r.status());
  protocol::WhoAmIReply reply;
  reply.user = who.user;
  reply.admin = who.admin;
  if (r->with_groups) reply.acl_groups = GroupsOf(who.user);
  auto session = sessions_.find(who.session);
  if (!who.session.empty() && session != sessions_.end()) {
    reply.csrf = session->second.csrf;
    reply.expires_ms = session->second.expires_ms;
  }
  return Encode(reply, e.request_id);
}

std::string AuthService::Logout(const protocol::Envelope& e, const Principal& who) {
  auto r = protocol::DecodeBody<protocol::LogoutRequest>(e);
  if (!r.ok()) return protocol::ErrorFrame(e.request_id, r.status());
  if (r->all_sessions) {
    DropSessionsOf(who.user);
    return protocol::OkFrame(e.request_id, "every web session of " + who.user + " ended");
  }
  if (who.session.empty())
    return protocol::OkFrame(e.request_id, "no web session to end (API token)");
  sessions_.erase(who.session);
  return protocol::OkFrame(e.request_id, "logged out");
}

// ---- users ----

protocol::UserInfo AuthService::ToInfo(const store::User& user) const {
  protocol::UserInfo info;
  info.name = user.name;
  info.admin = user.admin;
  info.acl_groups = user.acl_groups;
  info.created_ms = user.created_ms;
  info.tokens = static_cast<uint32_t>(user.tokens.size());
  info.has_password = !user.password_hash.empty();
  info.notify = user.notify;
  info.notify_on = user.notify_on;
  return info;
}

std::string AuthService::UserList(const protocol::Envelope& e) {
  auto r = protocol::DecodeBody<protocol::UserListRequest>(e);
  if (!r.ok()) return protocol::ErrorFrame(e.request_id, r.status());
  auto users = OneOrAll(users_, r->name, "user",
                        [this](const store::User& user) { return ToInfo(user); });
  if (!users.ok()) return protocol::ErrorFrame(e.request_id, users.status());
  return Encode(protocol::UserListReply{std::move(*users)}, e.request_id);
}

std::string AuthService::UserCreate(const protocol::Envelope& e, const Principal& who) {
  auto r = protocol::DecodeBody<protocol::UserCreateRequest>(e);
  if (!r.ok()) return protocol::ErrorFrame(e.request_id, r.status());
  if (Status s = ValidateUserName(r->name); !s.ok()) return protocol::ErrorFrame(e.request_id, s);
  if (users_.count(r->name) > 0) {
    return protocol::ErrorFrame(e.request_id,
                                Status::AlreadyExists("user " + r->name + " already exists"));
  }
  store::User user;
  user.name = r->name;
  user.admin = r->admin;
  user.created_ms = clock_->WallMs();
  if (groups_.count(store::kEveryoneGroup) > 0) user.acl_groups = {store::kEveryoneGroup};
  std::string token = AddToken(user, false);
  if (Status s = PutUsers({user}, {}); !s.ok()) return protocol::ErrorFrame(e.request_id, s);
  spdlog::info("user {} created by {}{}", user.name, who.user, user.admin ? " (admin)" : "");
  return Encode(protocol::UserTokenReply{user.name, token}, e.request_id);
}

std::string AuthService::UserDelete(const protocol::Envelope& e, const Principal& who) {
  auto r = protocol::DecodeBody<protocol::UserDeleteRequest>(e);
  if (!r.ok()) return protocol::ErrorFrame(e.request_id, r.status());
  auto it = users_.find(r->name);
  if (it == users_.end()) {
    return protocol::ErrorFrame(e.request_id,
                                Status::NotFound("user " + r->name + " does not exist"));
  }
  if (it->second.admin) {
    size_t admins = std::count_if(users_.begin(), users_.end(),
                                  [](const auto& u) { return u.second.admin; });
    if (admins <= 1) {
      return protocol::ErrorFrame(e.request_id,
                                  Status::FailedPrecondition("user " + r->name +
                                                             " is the last admin; make another "
                                                             "admin before deleting it"));
    }
  }
  store::WriteBatch batch;
  batch.DeleteUser(r->name);
  if (Status s = store_->Apply(batch); !s.ok()) return protocol::ErrorFrame(e.request_id, s);
  for (const auto& t : it->second.tokens) token_users_.erase(t.hash);
  users_.erase(it);
  DropSessionsOf(r->name);
  spdlog::info("user {} deleted by {}", r->name, who.user);
  return protocol::OkFrame(e.request_id,
                           "user " + r->name + " deleted; its tokens and sessions no longer work");
}

Result<store::User> AuthService::UserToActOn(const std::string& named,
                                             const Principal& who) const {
  std::string name = named.empty() ? who.user : named;
  LABMESH_RETURN_IF_ERROR(who.MayActFor(name));
  auto it = users_.find(name);
  if (it == users_.end()) return Status::NotFound("user " + name + " does not exist");
  return it->second;
}

std::string AuthService::UserToken(const protocol::Envelope& e, const Principal& who) {
  auto r = protocol::DecodeBody<protocol::UserTokenRequest>(e);
  if (!r.ok()) return protocol::ErrorFrame(e.request_id, r.status());
  auto found = UserToActOn(r->name, who);
  if (!found.ok()) return protocol::ErrorFrame(e.request_id, found.status());
  const std::string name = found->name;
  store::User user = std::move(*found);
  std::string token = AddToken(user, r->revoke_others);
  if (Status s = PutUsers({user}, {}); !s.ok()) return protocol::ErrorFrame(e.request_id, s);
  spdlog::info("new API token for {} made by {}{}", name, who.user,
               r->revoke_others ? " (older tokens revoked)" : "");
  return Encode(protocol::UserTokenReply{name, token}, e.request_id);
}

std::string AuthService::UserPasswd(const protocol::Envelope& e, const Principal& who) {
  auto r = protocol::DecodeBody<protocol::UserPasswdRequest>(e);
  if (!r.ok()) return protocol::ErrorFrame(e.request_id, r.status());
  auto found = UserToActOn(r->name, who);
  if (!found.ok()) return protocol::ErrorFrame(e.request_id, found.status());
  const std::string name = found->name;
  store::User user = std::move(*found);
  if (r->password.empty()) {
    user.password_hash.clear();
  } else {
    if (r->password.size() < kMinPasswordBytes || r->password.size() > kMaxPasswordBytes) {
      return protocol::ErrorFrame(
          e.request_id,
          Status::InvalidArgument("a password must be " + std::to_string(kMinPasswordBytes) + ".." +
                                  std::to_string(kMaxPasswordBytes) + " bytes"));
    }
    auto hash = HashPassword(r->password);
    if (!hash.ok()) return protocol::ErrorFrame(e.request_id, hash.status());
    user.password_hash = *hash;
  }
  if (Status s = PutUsers({user}, {}); !s.ok()) return protocol::ErrorFrame(e.request_id, s);
  DropSessionsOf(name);
  spdlog::info("web password of {} {} by {}", name, r->password.empty() ? "removed" : "set",
               who.user);
  return protocol::OkFrame(e.request_id, r->password.empty() ? "password of " + name + " removed"
                                                             : "password of " + name + " set");
}

// The user's notification defaults (docs/notifications.md): targets checked and made canonical
// by the same rules as a job's, replaced as a whole.
std::string AuthService::UserMod(const protocol::Envelope& e, const Principal& who) {
  auto r = protocol::DecodeBody<protocol::UserModRequest>(e);
  if (!r.ok()) return protocol::ErrorFrame(e.request_id, r.status());
  auto found = UserToActOn(r->name, who);
  if (!found.ok()) return protocol::ErrorFrame(e.request_id, found.status());
  const std::string name = found->name;
  if (r->clear_notify && !r->notify.empty()) {
    return protocol::ErrorFrame(
        e.request_id, Status::InvalidArgument("--notify and --clear-notify exclude each other"));
  }
  auto targets = CanonicalNotifyTargets(r->notify);
  if (!targets.ok()) return protocol::ErrorFrame(e.request_id, targets.status());
  auto notify_on = ParseNotifyOn(r->notify_on);
  if (!notify_on.ok()) return protocol::ErrorFrame(e.request_id, notify_on.status());
  if (!r->clear_notify && targets->empty() && notify_on->empty()) {
    return protocol::ErrorFrame(e.request_id,
                                Status::InvalidArgument("nothing to change (--notify, "
                                                        "--notify-on or --clear-notify)"));
  }
  store::User user = std::move(*found);
  if (r->clear_notify) user.notify.clear();
  if (!targets->empty()) user.notify = *targets;
  if (!notify_on->empty()) user.notify_on = *notify_on;
  if (Status s = PutUsers({user}, {}); !s.ok()) return protocol::ErrorFrame(e.request_id, s);
  spdlog::info("notification defaults of {} set by {}: {} target(s), on {}", name, who.user,
               user.notify.size(), user.notify_on.empty() ? "always" : user.notify_on);
  std::string text = "notification defaults of " + name + ": ";
  text += user.notify.empty() ? std::string("none") : Join(user.notify, ", ");
  text += " (on " + (user.notify_on.empty() ? std::string("always") : user.notify_on) + ")";
  return protocol::OkFrame(e.request_id, text);
}

std::string AuditUser(const protocol::Envelope& e, const Result<Principal>& who) {
  if (who.ok() && !who->user.empty()) return who->user;
  if (e.type == MessageType::kLoginRequest) {
    auto login = protocol::DecodeBody<protocol::LoginRequest>(e);
    if (login.ok()) return login->user;
  }
  return e.credentials.user;
}

bool NeedsRoom(MessageType type) {
  return type == MessageType::kJobCreateRequest || type == MessageType::kTestAddRequest ||
         type == MessageType::kPackageUploadRequest || type == MessageType::kResultsImportRequest ||
         type == MessageType::kResultsImportChunkRequest;
}

}  // namespace labmesh::coordinator
