// End to end: the web server inside a real coordinator process - the JSON API, the page, and the
// page rendered by a real headless Chromium listing real agents.

#include <gtest/gtest.h>
#include <unistd.h>

#include "browser.hpp"
#include "cluster.hpp"
#include "http_test_client.hpp"

namespace labmesh::testing {
namespace {

using webui::testing::Request;

int HttpPort(const E2eCluster& cluster) {
  const std::string& http = cluster.http_endpoint();
  return std::stoi(http.substr(http.rfind(':') + 1));
}

std::string Bearer(const std::string& token) {
  return "Authorization: Bearer " + token + "\r\n";
}

// The session cookie's value from a login's Set-Cookie ("" when none).
std::string SessionOf(const webui::testing::RawHttpResponse& login) {
  auto it = login.headers.find("set-cookie");
  if (it == login.headers.end()) return "";
  const std::string& cookie = it->second;
  const std::string name = "labmesh_session=";
  size_t at = cookie.find(name);
  if (at == std::string::npos) return "";
  size_t end = cookie.find(';', at);
  return cookie.substr(at + name.size(), end == std::string::npos ? end : end - at - name.size());
}

Result<webui::testing::RawHttpResponse> Login(int port, const std::string& user,
                                              const std::string& token) {
  std::string body = nlohmann::json{{"user", user}, {"token", token}}.dump();
  return Request(port, "POST", "/api/v1/login", "Content-Type: application/json\r\n", body);
}

TEST(Web, ServesHostsAsJsonWithTheCliFieldsAndThePage) {
  E2eCluster cluster;
  cluster.StartCoordinator();
  cluster.StartAgent("web-1", {"--labels", "gpu"});
  cluster.StartAgent("web-2");
  ASSERT_TRUE(cluster.WaitForStatus("web-1", "Ready"));
  ASSERT_TRUE(cluster.WaitForStatus("web-2", "Ready"));
  int port = HttpPort(cluster);

  const std::string admin = Bearer(cluster.AdminToken());
  auto hosts = Request(port, "GET", "/api/v1/hosts", admin);
  ASSERT_TRUE(hosts.ok()) << hosts.status().ToString();
  EXPECT_EQ(hosts->status, 200);
  EXPECT_NE(hosts->headers["content-type"].find("application/json"), std::string::npos);
  auto json = nlohmann::json::parse(hosts->body);
  ASSERT_EQ(json.size(), 2u);
  for (const char* field : {"hostname", "status", "locked", "labels", "agent_version",
                            "last_heartbeat", "health"}) {
    EXPECT_TRUE(json[0].contains(field)) << field;
  }
  // The same fields as the CLI's --json, from the same coordinator state.
  auto cli = cluster.Hosts();
  ASSERT_EQ(cli.size(), 2u);
  for (auto& [key, value] : cli[0].items()) EXPECT_TRUE(json[0].contains(key)) << key;

  auto filtered = Request(port, "GET", "/api/v1/hosts?label=gpu", admin);
  ASSERT_TRUE(filtered.ok());
  auto gpu = nlohmann::json::parse(filtered->body);
  ASSERT_EQ(gpu.size(), 1u);
  EXPECT_EQ(gpu[0]["hostname"], "web-1");

  auto one = Request(port, "GET", "/api/v1/hosts/web-2", admin);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->status, 200);
  EXPECT_EQ(nlohmann::json::parse(one->body)["hostname"], "web-2");
  EXPECT_EQ(Request(port, "GET", "/api/v1/hosts/nope", admin)->status, 404);
  EXPECT_EQ(Request(port, "GET", "/api/v1/hosts?status=bogus", admin)->status, 400);

  auto page = Request(port, "GET", "/");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->headers["content-type"].find("text/html"), std::string::npos);
  EXPECT_NE(page->body.find("labmesh"), std::string::npos);

  EXPECT_EQ(Request(port, "GET", "/no/such/page")->status, 404);
  auto post = Request(port, "POST", "/api/v1/hosts", admin);
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 405);
  EXPECT_FALSE(post->headers["allow"].empty());
}

TEST(Web, ChromiumShowsTheRegisteredHosts) {
  LABMESH_SKIP_WITHOUT_BROWSER();
  E2eCluster cluster;
  cluster.StartCoordinator();
  cluster.StartAgent("page-1");
  cluster.StartAgent("page-2");
  ASSERT_TRUE(cluster.WaitForStatus("page-1", "Ready"));
  ASSERT_TRUE(cluster.WaitForStatus("page-2", "Ready"));
  std::string url = "http://" + cluster.http_endpoint() + "/";
  // The page also counts the hosts on each agent version (self-update, docs/update.md).
  auto result = RunCommand({"/usr/bin/python3", LABMESH_PAGE_TEST_PY, url, "--login", "admin",
                            cluster.AdminToken(), "--versions", LABMESH_VERSION, "2", "--logout",
                            "page-1", "page-2"},
                           std::chrono::seconds(90));
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
}

TEST(Web, EveryApiRouteAndResultFileNeedsASessionOrABearerToken) {
  E2eCluster cluster;
  cluster.StartCoordinator();
  int port = HttpPort(cluster);
  for (const char* path : {"/api/v1/hosts", "/api/v1/jobs", "/api/v1/whoami", "/results/"}) {
    auto anonymous = Request(port, "GET", path);
    ASSERT_TRUE(anonymous.ok());
    EXPECT_EQ(anonymous->status, 401) << path;
    auto wrong = Request(port, "GET", path, Bearer("lmt_wrong"));
    EXPECT_EQ(wrong->status, 401) << path;
  }
  EXPECT_EQ(Request(port, "GET", "/api/v1/hosts", Bearer(cluster.AdminToken()))->status, 200);
  // The login page itself needs nothing.
  EXPECT_EQ(Request(port, "GET", "/login")->status, 200);
  // A wrong login is 401 and sets no cookie.
  auto bad = Login(port, "admin", "lmt_wrong");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 401);
  EXPECT_EQ(SessionOf(*bad), "");
}

TEST(Web, LoginGivesAnHttpOnlyStrictSessionWhoseChangesNeedTheCsrfToken) {
  E2eCluster cluster;
  cluster.StartCoordinator();
  int port = HttpPort(cluster);
  std::string token = cluster.AddUser("carol", false);
  ASSERT_FALSE(token.empty());
  auto login = Login(port, "carol", token);
  ASSERT_TRUE(login.ok());
  ASSERT_EQ(login->status, 200) << login->body;
  const std::string& set_cookie = login->headers["set-cookie"];
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("Max-Age="), std::string::npos) << set_cookie;
  std::string session = SessionOf(*login);
  ASSERT_FALSE(session.empty());
  EXPECT_EQ(login->body.find(session), std::string::npos) << "the session is only in the cookie";
  std::string csrf = nlohmann::json::parse(login->body)["csrf"].get<std::string>();
  std::string cookie = "Cookie: labmesh_session=" + session + "\r\n";

  auto me = Request(port, "GET", "/api/v1/whoami", cookie);
  ASSERT_EQ(me->status, 200);
  EXPECT_EQ(nlohmann::json::parse(me->body)["user"], "carol");
  EXPECT_EQ(Request(port, "GET", "/api/v1/hosts", cookie)->status, 200);

  // A change without the CSRF token is refused and changes nothing: still logged in.
  auto no_csrf = Request(port, "POST", "/api/v1/logout", cookie);
  EXPECT_EQ(no_csrf->status, 403);
  auto wrong_csrf = Request(port, "POST", "/api/v1/logout", cookie + "X-CSRF-Token: nope\r\n");
  EXPECT_EQ(wrong_csrf->status, 403);
  EXPECT_EQ(Request(port, "GET", "/api/v1/whoami", cookie)->status, 200);
  auto logout = Request(port, "POST", "/api/v1/logout", cookie + "X-CSRF-Token: " + csrf + "\r\n");
  EXPECT_EQ(logout->status, 200) << logout->body;
  EXPECT_EQ(Request(port, "GET", "/api/v1/whoami", cookie)->status, 401);

  // Refused and accepted changes are in the audit log, with where they came from.
  nlohmann::json records;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto audit = cluster.Cli({"--json", "audit", "--user", "carol"});
        records = nlohmann::json::parse(audit.out, nullptr, false);
        return records.is_array() && records.size() >= 4;  // login, 2 refused logouts, logout
      },
      std::chrono::seconds(10)))
      << records.dump();
  size_t refused = 0;
  for (const auto& r : records) {
    EXPECT_EQ(r["from"], "web 127.0.0.1");
    if (r["action"] == "LogoutRequest" && r["ok"] == false) ++refused;
  }
  // The web server refuses a missing token before asking; the coordinator refuses a wrong one.
  EXPECT_GE(refused, 1u) << records.dump(1);
}

TEST(Web, AnExpiredSessionIsRefused) {
  E2eCluster cluster({"--auto-accept", "--session-ttl", "2s"});
  cluster.StartCoordinator();
  int port = HttpPort(cluster);
  auto login = Login(port, "admin", cluster.AdminToken());
  ASSERT_TRUE(login.ok());
  ASSERT_EQ(login->status, 200);
  std::string cookie = "Cookie: labmesh_session=" + SessionOf(*login) + "\r\n";
  EXPECT_EQ(Request(port, "GET", "/api/v1/hosts", cookie)->status, 200);
  // Expiry is the coordinator's wall clock: wait for it, with a deadline.
  int status = 0;
  EXPECT_TRUE(WaitFor(
      [&] {
        status = Request(port, "GET", "/api/v1/hosts", cookie)->status;
        return status != 200;
      },
      std::chrono::seconds(20)));
  EXPECT_EQ(status, 401);
  auto body = Request(port, "GET", "/api/v1/hosts", cookie)->body;
  EXPECT_NE(body.find("expired"), std::string::npos) << body;
}

}  // namespace
}  // namespace labmesh::testing
