// End to end: hostile content (issue 20). A control writes what a hostile or broken test would
// - markup in its job name, a test name and a file name, terminal escapes in its log, a symlink
// out of the tree, a FIFO, a keyval file and a TAP stream over the parsers' limits, a JUnit
// file with entity expansion and an external entity, an HTML and an XHTML file with script -
// and the real agent uploads it to the real coordinator. Checked: what reaches the results
// tree (regular files and directories only), that the parse stops at its limits with a
// warning and the entry still ends, the web server's headers, the CLI printing the escapes as
// text, and (tests/e2e/hostile_page.py) Chromium running none of it.

#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "browser.hpp"
#include "http_test_client.hpp"
#include "jobs_fixture.hpp"

namespace labmesh::testing {
namespace {

namespace fs = std::filesystem;
using webui::testing::Request;

constexpr char kHostileName[] = "<img src=x onerror=\"window.__pwned=1\">";

// Markup, escapes, links and a FIFO: what the page and the CLI must show inert.
const char* kHostileControl =
    "#!/bin/sh\n"
    "cd \"$LABMESH_RESULTS_DIR\"\n"
    // The log: colour, a window title with a bell, clear screen, an 8-bit CSI in UTF-8.
    "printf 'before \\033[31mred\\033[0m \\033]0;pwned\\007 \\033[2J \\302\\2332J done\\n'\n"
    "printf '1..1\\nok 1 <img src=x onerror=\"window.__pwned=1\"> \\033[31mred\\n' > xss.tap\n"
    "printf 'markup\\n' > '<img src=x onerror=window.__pwned=1>.txt'\n"
    "printf '<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=1\">\\n'"
    " > evil.html\n"
    "printf '<html xmlns=\"http://www.w3.org/1999/xhtml\"><body><p>xml-marker</p>"
    "<script>window.__pwned=1</script></body></html>\\n' > evil.xml\n"
    "ln -s /etc/passwd link.tap\n"
    "ln -s / rootlink\n"
    "mkfifo pipe.tap\n";

// Over the parsers' limits, and the XML attacks (appended to the control above).
const char* kLimitsControl =
    "cd \"$LABMESH_RESULTS_DIR\"\n"
    "mkdir -p kv && seq 1 10010 | sed 's/^/k/; s/$/=v/' > kv/keyval\n"
    // Last in path order, so the files before it are parsed before the results are full.
    "yes ok | head -n 100010 > zz-flood.tap\n"
    "{ echo '<?xml version=\"1.0\"?>'; echo '<!DOCTYPE lolz ['; echo '<!ENTITY lol \"lol\">';\n"
    "  p=lol; for i in 1 2 3 4 5 6 7 8 9; do\n"
    "    printf '<!ENTITY lol%s \"' $i; for j in 0 1 2 3 4 5 6 7 8 9; do printf '&%s;' $p; done;"
    " echo '\">'; p=lol$i; done\n"
    "  echo '<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>';\n"
    "  echo '<testsuite name=\"s\"><testcase classname=\"c\" name=\"laughs\">"
    "<failure message=\"&lol9; &xxe;\"/></testcase></testsuite>'; } > lolz.xml\n";

int HttpPort(const E2eCluster& cluster) {
  const std::string& http = cluster.http_endpoint();
  return std::stoi(http.substr(http.rfind(':') + 1));
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '/') {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class Hostile : public JobsE2e {
 protected:
  // Runs the hostile control (with the limits part when asked) on h1 to its end; the job's id.
  uint64_t RunHostileJob(bool limits) {
    std::string control = std::string(kHostileControl) + (limits ? kLimitsControl : "");
    uint64_t id = Create({"--name", kHostileName, "--control", WriteFile("hostile.sh", control),
                          "--hosts", "h1"});
    EXPECT_NE(id, 0u);
    if (id == 0) return 0;
    // zz-flood.tap is cut off before a plan: an ABORT, so the entry ends Failed.
    EXPECT_EQ(Wait(id, 60).exit_code, limits ? 1 : 0);
    return id;
  }
};

TEST_F(Hostile, ResultsAreStoredBoundedAndWarnedAboutAndTheDaemonsCarryOn) {
  StartCluster({"h1"});
  uint64_t id = RunHostileJob(true);
  ASSERT_NE(id, 0u);
  nlohmann::json entry = Show(id)["entries"][0];
  EXPECT_EQ(entry["status"], "Failed") << entry.dump();
  std::string dir = ResultsDir(entry);

  // Only regular files and directories reach the results tree: the agent skips links and
  // FIFOs (docs/jobs.md, Upload), and the coordinator never makes either.
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    fs::file_status st = it->symlink_status();
    EXPECT_TRUE(fs::is_regular_file(st) || fs::is_directory(st)) << it->path();
  }
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir + "/link.tap")));
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir + "/rootlink")));
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir + "/pipe.tap")));
  EXPECT_TRUE(fs::is_regular_file(dir + "/<img src=x onerror=window.__pwned=1>.txt"));

  // The parse stopped at its limits and said so.
  std::string warnings = entry["parse_warnings"].dump();
  EXPECT_TRUE(Contains(warnings, "zz-flood.tap: line ")) << warnings;
  EXPECT_TRUE(Contains(warnings, "more than 100000 results for this directory")) << warnings;
  EXPECT_TRUE(Contains(warnings, "kv/keyval: line 10001: more than 10000 keys")) << warnings;
  uint64_t counted = 0;
  for (const auto& [status, n] : entry["result_counts"].items()) counted += n.get<uint64_t>();
  EXPECT_LE(counted, 100'001u + 2) << entry["result_counts"].dump();

  // Billion laughs and the external entity: one FAIL whose reason is the references' text.
  // (A page may come back empty with a cursor: each page scans a bounded part of the index.)
  nlohmann::json laughs = nlohmann::json::array();
  std::string cursor;
  for (int page = 0; page < 50 && laughs.empty(); ++page) {
    std::vector<std::string> args = {"--json", "results", "list", "--job", std::to_string(id),
                                     "--test", "c.laughs"};
    if (!cursor.empty()) args.insert(args.end(), {"--cursor", cursor});
    auto listed = cluster_.Cli(args);
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    auto json = nlohmann::json::parse(listed.out);
    laughs = json["results"];
    if (!json["next_cursor"].is_string()) break;
    cursor = json["next_cursor"];
  }
  ASSERT_EQ(laughs.size(), 1u) << laughs.dump();
  EXPECT_EQ(laughs[0]["status"], "FAIL");
  EXPECT_LT(laughs[0]["reason"].get<std::string>().size(), 100u) << laughs[0].dump();
  EXPECT_FALSE(Contains(laughs[0]["reason"].get<std::string>(), "root:"));

  // Still serving: the host is free for the next job, which completes.
  uint64_t next = Create({"--name", "after", "--command", "true", "--hosts", "h1"});
  ASSERT_NE(next, 0u);
  EXPECT_EQ(Wait(next).exit_code, 0);
}

TEST_F(Hostile, TheCliShowsEscapesAsTextAndTheWebServerServesFilesInert) {
  StartCluster({"h1"});
  uint64_t id = RunHostileJob(false);
  ASSERT_NE(id, 0u);
  nlohmann::json entry = Show(id)["entries"][0];

  // The log: every escape visible as \x1b-style text, none left for the terminal.
  auto log = cluster_.Cli({"job", "log", std::to_string(id), "--host", "h1"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  EXPECT_TRUE(Contains(log.out, "before \\x1b[31mred\\x1b[0m \\x1b]0;pwned\\x07 \\x1b[2J "
                                "\\u009b2J done"))
      << log.out;
  EXPECT_FALSE(Contains(log.out, "\x1b")) << log.out;
  EXPECT_FALSE(Contains(log.out, "\xc2\x9b")) << log.out;
  // Tables: markup is plain text in a terminal, names never hold control characters.
  auto results = cluster_.Cli({"results", "list", "--job", std::to_string(id), "--limit", "1000"});
  ASSERT_EQ(results.exit_code, 0) << results.err;
  EXPECT_TRUE(Contains(results.out, "xss.tap/1 <img src=x onerror=")) << results.out;
  EXPECT_FALSE(Contains(results.out, "\x1b")) << results.out;
  auto shown = cluster_.Cli({"job", "show", std::to_string(id)});
  EXPECT_TRUE(Contains(shown.out, kHostileName)) << shown.out;

  // The web server: uploaded files never run under the page's origin.
  int port = HttpPort(cluster_);
  std::string auth = "Authorization: Bearer " + cluster_.AdminToken() + "\r\n";
  std::string base = "/results/" + UrlEncode(entry["results_path"].get<std::string>());
  auto html = Request(port, "GET", base + "/evil.html", auth);
  ASSERT_TRUE(html.ok());
  EXPECT_EQ(html->status, 200);
  EXPECT_EQ(html->headers["content-type"], "text/plain; charset=utf-8");
  EXPECT_EQ(html->headers["x-content-type-options"], "nosniff");
  EXPECT_TRUE(Contains(html->headers["content-security-policy"], "sandbox"));
  auto xml = Request(port, "GET", base + "/evil.xml", auth);
  EXPECT_EQ(xml->headers["content-type"], "application/xml");
  EXPECT_TRUE(Contains(xml->headers["content-security-policy"], "sandbox"));
  auto named = Request(port, "GET", base + "/" + UrlEncode("<img src=x onerror=window.__pwned=1>.txt"),
                       auth);
  EXPECT_EQ(named->status, 200);
  EXPECT_EQ(named->headers["content-type"], "text/plain; charset=utf-8");
  auto listing = Request(port, "GET", base + "/", auth + "Accept: text/html\r\n");
  ASSERT_EQ(listing->status, 200);
  EXPECT_TRUE(Contains(listing->headers["content-type"], "text/html"));
  EXPECT_TRUE(Contains(listing->headers["content-security-policy"], "default-src 'none'"));
  EXPECT_TRUE(Contains(listing->body, "&lt;img src=x onerror=")) << listing->body;
  EXPECT_FALSE(Contains(listing->body, "<img src=x")) << listing->body;
  // The page and the JSON API: nosniff everywhere, a CSP on the page.
  auto page = Request(port, "GET", "/");
  EXPECT_EQ(page->headers["x-content-type-options"], "nosniff");
  EXPECT_TRUE(Contains(page->headers["content-security-policy"], "default-src 'self'"));
  auto api = Request(port, "GET", "/api/v1/jobs/" + std::to_string(id), auth);
  EXPECT_EQ(api->status, 200);
  EXPECT_EQ(api->headers["x-content-type-options"], "nosniff");
  EXPECT_TRUE(Contains(api->headers["content-type"], "application/json"));
  auto refused = Request(port, "GET", "/api/v1/jobs/" + std::to_string(id));
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(refused->headers["x-content-type-options"], "nosniff");
}

TEST(HostilePage, ChromiumRunsNoScriptOfTheUploadedContent) {
  LABMESH_SKIP_WITHOUT_BROWSER();
  E2eCluster cluster;
  cluster.StartCoordinator();
  cluster.StartAgent("h1");
  ASSERT_TRUE(cluster.WaitForStatus("h1", "Ready"));
  std::string control = cluster.root() + "/hostile.sh";
  std::ofstream(control) << kHostileControl;
  auto created = cluster.Cli({"--json", "job", "create", "--name", kHostileName, "--control",
                              control, "--hosts", "h1"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  std::string id = std::to_string(nlohmann::json::parse(created.out)["id"].get<uint64_t>());
  EXPECT_EQ(cluster.Cli({"job", "wait", id, "--timeout", "60s"}).exit_code, 0);
  auto shown = cluster.Cli({"--json", "job", "show", id});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  std::string path = nlohmann::json::parse(shown.out)["entries"][0]["results_path"];
  std::string screenshots = std::string(LABMESH_SCREENSHOT_DIR) + "/hostile-page";
  std::filesystem::remove_all(screenshots);
  auto result = RunCommand({"/usr/bin/python3", LABMESH_HOSTILE_PAGE_PY,
                            "http://" + cluster.http_endpoint() + "/", "--login", "admin",
                            cluster.AdminToken(), "--job", id, "--host", "h1", "--results-path",
                            path, "--screenshots", screenshots},
                           std::chrono::seconds(120));
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err << "\nscreenshots: " << screenshots;
}

}  // namespace
}  // namespace labmesh::testing
