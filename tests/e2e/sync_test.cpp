// End to end: synchronous jobs (--synch-count) and `labmesh-sync` between real agents over
// 127.0.0.1: groups that start together, barriers used in a loop, values passed between hosts,
// a barrier that times out, a host killed while the others wait in a barrier, and overlapping
// synchronous jobs beside a stream of client-side jobs.

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <set>
#include <string>
#include <vector>

#include "jobs_fixture.hpp"

namespace labmesh::testing {
namespace {

class Sync : public JobsE2e {
 protected:
  void SetUp() override { cluster_.coordinator_flags().push_back("--sync-hold=5s"); }

  // Each host's file `name` in its results directory, by host.
  std::map<std::string, std::string> Files(uint64_t id, const std::string& name) {
    std::map<std::string, std::string> files;
    nlohmann::json job = Show(id);  // kept: a range-for over Show(id)[...] would dangle
    for (const auto& entry : job["entries"]) {
      files[entry["host"].get<std::string>()] = ReadFile(ResultsDir(entry) + "/" + name);
    }
    return files;
  }
};

std::set<std::string> Lines(const std::string& text) {
  std::set<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) lines.insert(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Three uses of one barrier, every host's name sent and read back from each host of the group.
const char* kExchange =
    "#!/bin/sh\n"
    "set -e\n"
    "for round in 1 2 3; do labmesh-sync barrier step --timeout 20s; done\n"
    "labmesh-sync send name \"$LABMESH_HOST\"\n"
    "for h in $(echo \"$LABMESH_HOSTS\" | tr , ' '); do\n"
    "  labmesh-sync wait name --host \"$h\" --timeout 20s >> names.txt; echo >> names.txt\n"
    "done\n"
    "labmesh-sync barrier done --timeout 20s\n"
    "echo \"$LABMESH_HOSTS|$LABMESH_GROUP|$LABMESH_SYNCH_COUNT\" > env.txt\n"
    "echo \"$LABMESH_PEERS\" > peers.txt\n";

TEST_F(Sync, FourHostsStartTogetherPassThreeBarriersAndExchangeValues) {
  StartCluster({"h1", "h2", "h3", "h4"});
  std::string control = WriteFile("exchange.sh", kExchange);
  uint64_t id = Create({"--name", "four", "--control", control, "--hosts", "h1,h2,h3,h4",
                        "--synch-count", "4"});
  ASSERT_NE(id, 0u);
  auto waited = Wait(id, 60);
  ASSERT_EQ(waited.exit_code, 0) << waited.out << waited.err << Show(id).dump(2);
  nlohmann::json job = Show(id);
  int64_t first = INT64_MAX, last = 0;
  for (const auto& entry : job["entries"]) {
    EXPECT_EQ(entry["status"], "Completed");
    int64_t started = entry["started_us"].get<int64_t>();
    first = std::min(first, started);
    last = std::max(last, started);
  }
  // Started in one fan-out (the figure itself is the benchmark's: scripts/bench-barrier.sh).
  std::printf("start spread of 4 entries: %.1f ms\n", (last - first) / 1000.0);
  EXPECT_LT(last - first, 5'000'000);
  std::set<std::string> all = {"h1", "h2", "h3", "h4"};
  for (const auto& [host, names] : Files(id, "names.txt")) {
    EXPECT_EQ(Lines(names), all) << host;
  }
  for (const auto& [host, env] : Files(id, "env.txt")) EXPECT_EQ(env, "h1,h2,h3,h4|0|4\n");
  for (const auto& [host, peers] : Files(id, "peers.txt")) {
    EXPECT_EQ(peers, "h1=127.0.0.1,h2=127.0.0.1,h3=127.0.0.1,h4=127.0.0.1\n") << host;
  }
}

TEST_F(Sync, SynchCountTwoOnFourHostsRunsTwoGroupsWithTheirOwnBarriers) {
  StartCluster({"h1", "h2", "h3", "h4"}, {{"h1", {"--labels", "pair"}},
                                          {"h2", {"--labels", "pair"}},
                                          {"h3", {"--labels", "pair"}},
                                          {"h4", {"--labels", "pair"}}});
  std::string control = WriteFile("exchange.sh", kExchange);
  uint64_t id = Create({"--name", "pairs", "--control", control, "--label", "pair", "--count",
                        "4", "--synch-count", "2"});
  ASSERT_NE(id, 0u);
  auto waited = Wait(id, 60);
  ASSERT_EQ(waited.exit_code, 0) << waited.out << waited.err << Show(id).dump(2);
  std::map<std::string, std::string> env = Files(id, "env.txt");
  std::map<std::string, std::string> names = Files(id, "names.txt");
  std::set<std::string> groups;
  for (const auto& [host, line] : env) {
    std::string hosts = line.substr(0, line.find('|'));
    groups.insert(hosts);
    EXPECT_NE(hosts.find(host), std::string::npos);
    EXPECT_EQ(std::count(hosts.begin(), hosts.end(), ','), 1) << line;
    // Values came from the host's own group only.
    std::set<std::string> members = Lines(hosts.substr(0, hosts.find(',')) + "\n" +
                                          hosts.substr(hosts.find(',') + 1));
    EXPECT_EQ(Lines(names[host]), members) << host;
  }
  EXPECT_EQ(groups.size(), 2u);
}

TEST_F(Sync, BarrierTimeoutNamesTheHostThatNeverArrived) {
  StartCluster({"h1", "h2"});
  std::string go = cluster_.root() + "/go";
  std::string control = WriteFile(
      "timeout.sh",
      "#!/bin/sh\n"
      "if [ \"$LABMESH_HOST\" = h1 ]; then\n"
      "  labmesh-sync barrier ready --timeout 1s 2> err.txt\n"
      "  echo $? > rc.txt; exit 3\n"
      "fi\n"
      "i=0; while [ ! -e " + go + " ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done\n");
  uint64_t id = Create({"--name", "timeout", "--control", control, "--hosts", "h1,h2",
                        "--synch-count", "2"});
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(WaitFor([&] {
    nlohmann::json job = Show(id);
    for (const auto& entry : job["entries"]) {
      if (entry["host"] == "h1") return entry["status"] == "Failed";
    }
    return false;
  })) << Show(id).dump(2);
  WriteFile("go", "");
  EXPECT_EQ(Wait(id, 30).exit_code, 1);
  nlohmann::json job = Show(id);
  for (const auto& entry : job["entries"]) {
    if (entry["host"] == "h1") {
      std::string dir = ResultsDir(entry);
      EXPECT_EQ(ReadFile(dir + "/rc.txt"), "1\n");
      std::string err = ReadFile(dir + "/err.txt");
      EXPECT_NE(err.find("barrier 'ready' (use 1) timed out after 1.0s waiting for h2"),
                std::string::npos)
          << err;
      EXPECT_EQ(entry["fault"], "test");
    } else {
      EXPECT_EQ(entry["status"], "Completed");
    }
  }
}

TEST_F(Sync, HostKilledDuringABarrierReleasesTheOthersWithAnErrorAndAbortsThem) {
  // The waiters ignore SIGTERM so that the abort (TERM, then KILL after the grace period) that
  // follows the host's loss cannot cut them off before they wrote what the helper said.
  std::vector<std::string> fast_kill = {"--kill-grace", "500ms"};
  StartCluster({"h1", "h2", "h3"}, {{"h1", fast_kill}, {"h2", fast_kill}});
  std::string go = cluster_.root() + "/go";
  std::string control = WriteFile(
      "killed.sh",
      "#!/bin/sh\n"
      "if [ \"$LABMESH_HOST\" != h3 ]; then\n"
      "  trap '' TERM\n"
      "  labmesh-sync barrier all-here 2> err.txt\n"
      "  echo $? > rc.txt\n"
      "  sleep 30\n"
      "fi\n"
      "i=0; while [ ! -e " + go + " ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done\n");
  uint64_t id = Create({"--name", "killed", "--control", control, "--hosts", "h1,h2,h3",
                        "--synch-count", "3"});
  ASSERT_NE(id, 0u);
  // `job show` tells which barrier each waiting host is in.
  ASSERT_TRUE(WaitFor([&] {
    int waiting = 0;
    nlohmann::json job = Show(id);
    for (const auto& entry : job["entries"]) {
      if (entry.value("waiting_in", "") == "barrier 'all-here' (use 1): 2/3 arrived") ++waiting;
    }
    return waiting == 2;
  })) << Show(id).dump(2);
  auto text = cluster_.Cli({"job", "show", std::to_string(id)});
  EXPECT_NE(text.out.find("barrier 'all-here' (use 1): 2/3 arrived"), std::string::npos)
      << text.out;
  cluster_.KillAgent("h3", SIGKILL);
  EXPECT_EQ(Wait(id, 30).exit_code, 1);
  WriteFile("go", "");  // the orphaned control of h3 ends
  nlohmann::json job = Show(id);
  for (const auto& entry : job["entries"]) {
    if (entry["host"] == "h3") {
      EXPECT_EQ(entry["status"], "Failed");
      EXPECT_EQ(entry["fault"], "infrastructure");
      continue;
    }
    EXPECT_EQ(entry["status"], "Aborted") << entry.dump();
    EXPECT_NE(entry["reason"].get<std::string>().find("h3"), std::string::npos) << entry.dump();
    std::string dir = ResultsDir(entry);
    EXPECT_EQ(ReadFile(dir + "/rc.txt"), "1\n");
    EXPECT_NE(ReadFile(dir + "/err.txt").find("h3"), std::string::npos);
  }
}

TEST_F(Sync, OverlappingSynchronousJobsAndAStreamOfClientSideJobsAllFinish) {
  StartCluster({"h1", "h2", "h3"});
  std::string control = WriteFile("step.sh",
                                  "#!/bin/sh\n"
                                  "set -e\n"
                                  "labmesh-sync barrier one --timeout 30s\n"
                                  "labmesh-sync barrier two --timeout 30s\n");
  std::vector<uint64_t> ids;
  ids.push_back(Create({"--name", "a", "--control", control, "--hosts", "h1,h2",
                        "--synch-count", "2"}));
  for (int i = 0; i < 6; ++i) {
    ids.push_back(Create({"--name", "c" + std::to_string(i), "--command", "sleep 0.1",
                          "--hosts", i % 2 ? "h2,h3" : "h1,h3"}));
    if (i == 2) {
      ids.push_back(Create({"--name", "b", "--control", control, "--hosts", "h2,h3",
                            "--synch-count", "2", "--priority", "high"}));
      ids.push_back(Create({"--name", "d", "--control", control, "--hosts", "h3,h1",
                            "--synch-count", "2"}));
    }
  }
  for (uint64_t id : ids) {
    ASSERT_NE(id, 0u);
    auto waited = Wait(id, 60);
    EXPECT_EQ(waited.exit_code, 0) << waited.out << waited.err << Show(id).dump(2);
  }
}

}  // namespace
}  // namespace labmesh::testing
