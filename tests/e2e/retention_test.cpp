// End to end: retention (issue 23, docs/retention.md). A real coordinator with a short
// --results-retention, --job-retention or --results-max-bytes, jobs run by real agents, and the
// results gone after a sweep with `--check` clean; `results usage` and `job delete` through the
// real CLI; bad input (an unknown or running job, a bad --keep-results, bad policy values) gets
// a clear error and changes nothing.

#include <gtest/gtest.h>

#include <filesystem>

#include "jobs_fixture.hpp"

namespace labmesh::testing {
namespace {

namespace fs = std::filesystem;

// A control that writes `kb` KiB of data into its results directory.
std::string Writer(int kb) {
  return "head -c " + std::to_string(kb * 1024) + " /dev/zero > \"$LABMESH_RESULTS_DIR/data.bin\"";
}

class RetentionE2e : public JobsE2e {
 protected:
  void UseFlags(std::vector<std::string> flags) {
    auto& all = cluster_.coordinator_flags();
    all.insert(all.end(), flags.begin(), flags.end());
  }

  uint64_t RunJob(int kb, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--name", "w", "--hosts", "h1", "--command", Writer(kb)};
    args.insert(args.end(), extra.begin(), extra.end());
    uint64_t id = Create(args);
    EXPECT_NE(id, 0u);
    auto waited = Wait(id);
    EXPECT_EQ(waited.exit_code, 0) << waited.out << waited.err;
    return id;
  }

  bool ResultsDirExists(uint64_t id) {
    return fs::exists(cluster_.data_dir() + "/results/" + std::to_string(id) + "-alice");
  }

  void ExpectCheckClean() {
    auto check = RunCommand(cluster_.CheckCommand());
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
    EXPECT_NE(check.out.find(": clean: "), std::string::npos) << check.out;
  }

  size_t ResultsOfJob(uint64_t id) {
    auto listed = cluster_.Cli({"--json", "results", "list", "--job", std::to_string(id)});
    EXPECT_EQ(listed.exit_code, 0) << listed.err;
    return listed.exit_code == 0 ? nlohmann::json::parse(listed.out)["results"].size() : 0;
  }

  nlohmann::json Usage() {
    auto usage = cluster_.Cli({"--json", "results", "usage"});
    EXPECT_EQ(usage.exit_code, 0) << usage.err;
    return usage.exit_code == 0 ? nlohmann::json::parse(usage.out) : nlohmann::json::object();
  }
};

TEST_F(RetentionE2e, ResultsPastTheRetentionGoAndWhatIsKeptForeverStays) {
  UseFlags({"--results-retention", "2s", "--retention-sweep-interval", "300ms"});
  StartCluster({"h1"});
  const uint64_t forever = RunJob(64, {"--keep-results", "forever"});
  const uint64_t plain = RunJob(32);
  EXPECT_EQ(Show(forever)["keep_results_ms"], -1);
  ASSERT_TRUE(
      WaitFor([&] { return Show(plain)["results"] == "removed"; }, std::chrono::seconds(30)));
  nlohmann::json shown = Show(plain);
  EXPECT_EQ(shown["results_removed_reason"], "retention 2s");
  EXPECT_FALSE(ResultsDirExists(plain));
  EXPECT_EQ(ResultsOfJob(plain), 0u);
  EXPECT_TRUE(ResultsDirExists(forever));
  EXPECT_EQ(ResultsOfJob(forever), 1u);
  EXPECT_EQ(Show(forever)["results"], "present");
  auto text = cluster_.Cli({"job", "show", std::to_string(plain)});
  EXPECT_NE(text.out.find("(retention 2s)"), std::string::npos) << text.out;
  // The sweep said what it did, one line per sweep.
  EXPECT_TRUE(WaitFor([&] {
    return cluster_.coordinator().Log().find("retention sweep: results of 1 jobs removed") !=
           std::string::npos;
  }));
  ExpectCheckClean();

  // What is left: the job kept forever, in total, by owner and by month.
  nlohmann::json usage = Usage();
  EXPECT_EQ(usage["jobs"], 1);
  EXPECT_EQ(usage["total_bytes"], Show(forever)["result_bytes"]);
  EXPECT_GE(usage["total_bytes"].get<uint64_t>(), 64u * 1024);
  ASSERT_EQ(usage["by_owner"].size(), 1u);
  EXPECT_EQ(usage["by_owner"][0]["owner"], "alice");
  ASSERT_EQ(usage["by_month"].size(), 1u);
  auto table = cluster_.Cli({"results", "usage"});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("OWNER"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("total: "), std::string::npos) << table.out;

  // `job delete` removes the kept job's results at once.
  auto deleted = cluster_.Cli({"--user", "alice", "job", "delete", std::to_string(forever)});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  // data.bin, status.log (the agent's default) and debug/control.log
  EXPECT_NE(deleted.out.find("results removed (deleted by alice): 1 directory, 3 files"),
            std::string::npos)
      << deleted.out;
  EXPECT_FALSE(ResultsDirExists(forever));
  EXPECT_EQ(ResultsOfJob(forever), 0u);
  EXPECT_EQ(Usage()["jobs"], 0);
  auto again =
      cluster_.Cli({"--json", "--user", "alice", "job", "delete", std::to_string(forever)});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out)["already_removed"], true);
  ExpectCheckClean();
}

TEST_F(RetentionE2e, JobRetentionRemovesTheJobsRecords) {
  UseFlags({"--job-retention", "1s", "--retention-sweep-interval", "300ms"});
  StartCluster({"h1"});
  const uint64_t job = RunJob(8);
  ASSERT_TRUE(WaitFor(
      [&] {
        return cluster_.Cli({"job", "show", std::to_string(job)}).exit_code == 1;
      },
      std::chrono::seconds(30)));
  EXPECT_FALSE(ResultsDirExists(job));
  auto history = cluster_.Cli({"--json", "host", "history", "h1"});
  EXPECT_EQ(history.exit_code, 0) << history.err;
  ExpectCheckClean();
  // The host still runs new work.
  EXPECT_NE(RunJob(1), 0u);
}

TEST_F(RetentionE2e, TheByteCapRemovesTheOldestResultsFirst) {
  UseFlags({"--results-max-bytes", "300K", "--retention-sweep-interval", "300ms"});
  StartCluster({"h1"});
  const uint64_t first = RunJob(200);
  const uint64_t second = RunJob(200);
  ASSERT_TRUE(
      WaitFor([&] { return Show(first)["results"] == "removed"; }, std::chrono::seconds(30)));
  EXPECT_EQ(Show(second)["results"], "present");
  EXPECT_TRUE(ResultsDirExists(second));
  EXPECT_NE(Show(first)["results_removed_reason"].get<std::string>().find("--results-max-bytes"),
            std::string::npos);
  ExpectCheckClean();
}

TEST_F(RetentionE2e, BadInputGetsAClearErrorAndChangesNothing) {
  StartCluster({"h1"});
  const uint64_t done = RunJob(4);
  cluster_.AddUser("bob", /*admin=*/false);

  auto unknown = cluster_.Cli({"job", "delete", "999"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("job 999 not found"), std::string::npos) << unknown.err;
  EXPECT_EQ(cluster_.Cli({"job", "delete", "abc"}).exit_code, 2);
  EXPECT_EQ(cluster_.Cli({"job", "delete", "0"}).exit_code, 2);

  auto bob = cluster_.Cli({"--user", "bob", "job", "delete", std::to_string(done)});
  EXPECT_EQ(bob.exit_code, 1);
  EXPECT_NE(bob.err.find("only its owner or an admin"), std::string::npos) << bob.err;
  EXPECT_TRUE(ResultsDirExists(done));

  const uint64_t running = Create({"--name", "long", "--hosts", "h1", "--command", "sleep 60"});
  ASSERT_TRUE(WaitForEntryStatus(running, "Running"));
  auto refused = cluster_.Cli({"--user", "alice", "job", "delete", std::to_string(running)});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("labmesh job abort " + std::to_string(running)), std::string::npos)
      << refused.err;
  EXPECT_EQ(Show(running)["status"], "Running");
  EXPECT_EQ(Show(running)["results"], "present");
  EXPECT_EQ(cluster_.Cli({"job", "abort", std::to_string(running)}).exit_code, 0);

  const size_t jobs_before =
      nlohmann::json::parse(cluster_.Cli({"--json", "job", "list"}).out).size();
  for (const char* bad : {"bogus", "0", "-5d", "30x"}) {
    auto created = cluster_.Cli({"--user", "alice", "job", "create", "--name", "k", "--hosts", "h1",
                                 "--command", "true", "--keep-results", bad});
    EXPECT_EQ(created.exit_code, 2) << bad;
    EXPECT_NE(created.err.find("--keep-results"), std::string::npos) << bad << ": " << created.err;
  }
  EXPECT_EQ(nlohmann::json::parse(cluster_.Cli({"--json", "job", "list"}).out).size(), jobs_before);

  // A coordinator with a bad policy value does not start, and says which flag.
  for (std::vector<std::string> bad : {std::vector<std::string>{"--results-retention", "ninety"},
                                       {"--job-retention", "-3d"},
                                       {"--audit-retention", "1y"},
                                       {"--results-max-bytes", "lots"}}) {
    std::vector<std::string> argv = {CoordinatorBinary(), "--data-dir", cluster_.root() + "/bad"};
    argv.insert(argv.end(), bad.begin(), bad.end());
    auto run = RunCommand(argv);
    EXPECT_EQ(run.exit_code, 2) << bad[0] << " " << bad[1];
    EXPECT_NE((run.out + run.err).find(bad[0]), std::string::npos) << run.out << run.err;
  }
  EXPECT_FALSE(fs::exists(cluster_.root() + "/bad/db"));
  EXPECT_TRUE(ResultsDirExists(done));
  ExpectCheckClean();
}

}  // namespace
}  // namespace labmesh::testing
