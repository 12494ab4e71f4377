// Reservations end to end (issue 22, docs/reservations.md): the real coordinator, agents and
// the CLI as two ordinary users and the admin. A reserved host runs only its reserver's jobs,
// others' entries wait and say who holds the host until when; refusals name the reserver and
// change nothing; the reservation survives a coordinator kill -9, ends by time, and is released
// by its reserver or an admin, every step in the audit log. --reserve-on-failure reserves the
// failed host to the job's owner and a real webhook receiver (notify_receiver.py) gets exactly
// one host.reserved and one job.finished across a kill -9; `job clone` carries the flag.

#include <signal.h>

#include <filesystem>
#include <sstream>

#include "jobs_fixture.hpp"
#include "notify_receiver.hpp"

namespace labmesh::testing {
namespace {

class ReserveE2e : public JobsE2e {
 protected:
  // `labmesh --json --user USER ARGS`, parsed when it succeeded.
  CommandResult As(const std::string& user, std::vector<std::string> args) {
    std::vector<std::string> argv = {"--json", "--user", user};
    argv.insert(argv.end(), args.begin(), args.end());
    return cluster_.Cli(argv);
  }
  uint64_t CreateAs(const std::string& user, std::vector<std::string> args) {
    std::vector<std::string> argv = {"job", "create"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto created = As(user, argv);
    EXPECT_EQ(created.exit_code, 0) << created.err;
    return created.exit_code == 0 ? nlohmann::json::parse(created.out)["id"].get<uint64_t>() : 0;
  }
  nlohmann::json Reservation(const std::string& host) {
    auto shown = cluster_.Host(host);
    return shown ? (*shown)["reservation"] : nlohmann::json();
  }
  std::string WaitingFor(uint64_t job) {
    auto shown = Show(job);
    return shown.contains("entries") ? shown["entries"][0].value("waiting_for", "") : "";
  }
};

TEST_F(ReserveE2e, OnlyTheReserversJobsRunUntilReleasedAcrossAKill) {
  StartCluster({"rs-1", "rs-2"});
  ASSERT_FALSE(cluster_.AddUser("bob", false).empty());
  ASSERT_FALSE(cluster_.AddUser("alice", false).empty());

  auto reserved = As("bob", {"host", "reserve", "rs-1", "--for", "1h", "--reason", "bisect"});
  ASSERT_EQ(reserved.exit_code, 0) << reserved.err;
  auto host = nlohmann::json::parse(reserved.out);
  EXPECT_EQ(host["reservation"]["by"], "bob");
  EXPECT_EQ(host["reservation"]["reason"], "bisect");
  const int64_t until = host["reservation"]["until_ms"].get<int64_t>();
  EXPECT_GT(until, host["reservation"]["since_ms"].get<int64_t>() + 3'500'000);

  // Refusals name the reserver and change nothing.
  auto taken = As("alice", {"host", "reserve", "rs-1", "--for", "2h"});
  EXPECT_EQ(taken.exit_code, 1);
  EXPECT_NE(taken.err.find("reserved by bob until"), std::string::npos) << taken.err;
  auto too_long = As("bob", {"host", "reserve", "rs-1", "--for", "8d"});
  EXPECT_EQ(too_long.exit_code, 2);
  EXPECT_NE(too_long.err.find("at most 7d"), std::string::npos) << too_long.err;
  auto not_hers = As("alice", {"host", "release", "rs-1"});
  EXPECT_EQ(not_hers.exit_code, 1);
  EXPECT_NE(not_hers.err.find("only bob or an admin"), std::string::npos) << not_hers.err;
  EXPECT_EQ(Reservation("rs-1")["until_ms"], until);

  // The text forms: host show and host list.
  auto show = cluster_.Cli({"host", "show", "rs-1"});
  EXPECT_NE(show.out.find("reserved        bob until "), std::string::npos) << show.out;
  auto list = cluster_.Cli({"host", "list"});
  EXPECT_NE(list.out.find("RESERVED"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find(" bob "), std::string::npos) << list.out;

  // alice's job waits and says why.
  uint64_t hers = CreateAs("alice", {"--name", "hers", "--hosts", "rs-1", "--command", "true"});
  ASSERT_NE(hers, 0u);
  ASSERT_TRUE(WaitFor([&] {
    return WaitingFor(hers).find("reserved by bob") != std::string::npos;
  })) << WaitingFor(hers);
  auto text = cluster_.Cli({"job", "show", std::to_string(hers)});
  EXPECT_NE(text.out.find("host rs-1: reserved by bob until "), std::string::npos) << text.out;
  // A job asking for any host with a label both carry goes to the other one.
  for (const char* name : {"rs-1", "rs-2"}) {
    auto labelled = cluster_.Cli({"host", "label", name, "--add", "pool"});
    ASSERT_EQ(labelled.exit_code, 0) << labelled.err;
  }
  uint64_t anywhere = CreateAs(
      "alice", {"--name", "anywhere", "--label", "pool", "--count", "1", "--command", "true"});
  ASSERT_TRUE(WaitForJobStatus(anywhere, "Completed"));
  EXPECT_EQ(Show(anywhere)["entries"][0]["host"], "rs-2");

  // The reservation is in the store: a kill -9 keeps it, and it still holds.
  cluster_.StopCoordinator(SIGKILL);
  cluster_.StartCoordinator();
  ASSERT_TRUE(cluster_.WaitForStatus("rs-1", "Ready"));
  ASSERT_TRUE(cluster_.WaitForStatus("rs-2", "Ready"));
  EXPECT_EQ(Reservation("rs-1")["by"], "bob");
  EXPECT_EQ(Reservation("rs-1")["until_ms"], until);
  uint64_t his = CreateAs("bob", {"--name", "his", "--hosts", "rs-1", "--command", "true"});
  ASSERT_TRUE(WaitForJobStatus(his, "Completed"));
  EXPECT_EQ(Show(hers)["status"], "Queued");

  // bob extends (a new end from now); an admin releases; alice's job runs.
  auto extended = As("bob", {"host", "reserve", "rs-1", "--for", "2h", "--reason", "more"});
  ASSERT_EQ(extended.exit_code, 0) << extended.err;
  EXPECT_GT(nlohmann::json::parse(extended.out)["reservation"]["until_ms"].get<int64_t>(), until);
  auto released = cluster_.Cli({"--json", "host", "release", "rs-1"});  // the admin
  ASSERT_EQ(released.exit_code, 0) << released.err;
  EXPECT_TRUE(nlohmann::json::parse(released.out)["reservation"].is_null());
  ASSERT_TRUE(WaitForJobStatus(hers, "Completed"));
  EXPECT_EQ(As("bob", {"host", "release", "rs-1"}).exit_code, 1);  // nothing to release

  // Every reserve and release is in the audit log, the refused ones too.
  auto audit = cluster_.Cli({"--json", "audit", "--limit", "500"});
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  int reserves_ok = 0, reserves_refused = 0, releases_ok = 0, releases_refused = 0;
  for (const auto& record : nlohmann::json::parse(audit.out)) {
    if (record["action"] == "HostReserveRequest") {
      (record["ok"].get<bool>() ? reserves_ok : reserves_refused)++;
    } else if (record["action"] == "HostReleaseRequest") {
      (record["ok"].get<bool>() ? releases_ok : releases_refused)++;
    }
  }
  EXPECT_EQ(reserves_ok, 2);       // bob, bob again
  EXPECT_EQ(reserves_refused, 1);  // alice (the 8d one never left the CLI)
  EXPECT_EQ(releases_ok, 1);       // the admin
  EXPECT_EQ(releases_refused, 2);  // alice; bob after the release
}

TEST_F(ReserveE2e, AReservationEndsByTimeAndTheWaitingEntryRuns) {
  StartCluster({"rs-1"});
  ASSERT_FALSE(cluster_.AddUser("bob", false).empty());
  auto reserved = As("bob", {"host", "reserve", "rs-1", "--for", "3s"});
  ASSERT_EQ(reserved.exit_code, 0) << reserved.err;
  const int64_t until_us =
      nlohmann::json::parse(reserved.out)["reservation"]["until_ms"].get<int64_t>() * 1000;
  // A named job of someone else waits until the reservation ends by itself (no release, no
  // other event), then runs: its entry started no earlier than the reservation's end.
  uint64_t named = Create({"--name", "named", "--hosts", "rs-1", "--command", "true"});
  ASSERT_NE(named, 0u);
  ASSERT_TRUE(WaitForJobStatus(named, "Completed"));
  EXPECT_GE(Show(named)["entries"][0]["started_us"].get<int64_t>(), until_us);
  EXPECT_TRUE(Reservation("rs-1").is_null());  // not shown once it has ended
  auto hosts = cluster_.Hosts();
  for (const auto& h : hosts) EXPECT_TRUE(h["reservation"].is_null()) << h.dump();
}

// With the notification receiver (notify_receiver.hpp): a real HTTP server on 127.0.0.1.
class ReserveOnFailureE2e : public ReserveE2e {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(receiver_.Start(cluster_.root() + "/receiver"));
    hook_ = receiver_.hook();
  }
  // Webhook requests about job `id` with event `event`.
  std::vector<nlohmann::json> Webhooks(uint64_t id, const std::string& event) {
    return receiver_.Webhooks(id, 200, event);
  }

  NotifyReceiver receiver_;
  std::string hook_;
};

TEST_F(ReserveOnFailureE2e, TheFailedHostIsLoanedToTheOwnerAndToldOnce) {
  StartCluster({"rf-1", "rf-2"});
  ASSERT_FALSE(cluster_.AddUser("alice", false).empty());
  ASSERT_FALSE(cluster_.AddUser("bob", false).empty());
  auto refused = As("alice", {"job", "create", "--name", "x", "--hosts", "rf-1", "--command",
                              "true", "--reserve-on-failure", "8d"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("at most 7d"), std::string::npos) << refused.err;

  uint64_t id =
      CreateAs("alice", {"--name", "flaky", "--hosts", "rf-1", "--command", "exit 3",
                         "--reserve-on-failure", "2h", "--notify", hook_, "--cleanup", "never"});
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(WaitForJobStatus(id, "Failed"));
  EXPECT_EQ(Show(id)["reserve_on_failure_ms"], 7'200'000);
  auto loan = Reservation("rf-1");
  ASSERT_FALSE(loan.is_null());
  EXPECT_EQ(loan["by"], "alice");
  EXPECT_EQ(loan["reason"], "job " + std::to_string(id) + " failed on rf-1");
  EXPECT_TRUE(Reservation("rf-2").is_null());

  ASSERT_TRUE(WaitFor([&] {
    return Webhooks(id, "host.reserved").size() == 1 && Webhooks(id, "job.finished").size() == 1;
  })) << receiver_.Log()
      << cluster_.coordinator().Log();
  auto body = nlohmann::json::parse(Webhooks(id, "host.reserved")[0]["body"].get<std::string>());
  EXPECT_EQ(body["event"], "host.reserved");
  EXPECT_EQ(body["host"], "rf-1");
  EXPECT_EQ(body["reserved_by"], "alice");
  EXPECT_EQ(body["entry"]["reason"], "exit status 3");
  EXPECT_EQ(Webhooks(id, "host.reserved")[0]["headers"]["X-Labmesh-Delivery"],
            std::to_string(id) + ".8");
  // Both delivered and recorded; a kill -9 afterwards sends neither again.
  ASSERT_TRUE(WaitFor([&] {
    auto n = Show(id)["notifications"];
    return n.size() == 2 && n[0]["state"] == "delivered" && n[1]["state"] == "delivered";
  })) << Show(id).dump();
  auto notifications = Show(id)["notifications"];
  EXPECT_EQ(notifications[0]["event"], "job.finished");
  EXPECT_EQ(notifications[1]["event"], "host.reserved");
  EXPECT_EQ(notifications[1]["host"], "rf-1");
  cluster_.StopCoordinator(SIGKILL);
  cluster_.StartCoordinator();
  ASSERT_TRUE(cluster_.WaitForStatus("rf-1", "Ready"));
  EXPECT_EQ(Reservation("rf-1")["by"], "alice");

  // bob's job for rf-1 waits; alice's own next job may use it; `job clone` keeps the flag.
  uint64_t bobs = CreateAs("bob", {"--name", "bobs", "--hosts", "rf-1", "--command", "true"});
  ASSERT_TRUE(WaitFor([&] {
    return WaitingFor(bobs).find("reserved by alice") != std::string::npos;
  })) << WaitingFor(bobs);
  auto cloned = As("alice", {"job", "clone", std::to_string(id), "--command", "true"});
  ASSERT_EQ(cloned.exit_code, 0) << cloned.err;
  uint64_t clone = nlohmann::json::parse(cloned.out)["id"].get<uint64_t>();
  ASSERT_TRUE(WaitForJobStatus(clone, "Completed"));
  EXPECT_EQ(Show(clone)["reserve_on_failure_ms"], 7'200'000);
  EXPECT_EQ(Show(bobs)["status"], "Queued");
  ASSERT_EQ(As("alice", {"host", "release", "rf-1"}).exit_code, 0);
  ASSERT_TRUE(WaitForJobStatus(bobs, "Completed"));

  // Exactly once each, after everything above.
  EXPECT_EQ(Webhooks(id, "host.reserved").size(), 1u);
  EXPECT_EQ(Webhooks(id, "job.finished").size(), 1u);
  EXPECT_TRUE(Webhooks(clone, "host.reserved").empty());  // it passed: nothing reserved
}

}  // namespace
}  // namespace labmesh::testing
