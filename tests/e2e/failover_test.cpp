// End to end, PostgreSQL run only (e2e_pg.PgFailover.*): an active coordinator and a standby
// (--standby) on one PostgreSQL store and one data directory, agents that list both
// (--coordinator A,B). The active is killed -9 in the middle of the work: the standby claims the
// store, takes the data directory and serves; the agents move to it and their running entries
// re-attach; every job, synchronous groups included, ends once with its results, and the store
// checks clean (docs/scale-out.md).

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "jobs_fixture.hpp"
#include "pg_test_db.hpp"

namespace labmesh::testing {
namespace {

class PgFailover : public JobsE2e {};

TEST_F(PgFailover, AStandbyTakesOverFromAKilledActiveAndEveryJobEndsOnce) {
  if (!PgMode()) GTEST_SKIP() << "PostgreSQL run only (e2e_pg.*)";
  cluster_.StartCoordinator();
  const int agent_port = FreeLoopbackPort(), api_port = FreeLoopbackPort();
  ASSERT_TRUE(agent_port > 0 && api_port > 0 && agent_port != api_port);
  const std::string standby_agent = "tcp://127.0.0.1:" + std::to_string(agent_port);
  const std::string standby_api = "tcp://127.0.0.1:" + std::to_string(api_port);
  Process standby({CoordinatorBinary(), "--standby", "--data-dir", cluster_.data_dir(),
                   "--store", cluster_.store(), "--agent-listen", standby_agent,
                   "--api-listen", standby_api, "--http-listen", "127.0.0.1:0",
                   "--heartbeat-interval", E2eCluster::kHeartbeat, "--dead-after",
                   E2eCluster::kDeadAfter, "--heartbeat-flush", "200ms", "--auto-accept"},
                  cluster_.root() + "/standby.log");
  ASSERT_TRUE(WaitFor([&] { return standby.Log().find("waiting to take over") != std::string::npos; }))
      << standby.Log();
  const std::vector<std::string> hosts = {"h1", "h2", "h3", "h4"};
  for (const std::string& host : hosts) {
    cluster_.StartAgent(host, {"--coordinator", cluster_.agent_endpoint() + "," + standby_agent});
  }
  for (const std::string& host : hosts) ASSERT_TRUE(cluster_.WaitForStatus(host, "Ready"));

  // Every run of a control leaves a line in the ledger: its job's name and its host.
  const std::string ledger = cluster_.root() + "/ledger";
  std::vector<uint64_t> ids;
  std::map<std::string, int> expected_runs;  // job name -> hosts it runs on
  for (int i = 0; i < 24; ++i) {
    std::string name = "j" + std::to_string(i);
    std::string command = "sleep 0.3; echo \"" + name + " $LABMESH_HOST\" >> " + ledger +
                          "; echo done > out.txt";
    if (i % 4 == 3) {  // a synchronous pair
      ids.push_back(Create({"--name", name, "--command", command, "--hosts",
                            hosts[i % 4] + "," + hosts[(i + 1) % 4], "--synch-count", "2"}));
      expected_runs[name] = 2;
    } else {
      ids.push_back(Create({"--name", name, "--command", command, "--hosts", hosts[i % 4]}));
      expected_runs[name] = 1;
    }
    ASSERT_NE(ids.back(), 0u);
  }
  // Midway: some work done, some running, some queued.
  ASSERT_TRUE(WaitFor([&] {
    std::ifstream in(ledger);
    return std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n') >= 6;
  }));
  cluster_.StopCoordinator(SIGKILL);
  ASSERT_TRUE(WaitFor([&] { return standby.Log().find("taking over") != std::string::npos; }))
      << standby.Log();
  cluster_.set_api_endpoint(standby_api);

  for (uint64_t id : ids) {
    auto waited = Wait(id, 60);
    EXPECT_EQ(waited.exit_code, 0) << waited.out << waited.err << Show(id).dump(2) << standby.Log();
    for (const auto& entry : Show(id)["entries"]) {
      EXPECT_EQ(entry["status"], "Completed") << Show(id).dump(2);
      EXPECT_EQ(ReadFile(ResultsDir(entry) + "/out.txt"), "done\n") << Show(id).dump(2);
    }
  }
  // Exactly once: each job's control ran once on each of its hosts.
  std::map<std::string, int> runs;
  std::istringstream lines(ReadFile(ledger));
  for (std::string line; std::getline(lines, line);) ++runs[line.substr(0, line.find(' '))];
  EXPECT_EQ(runs, expected_runs);
  for (const std::string& host : hosts) EXPECT_TRUE(cluster_.WaitForStatus(host, "Ready"));
  EXPECT_TRUE(standby.Running());
  auto check = RunCommand(cluster_.CheckCommand());
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

}  // namespace
}  // namespace labmesh::testing
