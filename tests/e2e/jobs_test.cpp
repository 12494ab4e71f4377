// End to end: jobs through the real `labmesh` client, coordinator and agents over 127.0.0.1.
// Jobs on named hosts and on `--label --count`, results in the repository, `job wait` exit
// codes, many jobs over few agents (one entry per host at a time, priority order), failures and
// their faults, max runtime killing the whole process group, abort, live logs, and a
// coordinator killed while jobs run.

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "cluster.hpp"
#include "jobs_fixture.hpp"
#include "http_test_client.hpp"

namespace labmesh::testing {
namespace {

using Jobs = JobsE2e;

TEST_F(Jobs, NamedHostsAndLabelCountJobsCompleteWithTheirFiles) {
  StartCluster({"h1", "h2", "h3"}, {{"h1", {"--labels", "pool"}}, {"h2", {"--labels", "pool"}}});
  std::string control = WriteFile("control.sh",
                                  "#!/bin/sh\n"
                                  "labmesh-test run compile -- sh -c 'echo compiling'\n"
                                  "labmesh-test run unit -- sh -c 'echo unit tests'\n"
                                  "labmesh-test keyval unit speed=42\n"
                                  "echo \"$LABMESH_HOST of $LABMESH_HOSTS\" > where.txt\n");
  uint64_t named = Create({"--name", "three", "--control", control, "--hosts", "h1,h2,h3"});
  uint64_t counted =
      Create({"--name", "two", "--command", "echo counted", "--label", "pool", "--count", "2"});
  ASSERT_NE(named, 0u);
  ASSERT_NE(counted, 0u);
  auto waited = Wait(named);
  EXPECT_EQ(waited.exit_code, 0) << waited.out << waited.err;
  EXPECT_EQ(Wait(counted).exit_code, 0);

  nlohmann::json job = Show(named);
  EXPECT_EQ(job["status"], "Completed");
  ASSERT_EQ(job["entries"].size(), 3u);
  std::set<std::string> hosts;
  for (const auto& entry : job["entries"]) {
    std::string host = entry["host"];
    hosts.insert(host);
    EXPECT_EQ(entry["status"], "Completed");
    std::string dir = ResultsDir(entry);
    EXPECT_EQ(entry["results_path"], std::to_string(named) + "-alice/" + host);
    std::string status_log = ReadFile(dir + "/status.log");
    EXPECT_NE(status_log.find("END GOOD\t----\tcompile"), std::string::npos) << status_log;
    EXPECT_NE(status_log.find("END GOOD\t----\tunit"), std::string::npos) << status_log;
    EXPECT_NE(ReadFile(dir + "/unit/keyval").find("speed=42"), std::string::npos);
    EXPECT_NE(ReadFile(dir + "/unit/output.log").find("unit tests"), std::string::npos);
    EXPECT_EQ(ReadFile(dir + "/where.txt"), host + " of h1,h2,h3\n");
    EXPECT_NE(ReadFile(dir + "/debug/control.log").find("compiling"), std::string::npos);
  }
  EXPECT_EQ(hosts, (std::set<std::string>{"h1", "h2", "h3"}));

  job = Show(counted);
  ASSERT_EQ(job["entries"].size(), 2u);
  std::set<std::string> pool_hosts;
  for (const auto& entry : job["entries"]) {
    pool_hosts.insert(entry["host"].get<std::string>());
    // A job whose control uses no helper is one test named after the job.
    std::string status_log = ReadFile(ResultsDir(entry) + "/status.log");
    EXPECT_NE(status_log.find("END GOOD\t----\ttwo"), std::string::npos) << status_log;
  }
  EXPECT_EQ(pool_hosts, (std::set<std::string>{"h1", "h2"}));

  // The web API shows the same jobs.
  std::string http = cluster_.http_endpoint();
  int port = std::stoi(http.substr(http.rfind(':') + 1));
  const std::string bearer = "Authorization: Bearer " + cluster_.AdminToken() + "\r\n";
  auto web_job =
      webui::testing::Request(port, "GET", "/api/v1/jobs/" + std::to_string(named), bearer);
  ASSERT_TRUE(web_job.ok()) << web_job.status().ToString();
  EXPECT_EQ(web_job->status, 200);
  EXPECT_EQ(nlohmann::json::parse(web_job->body)["status"], "Completed");
  auto web_list = webui::testing::Request(port, "GET", "/api/v1/jobs", bearer);
  ASSERT_TRUE(web_list.ok());
  EXPECT_EQ(nlohmann::json::parse(web_list->body).size(), 2u);
  EXPECT_EQ(webui::testing::Request(port, "GET", "/api/v1/jobs/9999", bearer)->status, 404);

  // A failing job: job wait exits 1.
  uint64_t failing = Create({"--name", "bad", "--command", "exit 3", "--hosts", "h3"});
  EXPECT_EQ(Wait(failing).exit_code, 1);
  job = Show(failing);
  EXPECT_EQ(job["status"], "Failed");
  EXPECT_EQ(job["entries"][0]["exit_code"], 3);
  EXPECT_EQ(job["entries"][0]["fault"], "test");
}

TEST_F(Jobs, FiftyJobsOverThreeAgentsOneEntryPerHostInPriorityOrder) {
  StartCluster({"p1", "p2", "p3"}, {{"p1", {"--labels", "pool"}},
                                    {"p2", {"--labels", "pool"}},
                                    {"p3", {"--labels", "pool"}}});
  // Locked hosts get nothing: queue everything first, so that the order is the scheduler's.
  for (const char* host : {"p1", "p2", "p3"}) {
    ASSERT_EQ(cluster_.Cli({"host", "lock", host, "--reason", "queue first"}).exit_code, 0);
  }
  const char* priorities[] = {"low", "medium", "high", "urgent"};
  std::map<uint64_t, int> priority_of;
  for (int i = 0; i < 50; ++i) {
    uint64_t id = Create({"--name", "j" + std::to_string(i), "--command",
                          "date +%s%N > t0; echo $LABMESH_JOB_ID; date +%s%N > t1",
                          "--label", "pool", "--count", "1", "--priority", priorities[i % 4]});
    ASSERT_NE(id, 0u);
    priority_of[id] = i % 4;
  }
  for (const char* host : {"p1", "p2", "p3"}) {
    ASSERT_EQ(cluster_.Cli({"host", "unlock", host}).exit_code, 0);
  }
  for (const auto& [id, priority] : priority_of) {
    ASSERT_EQ(Wait(id).exit_code, 0) << "job " << id;
  }
  // Per host: intervals never overlap, and priorities never rise (the queue only shrank).
  std::map<std::string, std::vector<std::tuple<int64_t, int64_t, int>>> runs;
  // The controls' own start and end times: an entry's host is free once its results are in,
  // before the entry is final (its files are parsed off the scheduling path).
  for (const auto& [id, priority] : priority_of) {
    auto entry = Show(id)["entries"][0];
    std::string dir = ResultsDir(entry);
    runs[entry["host"]].emplace_back(std::stoll(ReadFile(dir + "/t0")),
                                     std::stoll(ReadFile(dir + "/t1")), priority);
  }
  EXPECT_EQ(runs.size(), 3u);
  for (auto& [host, list] : runs) {
    std::sort(list.begin(), list.end());
    for (size_t i = 1; i < list.size(); ++i) {
      EXPECT_LE(std::get<1>(list[i - 1]), std::get<0>(list[i])) << host << " ran two at once";
      EXPECT_GE(std::get<2>(list[i - 1]), std::get<2>(list[i])) << host << " broke priority";
    }
  }
}

TEST_F(Jobs, MaxRuntimeKillsTheWholeProcessGroup) {
  StartCluster({"h1"}, {{"h1", {"--kill-grace", "1s"}}});
  std::string pid_file = cluster_.root() + "/child.pid";
  uint64_t id = Create({"--name", "slow", "--command",
                        "sleep 300 & echo $! > " + pid_file + "; sleep 300", "--hosts", "h1",
                        "--max-runtime", "1s"});
  ASSERT_NE(id, 0u);
  EXPECT_EQ(Wait(id).exit_code, 1);
  nlohmann::json entry = Show(id)["entries"][0];
  EXPECT_EQ(entry["status"], "Failed");
  EXPECT_EQ(entry["fault"], "test");
  EXPECT_NE(entry["reason"].get<std::string>().find("max runtime"), std::string::npos)
      << entry.dump();
  pid_t child = std::stoi(ReadFile(pid_file));
  EXPECT_TRUE(WaitFor([&] { return ProcessGone(child); })) << "background child survived";
}

TEST_F(Jobs, AbortQueuedAndRunningEntries) {
  StartCluster({"h1"});
  std::string pid_file = cluster_.root() + "/running.pid";
  uint64_t running =
      Create({"--name", "long", "--command", "echo $$ > " + pid_file + "; exec sleep 300",
              "--hosts", "h1"});
  uint64_t queued = Create({"--name", "later", "--command", "true", "--hosts", "h1"});
  ASSERT_TRUE(WaitForEntryStatus(running, "Running"));
  ASSERT_TRUE(WaitFor([&] { return !ReadFile(pid_file).empty(); }));
  EXPECT_EQ(Show(queued)["entries"][0]["status"], "Queued");

  ASSERT_EQ(cluster_.Cli({"job", "abort", std::to_string(queued)}).exit_code, 0);
  EXPECT_EQ(Show(queued)["status"], "Aborted");  // at once
  ASSERT_EQ(cluster_.Cli({"job", "abort", std::to_string(running), "--host", "h1"}).exit_code, 0);
  ASSERT_TRUE(WaitForJobStatus(running, "Aborted"));
  EXPECT_EQ(Wait(running).exit_code, 1);
  pid_t pid = std::stoi(ReadFile(pid_file));
  EXPECT_TRUE(WaitFor([&] { return ProcessGone(pid); }));
  // Partial results were uploaded.
  EXPECT_TRUE(std::filesystem::exists(ResultsDir(Show(running)["entries"][0]) + "/debug/control.log"));
  // The host is free again.
  uint64_t after = Create({"--name", "after", "--command", "true", "--hosts", "h1"});
  EXPECT_EQ(Wait(after).exit_code, 0);
}

TEST_F(Jobs, LiveLogIsVisibleBeforeTheControlEnds) {
  StartCluster({"h1"});
  std::string go = cluster_.root() + "/go";
  uint64_t id = Create({"--name", "chatty", "--command",
                        "echo first-line; while [ ! -e " + go + " ]; do sleep 0.05; done; echo last-line",
                        "--hosts", "h1"});
  ASSERT_NE(id, 0u);
  EXPECT_TRUE(WaitFor([&] {
    auto log = cluster_.Cli({"job", "log", std::to_string(id), "--host", "h1"});
    return log.exit_code == 0 && log.out.find("first-line") != std::string::npos;
  })) << "the line never showed while the control ran";
  EXPECT_EQ(Show(id)["entries"][0]["status"], "Running");
  WriteFile("go", "");
  auto follow = cluster_.Cli({"job", "log", std::to_string(id), "--host", "h1", "--follow"});
  EXPECT_EQ(follow.exit_code, 0) << follow.err;
  EXPECT_EQ(follow.out, "first-line\nlast-line\n");
  EXPECT_EQ(Wait(id).exit_code, 0);
}

TEST_F(Jobs, CoordinatorKilledWhileJobsRunLosesNothingAndRunsNothingTwice) {
  StartCluster({"h1", "h2"});
  std::string go = cluster_.root() + "/go";
  std::string runs = cluster_.root() + "/runs";
  std::string command = "echo $LABMESH_JOB_ID-$LABMESH_HOST >> " + runs +
                        "; while [ ! -e " + go + " ]; do sleep 0.05; done; echo done > out.txt";
  uint64_t a = Create({"--name", "a", "--command", command, "--hosts", "h1,h2"});
  uint64_t b = Create({"--name", "b", "--command", command, "--hosts", "h1"});
  ASSERT_TRUE(WaitFor([&] {
    auto job = Show(a);
    return job.contains("entries") && job["entries"][0]["status"] == "Running" &&
           job["entries"][1]["status"] == "Running";
  }));
  cluster_.StopCoordinator(SIGKILL);
  WriteFile("go", "");  // the controls finish while the coordinator is away
  cluster_.StartCoordinator();
  EXPECT_EQ(Wait(a).exit_code, 0) << Show(a).dump();
  EXPECT_EQ(Wait(b).exit_code, 0) << Show(b).dump();
  for (uint64_t id : {a, b}) {
    nlohmann::json job = Show(id);  // kept alive: a range-for over Show(id)[...] would dangle
    for (const auto& entry : job["entries"]) {
      EXPECT_EQ(ReadFile(ResultsDir(entry) + "/out.txt"), "done\n");
    }
  }
  // Every entry ran exactly once.
  std::string lines = ReadFile(runs);
  for (const std::string& line : {std::to_string(a) + "-h1\n", std::to_string(a) + "-h2\n",
                                  std::to_string(b) + "-h1\n"}) {
    size_t first = lines.find(line);
    EXPECT_NE(first, std::string::npos) << line;
    EXPECT_EQ(lines.find(line, first + 1), std::string::npos) << "ran twice: " << line;
  }
}

TEST_F(Jobs, AgentKilledDuringUploadResumesAndTheFilesAreComplete) {
  // Each result chunk waits 20 ms on the agent (a named fault point), so the upload of 16 MiB
  // takes seconds and the agent can be killed in the middle of it.
  StartCluster({"h1"}, {{"h1", {"--fault-chunk-delay", "20ms", "--upload-chunk", "65536"}}});
  uint64_t id = Create({"--name", "big", "--command",
                        "head -c 16777216 /dev/zero | tr '\\0' x > big.bin", "--hosts", "h1"});
  ASSERT_TRUE(WaitForEntryStatus(id, "Gathering"));
  std::string partial = cluster_.data_dir() + "/results/" + std::to_string(id) + "-alice/h1/big.bin";
  ASSERT_TRUE(WaitFor([&] {
    std::error_code ec;
    auto size = std::filesystem::file_size(partial, ec);
    return !ec && size > 0;
  }));
  cluster_.KillAgent("h1", SIGKILL);
  std::error_code ec;
  EXPECT_LT(std::filesystem::file_size(partial, ec), 16777216u) << "the upload was already done";
  cluster_.StartAgent("h1");
  EXPECT_EQ(Wait(id).exit_code, 0) << Show(id).dump();
  std::string big = ReadFile(partial);
  EXPECT_EQ(big.size(), 16777216u);
  EXPECT_EQ(big.find_first_not_of('x'), std::string::npos);
}

TEST_F(Jobs, BadRequestsAreRefusedAndChangeNothing) {
  StartCluster({"h1"});
  auto missing_control = cluster_.Cli({"job", "create", "--name", "x", "--control",
                                       cluster_.root() + "/nope.sh", "--hosts", "h1"});
  EXPECT_EQ(missing_control.exit_code, 2) << missing_control.err;
  auto unknown_host = cluster_.Cli({"job", "create", "--name", "x", "--command", "true",
                                    "--hosts", "ghost"});
  EXPECT_EQ(unknown_host.exit_code, 1);
  EXPECT_NE(unknown_host.err.find("ghost"), std::string::npos) << unknown_host.err;
  auto no_label = cluster_.Cli({"job", "create", "--name", "x", "--command", "true", "--label",
                                "nowhere", "--count", "1"});
  EXPECT_EQ(no_label.exit_code, 1);
  EXPECT_NE(no_label.err.find("nowhere"), std::string::npos) << no_label.err;
  auto deps = cluster_.Cli({"job", "create", "--name", "x", "--command", "true", "--hosts", "h1",
                            "--depends", "gpu"});
  EXPECT_EQ(deps.exit_code, 1);
  auto two_controls = cluster_.Cli({"job", "create", "--name", "x", "--command", "true",
                                    "--test", "t", "--hosts", "h1"});
  EXPECT_EQ(two_controls.exit_code, 2);
  EXPECT_EQ(cluster_.Cli({"job", "show", "999"}).exit_code, 1);
  EXPECT_EQ(cluster_.Cli({"job", "show", "not-a-number"}).exit_code, 2);
  auto list = cluster_.Cli({"--json", "job", "list"});
  ASSERT_EQ(list.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(list.out).size(), 0u);
  // A deleted host can no longer be named.
  ASSERT_EQ(cluster_.Cli({"host", "delete", "h1"}).exit_code, 0);
  EXPECT_EQ(cluster_.Cli({"job", "create", "--name", "x", "--command", "true", "--hosts", "h1"})
                .exit_code,
            1);
  EXPECT_TRUE(cluster_.coordinator().Running());
}

}  // namespace
}  // namespace labmesh::testing
