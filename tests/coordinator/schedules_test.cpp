// Templates and schedules on the coordinator's core (ScheduleService with the real JobService,
// a real store and a fake clock): a template saved from flags or from a job, used by a schedule
// whose due time makes exactly one job (carrying the schedule's and template's names) in the
// same commit as the schedule's next time; a time missed while "down" runs once; pause, resume
// and delete; a failed commit makes the job again at the next turn, not twice; and who may
// change what.

#include <gtest/gtest.h>

#include "jobs_fixture.hpp"
#include "schedule_service.hpp"

namespace labmesh::coordinator::testing {
namespace {

constexpr int64_t kMinuteMs = 60'000;

class Schedules : public Jobs {
 protected:
  void SetUp() override {
    Jobs::SetUp();
    // The FakeClock starts at 2023-11-14T22:13:20Z: 20 s into a minute.
    StartSchedules();
  }

  void StartSchedules() {
    schedules_ = std::make_unique<ScheduleService>(&clock_, store_.get(), &jobs_->batch(),
                                                   &jobs_->jobs());
    ASSERT_TRUE(schedules_->Load().ok());
  }

  // A request as `who` (admin or not), answered after the turn's commit like the coordinator's.
  template <typename Reply, typename Request>
  Result<Reply> Ask(const Request& request, const std::string& user = "alice",
                    bool admin = true) {
    api_sent_.clear();
    auto envelope = protocol::DecodeEnvelope(protocol::Encode(request, 7));
    EXPECT_TRUE(envelope.ok());
    schedules_->HandleApi("api", *envelope, Principal{user, admin, ""},
                          [&](std::string frame) { api_sent_.push_back({"api", std::move(frame)}); });
    Flush();
    EXPECT_EQ(api_sent_.size(), 1u);
    if (api_sent_.empty()) return Status::Internal("no reply");
    return protocol::DecodeAs<Reply>(api_sent_.back().frame);
  }

  // The loop turn's schedule step and commit.
  void Turn() {
    schedules_->Step();
    Flush();
  }

  void SaveTemplate(const std::string& name, const std::string& command = "make check") {
    protocol::TemplateSaveRequest save;
    save.name = name;
    save.job.name = "nightly";
    save.job.command = command;
    save.job.hosts = {"lab-1"};
    auto reply = Ask<protocol::OkReply>(save);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  }

  protocol::ScheduleShowReply CreateSchedule(const std::string& name, const std::string& cron,
                                             const std::string& zone = "") {
    auto reply = Ask<protocol::ScheduleShowReply>(
        protocol::ScheduleCreateRequest{name, "tmpl", cron, zone, ""});
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    return reply.ok() ? *reply : protocol::ScheduleShowReply{};
  }

  std::vector<protocol::JobInfo> JobsOf(const std::string& schedule) {
    protocol::JobListRequest list;
    list.schedule = schedule;
    auto reply = Call<protocol::JobListReply>(list);
    EXPECT_TRUE(reply.ok());
    return reply.ok() ? reply->jobs : std::vector<protocol::JobInfo>{};
  }

  protocol::ScheduleInfo ShowSchedule(const std::string& name) {
    auto reply = Ask<protocol::ScheduleShowReply>(protocol::ScheduleShowRequest{name});
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    return reply.ok() ? reply->schedule : protocol::ScheduleInfo{};
  }

  std::unique_ptr<ScheduleService> schedules_;
};

TEST_F(Schedules, ADueScheduleMakesOneJobFromItsTemplateCarryingBothNames) {
  Register("lab-1");
  SaveTemplate("tmpl");
  protocol::ScheduleShowReply made = CreateSchedule("every-minute", "* * * * *");
  EXPECT_EQ(made.schedule.timezone, "UTC");
  ASSERT_EQ(made.upcoming_us.size(), 5u);
  EXPECT_EQ(made.upcoming_us[0], made.schedule.next_run_us);
  EXPECT_EQ(made.upcoming_us[1] - made.upcoming_us[0], kMinuteMs * 1000);

  Turn();  // not due yet
  EXPECT_TRUE(JobsOf("every-minute").empty());
  clock_.AdvanceMs(40'000);  // the next whole minute
  Turn();
  auto jobs = JobsOf("every-minute");
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].name, "nightly");
  EXPECT_EQ(jobs[0].owner, "alice");
  EXPECT_EQ(jobs[0].schedule, "every-minute");
  EXPECT_EQ(jobs[0].template_name, "tmpl");
  EXPECT_EQ(Show(jobs[0].id).control, "make check");
  Turn();  // the same minute again: nothing more
  EXPECT_EQ(JobsOf("every-minute").size(), 1u);

  protocol::ScheduleInfo after = ShowSchedule("every-minute");
  EXPECT_EQ(after.jobs_created, 1u);
  EXPECT_EQ(after.last_job_id, jobs[0].id);
  EXPECT_EQ(after.last_error, "");
  EXPECT_EQ(after.next_run_us, made.schedule.next_run_us + kMinuteMs * 1000);
  // Committed with the job: the store has the same.
  EXPECT_EQ((*store_->GetSchedule("every-minute"))->last_job_id, jobs[0].id);
}

TEST_F(Schedules, TimesMissedWhileDownRunOnceAtTheStartAndTheNextComesFromThen) {
  Register("lab-1");
  SaveTemplate("tmpl");
  CreateSchedule("every-minute", "* * * * *");
  // The coordinator stops; three hours pass; it starts again.
  clock_.AdvanceMs(3 * 60 * kMinuteMs);
  StartJobs();
  StartSchedules();
  Turn();
  Turn();
  EXPECT_EQ(JobsOf("every-minute").size(), 1u);
  protocol::ScheduleInfo after = ShowSchedule("every-minute");
  EXPECT_GT(after.next_run_us, clock_.WallUs());
  EXPECT_LE(after.next_run_us, clock_.WallUs() + kMinuteMs * 1000);
}

TEST_F(Schedules, AFailedCommitLosesTheRunAndTheNextTurnMakesItOnce) {
  Register("lab-1");
  SaveTemplate("tmpl");
  CreateSchedule("every-minute", "* * * * *");
  clock_.AdvanceMs(kMinuteMs);
  store_->fail_applies = 1;
  Turn();
  EXPECT_TRUE(JobsOf("every-minute").empty());
  EXPECT_EQ(ShowSchedule("every-minute").jobs_created, 0u);  // reloaded from the store
  Turn();  // not at once, every turn (a full disk would make it spin): a few seconds later
  EXPECT_TRUE(JobsOf("every-minute").empty());
  clock_.AdvanceMs(5'000);
  Turn();
  EXPECT_EQ(JobsOf("every-minute").size(), 1u);
  EXPECT_EQ(ShowSchedule("every-minute").jobs_created, 1u);
}

TEST_F(Schedules, ARunThatCannotMakeItsJobSaysWhyAndMovesOn) {
  SaveTemplate("tmpl");  // its host lab-1 does not exist
  CreateSchedule("nightly", "* * * * *");
  clock_.AdvanceMs(kMinuteMs);
  Turn();
  protocol::ScheduleInfo after = ShowSchedule("nightly");
  EXPECT_EQ(after.jobs_created, 0u);
  EXPECT_NE(after.last_error.find("lab-1 does not exist"), std::string::npos) << after.last_error;
  EXPECT_GT(after.next_run_us, clock_.WallUs());
  EXPECT_TRUE(JobsOf("nightly").empty());
}

TEST_F(Schedules, PauseStopsIt_ResumeStartsFromNowWithoutMakingUp) {
  Register("lab-1");
  SaveTemplate("tmpl");
  CreateSchedule("s", "* * * * *");
  ASSERT_TRUE((Ask<protocol::OkReply>(protocol::ScheduleActionRequest{"s", "pause"})).ok());
  clock_.AdvanceMs(10 * kMinuteMs);
  Turn();
  EXPECT_TRUE(JobsOf("s").empty());
  EXPECT_TRUE(ShowSchedule("s").paused);
  ASSERT_TRUE((Ask<protocol::OkReply>(protocol::ScheduleActionRequest{"s", "resume"})).ok());
  Turn();
  EXPECT_TRUE(JobsOf("s").empty());  // the ten missed minutes are not made up
  clock_.AdvanceMs(kMinuteMs);
  Turn();
  EXPECT_EQ(JobsOf("s").size(), 1u);
  auto bad = Ask<protocol::OkReply>(protocol::ScheduleActionRequest{"s", "explode"});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE((Ask<protocol::OkReply>(protocol::ScheduleActionRequest{"s", "delete"})).ok());
  EXPECT_FALSE(store_->GetSchedule("s")->has_value());
  EXPECT_EQ(JobsOf("s").size(), 1u);  // its jobs stay
}

TEST_F(Schedules, BadSchedulesAreRefusedAndChangeNothing) {
  SaveTemplate("tmpl");
  struct Case {
    protocol::ScheduleCreateRequest request;
    StatusCode code;
  };
  for (const Case& c : {
           Case{{"s", "tmpl", "61 * * * *", "", ""}, StatusCode::kInvalidArgument},
           Case{{"s", "tmpl", "* * * * *", "Mars/Olympus", ""}, StatusCode::kInvalidArgument},
           Case{{"s", "missing", "* * * * *", "", ""}, StatusCode::kNotFound},
           Case{{"s", "tmpl", "0 0 30 2 *", "", ""}, StatusCode::kInvalidArgument},
           Case{{"bad name", "tmpl", "* * * * *", "", ""}, StatusCode::kInvalidArgument},
           Case{{"s", "tmpl", "* * * * *", "", std::string(2000, 'd')},
                StatusCode::kInvalidArgument},
       }) {
    auto reply = Ask<protocol::ScheduleShowReply>(c.request);
    ASSERT_FALSE(reply.ok()) << c.request.name << " " << c.request.cron;
    EXPECT_EQ(reply.status().code(), c.code) << reply.status().ToString();
  }
  EXPECT_TRUE(store_->ListSchedules()->empty());
  CreateSchedule("s", "@daily");
  auto twice = Ask<protocol::ScheduleShowReply>(
      protocol::ScheduleCreateRequest{"s", "tmpl", "* * * * *", "", ""});
  EXPECT_EQ(twice.status().code(), StatusCode::kAlreadyExists);
}

TEST_F(Schedules, TemplatesFromAJobKeepItsDefinitionAndOnlyTheirOwnerChangesThem) {
  Register("lab-1");
  protocol::JobCreateRequest job;
  job.name = "boot";
  job.command = "uname -r";
  job.hosts = {"lab-1"};
  job.priority = "high";
  job.timeout_ms = 60'000;
  job.retry = 2;
  auto id = Create(job);
  ASSERT_TRUE(id.ok());
  protocol::TemplateSaveRequest save;
  save.name = "boot";
  save.from_job = *id;
  save.description = "from a job";
  ASSERT_TRUE((Ask<protocol::OkReply>(save, "bob", false)).ok());
  auto shown = Ask<protocol::TemplateShowReply>(protocol::TemplateShowRequest{"boot"});
  ASSERT_TRUE(shown.ok());
  const protocol::JobCreateRequest& kept = shown->template_info.job;
  EXPECT_EQ(shown->template_info.owner, "bob");
  EXPECT_EQ(kept.name, "boot");
  EXPECT_EQ(kept.command, "uname -r");
  EXPECT_EQ(kept.hosts, std::vector<std::string>{"lab-1"});
  EXPECT_EQ(kept.priority, "high");
  EXPECT_EQ(kept.timeout_ms, 60'000);
  EXPECT_EQ(kept.retry, 2u);
  EXPECT_EQ(kept.user, "");

  // Saving again without replace, or replacing someone else's, is refused.
  EXPECT_EQ((Ask<protocol::OkReply>(save, "bob", false)).status().code(),
            StatusCode::kAlreadyExists);
  save.replace = true;
  EXPECT_EQ((Ask<protocol::OkReply>(save, "carol", false)).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE((Ask<protocol::OkReply>(save, "bob", false)).ok());
  EXPECT_EQ((Ask<protocol::OkReply>(protocol::TemplateDeleteRequest{"boot"}, "carol", false))
                .status()
                .code(),
            StatusCode::kPermissionDenied);

  // A template a schedule uses cannot go; once the schedule is gone it can.
  auto schedule = Ask<protocol::ScheduleShowReply>(
      protocol::ScheduleCreateRequest{"nightly", "boot", "@daily", "Europe/Berlin", ""}, "carol",
      false);
  ASSERT_TRUE(schedule.ok());
  EXPECT_EQ((Ask<protocol::OkReply>(protocol::ScheduleActionRequest{"nightly", "pause"}, "bob",
                                    false))
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  auto in_use = Ask<protocol::OkReply>(protocol::TemplateDeleteRequest{"boot"}, "bob", false);
  EXPECT_EQ(in_use.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(in_use.status().message().find("nightly"), std::string::npos);
  ASSERT_TRUE((Ask<protocol::OkReply>(protocol::ScheduleActionRequest{"nightly", "delete"},
                                      "carol", false))
                  .ok());
  EXPECT_TRUE((Ask<protocol::OkReply>(protocol::TemplateDeleteRequest{"boot"}, "bob", false)).ok());
  EXPECT_TRUE(store_->ListTemplates()->empty());
}

TEST_F(Schedules, TemplatesAreCheckedAsJobsAreAndCannotWaitForJobs) {
  protocol::TemplateSaveRequest save;
  save.name = "t";
  save.job.name = "x";
  save.job.hosts = {"lab-1"};  // no command, control or test
  EXPECT_EQ((Ask<protocol::OkReply>(save)).status().code(), StatusCode::kInvalidArgument);
  save.job.command = "true";
  save.job.after = {1};
  auto waits = Ask<protocol::OkReply>(save);
  EXPECT_EQ(waits.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(waits.status().message().find("--after"), std::string::npos);
  save.job.after.clear();
  save.name = "../x";
  EXPECT_EQ((Ask<protocol::OkReply>(save)).status().code(), StatusCode::kInvalidArgument);
  save.name = "t";
  save.from_job = 999;
  EXPECT_EQ((Ask<protocol::OkReply>(save)).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->ListTemplates()->empty());
}

TEST_F(Schedules, AJobNamingATemplateThatDoesNotExistIsRefused) {
  Register("lab-1");
  protocol::JobCreateRequest job;
  job.hosts = {"lab-1"};
  job.template_name = "nope";
  auto id = Create(job);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kNotFound);
  SaveTemplate("tmpl");
  job.template_name = "tmpl";
  id = Create(job);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(Show(*id).template_name, "tmpl");
}

}  // namespace
}  // namespace labmesh::coordinator::testing
