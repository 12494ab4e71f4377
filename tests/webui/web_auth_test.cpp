// The web side of authentication (web_auth.hpp): login, whoami and logout, the session cookie,
// the credentials every API request is sent with, CSRF refusals and the 401/403
// mapping, against a canned-reply coordinator that authenticates one user (ServeAuth).

#include "labmesh/webui/web_auth.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "fake_coordinator.hpp"
#include "labmesh/protocol/json.hpp"
#include "labmesh/webui/web_api.hpp"
#include "results_fixture.hpp"

namespace labmesh::webui {
namespace {

using protocol::HostListReply;
using protocol::HostListRequest;
using protocol::HostShowReply;
using protocol::HostShowRequest;
using testing::FakeCoordinator;
using testing::FakeUser;
using testing::SampleHost;

constexpr char kEndpoint[] = "inproc://webui-auth-test-api";
constexpr int64_t kNowMs = 1'700'000'000'000;  // FakeClock's start
constexpr char kClient[] = "10.0.0.5";

using Headers = std::vector<std::pair<std::string, std::string>>;

std::string Header(const HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

HttpRequest Make(std::string method, std::string path, Headers headers = {},
                 std::string body = "") {
  HttpRequest request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.body = std::move(body);
  request.headers = std::move(headers);
  request.remote_addr = kClient;
  return request;
}

HttpRequest LoginRequest(const std::string& body) {
  return Make("POST", "/api/v1/login", {{"Content-Type", "application/json"}}, body);
}

const std::pair<std::string, std::string> kSessionCookie{"Cookie", "labmesh_session=sess-alice-1"};
const std::pair<std::string, std::string> kCsrf{"X-CSRF-Token", "csrf-alice-1"};
const std::pair<std::string, std::string> kBearer{"Authorization", "Bearer tok-alice"};

class WebAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FakeUser user;
    user.expires_ms = kNowMs + 3'600'000 + 999;  // 3600.999 s: Max-Age rounds down
    user.acl_groups = {"Everyone", "gpu-team"};
    coordinator_.ServeAuth(user);
    HostListReply hosts;
    hosts.hosts = {SampleHost("lab-1")};
    coordinator_.Reply<HostListRequest>(hosts);
  }

  // Logs alice in with her password; the session is then valid at the fake coordinator.
  void LogIn() {
    HttpResponse response =
        api_.Handle(LoginRequest(R"({"user": "alice", "password": "pw-alice"})"));
    ASSERT_EQ(response.status, 200) << response.body;
  }

  WebApiOptions Options() {
    WebApiOptions options;
    options.api_timeout_ms = 2000;
    return options;
  }

  FakeClock clock_;
  zmq::context_t context_;
  FakeCoordinator coordinator_{context_, kEndpoint};
  WebApi api_{context_, kEndpoint, Options(), &clock_};
};

TEST_F(WebAuthTest, LoginSetsAnHttpOnlyStrictSessionCookieAndAnswersTheCsrfToken) {
  HttpResponse response = api_.Handle(LoginRequest(R"({"user": "alice", "token": "tok-alice"})"));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(Header(response, "Set-Cookie"),
            "labmesh_session=sess-alice-1; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600");
  EXPECT_EQ(Header(response, "Cache-Control"), "no-store");
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["user"], "alice");
  EXPECT_EQ(body["admin"], false);
  EXPECT_EQ(body["csrf"], "csrf-alice-1");
  EXPECT_EQ(body["expires"], protocol::FormatWallTimeIso(kNowMs + 3'600'999));
  EXPECT_EQ(body["expires_ms"], kNowMs + 3'600'999);
  // The session travels only in the HttpOnly cookie, never where a script could read it.
  EXPECT_EQ(response.body.find("sess-alice-1"), std::string::npos);

  auto sent = coordinator_.LastRequest<protocol::LoginRequest>();
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(sent->user, "alice");
  EXPECT_EQ(sent->token, "tok-alice");
  EXPECT_EQ(sent->password, "");
  auto who = coordinator_.LastCredentials<protocol::LoginRequest>();
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->from, kClient);
  EXPECT_TRUE(who->session.empty() && who->token.empty() && who->csrf.empty());
}

TEST_F(WebAuthTest, LoginWithAPasswordIgnoresAStaleCookieAndNeedsNoCsrf) {
  HttpRequest request = LoginRequest(R"({"user": "alice", "password": "pw-alice"})");
  request.headers.push_back({"Cookie", "labmesh_session=old-one"});
  HttpResponse response = api_.Handle(request);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(coordinator_.LastRequest<protocol::LoginRequest>()->password, "pw-alice");
  auto who = coordinator_.LastCredentials<protocol::LoginRequest>();
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->session, "");  // the old cookie takes no part
}

TEST_F(WebAuthTest, LoginOverHttpsMarksTheCookieSecure) {
  HttpRequest request = LoginRequest(R"({"user": "alice", "token": "tok-alice"})");
  request.tls = true;
  HttpResponse response = api_.Handle(request);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(Header(response, "Set-Cookie"),
            "labmesh_session=sess-alice-1; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600; "
            "Secure");
}

TEST_F(WebAuthTest, RefusedLoginIs401WithTheCoordinatorsMessageAndNoCookie) {
  for (const char* body : {R"({"user": "alice", "token": "wrong"})",
                           R"({"user": "mallory", "password": "pw-alice"})"}) {
    HttpResponse response = api_.Handle(LoginRequest(body));
    EXPECT_EQ(response.status, 401) << response.body;
    EXPECT_EQ(Header(response, "Set-Cookie"), "");
    auto json = nlohmann::json::parse(response.body);
    EXPECT_EQ(json["error"], "wrong user, token or password");
    EXPECT_EQ(json["code"], "Unauthenticated");
  }
}

TEST_F(WebAuthTest, MalformedLoginsAre400Or415AndNeverReachTheCoordinator) {
  for (const char* body : {"", "not json", "[]", R"({"token": "t"})",
                           R"({"user": "", "token": "t"})", R"({"user": "alice"})",
                           R"({"user": "alice", "token": "t", "password": "p"})",
                           R"({"user": 7, "token": "t"})", R"({"user": "alice", "token": 1})"}) {
    SCOPED_TRACE(body);
    HttpResponse response = api_.Handle(LoginRequest(body));
    EXPECT_EQ(response.status, 400) << response.body;
    EXPECT_EQ(Header(response, "Set-Cookie"), "");
    EXPECT_EQ(nlohmann::json::parse(response.body)["code"], "InvalidArgument");
  }
  // An HTML form (cross-site or not) cannot send JSON: no login from one.
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded", ""}) {
    HttpRequest request =
        Make("POST", "/api/v1/login", {{"Content-Type", type}}, R"({"user":"alice","token":"tok-alice"})");
    EXPECT_EQ(api_.Handle(request).status, 415) << type;
  }
  HttpRequest charset = LoginRequest(R"({"user": "alice", "token": "tok-alice"})");
  charset.headers = {{"content-type", "Application/JSON; charset=utf-8"}};
  EXPECT_EQ(api_.Handle(charset).status, 200);
  EXPECT_EQ(coordinator_.Count(protocol::MessageType::kLoginRequest), 1u);
  // Login is POST only.
  HttpResponse get = api_.Handle(Make("GET", "/api/v1/login"));
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(Header(get, "Allow"), "POST");
}

TEST_F(WebAuthTest, CookieCredentialsAreForwardedWithTheCsrfHeaderAndTheClientAddress) {
  LogIn();
  HttpResponse response = api_.Handle(Make("GET", "/api/v1/hosts", {kSessionCookie, kCsrf}));
  ASSERT_EQ(response.status, 200) << response.body;
  auto who = coordinator_.LastCredentials<HostListRequest>();
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->session, "sess-alice-1");
  EXPECT_EQ(who->csrf, "csrf-alice-1");
  EXPECT_EQ(who->from, kClient);
  EXPECT_EQ(who->token, "");
  EXPECT_EQ(who->user, "");

  // Among other cookies, in any order, quoted; a GET needs no CSRF header.
  ASSERT_EQ(api_.Handle(Make("GET", "/api/v1/hosts",
                             {{"Cookie", "theme=dark; labmesh_session=\"sess-alice-1\"; x=1"}}))
                .status,
            200);
  who = coordinator_.LastCredentials<HostListRequest>();
  EXPECT_EQ(who->session, "sess-alice-1");
  EXPECT_EQ(who->csrf, "");
}

TEST_F(WebAuthTest, BearerIsForwardedAsTheTokenAndWinsOverTheCookie) {
  ASSERT_EQ(api_.Handle(Make("GET", "/api/v1/hosts", {kBearer})).status, 200);
  auto who = coordinator_.LastCredentials<HostListRequest>();
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->token, "tok-alice");
  EXPECT_EQ(who->session, "");
  EXPECT_EQ(who->from, kClient);

  ASSERT_EQ(api_.Handle(Make("GET", "/api/v1/hosts",
                             {{"Cookie", "labmesh_session=someone-else"},
                              {"authorization", "bearer  tok-alice "}}))
                .status,
            200);
  who = coordinator_.LastCredentials<HostListRequest>();
  EXPECT_EQ(who->token, "tok-alice");
  EXPECT_EQ(who->session, "");
}

TEST_F(WebAuthTest, AnAuthorizationHeaderThatIsNotBearerIs401AndNeverReachesTheCoordinator) {
  for (const char* value : {"Basic YWxpY2U6cHc=", "Bearer", "Bearer   ", "tok-alice"}) {
    SCOPED_TRACE(value);
    HttpResponse response =
        api_.Handle(Make("GET", "/api/v1/hosts", {{"Authorization", value}, kSessionCookie}));
    EXPECT_EQ(response.status, 401) << response.body;
  }
  EXPECT_TRUE(coordinator_.Requests().empty());
}

// The coordinator refuses it (and audits the attempt): the web server passes it on with an
// empty token and answers the refusal as 403.
TEST_F(WebAuthTest, CookiePostWithoutTheCsrfHeaderIs403FromTheCoordinator) {
  LogIn();
  for (const Headers& headers :
       {Headers{kSessionCookie}, Headers{kSessionCookie, {"X-CSRF-Token", ""}}}) {
    HttpResponse response = api_.Handle(Make("POST", "/api/v1/logout", headers));
    EXPECT_EQ(response.status, 403) << response.body;
    auto body = nlohmann::json::parse(response.body);
    EXPECT_EQ(body["code"], "PermissionDenied");
    EXPECT_NE(body["error"].get<std::string>().find("CSRF"), std::string::npos);
    EXPECT_EQ(Header(response, "Set-Cookie"), "");  // nothing changed: still logged in
    EXPECT_EQ(coordinator_.LastCredentials<protocol::LogoutRequest>()->csrf, "");
  }
  EXPECT_EQ(api_.Handle(Make("GET", "/api/v1/whoami", {kSessionCookie})).status, 200);
  EXPECT_EQ(api_.Handle(Make("POST", "/api/v1/logout", {kSessionCookie, kCsrf})).status, 200);
}

// The token's value is the coordinator's to check (PermissionDenied, so 403).
TEST_F(WebAuthTest, AWrongCsrfTokenIsTheCoordinatorsToRefuse) {
  LogIn();
  HttpResponse response = api_.Handle(
      Make("POST", "/api/v1/logout", {kSessionCookie, {"X-CSRF-Token", "guessed"}}));
  EXPECT_EQ(response.status, 403) << response.body;
  EXPECT_EQ(coordinator_.LastCredentials<protocol::LogoutRequest>()->csrf, "guessed");
  EXPECT_EQ(Header(response, "Set-Cookie"), "");
  EXPECT_EQ(api_.Handle(Make("GET", "/api/v1/whoami", {kSessionCookie})).status, 200);
}

TEST_F(WebAuthTest, BearerPostNeedsNoCsrfToken) {
  HttpResponse response = api_.Handle(Make("POST", "/api/v1/logout", {kBearer}));
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(coordinator_.LastCredentials<protocol::LogoutRequest>()->token, "tok-alice");
}

TEST_F(WebAuthTest, UnauthenticatedIs401AndSaysHowToLogIn) {
  for (const Headers& headers :
       {Headers{}, Headers{{"Cookie", "labmesh_session=forged"}}, Headers{{"Cookie", "other=1"}},
        Headers{{"Authorization", "Bearer stolen?"}}}) {
    HttpResponse response = api_.Handle(Make("GET", "/api/v1/hosts", headers));
    EXPECT_EQ(response.status, 401) << response.body;
    EXPECT_EQ(response.content_type, "application/json");
    EXPECT_EQ(Header(response, "WWW-Authenticate"), "Bearer realm=\"labmesh\"");
    auto body = nlohmann::json::parse(response.body);
    EXPECT_EQ(body["code"], "Unauthenticated");
    EXPECT_EQ(body["login"], "/login");
    std::string error = body["error"];
    EXPECT_NE(error.find("log in at /login"), std::string::npos) << error;
    EXPECT_NE(error.find("Authorization: Bearer"), std::string::npos) << error;
  }
  // Even without credentials the request went to the coordinator, with the client's address.
  EXPECT_EQ(coordinator_.Count(HostListRequest::kType), 4u);
}

TEST_F(WebAuthTest, PermissionDeniedIs403) {
  coordinator_.Fail<HostShowRequest>(Status::PermissionDenied("alice may not see lab-9"));
  HttpResponse response = api_.Handle(Make("GET", "/api/v1/hosts/lab-9", {kBearer}));
  EXPECT_EQ(response.status, 403) << response.body;
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["code"], "PermissionDenied");
  EXPECT_EQ(body["error"], "alice may not see lab-9");
}

TEST_F(WebAuthTest, WhoAmIAnswersUserGroupsAndTheSessionsCsrf) {
  LogIn();
  HttpResponse response = api_.Handle(Make("GET", "/api/v1/whoami", {kSessionCookie}));
  ASSERT_EQ(response.status, 200) << response.body;
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["user"], "alice");
  EXPECT_EQ(body["admin"], false);
  EXPECT_EQ(body["acl_groups"], nlohmann::json({"Everyone", "gpu-team"}));
  EXPECT_EQ(body["csrf"], "csrf-alice-1");
  EXPECT_EQ(body["expires_ms"], kNowMs + 3'600'999);
  EXPECT_TRUE(coordinator_.LastRequest<protocol::WhoAmIRequest>()->with_groups);

  // A token has no session: no CSRF token, no end.
  response = api_.Handle(Make("GET", "/api/v1/whoami", {kBearer}));
  ASSERT_EQ(response.status, 200) << response.body;
  body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["csrf"], "");
  EXPECT_TRUE(body["expires"].is_null());

  EXPECT_EQ(api_.Handle(Make("GET", "/api/v1/whoami")).status, 401);
  EXPECT_EQ(api_.Handle(Make("POST", "/api/v1/whoami", {kBearer})).status, 405);
}

TEST_F(WebAuthTest, LogoutEndsTheSessionAndClearsTheCookie) {
  LogIn();
  HttpResponse response = api_.Handle(Make("POST", "/api/v1/logout", {kSessionCookie, kCsrf}));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(Header(response, "Set-Cookie"),
            "labmesh_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
  auto who = coordinator_.LastCredentials<protocol::LogoutRequest>();
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->session, "sess-alice-1");
  EXPECT_EQ(who->csrf, "csrf-alice-1");
  EXPECT_FALSE(coordinator_.LastRequest<protocol::LogoutRequest>()->all_sessions);
  // The session is gone at the coordinator: the old cookie is worth nothing.
  EXPECT_EQ(api_.Handle(Make("GET", "/api/v1/whoami", {kSessionCookie})).status, 401);

  LogIn();
  ASSERT_EQ(api_.Handle(Make("POST", "/api/v1/logout", {kSessionCookie, kCsrf},
                             R"({"all_sessions": true})"))
                .status,
            200);
  EXPECT_TRUE(coordinator_.LastRequest<protocol::LogoutRequest>()->all_sessions);
  EXPECT_EQ(api_.Handle(Make("POST", "/api/v1/logout", {kBearer}, "[1]")).status, 400);
}

TEST_F(WebAuthTest, ThePageAndTheLoginPageNeedNoCredentials) {
  for (const char* path : {"/", "/login", "/static/login.js", "/static/app.js",
                           "/static/style.css", "/healthz"}) {
    HttpResponse response = api_.Handle(Make("GET", path));
    EXPECT_EQ(response.status, 200) << path;
  }
  HttpResponse login = api_.Handle(Make("GET", "/login"));
  EXPECT_EQ(login.content_type, "text/html; charset=utf-8");
  EXPECT_NE(login.body.find("id=\"login-form\""), std::string::npos);
  EXPECT_NE(login.body.find("/static/login.js"), std::string::npos);
  EXPECT_FALSE(Header(login, "Content-Security-Policy").empty());
  EXPECT_NE(api_.Handle(Make("GET", "/static/login.js")).body.find("/api/v1/login"),
            std::string::npos);
  EXPECT_NE(api_.Handle(Make("GET", "/static/api.js")).body.find("X-CSRF-Token"),
            std::string::npos);
  EXPECT_TRUE(coordinator_.Requests().empty());
}

// The pool hands clients from request to request: none may be sent as an earlier request's user.
TEST_F(WebAuthTest, PooledClientsNeverCarryAnotherRequestsCredentials) {
  coordinator_.Gate(nullptr);
  coordinator_.On(HostShowRequest::kType, [](const protocol::Envelope& envelope) {
    // Echo who asked as the hostname.
    return protocol::Encode(HostShowReply{SampleHost("token=" + envelope.credentials.token)},
                            envelope.request_id);
  });
  ASSERT_EQ(api_.Handle(Make("GET", "/api/v1/hosts/x", {kBearer})).status, 200);
  HttpResponse anonymous = api_.Handle(Make("GET", "/api/v1/hosts/x"));
  ASSERT_EQ(anonymous.status, 200);
  EXPECT_EQ(nlohmann::json::parse(anonymous.body)["hostname"], "token=");
  EXPECT_EQ(coordinator_.LastCredentials<HostShowRequest>()->from, kClient);

  constexpr int kThreads = 6;
  constexpr int kRequests = 30;
  std::vector<int> wrong(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &wrong] {
      for (int i = 0; i < kRequests; ++i) {
        // Even threads send a token of their own, odd ones none.
        std::string token = t % 2 == 0 ? "t" + std::to_string(t) + "-" + std::to_string(i) : "";
        Headers headers;
        if (!token.empty()) headers.push_back({"Authorization", "Bearer " + token});
        HttpResponse response = api_.Handle(Make("GET", "/api/v1/hosts/x", headers));
        if (response.status != 200 ||
            nlohmann::json::parse(response.body)["hostname"] != "token=" + token) {
          ++wrong[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(wrong[t], 0) << "thread " << t;
}

TEST_F(WebAuthTest, ResultsFilesNeedASessionOrAToken) {
  testing::ResultsFixture tree;
  WebApiOptions options = Options();
  options.results_root = tree.root();
  WebApi api(context_, kEndpoint, options, &clock_);
  const char* file = "/results/12-ann/lab-1/keyval";

  HttpResponse anonymous = api.Handle(Make("GET", file));
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.body.find("iterations"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(anonymous.body)["login"], "/login");
  HttpResponse browser = api.Handle(Make("GET", file, {{"Accept", "text/html,*/*"}}));
  EXPECT_EQ(browser.status, 401);
  EXPECT_EQ(browser.content_type, "text/html; charset=utf-8");
  EXPECT_NE(browser.body.find("/login?next=%2Fresults%2F12-ann%2Flab-1%2Fkeyval"),
            std::string::npos)
      << browser.body;
  EXPECT_EQ(api.Handle(Make("GET", file, {kSessionCookie})).status, 401);  // not logged in yet

  LogIn();
  HttpResponse served = api.Handle(Make("GET", file, {kSessionCookie}));
  EXPECT_EQ(served.status, 200);
  ASSERT_TRUE(served.file);
  EXPECT_EQ(api.Handle(Make("GET", file, {kBearer})).status, 200);
  EXPECT_FALSE(coordinator_.LastRequest<protocol::WhoAmIRequest>()->with_groups);
  // A write is refused by ResultsFiles before anyone is asked.
  size_t before = coordinator_.Requests().size();
  EXPECT_EQ(api.Handle(Make("PUT", file, {kBearer})).status, 405);
  EXPECT_EQ(coordinator_.Requests().size(), before);
  // A coordinator that does not answer is 503, never the file.
  coordinator_.On(protocol::WhoAmIRequest::kType,
                  [](const protocol::Envelope&) { return std::string(); });
  WebApiOptions quick = options;
  quick.api_timeout_ms = 200;
  WebApi impatient(context_, kEndpoint, quick, &clock_);
  EXPECT_EQ(impatient.Handle(Make("GET", file, {kBearer})).status, 503);
}

TEST(WebAuthFunctionsTest, FindCookieTakesTheExactNameFromAnyCookieHeader) {
  auto with = [](Headers headers) {
    HttpRequest request;
    request.headers = std::move(headers);
    return FindCookie(request, kSessionCookieName);
  };
  EXPECT_EQ(with({{"Cookie", "labmesh_session=abc"}}), "abc");
  EXPECT_EQ(with({{"cookie", "a=1;labmesh_session=abc ;b=2"}}), "abc");
  EXPECT_EQ(with({{"Cookie", "a=1"}, {"Cookie", "labmesh_session=\"q\""}}), "q");
  EXPECT_EQ(with({{"Cookie", "labmesh_session=first; labmesh_session=second"}}), "first");
  EXPECT_EQ(with({{"Cookie", "xlabmesh_session=abc; labmesh_sessionx=def"}}), std::nullopt);
  EXPECT_EQ(with({{"Cookie", "labmesh_session="}}), std::nullopt);
  EXPECT_EQ(with({{"Cookie", "labmesh_session"}}), std::nullopt);
  EXPECT_EQ(with({{"X-Cookie", "labmesh_session=abc"}}), std::nullopt);
  EXPECT_EQ(with({}), std::nullopt);
}

TEST(WebAuthFunctionsTest, CookieValuesMaxAgeAndLoginUrls) {
  EXPECT_TRUE(IsCookieValue("abc-DEF_123.~+/="));
  for (const char* bad : {"", "a b", "a;b", "a,b", "a\"b", "a\\b", "a\r\nSet-Cookie: x=1"}) {
    EXPECT_FALSE(IsCookieValue(bad)) << bad;
  }
  EXPECT_EQ(MaxAgeSeconds(10'999, 1'000), 9);
  EXPECT_EQ(MaxAgeSeconds(1'000, 1'000), 0);
  EXPECT_EQ(MaxAgeSeconds(0, 1'000), 0);
  EXPECT_EQ(LoginUrl("/results/a b?x=1"), "/login?next=%2Fresults%2Fa%20b%3Fx%3D1");
}

TEST_F(WebAuthTest, AnUnusableSessionFromTheCoordinatorIsNeverSetAsACookie) {
  coordinator_.Reply<protocol::LoginRequest>(
      protocol::LoginReply{"alice", false, "x\r\nSet-Cookie: evil=1", "c", kNowMs + 1000});
  HttpResponse response = api_.Handle(LoginRequest(R"({"user": "alice", "token": "tok-alice"})"));
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(Header(response, "Set-Cookie"), "");
}

}  // namespace
}  // namespace labmesh::webui
