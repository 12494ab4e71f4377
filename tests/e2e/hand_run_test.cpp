// The client by hand (issue 21, docs/kernel-lab.md "The client by hand"): `labmesh-test local`
// runs a control without any coordinator, its directory parses into the same results as the
// same control run as a job, and `labmesh results import` puts it in the repository and index.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "cluster.hpp"
#include "jobs_fixture.hpp"

namespace labmesh::testing {
namespace {

class HandRun : public JobsE2e {
 protected:
  // A control with a passing test, a failing one with a keyval, and output of its own.
  std::string SampleControl() {
    return WriteFile("sample.sh",
                     "#!/bin/sh\n"
                     "echo \"on $LABMESH_HOST as $LABMESH_JOB_NAME\"\n"
                     "labmesh-test run compile -- sh -c 'echo compiling'\n"
                     "labmesh-test run boot-check -- sh -c 'echo nope; exit 4'\n"
                     "labmesh-test keyval boot-check kernel=6.1 score{perf}=12.5\n"
                     "exit 0\n");
  }

  // (test, status, perf) of a job's results, sorted: what "the same results" means here.
  std::vector<std::string> Results(uint64_t job) {
    auto listed = cluster_.Cli({"--json", "results", "list", "--job", std::to_string(job)});
    EXPECT_EQ(listed.exit_code, 0) << listed.err;
    std::vector<std::string> out;
    if (listed.exit_code != 0) return out;
    const nlohmann::json page = nlohmann::json::parse(listed.out);
    for (const auto& r : page["results"]) {
      out.push_back(r["test"].get<std::string>() + " " + r["status"].get<std::string>() + " " +
                    r["perf"].dump());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

TEST_F(HandRun, LocalRunParsesLikeAJobAndImports) {
  StartCluster({"lab1"});
  std::string control = SampleControl();
  std::string dir = cluster_.root() + "/hand";
  auto local = RunCommand({LABMESH_TEST_BIN, "local", control, "--results", dir, "--name", "sample"},
                          Scaled(std::chrono::seconds(30)));
  EXPECT_EQ(local.exit_code, 1) << local.out << local.err;  // a test did not pass
  EXPECT_NE(local.out.find("sample passed"), std::string::npos) << local.out;
  EXPECT_NE(local.out.find("tests:  2, 1 FAIL, 1 GOOD"), std::string::npos) << local.out;
  EXPECT_NE(local.out.find("boot-check FAIL: exit status 4"), std::string::npos) << local.out;
  EXPECT_NE(ReadFile(dir + "/debug/control.log").find("as sample"), std::string::npos);
  EXPECT_EQ(ReadFile(dir + "/compile/output.log"), "compiling\n");
  EXPECT_NE(ReadFile(dir + "/boot-check/keyval").find("kernel=6.1"), std::string::npos);

  // The same control as a job.
  uint64_t job = Create({"--name", "sample", "--control", control, "--hosts", "lab1"});
  ASSERT_NE(job, 0u);
  ASSERT_TRUE(WaitForJobStatus(job, "Failed")) << Show(job).dump(2);

  auto imported = cluster_.Cli({"--json", "--user", "alice", "results", "import", dir,
                                "--host", "handbox", "--job-name", "sample-by-hand"});
  ASSERT_EQ(imported.exit_code, 0) << imported.out << imported.err;
  uint64_t import_job = nlohmann::json::parse(imported.out)["job_id"].get<uint64_t>();
  ASSERT_TRUE(WaitForJobStatus(import_job, "Failed")) << Show(import_job).dump(2);
  nlohmann::json shown = Show(import_job);
  EXPECT_EQ(shown["owner"], "alice");
  EXPECT_EQ(shown["name"], "sample-by-hand");
  EXPECT_EQ(shown["entries"][0]["host"], "handbox");
  EXPECT_EQ(shown["entries"][0]["fault"], "test");
  EXPECT_EQ(shown["entries"][0]["result_counts"], Show(job)["entries"][0]["result_counts"]);
  std::vector<std::string> by_hand = Results(import_job);
  EXPECT_EQ(by_hand.size(), 2u);
  EXPECT_EQ(by_hand, Results(job));
  // The files are in the repository as an agent's upload would be.
  EXPECT_EQ(ReadFile(ResultsDir(shown["entries"][0]) + "/compile/output.log"), "compiling\n");

  // Bad input changes nothing: no such directory, a host name no host may have.
  auto missing = cluster_.Cli({"results", "import", dir + "/nope", "--host", "handbox"});
  EXPECT_NE(missing.exit_code, 0);
  auto bad_host = cluster_.Cli({"results", "import", dir, "--host", "bad host/.."});
  EXPECT_NE(bad_host.exit_code, 0);
  EXPECT_NE(bad_host.err.find("host"), std::string::npos) << bad_host.err;
}

}  // namespace
}  // namespace labmesh::testing
