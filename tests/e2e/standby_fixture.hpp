#pragma once
// The fixture of the PostgreSQL e2e tests with several coordinators (failover_test.cpp,
// multi_coordinator_test.cpp): standbys on the cluster's database and data directory, and jobs
// whose controls write a ledger, so that "every job ended exactly once" is counted, not assumed.

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "jobs_fixture.hpp"
#include "pg_test_db.hpp"

namespace labmesh::testing {

class StandbyE2e : public JobsE2e {
 protected:
  struct Standby {
    std::string agent, api;  // its endpoints (ports chosen here: a standby writes no file)
    int http_port = 0;       // its web page
    std::unique_ptr<Process> process;
  };

  // Starts `labmesh-coordinator --standby` named `name` (its log: ROOT/NAME.log) with the
  // cluster's timings and `extra` flags.
  Standby StartStandby(const std::string& name, std::vector<std::string> extra = {}) {
    const int agent_port = FreeLoopbackPort(), api_port = FreeLoopbackPort(),
              http_port = FreeLoopbackPort();
    EXPECT_TRUE(agent_port > 0 && api_port > 0 && http_port > 0 && agent_port != api_port &&
                http_port != agent_port && http_port != api_port);
    Standby standby{"tcp://127.0.0.1:" + std::to_string(agent_port),
                    "tcp://127.0.0.1:" + std::to_string(api_port), http_port, nullptr};
    std::vector<std::string> argv = {
        CoordinatorBinary(), "--standby", "--data-dir", cluster_.data_dir(), "--store",
        cluster_.store(), "--agent-listen", standby.agent, "--api-listen", standby.api,
        "--http-listen", "127.0.0.1:" + std::to_string(http_port),
        "--heartbeat-interval", E2eCluster::kHeartbeat,
        "--dead-after", E2eCluster::kDeadAfter, "--heartbeat-flush", "200ms", "--auto-accept"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    standby.process = std::make_unique<Process>(argv, cluster_.root() + "/" + name + ".log");
    return standby;
  }

  // Creates a job whose control sleeps `sleep`, writes "NAME HOST" into the ledger and
  // "done" into out.txt, on `hosts` (a synchronous group of all of them when more than one).
  void SubmitLedgerJob(const std::string& name, const std::vector<std::string>& hosts,
                       const std::string& sleep) {
    std::string command = "sleep " + sleep + "; echo \"" + name + " $LABMESH_HOST\" >> " +
                          ledger_ + "; echo done > out.txt";
    std::string list;
    for (const std::string& host : hosts) list += (list.empty() ? "" : ",") + host;
    std::vector<std::string> args = {"--name", name, "--command", command, "--hosts", list};
    if (hosts.size() > 1) args.insert(args.end(), {"--synch-count", std::to_string(hosts.size())});
    ids_.push_back(Create(args));
    expected_runs_[name] = static_cast<int>(hosts.size());
  }

  size_t LedgerLines() {
    std::ifstream in(ledger_);
    return static_cast<size_t>(
        std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n'));
  }

  // Every job submitted ended Completed with its out.txt, and each control ran exactly once on
  // each of its hosts. `logs` is shown when a job did not end.
  void ExpectEveryJobEndedOnce(const std::function<std::string()>& logs) {
    for (uint64_t id : ids_) {
      ASSERT_NE(id, 0u);
      auto waited = Wait(id, 60);
      ASSERT_EQ(waited.exit_code, 0) << waited.out << waited.err << Show(id).dump(2) << logs();
      for (const auto& entry : Show(id)["entries"]) {
        EXPECT_EQ(entry["status"], "Completed") << Show(id).dump(2);
        EXPECT_EQ(ReadFile(ResultsDir(entry) + "/out.txt"), "done\n") << Show(id).dump(2);
      }
    }
    std::map<std::string, int> runs;
    std::istringstream lines(ReadFile(ledger_));
    for (std::string line; std::getline(lines, line);) ++runs[line.substr(0, line.find(' '))];
    EXPECT_EQ(runs, expected_runs_);
  }

  const std::string ledger_ = cluster_.root() + "/ledger";
  std::vector<uint64_t> ids_;
  std::map<std::string, int> expected_runs_;  // job name -> hosts it runs on
};

}  // namespace labmesh::testing
