// End to end, PostgreSQL run only (e2e_pg.PgMulti.*): three coordinators on one PostgreSQL
// store and one data directory, the active one and two standbys that relay (docs/scale-out.md),
// twelve agents spread over the three (each lists all of them, starting with its own), 300 jobs
// submitted through two coordinators' APIs, synchronous pairs whose hosts sit on different
// coordinators among them. The active coordinator is killed -9 midway: a standby claims the
// store and serves, the other relays to it, the killed one's agents move, and every job ends
// exactly once with its results; every coordinator still up shows the same jobs.

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
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

class PgMulti : public JobsE2e {
 protected:
  struct Standby {
    std::string agent, api;
    std::unique_ptr<Process> process;
  };

  Standby StartStandby(const std::string& name) {
    const int agent_port = FreeLoopbackPort(), api_port = FreeLoopbackPort();
    EXPECT_TRUE(agent_port > 0 && api_port > 0 && agent_port != api_port);
    Standby standby{"tcp://127.0.0.1:" + std::to_string(agent_port),
                    "tcp://127.0.0.1:" + std::to_string(api_port), nullptr};
    standby.process = std::make_unique<Process>(
        std::vector<std::string>{
            CoordinatorBinary(), "--standby", "--data-dir", cluster_.data_dir(), "--store",
            cluster_.store(), "--agent-listen", standby.agent, "--api-listen", standby.api,
            "--http-listen", "127.0.0.1:0", "--relay-listen", "tcp://127.0.0.1:0",
            "--heartbeat-interval", E2eCluster::kHeartbeat, "--dead-after",
            E2eCluster::kDeadAfter, "--heartbeat-flush", "200ms", "--auto-accept",
            // The agents of the dead coordinator, and of a relay while it has nobody to relay
            // to, come back within this; the test's 2 s --dead-after alone is shorter than a
            // takeover plus an agent's tries along its list.
            "--restart-grace", "15s"},
        cluster_.root() + "/" + name + ".log");
    return standby;
  }

  // Lines of the ledger so far.
  size_t LedgerLines(const std::string& ledger) {
    std::ifstream in(ledger);
    return static_cast<size_t>(
        std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n'));
  }
};

TEST_F(PgMulti, ThreeCoordinatorsShareTheWorkAndSurviveTheActiveOnesDeath) {
  if (!PgMode()) GTEST_SKIP() << "PostgreSQL run only (e2e_pg.*)";
  cluster_.coordinator_flags().insert(cluster_.coordinator_flags().end(),
                                      {"--relay-listen", "tcp://127.0.0.1:0"});
  cluster_.StartCoordinator();
  std::vector<Standby> standbys;
  standbys.push_back(StartStandby("b"));
  standbys.push_back(StartStandby("c"));
  for (Standby& standby : standbys) {
    ASSERT_TRUE(WaitFor([&] {
      return standby.process->Log().find("the active coordinator answers") != std::string::npos;
    })) << standby.process->Log();
  }
  // Agent i starts at coordinator i % 3 and lists the other two after it.
  const std::vector<std::string> coordinators = {cluster_.agent_endpoint(), standbys[0].agent,
                                                 standbys[1].agent};
  std::vector<std::string> hosts;
  for (int i = 0; i < 12; ++i) {
    hosts.push_back("h" + std::to_string(i));
    std::string list;
    for (int k = 0; k < 3; ++k) list += (k ? "," : "") + coordinators[(i + k) % 3];
    cluster_.StartAgent(hosts.back(), {"--coordinator", list});
  }
  for (const std::string& host : hosts) ASSERT_TRUE(cluster_.WaitForStatus(host, "Ready"));

  // Every run of a control leaves a line in the ledger: its job's name and its host.
  const std::string ledger = cluster_.root() + "/ledger";
  std::vector<uint64_t> ids;
  std::map<std::string, int> expected_runs;  // job name -> hosts it runs on
  auto submit = [&](int i) {
    std::string name = "j" + std::to_string(i);
    // Half a second each: the twelve hosts finish about as fast as the CLI submits, so at the
    // kill some entries are running and some queued.
    std::string command = "sleep 0.5; echo \"" + name + " $LABMESH_HOST\" >> " + ledger +
                          "; echo done > out.txt";
    if (i % 5 == 4) {  // a synchronous pair: neighbours start at different coordinators
      ids.push_back(Create({"--name", name, "--command", command, "--hosts",
                            hosts[i % 12] + "," + hosts[(i + 1) % 12], "--synch-count", "2"}));
      expected_runs[name] = 2;
    } else {
      ids.push_back(Create({"--name", name, "--command", command, "--hosts", hosts[i % 12]}));
      expected_runs[name] = 1;
    }
    ASSERT_NE(ids.back(), 0u) << cluster_.coordinator().Log() << standbys[0].process->Log()
                              << standbys[1].process->Log();
  };
  // The first half through the active coordinator's API, the rest through a standby's.
  for (int i = 0; i < 150; ++i) ASSERT_NO_FATAL_FAILURE(submit(i));
  cluster_.set_api_endpoint(standbys[0].api);
  for (int i = 150; i < 300; ++i) {
    ASSERT_NO_FATAL_FAILURE(submit(i));
    if (i == 200) {
      // Midway, with work done, running and queued: the active coordinator dies.
      ASSERT_TRUE(WaitFor([&] { return LedgerLines(ledger) >= 100; }, std::chrono::seconds(60)));
      cluster_.StopCoordinator(SIGKILL);
      ASSERT_TRUE(WaitFor([&] {
        return std::any_of(standbys.begin(), standbys.end(), [](const Standby& s) {
          return s.process->Log().find("taking over") != std::string::npos;
        });
      })) << standbys[0].process->Log() << standbys[1].process->Log();
      // The standby whose API the test uses answers again: as the new active coordinator, or
      // relaying to it (it found the new relay endpoint in the store).
      ASSERT_TRUE(WaitFor([&] {
        return cluster_.Cli({"--json", "job", "list", "--limit", "1"}).exit_code == 0;
      })) << standbys[0].process->Log() << standbys[1].process->Log();
    }
  }

  for (uint64_t id : ids) {
    auto waited = Wait(id, 60);
    ASSERT_EQ(waited.exit_code, 0) << waited.out << waited.err << Show(id).dump(2)
                                   << standbys[0].process->Log() << standbys[1].process->Log();
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
  // Both coordinators left, the new active one and the standby relaying to it, show the same.
  std::string listed[2];
  for (int k = 0; k < 2; ++k) {
    EXPECT_TRUE(standbys[k].process->Running()) << standbys[k].process->Log();
    cluster_.set_api_endpoint(standbys[k].api);
    ASSERT_TRUE(WaitFor([&] {
      auto list = cluster_.Cli({"--json", "job", "list", "--limit", "0"});
      listed[k] = list.out;
      return list.exit_code == 0;
    })) << standbys[k].process->Log();
  }
  auto jobs = nlohmann::json::parse(listed[0]);
  EXPECT_EQ(jobs.size(), ids.size());
  EXPECT_EQ(listed[0], listed[1]);
  for (Standby& standby : standbys) {
    standby.process->Signal(SIGTERM);
    standby.process->Wait(std::chrono::seconds(20));
  }
  auto check = RunCommand(cluster_.CheckCommand());
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}


// The PostgreSQL server restarts under three coordinators (e2e_pg.PgMultiRestart.*, run alone
// like PgRestart): the active one waits for the server (--store-wait) and the standbys keep
// relaying or, if the active stayed silent too long, one takes over; either way every job,
// created before and after, ends exactly once with its results.
class PgMultiRestart : public PgMulti {};

TEST_F(PgMultiRestart, AServerRestartUnderThreeCoordinatorsLosesNothing) {
  if (!PgMode()) GTEST_SKIP() << "PostgreSQL run only (e2e_pg.*)";
  cluster_.coordinator_flags().insert(cluster_.coordinator_flags().end(),
                                      {"--relay-listen", "tcp://127.0.0.1:0"});
  cluster_.StartCoordinator();
  std::vector<Standby> standbys;
  standbys.push_back(StartStandby("b"));
  standbys.push_back(StartStandby("c"));
  for (Standby& standby : standbys) {
    ASSERT_TRUE(WaitFor([&] {
      return standby.process->Log().find("the active coordinator answers") != std::string::npos;
    })) << standby.process->Log();
  }
  const std::vector<std::string> coordinators = {cluster_.agent_endpoint(), standbys[0].agent,
                                                 standbys[1].agent};
  std::vector<std::string> hosts;
  for (int i = 0; i < 6; ++i) {
    hosts.push_back("h" + std::to_string(i));
    std::string list;
    for (int k = 0; k < 3; ++k) list += (k ? "," : "") + coordinators[(i + k) % 3];
    cluster_.StartAgent(hosts.back(), {"--coordinator", list});
  }
  for (const std::string& host : hosts) ASSERT_TRUE(cluster_.WaitForStatus(host, "Ready"));
  const std::string ledger = cluster_.root() + "/ledger";
  std::vector<uint64_t> ids;
  std::map<std::string, int> expected_runs;
  auto submit = [&](const std::string& name, int i) {
    std::string command = "sleep 0.3; echo \"" + name + " $LABMESH_HOST\" >> " + ledger +
                          "; echo done > out.txt";
    ids.push_back(Create({"--name", name, "--command", command, "--hosts",
                          hosts[i % 6] + "," + hosts[(i + 1) % 6], "--synch-count", "2"}));
    expected_runs[name] = 2;
    ASSERT_NE(ids.back(), 0u) << cluster_.coordinator().Log();
  };
  cluster_.set_api_endpoint(standbys[0].api);  // everything through a relay
  for (int i = 0; i < 6; ++i) ASSERT_NO_FATAL_FAILURE(submit("before" + std::to_string(i), i));
  std::string state = ::getenv("LABMESH_TEST_PG_STATE");
  auto restarted = RunCommand({LABMESH_PG_TEST_SERVER, "restart", state});
  ASSERT_EQ(restarted.exit_code, 0) << restarted.out << restarted.err;
  // Through whichever coordinator answers now (a takeover may be under way).
  ASSERT_TRUE(WaitFor([&] {
    return cluster_.Cli({"--json", "job", "list", "--limit", "1"}).exit_code == 0;
  }, std::chrono::seconds(60)));
  for (int i = 0; i < 6; ++i) ASSERT_NO_FATAL_FAILURE(submit("after" + std::to_string(i), i));
  for (uint64_t id : ids) {
    auto waited = Wait(id, 60);
    ASSERT_EQ(waited.exit_code, 0) << waited.out << waited.err << Show(id).dump(2)
                                   << cluster_.coordinator().Log() << standbys[0].process->Log();
    for (const auto& entry : Show(id)["entries"]) {
      EXPECT_EQ(entry["status"], "Completed") << Show(id).dump(2);
      EXPECT_EQ(ReadFile(ResultsDir(entry) + "/out.txt"), "done\n") << Show(id).dump(2);
    }
  }
  std::map<std::string, int> runs;
  std::istringstream lines(ReadFile(ledger));
  for (std::string line; std::getline(lines, line);) ++runs[line.substr(0, line.find(' '))];
  EXPECT_EQ(runs, expected_runs);
  for (const std::string& host : hosts) EXPECT_TRUE(cluster_.WaitForStatus(host, "Ready"));
  for (Standby& standby : standbys) {
    standby.process->Signal(SIGTERM);
    standby.process->Wait(std::chrono::seconds(20));
  }
  cluster_.StopCoordinator(SIGTERM);
  auto check = RunCommand(cluster_.CheckCommand());
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

}  // namespace
}  // namespace labmesh::testing
