// /results/ through the real civetweb server on 127.0.0.1 port 0: files, listings, ranges, HEAD,
// 405, and traversal attempts sent as raw request lines (so no client library normalises "..");
// and that nothing is served without credentials the coordinator (a fake) accepts.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "fake_coordinator.hpp"
#include "http_test_client.hpp"
#include "labmesh/webui/http_server.hpp"
#include "labmesh/webui/web_api.hpp"
#include "results_fixture.hpp"

namespace labmesh::webui {
namespace {

using testing::FakeCoordinator;
using testing::FakeUser;
using testing::kBigFileBytes;
using testing::kSecret;
using testing::Request;
using testing::ResultsFixture;
using testing::SendRaw;

// The fake coordinator answers here: /results/ asks it who the credentials name.
constexpr char kEndpoint[] = "inproc://webui-results-http-test-api";
constexpr char kBearer[] = "Authorization: Bearer tok-alice\r\n";

class ResultsHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FakeUser user;
    user.expires_ms = 1'700'000'000'000 + 3'600'000;
    coordinator_.ServeAuth(user);
    auto server = HttpServer::Start("127.0.0.1:0", &api_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }

  static WebApiOptions Options(const std::string& root) {
    WebApiOptions options;
    options.results_root = root;
    return options;
  }

  // `method target` with `headers`, sent as alice's API token unless `as` says otherwise.
  Result<testing::RawHttpResponse> Send(const std::string& method, const std::string& target,
                                        const std::string& headers = "",
                                        const std::string& as = kBearer) {
    return SendRaw(server_->port(), method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                                        as + headers + "Connection: close\r\n\r\n");
  }
  Result<testing::RawHttpResponse> Get(const std::string& target,
                                       const std::string& extra_headers = "") {
    return Send("GET", target, extra_headers);
  }

  ResultsFixture tree_;
  zmq::context_t context_;
  FakeCoordinator coordinator_{context_, kEndpoint};
  WebApi api_{context_, kEndpoint, Options(tree_.root())};
  std::unique_ptr<HttpServer> server_;
};

TEST_F(ResultsHttpTest, ServesAFile) {
  auto response = Get("/results/12-ann/lab-1/status.log");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200) << response->raw;
  EXPECT_EQ(response->body, "START\t----\tsleeptest\nEND GOOD\t----\tsleeptest\n");
  EXPECT_EQ(response->headers["content-type"], "text/plain; charset=utf-8");
  EXPECT_EQ(response->headers["content-length"], std::to_string(response->body.size()));
  EXPECT_EQ(response->headers["accept-ranges"], "bytes");
  EXPECT_EQ(response->headers["x-content-type-options"], "nosniff");
  EXPECT_EQ(response->headers["content-security-policy"].rfind("sandbox", 0), 0u);
}

TEST_F(ResultsHttpTest, LargeFileArrivesWhole) {
  auto response = Get("/results/12-ann/lab-1/big.log");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  ASSERT_EQ(response->body.size(), kBigFileBytes);
  EXPECT_EQ(response->headers["content-length"], std::to_string(kBigFileBytes));
  for (size_t i = 0; i < kBigFileBytes; i += 4099) {
    ASSERT_EQ(response->body[i], ResultsFixture::BigByte(i)) << "at " << i;
  }
  EXPECT_EQ(response->body.back(), ResultsFixture::BigByte(kBigFileBytes - 1));
}

TEST_F(ResultsHttpTest, RangeRequests) {
  auto middle = Get("/results/12-ann/lab-1/big.log", "Range: bytes=1000000-1000009\r\n");
  ASSERT_TRUE(middle.ok());
  EXPECT_EQ(middle->status, 206) << middle->raw.substr(0, 300);
  EXPECT_EQ(middle->headers["content-range"],
            "bytes 1000000-1000009/" + std::to_string(kBigFileBytes));
  EXPECT_EQ(middle->headers["content-length"], "10");
  ASSERT_EQ(middle->body.size(), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(middle->body[i], ResultsFixture::BigByte(1000000 + i));

  auto tail = Get("/results/12-ann/lab-1/status.log", "Range: bytes=-10\r\n");
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(tail->status, 206);
  EXPECT_EQ(tail->body, "sleeptest\n");

  auto past = Get("/results/12-ann/lab-1/keyval", "Range: bytes=100-\r\n");
  ASSERT_TRUE(past.ok());
  EXPECT_EQ(past->status, 416);
  EXPECT_EQ(past->headers["content-range"], "bytes */13");
}

TEST_F(ResultsHttpTest, HeadSendsHeadersOnly) {
  auto response = Send("HEAD", "/results/12-ann/lab-1/big.log");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->headers["content-length"], std::to_string(kBigFileBytes));
  EXPECT_TRUE(response->body.empty());
  auto listing = Send("HEAD", "/results/");
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->status, 200);
  EXPECT_TRUE(listing->body.empty());
}

TEST_F(ResultsHttpTest, DirectoryListingHtmlAndJson) {
  auto html = Get("/results/12-ann/lab-1/");
  ASSERT_TRUE(html.ok());
  EXPECT_EQ(html->status, 200);
  EXPECT_EQ(html->headers["content-type"], "text/html; charset=utf-8");
  EXPECT_NE(html->body.find("href=\"/results/12-ann/lab-1/debug/\">debug/</a>"),
            std::string::npos)
      << html->body;
  EXPECT_NE(html->body.find("&lt;script&gt;.txt"), std::string::npos);
  EXPECT_EQ(html->body.find("<script>"), std::string::npos);
  EXPECT_NE(html->body.find("href=\"/results/12-ann/\">../</a>"), std::string::npos);
  EXPECT_EQ(html->body.find("etc"), std::string::npos);  // symlinks are not listed

  auto json = Get("/results/12-ann/lab-1/?format=json");
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json->status, 200);
  EXPECT_EQ(json->headers["content-type"], "application/json");
  auto listing = nlohmann::json::parse(json->body);
  ASSERT_TRUE(listing.is_array());
  ASSERT_EQ(listing.size(), 6u);
  EXPECT_EQ(listing[0]["name"], "debug");
  EXPECT_EQ(listing[0]["type"], "dir");
  EXPECT_EQ(listing[1]["link"], "/results/12-ann/lab-1/%3Cscript%3E.txt");

  auto by_accept = Get("/results/", "Accept: application/json\r\n");
  ASSERT_TRUE(by_accept.ok());
  EXPECT_EQ(nlohmann::json::parse(by_accept->body)[0]["link"], "/results/12-ann/");

  // A link from the listing leads to the file.
  auto followed = Get(listing[1]["link"].get<std::string>());
  ASSERT_TRUE(followed.ok());
  EXPECT_EQ(followed->status, 200);
  EXPECT_EQ(followed->body, "x\n");
}

TEST_F(ResultsHttpTest, WritesAreRefused) {
  for (const char* method : {"POST", "PUT", "DELETE"}) {
    auto response = SendRaw(server_->port(), std::string(method) +
                                                 " /results/12-ann/lab-1/keyval HTTP/1.1\r\n"
                                                 "Host: x\r\n" + kBearer +
                                                 "Content-Length: 2\r\n\r\nhi");
    ASSERT_TRUE(response.ok()) << method;
    EXPECT_EQ(response->status, 405) << method << ": " << response->raw;
    EXPECT_EQ(response->headers["allow"], "GET, HEAD");
  }
  auto still = Get("/results/12-ann/lab-1/keyval");
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->body, "iterations=3\n");
}

TEST_F(ResultsHttpTest, TraversalAttemptsAreRefused) {
  // Each as a raw request line: civetweb hands the handler the path as sent (local_uri_raw),
  // and our code decodes it once and refuses.
  for (const std::string target : {
           "/results/../../etc/passwd",
           "/results/../outside/secret.txt",
           "/results/%2e%2e/%2e%2e/etc/passwd",
           "/results/%2e%2e/outside/secret.txt",
           "/results/%2E%2e%2foutside%2fsecret.txt",
           "/results/12-ann/..%2f..%2f..%2foutside/secret.txt",
           "/results/a/..%2f..%2fetc/passwd",
           "/results/%252e%252e/%252e%252e/etc/passwd",
           "/results/%252e%252e/outside/secret.txt",
           "/results/12-ann/lab-1/status.log%00.txt",
           "/results/%00/../../etc/passwd",
           "/results/..\\..\\etc\\passwd",
           "/results/12-ann\\..\\..\\outside\\secret.txt",
           "/results//etc/passwd",
           "/results/%2fetc%2fpasswd",
           "/results/linked/secret.txt",
           "/results/12-ann/lab-1/secret",
           "/results/12-ann/lab-1/etc/passwd",
           "/results/inside/lab-1/keyval",
           "/results-evil/secret.txt",
           "/results/../results-evil/secret.txt",
           "/results/%zz",
       }) {
    auto response = Get(target);
    ASSERT_TRUE(response.ok()) << target << ": " << response.status().ToString();
    EXPECT_TRUE(response->status == 400 || response->status == 403 || response->status == 404)
        << target << " -> " << response->raw;
    EXPECT_EQ(response->raw.find(kSecret), std::string::npos) << target;
    EXPECT_EQ(response->raw.find("root:"), std::string::npos) << target;
  }
  // And literal dot segments are ours to refuse, not civetweb's to resolve.
  auto dots = Get("/results/12-ann/../12-ann/lab-1/keyval");
  ASSERT_TRUE(dots.ok());
  EXPECT_EQ(dots->status, 403) << dots->raw;
}

TEST_F(ResultsHttpTest, WithoutCredentialsNothingIsServed) {
  for (const char* target : {"/results/", "/results/12-ann/lab-1/status.log",
                             "/results/12-ann/lab-1/?format=json"}) {
    SCOPED_TRACE(target);
    for (const std::string& as : {std::string(), std::string("Authorization: Bearer wrong\r\n"),
                                  std::string("Cookie: labmesh_session=forged\r\n"),
                                  std::string("Authorization: Basic YWxpY2U6cHc=\r\n")}) {
      auto response = Send("GET", target, "", as);
      ASSERT_TRUE(response.ok());
      EXPECT_EQ(response->status, 401) << as << response->raw;
      EXPECT_EQ(response->headers["content-type"], "application/json");
      EXPECT_EQ(response->headers["www-authenticate"], "Bearer realm=\"labmesh\"");
      auto body = nlohmann::json::parse(response->body);
      EXPECT_EQ(body["code"], "Unauthenticated");
      EXPECT_EQ(body["login"], "/login");
      EXPECT_NE(body["error"].get<std::string>().find("/login"), std::string::npos);
      EXPECT_EQ(response->raw.find("START"), std::string::npos);
      EXPECT_EQ(response->raw.find("12-ann"), std::string::npos);  // not even a listing
    }
  }
  // HEAD neither.
  auto head = Send("HEAD", "/results/12-ann/lab-1/big.log", "", "");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->status, 401);
}

TEST_F(ResultsHttpTest, BrowsersWithoutASessionGetAPageLinkingToTheLogin) {
  auto response = Send("GET", "/results/12-ann/lab-1/status.log?x=<b>", "Accept: text/html\r\n", "");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(response->headers["content-type"], "text/html; charset=utf-8");
  // Back to the same file after the login, the target percent-encoded (no markup survives).
  EXPECT_NE(response->body.find(
                "href=\"/login?next=%2Fresults%2F12-ann%2Flab-1%2Fstatus.log%3Fx%3D%3Cb%3E\""),
            std::string::npos)
      << response->body;
  EXPECT_EQ(response->body.find("<b>"), std::string::npos);
  EXPECT_EQ(response->body.find("START"), std::string::npos);
}

TEST_F(ResultsHttpTest, TheSessionOfALoginServesFilesUntilLogout) {
  std::string body = R"({"user": "alice", "password": "pw-alice"})";
  auto login = SendRaw(server_->port(),
                       "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: "
                       "application/json\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n" + body);
  ASSERT_TRUE(login.ok());
  ASSERT_EQ(login->status, 200) << login->raw;
  std::string cookie = login->headers["set-cookie"];
  ASSERT_EQ(cookie.rfind("labmesh_session=sess-alice-1;", 0), 0u) << cookie;
  std::string as = "Cookie: " + cookie.substr(0, cookie.find(';')) + "\r\n";

  auto file = Send("GET", "/results/12-ann/lab-1/status.log", "", as);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->status, 200) << file->raw;
  EXPECT_EQ(file->body, "START\t----\tsleeptest\nEND GOOD\t----\tsleeptest\n");
  // One cheap check per file: who, without the groups, from the HTTP client's address.
  auto check = coordinator_.LastRequest<protocol::WhoAmIRequest>();
  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->with_groups);
  auto who = coordinator_.LastCredentials<protocol::WhoAmIRequest>();
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->session, "sess-alice-1");
  EXPECT_EQ(who->from, "127.0.0.1");
  EXPECT_TRUE(who->token.empty());

  auto logout = Send("POST", "/api/v1/logout", "X-CSRF-Token: csrf-alice-1\r\n", as);
  ASSERT_TRUE(logout.ok());
  ASSERT_EQ(logout->status, 200) << logout->raw;
  auto after = Send("GET", "/results/12-ann/lab-1/status.log", "", as);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, 401);
  EXPECT_EQ(after->body.find("START"), std::string::npos);
}

TEST(ResultsHttpNoRootTest, WithoutAResultsRootResultsAre404) {
  zmq::context_t context;
  WebApi api(context, kEndpoint);
  auto server = HttpServer::Start("127.0.0.1:0", &api);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  for (const char* target : {"/results/", "/results", "/results/12-ann/lab-1/keyval"}) {
    auto response = Request((*server)->port(), "GET", target);
    ASSERT_TRUE(response.ok());
    EXPECT_EQ(response->status, 404) << target;
  }
}

}  // namespace
}  // namespace labmesh::webui
