// End to end (docs/monitoring.md): GET /metrics on a real coordinator with real agents - its
// figures, its text checked by Prometheus' own promtool, who may scrape it, odd requests - a real
// Prometheus server scraping it and answering a PromQL query with the host count, and the
// daemons' logs: JSON lines with --log-format json, a --log-file that rotates at its size.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster.hpp"
#include "http_test_client.hpp"

namespace labmesh::testing {
namespace {

using webui::testing::RawHttpResponse;
using webui::testing::Request;

constexpr char kPromtool[] = "/usr/bin/promtool";
constexpr char kPrometheus[] = "/usr/bin/prometheus";
constexpr char kCurl[] = "/usr/bin/curl";  // for what the test client cannot: other addresses,
                                           // chunked bodies

int PortOf(const std::string& host_port) {
  return std::stoi(host_port.substr(host_port.rfind(':') + 1));
}

std::string Bearer(const std::string& token) { return "Authorization: Bearer " + token + "\r\n"; }

// The value of the sample `series` (exactly as printed: `name` or `name{labels}`), or nullopt.
std::optional<double> Sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::strtod(line.c_str() + series.size() + 1, nullptr);
  }
  return std::nullopt;
}

RawHttpResponse Scrape(int port, const std::string& headers = "") {
  auto response = Request(port, "GET", "/metrics", headers);
  EXPECT_TRUE(response.ok()) << response.status().ToString();
  return response.ok() ? *response : RawHttpResponse{};
}

// `promtool check metrics` on `text` (it reads standard input); its output when it objects.
CommandResult Promtool(const std::string& dir, const std::string& text) {
  std::string path = dir + "/scrape.txt";
  std::ofstream(path) << text;
  return RunCommand({"/bin/sh", "-c", std::string(kPromtool) + " check metrics < '" + path + "'"});
}

// This machine's first IPv4 address that is not loopback ("" when it has none).
std::string NonLoopbackAddress() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* i = list; i != nullptr && found.empty(); i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN] = {0};
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof text);
    if (std::string(text).rfind("127.", 0) != 0) found = text;
  }
  freeifaddrs(list);
  return found;
}

std::string UrlEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.') {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

TEST(Metrics, ARealCoordinatorShowsItsHostsAgentsAndJobsInTextPromtoolAccepts) {
  E2eCluster cluster;
  cluster.StartCoordinator();
  cluster.StartAgent("m1", {"--labels", "gpu"});
  cluster.StartAgent("m2");
  ASSERT_TRUE(cluster.WaitForStatus("m1", "Ready"));
  ASSERT_TRUE(cluster.WaitForStatus("m2", "Ready"));
  auto created = cluster.Cli({"--json", "job", "create", "--name", "metrics", "--command",
                              "echo hello from the metrics test", "--hosts", "m1"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  std::string id = std::to_string(nlohmann::json::parse(created.out)["id"].get<uint64_t>());
  ASSERT_EQ(cluster.Cli({"job", "wait", id, "--timeout", "60s"}).exit_code, 0);
  // Its host is Ready again a moment after the job completed (its cleanup may run first).
  ASSERT_TRUE(cluster.WaitForStatus("m1", "Ready"));
  const int port = PortOf(cluster.http_endpoint());

  RawHttpResponse first = Scrape(port);
  RawHttpResponse scrape = Scrape(port);  // now with the first one's HTTP count
  ASSERT_EQ(scrape.status, 200) << scrape.body;
  EXPECT_EQ(scrape.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = scrape.body;
  EXPECT_EQ(Sample(text, "labmesh_hosts{status=\"Ready\"}"), 2) << text;
  EXPECT_EQ(Sample(text, "labmesh_hosts{status=\"Dead\"}"), 0);
  EXPECT_EQ(Sample(text, "labmesh_agents_connected"), 2);
  EXPECT_EQ(Sample(text, "labmesh_agent_versions{version=\"" LABMESH_VERSION "\"}"), 2);
  EXPECT_EQ(Sample(text, "labmesh_entries_started_total"), 1);
  EXPECT_EQ(Sample(text, "labmesh_entries_finished_total{status=\"Completed\"}"), 1);
  EXPECT_EQ(Sample(text, "labmesh_entry_start_wait_seconds_count"), 1);
  EXPECT_GT(Sample(text, "labmesh_upload_bytes_total").value_or(0), 0);
  EXPECT_EQ(Sample(text, "labmesh_results_parsed_entries_total"), 1);
  EXPECT_GT(Sample(text, "labmesh_loop_turn_seconds_count").value_or(0), 0);
  EXPECT_GT(Sample(text, "labmesh_scheduling_pass_seconds_count").value_or(0), 0);
  EXPECT_GT(Sample(text, "labmesh_store_used_bytes{db=\"store\"}").value_or(0), 0);
  EXPECT_GT(Sample(text, "labmesh_store_used_bytes{db=\"results_index\"}").value_or(0), 0);
  EXPECT_GT(Sample(text, "labmesh_data_dir_free_bytes").value_or(0), 0);
  EXPECT_EQ(Sample(text, "labmesh_disk_full"), 0);
  EXPECT_LT(Sample(text, "labmesh_heartbeat_lag_max_seconds").value_or(99), 10);
  EXPECT_GT(Sample(text, "labmesh_heartbeat_gap_seconds_count").value_or(0), 0);
  EXPECT_GE(Sample(text, "labmesh_http_requests_total{code=\"200\",route=\"/metrics\"}").value_or(0), 1)
      << text;

  auto checked = Promtool(cluster.root(), text);
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  // A route's variable parts are named, not counted as paths of their own.
  auto host = Request(port, "GET", "/api/v1/hosts/m1", Bearer(cluster.AdminToken()));
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(Sample(Scrape(port).body,
                   "labmesh_http_requests_total{code=\"200\",route=\"/api/v1/hosts/{name}\"}"),
            1);
}

TEST(Metrics, OnceATokenIsConfiguredEveryScrapeMustPresentIt) {
  E2eCluster cluster({"--auto-accept", "--metrics-token", "scrape-token-1"});
  cluster.StartCoordinator();
  const int port = PortOf(cluster.http_endpoint());

  RawHttpResponse missing = Scrape(port);  // from loopback, still refused
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.headers["www-authenticate"], "Bearer realm=\"labmesh metrics\"");
  EXPECT_NE(missing.body.find("--metrics-token"), std::string::npos) << missing.body;
  EXPECT_EQ(Scrape(port, Bearer("scrape-token-2")).status, 401);
  EXPECT_EQ(Scrape(port, "Authorization: Basic c2NyYXBl\r\n").status, 401);
  // A user's API token is not the scrape token.
  EXPECT_EQ(Scrape(port, Bearer(cluster.AdminToken())).status, 401);
  RawHttpResponse allowed = Scrape(port, Bearer("scrape-token-1"));
  EXPECT_EQ(allowed.status, 200) << allowed.body;
  EXPECT_TRUE(Sample(allowed.body, "labmesh_agents_connected").has_value());
  // The refused ones were counted too.
  EXPECT_EQ(Sample(Scrape(port, Bearer("scrape-token-1")).body,
                   "labmesh_http_requests_total{code=\"401\",route=\"/metrics\"}"),
            4);
}

TEST(Metrics, WithoutATokenAClientThatIsNotOnLoopbackIsRefused) {
  std::string address = NonLoopbackAddress();
  if (address.empty()) GTEST_SKIP() << "this machine has no IPv4 address but loopback";
  E2eCluster cluster;
  cluster.set_http_endpoint(address + ":0");
  cluster.StartCoordinator();
  const std::string url = "http://" + address + ":" +
                          std::to_string(PortOf(cluster.http_endpoint())) + "/metrics";
  // curl connects from this machine's own non-loopback address: not a loopback client.
  auto refused = RunCommand({kCurl, "-s", "-w", "\n%{http_code}", url});
  ASSERT_EQ(refused.exit_code, 0) << refused.err;
  EXPECT_NE(refused.out.find("loopback clients only"), std::string::npos) << refused.out;
  EXPECT_EQ(refused.out.substr(refused.out.rfind('\n') + 1), "403");
}

TEST(Metrics, OddRequestsAreAnsweredAndTheServerKeepsServing) {
  E2eCluster cluster;
  cluster.StartCoordinator();
  const int port = PortOf(cluster.http_endpoint());

  auto head = Request(port, "HEAD", "/metrics");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  EXPECT_GT(std::stoul(head->headers["content-length"]), 0u);
  auto query = Request(port, "GET", "/metrics?name[]=labmesh_hosts&x=%zz&&=");
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(query->status, 200);
  auto post = Request(port, "POST", "/metrics", "Content-Type: text/plain\r\n", "x");
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->headers["allow"], "GET, HEAD");
  auto empty_bearer = Request(port, "GET", "/metrics", "Authorization: Bearer \r\n");
  ASSERT_TRUE(empty_bearer.ok());
  EXPECT_EQ(empty_bearer->status, 401);
  // A header of 64 KiB: civetweb refuses it (or drops the connection); nothing more.
  auto huge = Request(port, "GET", "/metrics", "X-Huge: " + std::string(64 * 1024, 'h') + "\r\n");
  if (huge.ok()) EXPECT_GE(huge->status, 400);
  // A token of 1 MiB in the header: the same.
  auto huge_token = Request(port, "GET", "/metrics", Bearer(std::string(1 << 20, 't')));
  if (huge_token.ok()) EXPECT_GE(huge_token->status, 400);
  EXPECT_TRUE(cluster.coordinator().Running());
  EXPECT_EQ(Scrape(port).status, 200);
}

TEST(Metrics, ARealPrometheusScrapesTheCoordinatorAndCountsItsHosts) {
  if (access(kPrometheus, X_OK) != 0 || access(kPromtool, X_OK) != 0) {
    GTEST_SKIP() << "needs Debian's prometheus package (scripts/setup.sh installs it)";
  }
  E2eCluster cluster({"--auto-accept", "--metrics-token", "prometheus-token"});
  cluster.StartCoordinator();
  for (const char* host : {"p1", "p2", "p3"}) cluster.StartAgent(host);
  for (const char* host : {"p1", "p2", "p3"}) ASSERT_TRUE(cluster.WaitForStatus(host, "Ready"));

  // The scrape config and alert rules of docs/monitoring.md, with this test's address.
  const std::string dir = cluster.root() + "/prometheus";
  std::filesystem::create_directories(dir + "/data");
  const std::string rules = std::string(LABMESH_SOURCE_DIR) + "/packaging/prometheus/labmesh-rules.yml";
  std::ofstream(dir + "/prometheus.yml")
      << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
      << "rule_files:\n  - " << rules << "\n"
      << "scrape_configs:\n  - job_name: labmesh\n    authorization:\n"
      << "      credentials: prometheus-token\n    static_configs:\n"
      << "      - targets: ['" << cluster.http_endpoint() << "']\n";
  const int port = FreeLoopbackPort();
  ASSERT_GT(port, 0);
  Process prometheus({kPrometheus, "--config.file=" + dir + "/prometheus.yml",
                      "--storage.tsdb.path=" + dir + "/data",
                      "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                     dir + "/prometheus.log");

  // Polled until it has scraped: the sum of the Ready hosts over Prometheus' HTTP API.
  const std::string query =
      "/api/v1/query?query=" + UrlEncode("sum(labmesh_hosts{job=\"labmesh\",status=\"Ready\"})");
  std::string last;
  bool counted = WaitFor(
      [&] {
        if (!prometheus.Running()) return true;  // it failed to start: say so below
        auto answer = Request(port, "GET", query);
        if (!answer.ok() || answer->status != 200) return false;
        last = answer->body;
        auto json = nlohmann::json::parse(answer->body, nullptr, false);
        if (!json.is_object() || json["status"] != "success") return false;
        const auto& result = json["data"]["result"];
        return result.is_array() && result.size() == 1 && result[0]["value"][1] == "3";
      },
      std::chrono::seconds(90));
  ASSERT_TRUE(counted && prometheus.Running())
      << "last answer: " << last << "\nprometheus:\n" << prometheus.Log();

  // Its rules loaded and evaluate without error against the real figures.
  auto loaded =
      RunCommand({kCurl, "-sf", "http://127.0.0.1:" + std::to_string(port) + "/api/v1/rules"});
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  auto groups = nlohmann::json::parse(loaded.out)["data"]["groups"];
  ASSERT_FALSE(groups.empty()) << loaded.out;
  size_t alerts = 0;
  for (const auto& group : groups) {
    for (const auto& rule : group["rules"]) {
      ++alerts;
      EXPECT_NE(rule["health"], "err") << rule.dump();
    }
  }
  EXPECT_GE(alerts, 3u);
}

// Every line of `path` that is not empty, parsed; fails the test on one that is not a JSON
// object with the fields docs/monitoring.md promises.
size_t ExpectJsonLines(const std::string& path, const std::string& daemon) {
  std::ifstream in(path);
  size_t count = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto object = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(object.is_object()) << path << ": " << line;
    if (!object.is_object()) continue;
    for (const char* key : {"time", "level", "daemon", "logger", "message"}) {
      EXPECT_TRUE(object.contains(key)) << key << " in " << line;
    }
    EXPECT_EQ(object["daemon"], daemon) << line;
    ++count;
  }
  return count;
}

TEST(Logs, DaemonsStartedWithJsonFormatWriteOneJsonObjectALine) {
  E2eCluster cluster({"--auto-accept", "--log-format", "json"});
  cluster.StartCoordinator();
  Process& agent = cluster.StartAgent("j1", {"--log-format", "json"});
  ASSERT_TRUE(cluster.WaitForStatus("j1", "Ready"));
  // A refused request logs text the client chose, quotes and all.
  (void)Request(PortOf(cluster.http_endpoint()), "GET", "/api/v1/hosts",
                Bearer("no\"such\\token"));
  cluster.KillAgent("j1", SIGTERM);
  ASSERT_TRUE(cluster.StopCoordinator(SIGTERM).has_value());
  EXPECT_GE(ExpectJsonLines(cluster.coordinator().log_path(), "coordinator"), 3u)
      << cluster.coordinator().Log();
  EXPECT_GE(ExpectJsonLines(agent.log_path(), "agent"), 2u) << agent.Log();
}

TEST(Logs, TheCoordinatorsLogFileRotatesAtItsSize) {
  TempDir logs;
  const std::string file = logs.path() + "/coordinator.log";
  E2eCluster cluster({"--auto-accept", "--log-file", file, "--log-max-size", "4096",
                      "--log-max-files", "2"});
  cluster.StartCoordinator();
  const int port = PortOf(cluster.http_endpoint());
  namespace fs = std::filesystem;
  // Each refused request is one log line: ask until two files have rotated.
  ASSERT_TRUE(WaitFor([&] {
    (void)Request(port, "GET", "/api/v1/hosts", Bearer("not-a-token"));
    return fs::exists(logs.path() + "/coordinator.2.log");
  }));
  for (const char* name : {"/coordinator.log", "/coordinator.1.log", "/coordinator.2.log"}) {
    EXPECT_LE(fs::file_size(logs.path() + name), 4096u) << name;
  }
  EXPECT_FALSE(fs::exists(logs.path() + "/coordinator.3.log"));
  EXPECT_NE(ReadFile(logs.path() + "/coordinator.1.log").find("refused"), std::string::npos);
  // Nothing of it went to stderr.
  EXPECT_EQ(cluster.coordinator().Log().find("refused"), std::string::npos);
}

}  // namespace
}  // namespace labmesh::testing
