#include "labmesh/webui/web_auth.hpp"

#include <algorithm>
#include <cctype>

#include "labmesh/protocol/json.hpp"
#include "labmesh/webui/results_files.hpp"

namespace labmesh::webui {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

nlohmann::json ExpiresJson(int64_t expires_ms) {
  if (expires_ms <= 0) return nullptr;
  return protocol::FormatWallTimeIso(expires_ms);
}

std::string CookieAttributes(int64_t max_age_s, bool secure) {
  return "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age_s) +
         (secure ? "; Secure" : "");
}

// A string member of `body`, or "" when it is missing or null; InvalidArgument for another type.
Result<std::string> StringField(const nlohmann::json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Status::InvalidArgument(std::string(name) + " must be a string");
  return it->get<std::string>();
}

}  // namespace

std::optional<std::string> FindCookie(const HttpRequest& request, std::string_view name) {
  for (const auto& [header, value] : request.headers) {
    if (!EqualsIgnoreCase(header, "Cookie")) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      size_t end = rest.find(';');
      std::string_view pair = Trim(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      size_t equals = pair.find('=');
      if (equals == std::string_view::npos || Trim(pair.substr(0, equals)) != name) continue;
      std::string_view cookie = Trim(pair.substr(equals + 1));
      if (cookie.size() >= 2 && cookie.front() == '"' && cookie.back() == '"') {
        cookie = cookie.substr(1, cookie.size() - 2);
      }
      if (cookie.empty()) return std::nullopt;
      return std::string(cookie);
    }
  }
  return std::nullopt;
}

protocol::Credentials AnonymousCredentials(const HttpRequest& request) {
  protocol::Credentials credentials;
  credentials.from = request.remote_addr;
  return credentials;
}

Result<WebCredentials> CredentialsOf(const HttpRequest& request) {
  WebCredentials who;
  who.credentials = AnonymousCredentials(request);
  if (auto authorization = FindHeader(request, "Authorization")) {
    std::string_view text = Trim(*authorization);
    size_t space = text.find(' ');
    if (space == std::string_view::npos || !EqualsIgnoreCase(text.substr(0, space), "Bearer")) {
      return Status::Unauthenticated(
          "the Authorization header must be 'Bearer <API token>' (no other scheme is taken)");
    }
    std::string_view token = Trim(text.substr(space + 1));
    if (token.empty()) return Status::Unauthenticated("the Authorization header has no token");
    who.kind = AuthKind::kBearer;
    who.credentials.token = std::string(token);
    return who;
  }
  if (auto session = FindCookie(request, kSessionCookieName)) {
    who.kind = AuthKind::kSession;
    who.credentials.session = std::move(*session);
    if (auto csrf = FindHeader(request, kCsrfHeader)) who.credentials.csrf = std::string(*csrf);
  }
  return who;
}

int64_t MaxAgeSeconds(int64_t expires_ms, int64_t now_ms) {
  return expires_ms > now_ms ? (expires_ms - now_ms) / 1000 : 0;
}

bool IsCookieValue(std::string_view value) {
  return !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' && c != '\\';
  });
}

std::string SessionCookie(std::string_view session, int64_t max_age_s, bool secure) {
  return std::string(kSessionCookieName) + "=" + std::string(session) +
         CookieAttributes(max_age_s, secure);
}

std::string ClearedSessionCookie(bool secure) {
  return std::string(kSessionCookieName) + "=" + CookieAttributes(0, secure);
}

bool HasJsonContentType(const HttpRequest& request) {
  auto type = FindHeader(request, "Content-Type");
  if (!type) return false;
  std::string_view media = Trim(type->substr(0, type->find(';')));
  return EqualsIgnoreCase(media, "application/json");
}

Result<protocol::LoginRequest> ParseLoginBody(std::string_view body) {
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) {
    return Status::InvalidArgument(
        "the login body must be a JSON object {\"user\", \"token\"} or {\"user\", \"password\"}");
  }
  protocol::LoginRequest request;
  auto user = StringField(json, "user");
  if (!user.ok()) return user.status();
  auto token = StringField(json, "token");
  if (!token.ok()) return token.status();
  auto password = StringField(json, "password");
  if (!password.ok()) return password.status();
  if (user->empty()) return Status::InvalidArgument("the login needs a user");
  if (token->empty() == password->empty()) {
    return Status::InvalidArgument("the login needs exactly one of token and password");
  }
  request.user = std::move(user).value();
  request.token = std::move(token).value();
  request.password = std::move(password).value();
  return request;
}

Result<protocol::LogoutRequest> ParseLogoutBody(std::string_view body) {
  protocol::LogoutRequest request;
  if (Trim(body).empty()) return request;
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) {
    return Status::InvalidArgument("the logout body must be empty or {\"all_sessions\": bool}");
  }
  auto it = json.find("all_sessions");
  if (it != json.end() && !it->is_null()) {
    if (!it->is_boolean()) return Status::InvalidArgument("all_sessions must be true or false");
    request.all_sessions = it->get<bool>();
  }
  return request;
}

nlohmann::json LoginJson(const protocol::LoginReply& reply) {
  return {{"user", reply.user},
          {"admin", reply.admin},
          {"csrf", reply.csrf},
          {"expires", ExpiresJson(reply.expires_ms)},
          {"expires_ms", reply.expires_ms}};
}

nlohmann::json WhoAmIJson(const protocol::WhoAmIReply& reply) {
  return {{"user", reply.user},
          {"admin", reply.admin},
          {"acl_groups", reply.acl_groups},
          {"csrf", reply.csrf},
          {"expires", ExpiresJson(reply.expires_ms)},
          {"expires_ms", reply.expires_ms}};
}

std::string LoginUrl(std::string_view target) {
  return std::string(kLoginPath) + "?next=" + PercentEncodeSegment(target);
}

std::string LoginNeededHtml(std::string_view target, std::string_view message) {
  std::string link = HtmlEscape(LoginUrl(target));
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<title>labmesh: log in</title></head><body>\n<h1>Log in to see this</h1>\n<p>" +
         HtmlEscape(message) + "</p>\n<p><a href=\"" + link +
         "\">Log in</a>, then you come back here.</p>\n</body></html>\n";
}

}  // namespace labmesh::webui
