// End to end: the results backend with the real coordinator, agents and client over 127.0.0.1.
// A real GoogleTest binary's XML report, status.log files (nested with failures, one cut off by
// a crash), keyvals, TAP and a malformed JUnit file are uploaded by a job, parsed off the
// scheduling path and indexed; the entry ends Completed or Failed from its results; the
// queries, a reparse that gives the same records, and the /results/ drill-down refusing paths
// that climb out.

#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "http_test_client.hpp"
#include "jobs_fixture.hpp"

namespace labmesh::testing {
namespace {

// A fixture tree the control writes into its results directory.
const char* kFixtures =
    "#!/bin/sh\n"
    "cd \"$LABMESH_RESULTS_DIR\"\n"
    "mkdir -p suite crash tap perf\n"
    "T=$(date +%s)\n"
    "printf 'START\\t----\\tboot\\ttimestamp=%s\\n' $T > suite/status.log\n"
    "printf '\\tSTART\\tboot.a\\tboot.a\\ttimestamp=%s\\n' $T >> suite/status.log\n"
    "printf '\\t\\tGOOD\\tboot.a\\tboot.a\\ttimestamp=%s\\tcompleted\\n' $T >> suite/status.log\n"
    "printf '\\tEND GOOD\\tboot.a\\tboot.a\\ttimestamp=%s\\n' $T >> suite/status.log\n"
    "printf '\\tSTART\\tboot.b\\tboot.b\\ttimestamp=%s\\n' $T >> suite/status.log\n"
    "printf '\\t\\tFAIL\\tboot.b\\tboot.b\\ttimestamp=%s\\tkernel panic\\n' $T >> suite/status.log\n"
    "printf '\\tEND FAIL\\tboot.b\\tboot.b\\ttimestamp=%s\\tkernel panic\\n' $T >> suite/status.log\n"
    "printf 'END FAIL\\t----\\tboot\\ttimestamp=%s\\n' $T >> suite/status.log\n"
    "printf 'START\\t----\\tstress\\ttimestamp=%s\\n' $T > crash/status.log\n"
    "mkdir -p suite/boot.a\n"
    "printf 'throughput{perf}=123.5\\nkernel=6.1\\n' > suite/boot.a/keyval\n"
    "printf 'TAP version 13\\n1..3\\nok 1 - first\\nnot ok 2 - second # TODO later\\n"
    "ok 3 - third # SKIP no disk\\n' > tap/basic.tap\n"
    "printf '<testsuites><testsuite name=\"x\"><testcase name=\"y\"' > broken.xml\n";

class Results : public JobsE2e {
 protected:
  nlohmann::json List(std::vector<std::string> args) {
    std::vector<std::string> argv = {"--json", "results", "list"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto listed = cluster_.Cli(argv);
    EXPECT_EQ(listed.exit_code, 0) << listed.err;
    return listed.exit_code == 0 ? nlohmann::json::parse(listed.out) : nlohmann::json::object();
  }

  // test name -> status, of every result of the job (parsed from `file` only, when given).
  std::map<std::string, std::string> Statuses(uint64_t id, const std::string& file = "") {
    std::map<std::string, std::string> statuses;
    nlohmann::json page = List({"--job", std::to_string(id), "--limit", "1000"});
    for (const auto& r : page["results"]) {
      if (file.empty() || r["file"] == file) statuses[r["test"]] = r["status"];
    }
    return statuses;
  }
};

TEST_F(Results, AGoogleTestReportIsIndexedWithTheCountsGoogleTestPrinted) {
  StartCluster({"h1"});
  std::string control = WriteFile("gtest.sh",
                                  "#!/bin/sh\n"
                                  GTEST_SAMPLE " --gtest_output=xml:$LABMESH_RESULTS_DIR/gtest.xml\n");
  uint64_t id = Create({"--name", "gtest", "--control", control, "--hosts", "h1"});
  ASSERT_NE(id, 0u);
  EXPECT_EQ(Wait(id).exit_code, 1);  // three tests fail on purpose
  nlohmann::json entry = Show(id)["entries"][0];
  EXPECT_EQ(entry["status"], "Failed");
  std::string log = ReadFile(ResultsDir(entry) + "/debug/control.log");
  auto printed = [&](const std::string& word) -> uint64_t {
    std::smatch m;
    std::regex re("\\[  " + word + " *\\] (\\d+) tests?");
    return std::regex_search(log, m, re) ? std::stoull(m[1]) : 0;
  };
  std::map<std::string, uint64_t> counts;
  // The report's results (the agent's own status.log adds one for the control itself).
  for (const auto& [test, status] : Statuses(id, "gtest.xml")) ++counts[status];
  EXPECT_EQ(counts["GOOD"], printed("PASSED")) << log;
  EXPECT_EQ(counts["FAIL"], printed("FAILED")) << log;
  EXPECT_GE(counts["TEST_NA"], printed("SKIPPED")) << log;  // plus the disabled test
  EXPECT_GT(counts["GOOD"], 0u);
  EXPECT_GE(entry["result_counts"]["FAIL"].get<uint64_t>(), printed("FAILED"));
}

TEST_F(Results, FilesAreParsedIntoTheIndexAndTheEntryFailsOnAFailedTest) {
  StartCluster({"h1"});
  uint64_t id = Create({"--name", "fixtures", "--control", WriteFile("fx.sh", kFixtures),
                        "--hosts", "h1"});
  ASSERT_NE(id, 0u);
  EXPECT_EQ(Wait(id).exit_code, 1);
  nlohmann::json entry = Show(id)["entries"][0];
  EXPECT_EQ(entry["status"], "Failed");
  EXPECT_NE(entry["reason"].get<std::string>().find("tests did not pass"), std::string::npos)
      << entry.dump();
  std::map<std::string, std::string> statuses = Statuses(id);
  EXPECT_EQ(statuses["boot"], "FAIL");
  EXPECT_EQ(statuses["boot/boot.a"], "GOOD");
  EXPECT_EQ(statuses["boot/boot.b"], "FAIL");
  EXPECT_EQ(statuses["stress"], "ABORT");  // cut off by a crash
  int tap = 0;
  for (const auto& [test, status] : statuses) tap += test.rfind("tap/basic.tap/", 0) == 0;
  EXPECT_EQ(tap, 3);
  // The malformed JUnit file is a warning on the entry; the rest was indexed.
  bool warned = false;
  for (const auto& w : entry["parse_warnings"]) {
    warned |= w.get<std::string>().find("broken.xml") != std::string::npos;
  }
  EXPECT_TRUE(warned) << entry.dump();
  // Keyvals and links to the files.
  nlohmann::json boot_a = List({"--job", std::to_string(id), "--test", "boot/boot.a"});
  ASSERT_EQ(boot_a["results"].size(), 1u);
  EXPECT_EQ(boot_a["results"][0]["perf"]["throughput"], 123.5);
  EXPECT_EQ(boot_a["results"][0]["link"], "/results/" + std::to_string(id) + "-alice/h1/suite/status.log");
  // Filters and the summary.
  nlohmann::json failed = List({"--job", std::to_string(id), "--status", "FAIL"});
  for (const auto& r : failed["results"]) EXPECT_EQ(r["status"], "FAIL");
  EXPECT_GE(failed["results"].size(), 2u);
  auto summary = cluster_.Cli({"--json", "results", "summary", "--test", "boot/boot.a"});
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  EXPECT_NE(summary.out.find("\"h1\""), std::string::npos) << summary.out;
}

TEST_F(Results, ReparseGivesTheSameRecords) {
  StartCluster({"h1"});
  uint64_t id = Create({"--name", "fixtures", "--control", WriteFile("fx.sh", kFixtures),
                        "--hosts", "h1"});
  ASSERT_NE(id, 0u);
  Wait(id);
  nlohmann::json before = List({"--job", std::to_string(id), "--limit", "1000"});
  auto reparsed = cluster_.Cli({"--json", "results", "reparse", std::to_string(id)});
  ASSERT_EQ(reparsed.exit_code, 0) << reparsed.err;
  EXPECT_EQ(nlohmann::json::parse(reparsed.out)["results"], before["results"].size());
  nlohmann::json after = List({"--job", std::to_string(id), "--limit", "1000"});
  EXPECT_EQ(after["results"], before["results"]);
}

TEST_F(Results, TheDrillDownServesFilesAndRefusesPathsThatClimbOut) {
  StartCluster({"h1"});
  uint64_t id = Create({"--name", "files", "--command", "echo hello > out.txt", "--hosts", "h1"});
  ASSERT_NE(id, 0u);
  ASSERT_EQ(Wait(id).exit_code, 0);
  std::string endpoint = cluster_.http_endpoint();
  int port = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
  std::string dir = "/results/" + std::to_string(id) + "-alice/h1/";
  const std::string bearer = "Authorization: Bearer " + cluster_.AdminToken() + "\r\n";
  auto file = webui::testing::Request(port, "GET", dir + "out.txt", bearer);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->status, 200);
  EXPECT_EQ(file->body, "hello\n");
  auto listing = webui::testing::Request(port, "GET", dir, bearer);
  ASSERT_TRUE(listing.ok());
  EXPECT_NE(listing->body.find("out.txt"), std::string::npos);
  for (const std::string& target : std::vector<std::string>{
           "/results/../../../etc/passwd", "/results/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/results/" + std::to_string(id) + "-alice/..%2f..%2f..%2fetc/passwd",
        "/results/%252e%252e/etc/passwd", "/results/x%00/../../etc/passwd"}) {
    auto refused = webui::testing::SendRaw(
        port, "GET " + target + " HTTP/1.1\r\nHost: x\r\n" + bearer + "\r\n");
    ASSERT_TRUE(refused.ok()) << target;
    EXPECT_TRUE(refused->status == 403 || refused->status == 404 || refused->status == 400)
        << target << " -> " << refused->status;
    EXPECT_EQ(refused->body.find("root:"), std::string::npos) << target;
  }
}

}  // namespace
}  // namespace labmesh::testing
