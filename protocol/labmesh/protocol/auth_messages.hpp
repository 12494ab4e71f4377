#pragma once
// Users, ACL groups, the audit log and web sessions (docs/security.md). API socket only. Every
// request carries Credentials in its envelope (envelope.hpp); these messages manage them.

#include <cstdint>
#include <string>
#include <vector>

#include "labmesh/protocol/types.hpp"

namespace labmesh::protocol {

struct UserInfo {
  std::string name;
  bool admin = false;
  std::vector<std::string> acl_groups;  // sorted
  int64_t created_ms = 0;
  uint32_t tokens = 0;        // how many API tokens it has (never the tokens themselves)
  bool has_password = false;  // set with `labmesh user passwd` (web login)
  // Notification defaults (`user mod --notify`, docs/notifications.md).
  std::vector<std::string> notify;
  std::string notify_on;
};

struct UserListRequest {
  static constexpr MessageType kType = MessageType::kUserListRequest;
  std::string name;  // just this user; "" = all
};

struct UserListReply {
  static constexpr MessageType kType = MessageType::kUserListReply;
  std::vector<UserInfo> users;  // sorted by name
};

// Admin only. The new user joins Everyone and gets its first token (shown once).
struct UserCreateRequest {
  static constexpr MessageType kType = MessageType::kUserCreateRequest;
  std::string name;
  bool admin = false;
};

// A token in clear: the only time it is ever sent.
struct UserTokenReply {
  static constexpr MessageType kType = MessageType::kUserTokenReply;
  std::string name;
  std::string token;
};

// Admin only; reply OkReply. Its tokens and sessions stop working at once; its jobs stay.
struct UserDeleteRequest {
  static constexpr MessageType kType = MessageType::kUserDeleteRequest;
  std::string name;
};

// A new token for `name` (admins: anyone; a user: themself). `revoke_others` drops every
// older token of that user first. Reply UserTokenReply.
struct UserTokenRequest {
  static constexpr MessageType kType = MessageType::kUserTokenRequest;
  std::string name;
  bool revoke_others = false;
};

// Sets the web login password of `name` (admins: anyone; a user: themself); "" removes it.
// Reply OkReply.
struct UserPasswdRequest {
  static constexpr MessageType kType = MessageType::kUserPasswdRequest;
  std::string name;
  std::string password;
};

struct AclInfo {
  std::string name;
  std::string description;
  int64_t created_ms = 0;
  std::vector<std::string> users;  // sorted
  std::vector<std::string> hosts;  // sorted
};

struct AclListRequest {
  static constexpr MessageType kType = MessageType::kAclListRequest;
  std::string name;  // just this group; "" = all
};

struct AclListReply {
  static constexpr MessageType kType = MessageType::kAclListReply;
  std::vector<AclInfo> groups;  // sorted by name
};

// Admin only; reply OkReply.
struct AclCreateRequest {
  static constexpr MessageType kType = MessageType::kAclCreateRequest;
  std::string name;
  std::string description;
};

// Admin only; reply OkReply. Everyone cannot be deleted.
struct AclDeleteRequest {
  static constexpr MessageType kType = MessageType::kAclDeleteRequest;
  std::string name;
};

// Admin only: adds (`remove` false) or removes users and hosts; every name must exist.
// Reply AclListReply holding just that group.
struct AclMemberRequest {
  static constexpr MessageType kType = MessageType::kAclMemberRequest;
  std::string name;
  bool remove = false;
  std::vector<std::string> users;
  std::vector<std::string> hosts;
};

// One mutating API request, as the audit log keeps it.
struct AuditRecord {
  uint64_t id = 0;
  int64_t time_ms = 0;  // wall clock
  std::string user;     // who it authenticated as; "" when it did not
  std::string action;   // the request's message type name ("JobAbortRequest")
  std::string target;   // its body, secrets left out ("{"job_id":7}"), at most 512 bytes
  std::string from;     // "tcp://10.0.0.5:41234", "web 10.0.0.5", "local"
  bool ok = false;
  std::string error;  // "PermissionDenied: ..." when refused
};

// Any user may read the audit log. Newest first.
struct AuditListRequest {
  static constexpr MessageType kType = MessageType::kAuditListRequest;
  std::string user;      // filter; "" = all
  int64_t since_ms = 0;  // only records at or after; 0 = all
  uint32_t limit = 100;  // 0 = the default (100)
};

struct AuditListReply {
  static constexpr MessageType kType = MessageType::kAuditListReply;
  std::vector<AuditRecord> records;
};

// The web server's login: user with a token or a password. Needs no credentials. Reply
// LoginReply with a new session; the web server sets `session` as an HttpOnly cookie and gives
// `csrf` to the page, which sends it with every mutating request.
struct LoginRequest {
  static constexpr MessageType kType = MessageType::kLoginRequest;
  std::string user;
  std::string token;
  std::string password;
};

struct LoginReply {
  static constexpr MessageType kType = MessageType::kLoginReply;
  std::string user;
  bool admin = false;
  std::string session;
  std::string csrf;
  int64_t expires_ms = 0;  // wall clock
};

// Who the credentials name. Reply WhoAmIReply.
struct WhoAmIRequest {
  static constexpr MessageType kType = MessageType::kWhoAmIRequest;
  bool with_groups = true;  // false: skip acl_groups (the web server's per-request check)
};

struct WhoAmIReply {
  static constexpr MessageType kType = MessageType::kWhoAmIReply;
  std::string user;
  bool admin = false;
  std::vector<std::string> acl_groups;
  std::string csrf;        // web sessions only: the session's CSRF token
  int64_t expires_ms = 0;  // web sessions only
};

// Ends the session the credentials carry. Reply OkReply.
struct LogoutRequest {
  static constexpr MessageType kType = MessageType::kLogoutRequest;
  bool all_sessions = false;  // end every web session of this user, not just this one
};

}  // namespace labmesh::protocol
