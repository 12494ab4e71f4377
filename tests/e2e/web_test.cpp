// End to end: the web server inside a real coordinator process - the JSON API, the page, and the
// page rendered by a real headless Chromium listing real agents.

#include <gtest/gtest.h>
#include <unistd.h>

#include "cluster.hpp"
#include "http_test_client.hpp"

namespace labmesh::testing {
namespace {

using webui::testing::Request;

int HttpPort(const E2eCluster& cluster) {
  const std::string& http = cluster.http_endpoint();
  return std::stoi(http.substr(http.rfind(':') + 1));
}

TEST(Web, ServesHostsAsJsonWithTheCliFieldsAndThePage) {
  E2eCluster cluster;
  cluster.StartCoordinator();
  cluster.StartAgent("web-1", {"--labels", "gpu"});
  cluster.StartAgent("web-2");
  ASSERT_TRUE(cluster.WaitForStatus("web-1", "Ready"));
  ASSERT_TRUE(cluster.WaitForStatus("web-2", "Ready"));
  int port = HttpPort(cluster);

  auto hosts = Request(port, "GET", "/api/v1/hosts");
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

  auto filtered = Request(port, "GET", "/api/v1/hosts?label=gpu");
  ASSERT_TRUE(filtered.ok());
  auto gpu = nlohmann::json::parse(filtered->body);
  ASSERT_EQ(gpu.size(), 1u);
  EXPECT_EQ(gpu[0]["hostname"], "web-1");

  auto one = Request(port, "GET", "/api/v1/hosts/web-2");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->status, 200);
  EXPECT_EQ(nlohmann::json::parse(one->body)["hostname"], "web-2");
  EXPECT_EQ(Request(port, "GET", "/api/v1/hosts/nope")->status, 404);
  EXPECT_EQ(Request(port, "GET", "/api/v1/hosts?status=bogus")->status, 400);

  auto page = Request(port, "GET", "/");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->headers["content-type"].find("text/html"), std::string::npos);
  EXPECT_NE(page->body.find("labmesh"), std::string::npos);

  EXPECT_EQ(Request(port, "GET", "/no/such/page")->status, 404);
  auto post = Request(port, "POST", "/api/v1/hosts");
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 405);
  EXPECT_FALSE(post->headers["allow"].empty());
}

TEST(Web, ChromiumShowsTheRegisteredHosts) {
  if (access("/usr/bin/chromium", X_OK) != 0 || access("/usr/bin/chromedriver", X_OK) != 0) {
    GTEST_SKIP() << "Chromium or chromedriver not installed (scripts/setup.sh installs them)";
  }
  E2eCluster cluster;
  cluster.StartCoordinator();
  cluster.StartAgent("page-1");
  cluster.StartAgent("page-2");
  ASSERT_TRUE(cluster.WaitForStatus("page-1", "Ready"));
  ASSERT_TRUE(cluster.WaitForStatus("page-2", "Ready"));
  std::string url = "http://" + cluster.http_endpoint() + "/";
  auto result = RunCommand({"/usr/bin/python3", LABMESH_PAGE_TEST_PY, url, "page-1", "page-2"},
                           std::chrono::seconds(90));
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
}

}  // namespace
}  // namespace labmesh::testing
