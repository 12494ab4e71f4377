#pragma once
// AuthService: users, API tokens, web sessions and ACL groups (docs/security.md).
//
// Admit() is the one gate every API request passes, from the CLI's sockets and from the web
// server alike: it authenticates the request's credentials (an API token, or a web session with
// its CSRF token for mutating requests) and refuses admin-only requests from other users. The
// finer rules (own jobs only) are Principal's, applied by the services that own the objects.
//
// Users and groups are loaded into memory and changed store first, memory after (like the host
// registry). Web sessions live in memory only: a coordinator restart logs every browser out.
// Event-loop thread only.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "host_registry.hpp"
#include "labmesh/common/clock.hpp"
#include "labmesh/common/status.hpp"
#include "labmesh/coordinator/config.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "labmesh/store/store.hpp"
#include "api_routes.hpp"
#include "principal.hpp"

namespace labmesh::coordinator {

// Which socket a request came in on. Sessions and `from` are believed only from the web
// server's own inproc socket.
enum class ApiOrigin { kLocal, kCurve, kWeb };

class AuthService {
 public:
  AuthService(const CoordinatorConfig& config, const Clock* clock, store::Store* store,
              HostRegistry* registry);

  // Loads users and groups. A store without any admin gets user `admin` with a new token,
  // written to DATA_DIR/keys/admin.token (mode 0600).
  Status Load();

  // Who sends `request`: Unauthenticated when the credentials name nobody (or a web session
  // expired). LoginRequest needs no credentials (an empty Principal).
  Result<Principal> Authenticate(const protocol::Envelope& request, ApiOrigin origin);
  // May `who` send it (its `route` in the API's route table): PermissionDenied for a web
  // session's mutating request without its CSRF token, and for an admin-only request of a
  // non-admin.
  Status Authorize(const Principal& who, const protocol::Envelope& request,
                   const ApiRouteFlags& route) const;
  // Both; a request the route table does not know is Unsupported.
  Result<Principal> Admit(const protocol::Envelope& request, ApiOrigin origin);

  // Returns the reply frame. `from` is where the request came from (for logs).
  std::string Handle(const protocol::Envelope& request, const Principal& who,
                     const std::string& from);

  // ACL groups a user belongs to (Everyone for a name without a record: jobs made before users
  // existed).
  std::vector<std::string> GroupsOf(const std::string& user) const;

  size_t sessions() const { return sessions_.size(); }

 private:
  struct Session {
    std::string user;
    std::string csrf;
    int64_t expires_ms = 0;  // wall clock
  };
  // Failed logins from one address: past kMaxLoginFailures within kLoginWindowMs it is refused
  // without a check (a password check costs the event loop ~0.1 s of Argon2id).
  struct LoginFailures {
    int64_t window_start_ms = 0;  // steady clock
    uint32_t count = 0;
  };

  std::string Login(const protocol::Envelope& e, const std::string& from);
  std::string WhoAmI(const protocol::Envelope& e, const Principal& who);
  std::string Logout(const protocol::Envelope& e, const Principal& who);
  std::string UserList(const protocol::Envelope& e);
  std::string UserCreate(const protocol::Envelope& e, const Principal& who);
  std::string UserDelete(const protocol::Envelope& e, const Principal& who);
  // The user a self-service request names ("" = the sender), if `who` may act for them (a user
  // for themself, an admin for anyone) and they exist.
  Result<store::User> UserToActOn(const std::string& named, const Principal& who) const;
  std::string UserToken(const protocol::Envelope& e, const Principal& who);
  std::string UserPasswd(const protocol::Envelope& e, const Principal& who);
  std::string UserMod(const protocol::Envelope& e, const Principal& who);  // notify defaults
  std::string AclList(const protocol::Envelope& e);
  std::string AclCreate(const protocol::Envelope& e, const Principal& who);
  std::string AclDelete(const protocol::Envelope& e, const Principal& who);
  std::string AclMember(const protocol::Envelope& e, const Principal& who);
  std::string AuditList(const protocol::Envelope& e, const Principal& who);

  // Adds a new token to `user` (dropping the oldest past the limit); returns it in clear.
  std::string AddToken(store::User& user, bool revoke_others);
  Status PutUsers(const std::vector<store::User>& users, store::WriteBatch batch);
  Status WriteAdminToken(const std::string& token) const;
  void DropSessionsOf(const std::string& user);
  void ExpireSessions();
  protocol::UserInfo ToInfo(const store::User& user) const;
  protocol::AclInfo ToInfo(const store::AclGroup& group) const;

  const CoordinatorConfig& config_;
  const Clock* clock_;
  store::Store* store_;
  HostRegistry* registry_;
  std::map<std::string, store::User> users_;
  std::map<std::string, std::string> token_users_;  // token hash -> user name
  std::map<std::string, store::AclGroup> groups_;
  std::map<std::string, Session> sessions_;  // session id -> session
  std::map<std::string, LoginFailures> login_failures_;  // by where the login came from
};

// Who an audit record names: the admitted user, else who the request claimed to be (a login's
// user, or the credentials' user).
std::string AuditUser(const protocol::Envelope& e, const Result<Principal>& who);

// Requests that bring new data (jobs, tests, packages): refused while the disk is full.
bool NeedsRoom(protocol::MessageType type);

}  // namespace labmesh::coordinator
