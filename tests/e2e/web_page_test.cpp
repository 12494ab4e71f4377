// End to end: the web page's JSON API against a real coordinator and real agents - creating
// and aborting jobs, the log and the live events, the host actions, and what is refused - and
// the page itself driven by a real headless Chromium through the issue's flows
// (tests/e2e/web_flows.py).

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "browser.hpp"
#include "cluster.hpp"
#include "http_test_client.hpp"

namespace labmesh::testing {
namespace {

using webui::testing::ReadStream;
using webui::testing::Request;

constexpr char kToken[] = "web-enroll-token";

int HttpPort(const E2eCluster& cluster) {
  const std::string& http = cluster.http_endpoint();
  return std::stoi(http.substr(http.rfind(':') + 1));
}

std::string Bearer(const std::string& token) {
  return "Authorization: Bearer " + token + "\r\n";
}

std::string JsonPost(const std::string& token) {
  return Bearer(token) + "Content-Type: application/json\r\n";
}

// GET `path` as JSON, or null when it failed.
nlohmann::json GetJson(int port, const std::string& path, const std::string& token) {
  auto response = Request(port, "GET", path, Bearer(token));
  if (!response.ok() || response->status != 200) return nullptr;
  return nlohmann::json::parse(response->body, nullptr, false);
}

bool WaitForJobStatus(int port, uint64_t id, const std::string& token,
                      const std::string& status) {
  return WaitFor(
      [&] {
        auto job = GetJson(port, "/api/v1/jobs/" + std::to_string(id), token);
        return job.is_object() && job["status"] == status;
      },
      std::chrono::seconds(30));
}

class WebPageApi : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.StartCoordinator();
    cluster_.StartAgent("web-a", {"--enroll-token", kToken});
    cluster_.StartAgent("web-b", {"--enroll-token", kToken});
    ASSERT_TRUE(cluster_.WaitForStatus("web-a", "Ready"));
    ASSERT_TRUE(cluster_.WaitForStatus("web-b", "Ready"));
    port_ = HttpPort(cluster_);
    admin_ = cluster_.AdminToken();
  }

  // Creates a job with `body` as the admin; its id, or 0.
  uint64_t CreateJob(const nlohmann::json& body) {
    auto response = Request(port_, "POST", "/api/v1/jobs", JsonPost(admin_), body.dump());
    EXPECT_TRUE(response.ok());
    if (!response.ok()) return 0;
    EXPECT_EQ(response->status, 201) << response->body;
    auto json = nlohmann::json::parse(response->body, nullptr, false);
    return json.is_object() && json["id"].is_number() ? json["id"].get<uint64_t>() : 0;
  }

  E2eCluster cluster_{{"--enroll-token", kToken}};
  int port_ = 0;
  std::string admin_;
};

TEST_F(WebPageApi, AJobCreatedOverHttpRunsAndItsLogArrivesLive) {
  uint64_t id = CreateJob({{"name", "web-hello"},
                           {"command", "echo hello-from-the-web-page"},
                           {"hosts", {"web-a"}},
                           {"user", "someone-else"}});
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(WaitForJobStatus(port_, id, admin_, "Completed"));
  auto job = GetJson(port_, "/api/v1/jobs/" + std::to_string(id), admin_);
  EXPECT_EQ(job["owner"], "admin") << "the owner is who is logged in, not the body's user";

  auto log = GetJson(port_, "/api/v1/jobs/" + std::to_string(id) + "/log?host=web-a", admin_);
  ASSERT_TRUE(log.is_object());
  EXPECT_NE(log["data"].get<std::string>().find("hello-from-the-web-page"), std::string::npos)
      << log.dump();
  EXPECT_EQ(log["complete"], true);

  // The live stream: the job, then its whole log (compact JSON, "complete":true at its end).
  auto stream = ReadStream(port_, "/api/v1/events?job=" + std::to_string(id) + "&log=web-a",
                           Bearer(admin_), "\"complete\":true");
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  EXPECT_EQ(stream->status, 200);
  EXPECT_NE(stream->headers["content-type"].find("text/event-stream"), std::string::npos);
  EXPECT_NE(stream->body.find("event: job\n"), std::string::npos) << stream->body;
  size_t log_event = stream->body.find("event: log\nid: ");
  ASSERT_NE(log_event, std::string::npos) << stream->body;
  EXPECT_NE(stream->body.find("hello-from-the-web-page", log_event), std::string::npos)
      << stream->body;

  // A job list filtered by name finds it; one finished since its end too.
  auto named = GetJson(port_, "/api/v1/jobs?name=WEB-HEL", admin_);
  ASSERT_EQ(named.size(), 1u);
  auto since = GetJson(port_,
                       "/api/v1/jobs?finished_since_us=" +
                           std::to_string(job["finished_us"].get<int64_t>()),
                       admin_);
  EXPECT_EQ(since.size(), 1u);
  EXPECT_EQ(GetJson(port_, "/api/v1/jobs?before_id=" + std::to_string(id), admin_).size(), 0u);

  // The host page's health history has the heartbeats' samples.
  auto host = GetJson(port_, "/api/v1/hosts/web-a", admin_);
  ASSERT_TRUE(host["health_history"].is_array());
  EXPECT_GE(host["health_history"].size(), 1u);
  EXPECT_TRUE(host["health_history"][0].contains("load1"));
}

TEST_F(WebPageApi, AbortingOverHttpKillsTheRunningEntry) {
  uint64_t id = CreateJob({{"name", "web-sleep"}, {"command", "sleep 300"}, {"hosts", {"web-b"}}});
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(WaitForJobStatus(port_, id, admin_, "Running"));
  std::string bob = cluster_.AddUser("bob", false);
  auto refused = Request(port_, "POST", "/api/v1/jobs/" + std::to_string(id) + "/abort",
                         JsonPost(bob), "{}");
  EXPECT_EQ(refused->status, 403) << refused->body;
  auto abort = Request(port_, "POST", "/api/v1/jobs/" + std::to_string(id) + "/abort",
                       JsonPost(admin_), "{}");
  ASSERT_EQ(abort->status, 200) << abort->body;
  EXPECT_TRUE(WaitForJobStatus(port_, id, admin_, "Aborted"));
}

TEST_F(WebPageApi, HostActionsAreAdminOnlyAndBadBodiesChangeNothing) {
  std::string bob = cluster_.AddUser("bob", false);
  auto refused = Request(port_, "POST", "/api/v1/hosts/web-a/lock", JsonPost(bob),
                         R"({"reason": "mine"})");
  EXPECT_EQ(refused->status, 403) << refused->body;
  auto lock = Request(port_, "POST", "/api/v1/hosts/web-a/lock", JsonPost(admin_),
                      R"({"reason": "bench work"})");
  ASSERT_EQ(lock->status, 200) << lock->body;
  auto host = GetJson(port_, "/api/v1/hosts/web-a", admin_);
  EXPECT_EQ(host["locked"], true);
  EXPECT_EQ(host["lock_reason"], "bench work");
  EXPECT_EQ(Request(port_, "POST", "/api/v1/hosts/web-a/unlock", JsonPost(admin_), "{}")->status,
            200);
  EXPECT_EQ(GetJson(port_, "/api/v1/hosts/web-a", admin_)["locked"], false);

  auto labels = Request(port_, "POST", "/api/v1/hosts/web-a/labels", JsonPost(admin_),
                        R"({"add": ["bench"]})");
  ASSERT_EQ(labels->status, 200) << labels->body;
  EXPECT_NE(labels->body.find("\"bench\""), std::string::npos);
  auto protection = Request(port_, "POST", "/api/v1/hosts/web-a/protection", JsonPost(admin_),
                            R"({"protection": "do-not-repair"})");
  ASSERT_EQ(protection->status, 200) << protection->body;
  EXPECT_EQ(GetJson(port_, "/api/v1/hosts/web-a", admin_)["protection"], "do-not-repair");
  auto verify = Request(port_, "POST", "/api/v1/hosts/web-b/verify", JsonPost(admin_), "");
  ASSERT_EQ(verify->status, 200) << verify->body;
  EXPECT_EQ(nlohmann::json::parse(verify->body)["kind"], "Verify");

  // A host without the token waits; the admin accepts it over HTTP.
  cluster_.StartAgent("web-c");
  ASSERT_TRUE(cluster_.WaitForStatus("web-c", "Pending Approval"));
  EXPECT_EQ(GetJson(port_, "/api/v1/pending", admin_).size(), 1u);
  EXPECT_EQ(Request(port_, "POST", "/api/v1/hosts/web-c/accept", JsonPost(bob), "{}")->status,
            403);
  auto accept = Request(port_, "POST", "/api/v1/hosts/web-c/accept", JsonPost(admin_), "{}");
  ASSERT_EQ(accept->status, 200) << accept->body;
  EXPECT_TRUE(cluster_.WaitForStatus("web-c", "Ready"));

  // Malformed bodies: refused with a message, no job made.
  for (const auto& [headers, body, status] : std::vector<std::tuple<std::string, std::string, int>>{
           {Bearer(admin_) + "Content-Type: text/plain\r\n", R"({"command": "true"})", 415},
           {JsonPost(admin_), R"({"command": "true", "hosts": "web-a"})", 400},
           {JsonPost(admin_), R"({"comand": "true"})", 400},
           {JsonPost(admin_), "{\"command\": ", 400},
           {JsonPost(admin_), R"({"command": "true", "hosts": ["nope"]})", 400}}) {
    auto response = Request(port_, "POST", "/api/v1/jobs", headers, body);
    EXPECT_EQ(response->status, status) << body << ": " << response->body;
    EXPECT_NE(response->body.find("\"error\""), std::string::npos) << response->body;
  }
  EXPECT_EQ(GetJson(port_, "/api/v1/jobs", admin_).size(), 0u);
  EXPECT_TRUE(GetJson(port_, "/api/v1/tests", admin_).is_array());
  if (access("/usr/share/javascript/chart.js/chart.min.js", R_OK) == 0) {
    auto chart = Request(port_, "GET", "/static/chart.js");
    EXPECT_EQ(chart->status, 200);
    EXPECT_NE(chart->body.find("Chart"), std::string::npos);
  }
}

TEST_F(WebPageApi, PowerAndConsoleOverHttp) {
  // Issue 28 (docs/power-console.md): the host page's JSON routes.
  auto configured = cluster_.Cli({"host", "power-config", "web-a", "--cycle",
                                  "echo cycled {bmc} $LABMESH_SECRET_pw", "--console",
                                  "echo serial-hello; exec sleep 600", "--attr", "bmc=b1",
                                  "--secret", "pw=p4ss"});
  ASSERT_EQ(configured.exit_code, 0) << configured.err;
  auto config = GetJson(port_, "/api/v1/hosts/web-a/power", admin_);
  ASSERT_TRUE(config.is_object());
  EXPECT_EQ(config["attributes"]["pw"], "***");
  std::string bob = cluster_.AddUser("bob", false);
  auto refused = Request(port_, "POST", "/api/v1/hosts/web-a/power", JsonPost(bob),
                         R"({"action": "cycle"})");
  EXPECT_EQ(refused->status, 403) << refused->body;
  auto bad = Request(port_, "POST", "/api/v1/hosts/web-a/power", JsonPost(admin_),
                     R"({"action": "explode"})");
  EXPECT_EQ(bad->status, 400) << bad->body;
  auto cycled = Request(port_, "POST", "/api/v1/hosts/web-a/power", JsonPost(admin_),
                        R"({"action": "cycle"})");
  ASSERT_EQ(cycled->status, 200) << cycled->body;
  auto reply = nlohmann::json::parse(cycled->body);
  EXPECT_TRUE(reply["passed"].get<bool>());
  EXPECT_EQ(reply["output"], "cycled b1 ***\n");
  nlohmann::json console;
  ASSERT_TRUE(WaitFor([&] {
    console = GetJson(port_, "/api/v1/hosts/web-a/console?offset=0", admin_);
    return console.is_object() && console["data"].get<std::string>().find("serial-hello") !=
                                      std::string::npos;
  })) << console.dump();
  EXPECT_TRUE(console["reading"].get<bool>());
  auto tail = GetJson(port_, "/api/v1/hosts/web-a/console?offset=" +
                                 std::to_string(console["next_offset"].get<uint64_t>()),
                      admin_);
  EXPECT_EQ(tail["data"], "");
  EXPECT_EQ(Request(port_, "GET", "/api/v1/hosts/web-a/console?offset=x", Bearer(admin_))->status,
            400);
}

TEST(WebPage, ChromiumRunsTheIssuesFlows) {
  LABMESH_SKIP_WITHOUT_BROWSER();
  E2eCluster cluster({"--enroll-token", kToken});
  cluster.StartCoordinator();
  cluster.StartAgent("flow-1", {"--enroll-token", kToken});
  cluster.StartAgent("flow-2", {"--enroll-token", kToken});
  cluster.StartAgent("flow-3");  // no token: waits for approval
  ASSERT_TRUE(cluster.WaitForStatus("flow-1", "Ready"));
  ASSERT_TRUE(cluster.WaitForStatus("flow-2", "Ready"));
  ASSERT_TRUE(cluster.WaitForStatus("flow-3", "Pending Approval"));
  // Issue 28: flow-2's power method and console, for the page's Power and console section.
  auto configured = cluster.Cli({"host", "power-config", "flow-2", "--cycle",
                                 "echo 'Chassis Power Control: Cycle'", "--console",
                                 "echo serial-hello-from-flow-2; exec sleep 600"});
  ASSERT_EQ(configured.exit_code, 0) << configured.err;
  std::string screenshots = std::string(LABMESH_SCREENSHOT_DIR) + "/chromium-runs-the-flows";
  std::filesystem::remove_all(screenshots);
  auto result = RunCommand({"/usr/bin/python3", LABMESH_WEB_FLOWS_PY,
                            "http://" + cluster.http_endpoint() + "/", "--login", "admin",
                            cluster.AdminToken(), "--hosts", "flow-1,flow-2", "--pending",
                            "flow-3", "--lock", "flow-1", "--screenshots", screenshots},
                           std::chrono::seconds(240));
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err << "\nscreenshots: " << screenshots;
  // Every step ran (the reservation steps of issue 22 among them).
  for (const char* step : {"ok 5b-clone", "ok 6b-reserve", "ok 6c-power", "ok 6d-quarantine",
                           "ok 8-plot",
                           "OK: all steps passed"}) {
    EXPECT_NE(result.out.find(step), std::string::npos) << step << "\n" << result.out;
  }
}

}  // namespace
}  // namespace labmesh::testing
