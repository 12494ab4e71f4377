#pragma once
// Who an HTTP request is sent to the coordinator as, and the web session's cookie and CSRF rules
// (docs/security-web.md). Pure functions: no civetweb, no sockets, any thread.
//
// The coordinator authenticates, authorizes and audits every request (one place for the CLI
// socket and the web); this file only turns HTTP into protocol::Credentials and refuses early
// what could never pass. It never logs: a session value must not reach a log line.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "labmesh/protocol/messages.hpp"
#include "labmesh/webui/http_types.hpp"

namespace labmesh::webui {

inline constexpr char kSessionCookieName[] = "labmesh_session";
inline constexpr char kCsrfHeader[] = "X-CSRF-Token";
inline constexpr char kLoginPath[] = "/login";

enum class AuthKind {
  kNone,     // neither a session cookie nor a Bearer token: sent with just `from`
  kSession,  // the labmesh_session cookie (+ the X-CSRF-Token header when there is one)
  kBearer,   // Authorization: Bearer <API token>
};

struct WebCredentials {
  AuthKind kind = AuthKind::kNone;
  protocol::Credentials credentials;  // `from` is always the request's remote address
};

// The value of the first cookie called `name` in the request's Cookie headers (surrounding
// double quotes removed), or nullopt; an empty value counts as no cookie.
std::optional<std::string> FindCookie(const HttpRequest& request, std::string_view name);

// The credentials of a request. A Bearer token wins over the session cookie: a browser never
// sends an Authorization header on its own, so a Bearer request cannot be a cross-site forgery
// and needs no CSRF token. An Authorization header with another scheme or without a token is
// Unauthenticated (rather than silently falling back to the cookie).
Result<WebCredentials> CredentialsOf(const HttpRequest& request);

// Credentials with only `from`: what a login is sent with (there is no session yet, and a stale
// cookie must not take part).
protocol::Credentials AnonymousCredentials(const HttpRequest& request);

// Whole seconds from `now_ms` until `expires_ms` (rounded down, so the cookie never outlives the
// session), at least 0.
int64_t MaxAgeSeconds(int64_t expires_ms, int64_t now_ms);

// True when `value` may stand as a cookie value unquoted (RFC 6265 cookie-octets: printable
// ASCII but space, '"', ',', ';' and backslash), and is not empty.
bool IsCookieValue(std::string_view value);

// Set-Cookie values: HttpOnly (no script reads it), SameSite=Strict (no cross-site request
// carries it), Path=/, Max-Age; Secure when the request came over HTTPS.
std::string SessionCookie(std::string_view session, int64_t max_age_s, bool secure);
std::string ClearedSessionCookie(bool secure);  // the same with an empty value and Max-Age=0

// True when the request's Content-Type is application/json (parameters allowed). Login insists
// on it: an HTML form cannot send it cross-site without a CORS preflight, which is never granted.
bool HasJsonContentType(const HttpRequest& request);

// `{"user": U, "token": T}` or `{"user": U, "password": P}` as a LoginRequest; InvalidArgument
// for anything else (not JSON, no user, neither or both secrets, wrong types).
Result<protocol::LoginRequest> ParseLoginBody(std::string_view body);

// An empty body, or `{"all_sessions": true|false}`, as a LogoutRequest; InvalidArgument else.
Result<protocol::LogoutRequest> ParseLogoutBody(std::string_view body);

// {"user","admin","csrf","expires","expires_ms"}: what the login answers (never the session).
nlohmann::json LoginJson(const protocol::LoginReply& reply);
// {"user","admin","acl_groups","csrf","expires","expires_ms"}; csrf is "" and expires null for a
// Bearer token.
nlohmann::json WhoAmIJson(const protocol::WhoAmIReply& reply);

// "/login?next=<target percent-encoded>": where a browser logs in and comes back to `target`.
std::string LoginUrl(std::string_view target);

// What to tell someone who is not (or no longer) logged in, after the coordinator's message.
inline constexpr char kHowToLogIn[] =
    "log in at /login, or send the header 'Authorization: Bearer <API token>'";

// A small HTML page for a browser that asked for `target` without a valid session: says why
// (`message`, escaped) and links to LoginUrl(target).
std::string LoginNeededHtml(std::string_view target, std::string_view message);

}  // namespace labmesh::webui
