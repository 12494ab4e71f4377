// End to end, PostgreSQL run only (e2e_pg.PgRestart.*, run alone: it restarts the server every
// e2e_pg test shares): the coordinator's store is in PostgreSQL and the server restarts while
// jobs run. Jobs created before, during and after finish exactly once with their results; what
// is refused while the server is down says so; the store checks clean afterwards.

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "jobs_fixture.hpp"
#include "pg_test_db.hpp"

namespace labmesh::testing {
namespace {

class PgRestart : public JobsE2e {};

TEST_F(PgRestart, CoordinatorWaitsForTheServerAndResumesWithNothingLost) {
  if (!PgMode()) GTEST_SKIP() << "PostgreSQL run only (e2e_pg.*)";
  StartCluster({"h1", "h2"});
  std::vector<uint64_t> ids;
  for (int i = 0; i < 6; ++i) {
    ids.push_back(Create({"--name", "before" + std::to_string(i), "--command",
                          "sleep 0.3; echo " + std::to_string(i) + " > out.txt",
                          "--hosts", i % 2 ? "h1" : "h2"}));
  }
  // Restart the server while those run: every pooled connection of the coordinator is cut.
  std::string state = ::getenv("LABMESH_TEST_PG_STATE");
  auto restarted = RunCommand({LABMESH_PG_TEST_SERVER, "restart", state});
  ASSERT_EQ(restarted.exit_code, 0) << restarted.out << restarted.err;
  for (int i = 0; i < 6; ++i) {
    ids.push_back(Create({"--name", "after" + std::to_string(i), "--command",
                          "echo " + std::to_string(i) + " > out.txt", "--hosts", "h1,h2"}));
  }
  for (uint64_t id : ids) {
    ASSERT_NE(id, 0u);
    auto waited = Wait(id, 60);
    EXPECT_EQ(waited.exit_code, 0) << waited.out << waited.err << Show(id).dump(2);
    for (const auto& entry : Show(id)["entries"]) {
      EXPECT_EQ(entry["status"], "Completed") << Show(id).dump(2);
      EXPECT_FALSE(ReadFile(ResultsDir(entry) + "/out.txt").empty()) << Show(id).dump(2);
    }
  }
  // Both agents are still Ready and the store is consistent.
  EXPECT_TRUE(cluster_.WaitForStatus("h1", "Ready"));
  EXPECT_TRUE(cluster_.WaitForStatus("h2", "Ready"));
  auto check = RunCommand(cluster_.CheckCommand());
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

}  // namespace
}  // namespace labmesh::testing

namespace labmesh::testing {
namespace {

class PgMigrate : public JobsE2e {};

// `labmesh-coordinator migrate` of a lab that ran on PostgreSQL into LMDB (and so back): the
// copy checks clean against the same results and holds the same jobs.
TEST_F(PgMigrate, ALabOnPostgresqlCopiesIntoLmdbAndChecksClean) {
  if (!PgMode()) GTEST_SKIP() << "PostgreSQL run only (e2e_pg.*)";
  StartCluster({"h1"});
  for (int i = 0; i < 3; ++i) {
    uint64_t id = Create({"--name", "m" + std::to_string(i), "--command", "echo hi > out.txt",
                          "--hosts", "h1"});
    ASSERT_NE(id, 0u);
    EXPECT_EQ(Wait(id).exit_code, 0);
  }
  std::string copy = "lmdb:" + cluster_.root() + "/copy";
  auto migrated = RunCommand({CoordinatorBinary(), "migrate", "--from", cluster_.store(), "--to", copy});
  ASSERT_EQ(migrated.exit_code, 0) << migrated.out << migrated.err;
  EXPECT_NE(migrated.out.find("migrate: jobs: 3 rows"), std::string::npos) << migrated.out;
  auto check = RunCommand({CoordinatorBinary(), "--check", cluster_.data_dir(), "--store", copy});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("3 jobs"), std::string::npos) << check.out;
  // A second migrate into the same, now full, store is refused and changes nothing.
  auto again = RunCommand({CoordinatorBinary(), "migrate", "--from", cluster_.store(), "--to", copy});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("is not empty"), std::string::npos) << again.err;
}

}  // namespace
}  // namespace labmesh::testing
