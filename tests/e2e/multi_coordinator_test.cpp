// End to end, PostgreSQL run only: three coordinators on one PostgreSQL store and one data
// directory, the active one and two standbys that relay (docs/scale-out.md), with agents spread
// over the three (agent i starts at coordinator i mod 3 and lists the other two after it).
//   e2e_pg.PgMulti.*: twelve agents, 300 jobs submitted through two coordinators' APIs,
//     synchronous pairs whose hosts sit on different coordinators among them. The active
//     coordinator is killed -9 midway: a standby claims the store and serves, the other relays
//     to it, the killed one's agents move, and every job ends exactly once with its results;
//     both coordinators left show the same jobs, on their pages too.
//   e2e_pg.PgMultiRestart.* (run alone, like PgRestart): the PostgreSQL server restarts under
//     the three while synchronous pairs run; nothing is lost.

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <string>
#include <vector>

#include "http_test_client.hpp"
#include "standby_fixture.hpp"

namespace labmesh::testing {
namespace {

class PgMulti : public StandbyE2e {
 protected:
  // The active coordinator (with a relay socket), two standbys relaying to it, and `agents`
  // agents spread over the three, all Ready.
  void StartLab(int agents) {
    cluster_.coordinator_flags().insert(cluster_.coordinator_flags().end(),
                                        {"--relay-listen", "tcp://127.0.0.1:0"});
    cluster_.StartCoordinator();
    for (const char* name : {"b", "c"}) {
      // The agents of the dead coordinator, and of a relay while it has nobody to relay to,
      // come back within this; the test's 2 s --dead-after alone is shorter than a takeover
      // plus an agent's tries along its list.
      standbys_.push_back(StartStandby(name, {"--relay-listen", "tcp://127.0.0.1:0",
                                              "--restart-grace", "15s"}));
    }
    for (Standby& standby : standbys_) {
      ASSERT_TRUE(WaitFor([&] {
        return standby.process->Log().find("the active coordinator answers") != std::string::npos;
      })) << standby.process->Log();
    }
    const std::vector<std::string> coordinators = {cluster_.agent_endpoint(), standbys_[0].agent,
                                                   standbys_[1].agent};
    for (int i = 0; i < agents; ++i) {
      hosts_.push_back("h" + std::to_string(i));
      std::string list;
      for (int k = 0; k < 3; ++k) list += (k ? "," : "") + coordinators[(i + k) % 3];
      cluster_.StartAgent(hosts_.back(), {"--coordinator", list});
    }
    for (const std::string& host : hosts_) ASSERT_TRUE(cluster_.WaitForStatus(host, "Ready"));
  }

  std::string Logs() {
    return cluster_.coordinator().Log() + standbys_[0].process->Log() + standbys_[1].process->Log();
  }

  // Until the API the CLI uses answers (a takeover may be under way).
  bool WaitForApi(std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    return WaitFor([&] {
      return cluster_.Cli({"--json", "job", "list", "--limit", "1"}).exit_code == 0;
    }, timeout);
  }

  std::vector<Standby> standbys_;
  std::vector<std::string> hosts_;
};

TEST_F(PgMulti, ThreeCoordinatorsShareTheWorkAndSurviveTheActiveOnesDeath) {
  if (!PgMode()) GTEST_SKIP() << "PostgreSQL run only (e2e_pg.*)";
  ASSERT_NO_FATAL_FAILURE(StartLab(12));
  // Half a second each: the twelve hosts finish about as fast as the CLI submits, so at the
  // kill some entries are running and some queued.
  auto submit = [&](int i) {
    std::vector<std::string> on = {hosts_[i % 12]};
    if (i % 5 == 4) on.push_back(hosts_[(i + 1) % 12]);  // neighbours: different coordinators
    SubmitLedgerJob("j" + std::to_string(i), on, "0.5");
    ASSERT_NE(ids_.back(), 0u) << Logs();
  };
  // The first half through the active coordinator's API, the rest through a standby's.
  for (int i = 0; i < 150; ++i) ASSERT_NO_FATAL_FAILURE(submit(i));
  cluster_.set_api_endpoint(standbys_[0].api);
  for (int i = 150; i < 300; ++i) {
    ASSERT_NO_FATAL_FAILURE(submit(i));
    if (i != 200) continue;
    // Midway, with work done, running and queued: the active coordinator dies.
    ASSERT_TRUE(WaitFor([&] { return LedgerLines() >= 100; }, std::chrono::seconds(60)));
    cluster_.StopCoordinator(SIGKILL);
    ASSERT_TRUE(WaitFor([&] {
      return std::any_of(standbys_.begin(), standbys_.end(), [](const Standby& s) {
        return s.process->Log().find("taking over") != std::string::npos;
      });
    })) << Logs();
    // The standby whose API the test uses answers again: as the new active coordinator, or
    // relaying to it (it found the new relay endpoint in the store).
    ASSERT_TRUE(WaitForApi()) << Logs();
  }

  ExpectEveryJobEndedOnce([&] { return Logs(); });
  for (const std::string& host : hosts_) EXPECT_TRUE(cluster_.WaitForStatus(host, "Ready"));
  // Both coordinators left, the new active one and the standby relaying to it, show the same.
  std::string listed[2];
  for (int k = 0; k < 2; ++k) {
    EXPECT_TRUE(standbys_[k].process->Running()) << standbys_[k].process->Log();
    cluster_.set_api_endpoint(standbys_[k].api);
    ASSERT_TRUE(WaitFor([&] {
      auto list = cluster_.Cli({"--json", "job", "list", "--limit", "0"});
      listed[k] = list.out;
      return list.exit_code == 0;
    })) << standbys_[k].process->Log();
  }
  EXPECT_EQ(nlohmann::json::parse(listed[0]).size(), ids_.size());
  EXPECT_EQ(listed[0], listed[1]);
  // Their pages too: the hosts (through the API, relayed or not) and a result file (from the
  // shared results tree).
  const std::string results = Show(ids_.front())["entries"][0]["results_path"];
  const std::string admin = "Authorization: Bearer " + cluster_.AdminToken() + "\r\n";
  for (const Standby& standby : standbys_) {
    auto hosts = webui::testing::Request(standby.http_port, "GET", "/api/v1/hosts", admin);
    ASSERT_TRUE(hosts.ok()) << hosts.status().ToString();
    EXPECT_EQ(hosts->status, 200) << hosts->body;
    EXPECT_EQ(nlohmann::json::parse(hosts->body, nullptr, false).size(), hosts_.size());
    auto file = webui::testing::Request(standby.http_port, "GET",
                                        "/results/" + results + "/out.txt", admin);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    EXPECT_EQ(file->status, 200);
    EXPECT_EQ(file->body, "done\n");
  }
  for (Standby& standby : standbys_) {
    standby.process->Signal(SIGTERM);
    standby.process->Wait(std::chrono::seconds(20));
  }
  auto check = RunCommand(cluster_.CheckCommand());
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

class PgMultiRestart : public PgMulti {};

// The active coordinator waits for the server (--store-wait) and the standbys keep relaying
// (or, if the active stayed silent past 3 s, one takes over); either way every job, created
// before and after, ends exactly once with its results.
TEST_F(PgMultiRestart, AServerRestartUnderThreeCoordinatorsLosesNothing) {
  if (!PgMode()) GTEST_SKIP() << "PostgreSQL run only (e2e_pg.*)";
  ASSERT_NO_FATAL_FAILURE(StartLab(6));
  auto submit = [&](const std::string& name, int i) {
    SubmitLedgerJob(name, {hosts_[i % 6], hosts_[(i + 1) % 6]}, "0.3");
    ASSERT_NE(ids_.back(), 0u) << Logs();
  };
  cluster_.set_api_endpoint(standbys_[0].api);  // everything through a relay
  for (int i = 0; i < 6; ++i) ASSERT_NO_FATAL_FAILURE(submit("before" + std::to_string(i), i));
  std::string state = ::getenv("LABMESH_TEST_PG_STATE");
  auto restarted = RunCommand({LABMESH_PG_TEST_SERVER, "restart", state});
  ASSERT_EQ(restarted.exit_code, 0) << restarted.out << restarted.err;
  ASSERT_TRUE(WaitForApi(std::chrono::seconds(60))) << Logs();
  for (int i = 0; i < 6; ++i) ASSERT_NO_FATAL_FAILURE(submit("after" + std::to_string(i), i));

  ExpectEveryJobEndedOnce([&] { return Logs(); });
  for (const std::string& host : hosts_) EXPECT_TRUE(cluster_.WaitForStatus(host, "Ready"));
  for (Standby& standby : standbys_) {
    standby.process->Signal(SIGTERM);
    standby.process->Wait(std::chrono::seconds(20));
  }
  cluster_.StopCoordinator(SIGTERM);
  auto check = RunCommand(cluster_.CheckCommand());
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

}  // namespace
}  // namespace labmesh::testing
