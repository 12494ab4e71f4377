// Templates and schedules end to end (issue 22, docs/schedules.md): the real coordinator, an
// agent and the CLI. A template made from flags and one saved from a job; `job create
// --template` with overrides; a schedule on every minute that makes its jobs on real time,
// each minute's job once across a coordinator kill -9; pause; bad input refused.

#include <set>

#include "browser.hpp"
#include "jobs_fixture.hpp"

namespace labmesh::testing {
namespace {

class ScheduleE2e : public JobsE2e {
 protected:
  nlohmann::json Json(std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    auto run = cluster_.Cli(args);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return run.exit_code == 0 ? nlohmann::json::parse(run.out) : nlohmann::json();
  }

  nlohmann::json ScheduleJobs(const std::string& schedule) {
    return Json({"job", "list", "--schedule", schedule});
  }
};

TEST_F(ScheduleE2e, TemplatesMakeJobsWithOverrides) {
  StartCluster({"sc-1"});
  auto made = cluster_.Cli({"template", "create", "check", "--hosts", "sc-1", "--command",
                            "echo from-template", "--priority", "high", "--description",
                            "a quick check"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  auto listed = Json({"template", "list"});
  ASSERT_EQ(listed.size(), 1u) << listed;
  EXPECT_EQ(listed[0]["name"], "check");
  EXPECT_EQ(listed[0]["job"]["name"], "check");  // --name defaults to the template's
  auto shown = Json({"template", "show", "check"});
  EXPECT_EQ(shown["job"]["command"], "echo from-template");
  EXPECT_EQ(shown["job"]["priority"], "high");
  EXPECT_EQ(shown["schedules"], nlohmann::json::array());

  uint64_t plain = Create({"--template", "check"});
  ASSERT_NE(plain, 0u);
  auto job = Show(plain);
  EXPECT_EQ(job["name"], "check");
  EXPECT_EQ(job["priority"], "high");
  EXPECT_EQ(job["template"], "check");
  EXPECT_EQ(job["control"], "echo from-template");
  ASSERT_TRUE(WaitForJobStatus(plain, "Completed"));

  uint64_t changed = Create({"--template", "check", "--name", "other", "--command", "echo over",
                             "--priority", "low"});
  auto other = Show(changed);
  EXPECT_EQ(other["name"], "other");
  EXPECT_EQ(other["control"], "echo over");
  EXPECT_EQ(other["priority"], "low");
  EXPECT_EQ(other["hosts"], nlohmann::json::array({"sc-1"}));  // kept
  ASSERT_TRUE(WaitForJobStatus(changed, "Completed"));

  // From a job: its definition, under a new name.
  auto saved = cluster_.Cli({"template", "save", "from-job", "--from-job",
                             std::to_string(changed), "--description", "kept"});
  ASSERT_EQ(saved.exit_code, 0) << saved.err;
  EXPECT_EQ(Json({"template", "show", "from-job"})["job"]["command"], "echo over");

  // Bad input: usage errors (2) and refusals (1) that change nothing.
  EXPECT_EQ(cluster_.Cli({"template", "create", "nowhere", "--command", "true"}).exit_code, 2);
  EXPECT_EQ(cluster_.Cli({"template", "create", "bad/name", "--hosts", "sc-1", "--command", "x"})
                .exit_code,
            1);
  EXPECT_EQ(cluster_.Cli({"template", "create", "check", "--hosts", "sc-1", "--command", "x"})
                .exit_code,
            1);  // exists; --replace would replace it
  EXPECT_EQ(cluster_.Cli({"job", "create", "--template", "missing"}).exit_code, 1);
  EXPECT_EQ(cluster_.Cli({"template", "save", "x", "--from-job", "999"}).exit_code, 1);
  EXPECT_EQ(Json({"template", "list"}).size(), 2u);
  EXPECT_EQ(Json({"job", "list"}).size(), 2u);

  ASSERT_EQ(cluster_.Cli({"template", "delete", "from-job"}).exit_code, 0);
  EXPECT_EQ(Json({"template", "list"}).size(), 1u);
}

TEST_F(ScheduleE2e, AScheduleMakesOneJobAMinuteAcrossACoordinatorKill) {
  StartCluster({"sc-1"});
  ASSERT_EQ(cluster_.Cli({"template", "create", "tick", "--hosts", "sc-1", "--command", "true"})
                .exit_code,
            0);
  auto created = Json({"schedule", "create", "minutely", "--template", "tick", "--cron",
                       "* * * * *", "--timezone", "Europe/Berlin"});
  ASSERT_EQ(created["name"], "minutely");
  EXPECT_EQ(created["timezone"], "Europe/Berlin");
  ASSERT_EQ(created["upcoming"].size(), 5u);
  EXPECT_EQ(Json({"template", "show", "tick"})["schedules"], nlohmann::json::array({"minutely"}));

  // Its first job, within a minute and a bit of real time.
  ASSERT_TRUE(WaitFor([&] { return ScheduleJobs("minutely").size() >= 1; },
                      std::chrono::seconds(90)));
  // kill -9, start again: the schedule and its count are in the store; the next minute's job
  // comes once.
  cluster_.StopCoordinator(SIGKILL);
  cluster_.StartCoordinator();
  ASSERT_TRUE(WaitFor([&] { return ScheduleJobs("minutely").size() >= 2; },
                      std::chrono::seconds(90)));
  ASSERT_EQ(cluster_.Cli({"schedule", "pause", "minutely"}).exit_code, 0);
  auto shown = Json({"schedule", "show", "minutely"});
  EXPECT_EQ(shown["paused"], true);
  EXPECT_EQ(shown["upcoming"], nlohmann::json::array());

  auto jobs = ScheduleJobs("minutely");
  EXPECT_EQ(shown["jobs_created"].get<size_t>(), jobs.size());
  std::set<int64_t> minutes;
  for (const auto& job : jobs) {
    EXPECT_EQ(job["schedule"], "minutely");
    EXPECT_EQ(job["template"], "tick");
    EXPECT_EQ(job["name"], "tick");
    minutes.insert(job["created_us"].get<int64_t>() / 60'000'000);
  }
  EXPECT_EQ(minutes.size(), jobs.size()) << jobs;  // never two jobs for one minute
  for (const auto& job : jobs) {
    EXPECT_TRUE(WaitForJobStatus(job["id"].get<uint64_t>(), "Completed"));
  }

  // Bad schedules are refused with the reason and change nothing.
  auto bad = cluster_.Cli({"schedule", "create", "bad", "--template", "tick", "--cron", "61 * * * *"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("minute field"), std::string::npos) << bad.err;
  auto zone = cluster_.Cli({"schedule", "create", "bad", "--template", "tick", "--cron", "@daily",
                            "--timezone", "Mars/Olympus"});
  EXPECT_EQ(zone.exit_code, 1);
  EXPECT_NE(zone.err.find("unknown time zone"), std::string::npos) << zone.err;
  EXPECT_EQ(cluster_.Cli({"schedule", "create", "x"}).exit_code, 2);  // --template, --cron
  EXPECT_EQ(cluster_.Cli({"template", "delete", "tick"}).exit_code, 1);  // in use
  EXPECT_EQ(Json({"schedule", "list"}).size(), 1u);

  ASSERT_EQ(cluster_.Cli({"schedule", "delete", "minutely"}).exit_code, 0);
  EXPECT_EQ(Json({"schedule", "list"}).size(), 0u);
  EXPECT_EQ(ScheduleJobs("minutely").size(), jobs.size());  // its jobs stay
}

// The page: a finished job saved as a template from its page, a schedule made from it on the
// Schedules view, paused there, a bad cron refused with the reason, and a job made from the
// template in the job form, waiting for another (tests/e2e/schedule_page.py, real Chromium).
TEST_F(ScheduleE2e, ThePageSavesTemplatesAndSchedulesThem) {
  LABMESH_SKIP_WITHOUT_BROWSER();
  StartCluster({"sc-1"});
  uint64_t id = Create({"--name", "page-job", "--hosts", "sc-1", "--command", "echo page"});
  ASSERT_TRUE(WaitForJobStatus(id, "Completed"));
  std::string url = "http://" + cluster_.http_endpoint() + "/";
  auto page = RunCommand({"/usr/bin/python3", LABMESH_SCHEDULE_PAGE_PY, url, "--login", "admin",
                          cluster_.AdminToken(), "--job", std::to_string(id), "--screenshots",
                          LABMESH_SCREENSHOT_DIR},
                         std::chrono::seconds(120));
  EXPECT_EQ(page.exit_code, 0) << page.out << page.err;
  EXPECT_EQ(Json({"schedule", "show", "nightly-page"})["paused"], true);
}

}  // namespace
}  // namespace labmesh::testing
