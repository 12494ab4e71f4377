// End to end: users, tokens, ACL groups, the audit log and the Curve API socket with the real
// coordinator, agents and `labmesh` client (docs/security.md).

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "cluster.hpp"
#include "labmesh/common/hash.hpp"

namespace labmesh::testing {
namespace {

bool Contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

class AuthE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.StartCoordinator();
    cluster_.StartAgent("lab-1");
    cluster_.StartAgent("lab-2");
    ASSERT_TRUE(cluster_.WaitForStatus("lab-1", "Ready"));
    ASSERT_TRUE(cluster_.WaitForStatus("lab-2", "Ready"));
    bob_ = cluster_.AddUser("bob", false);
    alice_ = cluster_.AddUser("alice", false);
    ASSERT_FALSE(bob_.empty());
    ASSERT_FALSE(alice_.empty());
  }

  // `labmesh --json ARGS` as `token`, parsed (null when it failed).
  nlohmann::json Json(const std::string& token, std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    auto result = cluster_.CliAs(token, args);
    if (result.exit_code != 0) return nullptr;
    return nlohmann::json::parse(result.out, nullptr, false);
  }
  size_t JobCount() {
    auto jobs = Json(cluster_.AdminToken(), {"job", "list"});
    return jobs.is_array() ? jobs.size() : 999;
  }

  E2eCluster cluster_;
  std::string bob_;
  std::string alice_;
};

TEST_F(AuthE2e, OnlyAdminsAdministerHostsAndUsers) {
  auto lock = cluster_.CliAs(bob_, {"host", "lock", "lab-1", "--reason", "mine now"});
  EXPECT_EQ(lock.exit_code, 1);
  EXPECT_TRUE(Contains(lock.err, "permission denied")) << lock.err;
  EXPECT_FALSE((*cluster_.Host("lab-1"))["locked"].get<bool>());

  auto create = cluster_.CliAs(bob_, {"user", "create", "eve", "--admin"});
  EXPECT_EQ(create.exit_code, 1);
  EXPECT_TRUE(Contains(create.err, "permission denied")) << create.err;
  auto acl = cluster_.CliAs(bob_, {"acl", "create", "bobs-own"});
  EXPECT_EQ(acl.exit_code, 1);
  auto users = Json(cluster_.AdminToken(), {"user", "list"});
  ASSERT_TRUE(users.is_array());
  for (const auto& user : users) EXPECT_NE(user["name"], "eve");
  auto groups = Json(cluster_.AdminToken(), {"acl", "list"});
  ASSERT_TRUE(groups.is_array());
  EXPECT_EQ(groups.size(), 1u);  // Everyone

  // Reading is for everyone; the admin can do the rest.
  EXPECT_EQ(cluster_.CliAs(bob_, {"host", "list"}).exit_code, 0);
  auto admin_lock =
      cluster_.CliAs(cluster_.AdminToken(), {"host", "lock", "lab-1", "--reason", "maintenance"});
  ASSERT_EQ(admin_lock.exit_code, 0) << admin_lock.err;
  auto host = cluster_.Host("lab-1");
  EXPECT_TRUE((*host)["locked"].get<bool>());
  EXPECT_EQ((*host)["locked_by"], "admin");  // who the token names, not what a body said
  EXPECT_EQ(cluster_.CliAs(cluster_.AdminToken(), {"user", "create", "eve"}).exit_code, 0);
}

TEST_F(AuthE2e, JobsRunOnlyOnHostsInTheOwnersAclGroups) {
  std::string admin = cluster_.AdminToken();
  ASSERT_EQ(cluster_.CliAs(admin, {"acl", "create", "team-a"}).exit_code, 0);
  ASSERT_EQ(cluster_.CliAs(admin, {"acl", "add", "team-a", "--hosts", "lab-2"}).exit_code, 0);
  ASSERT_EQ(cluster_.CliAs(admin, {"acl", "remove", "Everyone", "--hosts", "lab-2"}).exit_code, 0);
  auto host = cluster_.Host("lab-2");
  EXPECT_EQ((*host)["acl_groups"], nlohmann::json::array({"team-a"}));

  auto refused = cluster_.CliAs(
      bob_, {"job", "create", "--name", "x", "--command", "true", "--hosts", "lab-2"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_TRUE(Contains(refused.err, "ACL groups")) << refused.err;
  EXPECT_EQ(JobCount(), 0u);

  // On a host of Everyone, bob's job runs and is his.
  auto mine = Json(bob_, {"job", "create", "--name", "ok", "--command", "true", "--hosts",
                          "lab-1"});
  ASSERT_TRUE(mine.is_object());
  auto shown = Json(bob_, {"job", "show", std::to_string(mine["id"].get<uint64_t>())});
  ASSERT_TRUE(shown.is_object());
  EXPECT_EQ(shown["owner"], "bob");

  // Once bob is in team-a, lab-2 is his to use too.
  ASSERT_EQ(cluster_.CliAs(admin, {"acl", "add", "team-a", "--users", "bob"}).exit_code, 0);
  auto now = Json(bob_, {"job", "create", "--name", "x", "--command", "true", "--hosts",
                         "lab-2"});
  ASSERT_TRUE(now.is_object());
  EXPECT_EQ(JobCount(), 2u);
  auto team = Json(admin, {"acl", "list", "team-a"});
  ASSERT_TRUE(team.is_array() && team.size() == 1) << team.dump();
  EXPECT_EQ(team[0]["users"], nlohmann::json::array({"bob"}));
  EXPECT_EQ(team[0]["hosts"], nlohmann::json::array({"lab-2"}));
}

TEST_F(AuthE2e, OnlyTheOwnerOrAnAdminAbortsAJob) {
  auto job = Json(alice_, {"job", "create", "--name", "long", "--command", "sleep 300",
                           "--hosts", "lab-1"});
  ASSERT_TRUE(job.is_object());
  std::string id = std::to_string(job["id"].get<uint64_t>());

  auto theirs = cluster_.CliAs(bob_, {"job", "abort", id});
  EXPECT_EQ(theirs.exit_code, 1);
  EXPECT_TRUE(Contains(theirs.err, "belongs to alice")) << theirs.err;
  auto shown = Json(alice_, {"job", "show", id});
  ASSERT_TRUE(shown.is_object());
  EXPECT_EQ(shown["abort_reason"], "");
  EXPECT_NE(shown["status"], "Aborted");

  auto admin = cluster_.CliAs(cluster_.AdminToken(), {"job", "abort", id});
  ASSERT_EQ(admin.exit_code, 0) << admin.err;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto j = Json(alice_, {"job", "show", id});
        return j.is_object() && j["status"] == "Aborted";
      },
      std::chrono::seconds(20)));
}

TEST_F(AuthE2e, MissingOrWrongCredentialsAreRefusedAndChangeNothing) {
  auto none = cluster_.CliAs("", {"host", "lock", "lab-1", "--reason", "x"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_TRUE(Contains(none.err, "not authenticated")) << none.err;
  auto wrong = cluster_.CliAs("lmt_definitely-not-a-token", {"host", "lock", "lab-1", "--reason",
                                                             "x"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_TRUE(Contains(wrong.err, "not authenticated")) << wrong.err;
  // A token with someone else's name.
  auto mismatch = cluster_.CliAs(bob_, {"--user", "alice", "job", "list"});
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_TRUE(Contains(mismatch.err, "does not belong to user alice")) << mismatch.err;
  auto reading = cluster_.CliAs("", {"host", "list"});
  EXPECT_EQ(reading.exit_code, 1);
  EXPECT_FALSE((*cluster_.Host("lab-1"))["locked"].get<bool>());

  // A deleted user's token stops working at once.
  ASSERT_EQ(cluster_.CliAs(cluster_.AdminToken(), {"user", "delete", "bob"}).exit_code, 0);
  EXPECT_EQ(cluster_.CliAs(bob_, {"host", "list"}).exit_code, 1);
}

TEST_F(AuthE2e, TokensAreNotStoredInClear) {
  std::string admin = cluster_.AdminToken();
  auto extra = Json(alice_, {"user", "token"});
  ASSERT_TRUE(extra.is_object());
  std::string third = extra["token"].get<std::string>();
  // Everything the coordinator's store holds, read straight from the LMDB file.
  std::string db = ReadFile(cluster_.data_dir() + "/db/data.mdb");
  ASSERT_FALSE(db.empty());
  for (const std::string& token : {admin, bob_, alice_, third}) {
    EXPECT_FALSE(Contains(db, token)) << "a token is in the store in clear";
    EXPECT_TRUE(Contains(db, Blake2bHex(token))) << "its hash should be there";
  }
  // The admin token's file is for root only.
  EXPECT_EQ(std::filesystem::status(cluster_.data_dir() + "/keys/admin.token").permissions() &
                std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(AuthE2e, EveryMutatingRequestIsAuditedRefusedOnesToo) {
  std::string admin = cluster_.AdminToken();
  ASSERT_EQ(cluster_.CliAs(admin, {"host", "lock", "lab-2", "--reason", "audit me"}).exit_code, 0);
  EXPECT_EQ(cluster_.CliAs(bob_, {"host", "unlock", "lab-2"}).exit_code, 1);
  EXPECT_EQ(cluster_.CliAs("lmt_bogus", {"host", "unlock", "lab-2"}).exit_code, 1);
  EXPECT_EQ(cluster_.CliAs(bob_, {"host", "list"}).exit_code, 0);  // reads are not audited

  nlohmann::json records;
  // Records are written at the end of the coordinator's loop turn: wait for them.
  ASSERT_TRUE(WaitFor(
      [&] {
        records = Json(admin, {"audit", "--since", "1h"});
        return records.is_array() && records.size() >= 5;  // 2 user creates + the 3 above
      },
      std::chrono::seconds(10)))
      << records.dump();
  auto find = [&](const std::string& user, const std::string& action, bool ok) {
    for (const auto& r : records) {
      if (r["user"] == user && r["action"] == action && r["ok"] == ok) return r;
    }
    return nlohmann::json();
  };
  auto locked = find("admin", "HostActionRequest", true);
  ASSERT_TRUE(locked.is_object()) << records.dump(1);
  EXPECT_TRUE(Contains(locked["target"].get<std::string>(), "lab-2"));
  EXPECT_TRUE(Contains(locked["from"].get<std::string>(), "127.0.0.1"));
  auto denied = find("bob", "HostActionRequest", false);
  ASSERT_TRUE(denied.is_object()) << records.dump(1);
  EXPECT_TRUE(Contains(denied["error"].get<std::string>(), "PermissionDenied"));
  auto anonymous = find("", "HostActionRequest", false);
  ASSERT_TRUE(anonymous.is_object()) << records.dump(1);
  EXPECT_TRUE(Contains(anonymous["error"].get<std::string>(), "Unauthenticated"));
  auto made = find("admin", "UserCreateRequest", true);
  ASSERT_TRUE(made.is_object());
  for (const auto& r : records) EXPECT_NE(r["action"], "HostListRequest");

  // bob reads his own records only.
  auto his = Json(bob_, {"audit"});
  ASSERT_TRUE(his.is_array());
  ASSERT_GE(his.size(), 1u);
  for (const auto& r : his) EXPECT_EQ(r["user"], "bob");
  EXPECT_EQ(cluster_.CliAs(bob_, {"audit", "--user", "admin"}).exit_code, 1);
  auto filtered = Json(admin, {"audit", "--user", "bob"});
  ASSERT_TRUE(filtered.is_array());
  for (const auto& r : filtered) EXPECT_EQ(r["user"], "bob");
}

TEST(AuthE2eStart, APlainApiSocketOffLoopbackRefusesToStart) {
  TempDir tmp;
  auto result = RunCommand({CoordinatorBinary(), "--data-dir", tmp.path() + "/data",
                            "--agent-listen", "tcp://127.0.0.1:*", "--api-listen",
                            "tcp://0.0.0.0:0", "--http-listen", ""},
                           std::chrono::seconds(30));
  EXPECT_NE(result.exit_code, 0);
  std::string said = result.out + result.err;
  EXPECT_TRUE(Contains(said, "loopback")) << said;
  EXPECT_TRUE(Contains(said, "--api-curve-listen")) << said;
}

TEST(AuthE2eStart, TheCurveApiSocketServesClientsThatKnowTheCoordinatorsKey) {
  E2eCluster cluster({"--auto-accept", "--api-curve-listen", "tcp://127.0.0.1:*"});
  cluster.StartCoordinator();
  std::string endpoints = ReadFile(cluster.data_dir() + "/coordinator.endpoints");
  std::string curve;
  size_t at = endpoints.find("api_curve=");
  ASSERT_NE(at, std::string::npos) << endpoints;
  curve = endpoints.substr(at + 10, endpoints.find('\n', at) - at - 10);
  ASSERT_EQ(curve.rfind("tcp://127.0.0.1:", 0), 0u) << curve;

  std::string admin = cluster.AdminToken();
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {CliBinary(), "--api", curve, "--token", admin,
                                     "--timeout", "3s"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, std::chrono::seconds(30),
                      {{"HOME", cluster.root()},
                       {"LABMESH_SERVER_KEY", ""},
                       {"LABMESH_CREDENTIALS", "none"}});
  };
  auto ok = run({"--server-key", cluster.public_key(), "user", "list"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_TRUE(Contains(ok.out, "admin"));
  // Plain text, or another server's key: no answer.
  EXPECT_EQ(run({"user", "list"}).exit_code, 3);
  std::string other(cluster.public_key());
  other[0] = other[0] == 'a' ? 'b' : 'a';
  EXPECT_EQ(run({"--server-key", other, "user", "list"}).exit_code, 3);
}

}  // namespace
}  // namespace labmesh::testing
