// The usage rules of `labmesh job create` (CLI.md) and the texts `job list/show/wait` print,
// without a coordinator.

#include "labmesh/cli/job_logic.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace labmesh::cli {
namespace {

// A reader that must not be called (the arguments are refused before the file is read).
Result<std::string> NoRead(const std::string& path) {
  ADD_FAILURE() << "control file read: " << path;
  return Status::Internal("unexpected read");
}

JobCreateArgs Valid() {
  JobCreateArgs args;
  args.name = "boot";
  args.command = "true";
  args.hosts = {"lab-1"};
  args.user = "alice";
  return args;
}

void ExpectUsageError(const JobCreateArgs& args, const std::string& mentions) {
  auto request = BuildJobCreateRequest(args, NoRead);
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(request.status().message().find(mentions), std::string::npos)
      << request.status().message();
}

TEST(BuildJobCreateRequest, CopiesEveryArgumentIntoTheRequest) {
  JobCreateArgs args = Valid();
  args.hosts = {"lab-1", "lab-2"};
  args.label = "gpu";
  args.count = 2;
  args.depends = {"usb-hub", "arch:x86_64"};
  args.synch_count = 3;
  args.priority = "URGENT";
  args.run_verify = true;
  args.timeout = "2h";
  args.max_runtime = "90s";
  auto request = BuildJobCreateRequest(args, NoRead);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->name, "boot");
  EXPECT_EQ(request->user, "alice");
  EXPECT_EQ(request->command, "true");
  EXPECT_EQ(request->control, "");
  EXPECT_EQ(request->test, "");
  EXPECT_EQ(request->hosts, (std::vector<std::string>{"lab-1", "lab-2"}));
  EXPECT_EQ(request->meta_label, "gpu");
  EXPECT_EQ(request->meta_count, 2u);
  EXPECT_EQ(request->depends, (std::vector<std::string>{"usb-hub", "arch:x86_64"}));
  EXPECT_EQ(request->synch_count, 3u);
  EXPECT_EQ(request->priority, "urgent");  // canonical spelling on the wire
  EXPECT_TRUE(request->run_verify);
  EXPECT_EQ(request->timeout_ms, 2 * 3600 * 1000);
  EXPECT_EQ(request->max_runtime_ms, 90'000);
}

TEST(BuildJobCreateRequest, DefaultsAreMediumPriorityNoLimits) {
  auto request = BuildJobCreateRequest(Valid(), NoRead);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->priority, "medium");
  EXPECT_EQ(request->synch_count, 1u);
  EXPECT_EQ(request->timeout_ms, 0);
  EXPECT_EQ(request->max_runtime_ms, 0);
  EXPECT_EQ(request->meta_count, 0u);
  EXPECT_FALSE(request->run_verify);
  EXPECT_EQ(request->cleanup, "on-failure");
  EXPECT_EQ(request->retry, 0u);
}

TEST(BuildJobCreateRequest, CleanupPolicyIsSentCanonicalAndRetryAsGiven) {
  for (const auto& [typed, sent] : std::vector<std::pair<std::string, std::string>>{
           {"never", "never"}, {"ALWAYS", "always"}, {"On-Failure", "on-failure"}}) {
    JobCreateArgs args = Valid();
    args.cleanup = typed;
    args.retry = 4;
    auto request = BuildJobCreateRequest(args, NoRead);
    ASSERT_TRUE(request.ok()) << typed << ": " << request.status().ToString();
    EXPECT_EQ(request->cleanup, sent);
    EXPECT_EQ(request->retry, 4u);
  }
}

TEST(BuildJobCreateRequest, UnknownCleanupPolicyIsAUsageErrorListingThePolicies) {
  for (const char* bad : {"", "sometimes", "on_failure ", "onfailure"}) {
    JobCreateArgs args = Valid();
    args.cleanup = bad;
    ExpectUsageError(args, "(never, always, on-failure)");
  }
}

TEST(AnyEntryRetried, OnlyWhenAnEntryWasQueuedAgain) {
  protocol::JobInfo job;
  job.entries.resize(2);
  EXPECT_FALSE(AnyEntryRetried(job));
  job.entries[1].retries = 1;
  EXPECT_TRUE(AnyEntryRetried(job));
}

TEST(BuildJobCreateRequest, ControlFileTextIsSentAsRead) {
  JobCreateArgs args = Valid();
  args.command.clear();
  args.control_file = "/tmp/boot.sh";
  std::string asked;
  auto request = BuildJobCreateRequest(args, [&](const std::string& path) -> Result<std::string> {
    asked = path;
    return std::string("#!/bin/sh\nexit 0\n");
  });
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(asked, "/tmp/boot.sh");
  EXPECT_EQ(request->control, "#!/bin/sh\nexit 0\n");
  EXPECT_EQ(request->command, "");
}

TEST(BuildJobCreateRequest, UnreadableControlFileIsAUsageErrorNamingIt) {
  JobCreateArgs args = Valid();
  args.command.clear();
  args.control_file = "/nope.sh";
  auto request = BuildJobCreateRequest(args, [](const std::string& path) -> Result<std::string> {
    return Status::InvalidArgument("control file " + path + " does not exist");
  });
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(request.status().message().find("/nope.sh"), std::string::npos);
}

TEST(BuildJobCreateRequest, ExactlyOneOfControlCommandTest) {
  JobCreateArgs none = Valid();
  none.command.clear();
  ExpectUsageError(none, "exactly one");
  JobCreateArgs two = Valid();
  two.test = "kernel.boot";
  ExpectUsageError(two, "exactly one");
  JobCreateArgs three = two;
  three.control_file = "x.sh";
  ExpectUsageError(three, "exactly one");
  JobCreateArgs test_only = Valid();
  test_only.command.clear();
  test_only.test = "kernel.boot";
  auto request = BuildJobCreateRequest(test_only, NoRead);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->test, "kernel.boot");
}

TEST(BuildJobCreateRequest, LabelAndCountGoTogether) {
  JobCreateArgs label_only = Valid();
  label_only.label = "gpu";
  ExpectUsageError(label_only, "--label and --count");
  JobCreateArgs count_only = Valid();
  count_only.count = 2;
  ExpectUsageError(count_only, "--label and --count");
  JobCreateArgs zero = Valid();
  zero.label = "gpu";
  zero.count = 0;
  ExpectUsageError(zero, "--count");
  JobCreateArgs label_without_hosts = Valid();
  label_without_hosts.hosts.clear();
  label_without_hosts.label = "gpu";
  label_without_hosts.count = 1;
  EXPECT_TRUE(BuildJobCreateRequest(label_without_hosts, NoRead).ok());
}

TEST(BuildJobCreateRequest, NeedsHostsOrALabel) {
  JobCreateArgs args = Valid();
  args.hosts.clear();
  ExpectUsageError(args, "--hosts");
}

TEST(BuildJobCreateRequest, RefusesEmptyNamesAndBadValues) {
  JobCreateArgs no_name = Valid();
  no_name.name.clear();
  ExpectUsageError(no_name, "--name");
  JobCreateArgs empty_host = Valid();
  empty_host.hosts = {"lab-1", ""};
  ExpectUsageError(empty_host, "--hosts");
  JobCreateArgs empty_depends = Valid();
  empty_depends.depends = {""};
  ExpectUsageError(empty_depends, "--depends");
  JobCreateArgs synch = Valid();
  synch.synch_count = 0;
  ExpectUsageError(synch, "--synch-count");
  JobCreateArgs priority = Valid();
  priority.priority = "critical";
  ExpectUsageError(priority, "critical");
  JobCreateArgs timeout = Valid();
  timeout.timeout = "soon";
  ExpectUsageError(timeout, "--timeout");
  JobCreateArgs runtime = Valid();
  runtime.max_runtime = "10 parsecs";
  ExpectUsageError(runtime, "--max-runtime");
  JobCreateArgs zero_timeout = Valid();
  zero_timeout.timeout = "0s";
  ExpectUsageError(zero_timeout, "--timeout");
}

TEST(BuildJobCreateRequest, EveryPriorityNameIsAccepted) {
  for (const char* name : {"low", "medium", "high", "urgent", "Low", "HIGH"}) {
    JobCreateArgs args = Valid();
    args.priority = name;
    auto request = BuildJobCreateRequest(args, NoRead);
    ASSERT_TRUE(request.ok()) << name;
  }
}

protocol::EntryInfo Entry(const std::string& host, const std::string& status) {
  protocol::EntryInfo e;
  e.host = host;
  e.status = status;
  return e;
}

protocol::JobInfo Job(uint64_t id, std::vector<std::string> statuses,
                      const std::string& job_status = "Running") {
  protocol::JobInfo job;
  job.id = id;
  job.status = job_status;
  int i = 0;
  for (const auto& s : statuses) job.entries.push_back(Entry("lab-" + std::to_string(++i), s));
  return job;
}

TEST(FormatProgress, CountsDoneRunningAndQueued) {
  auto job = Job(
      12, {"Completed", "Completed", "Failed", "Running", "Queued", "Queued", "Queued", "Queued"});
  EXPECT_EQ(FormatProgress(job), "job 12: 3 done (2 completed, 1 failed), 1 running, 4 queued");
}

TEST(FormatProgress, StartedButNotFinalStatesCountAsRunning) {
  auto job = Job(3, {"Starting", "Verifying", "Pending", "Gathering", "Parsing", "Running"});
  EXPECT_EQ(FormatProgress(job), "job 3: 0 done (0 completed, 0 failed), 6 running, 0 queued");
}

TEST(FormatProgress, NamesAbortedAndStoppedOnlyWhenPresent) {
  auto job = Job(4, {"Aborted", "Stopped", "Completed", "Queued"});
  EXPECT_EQ(FormatProgress(job),
            "job 4: 3 done (1 completed, 0 failed, 1 aborted, 1 stopped), 0 running, 1 queued");
}

TEST(FormatWaitResult, SaysTheJobStatusAndTheOutcomes) {
  auto job = Job(12, {"Completed", "Completed", "Failed"}, "Failed");
  EXPECT_EQ(FormatWaitResult(job), "job 12 Failed: 3 done (2 completed, 1 failed)");
}

TEST(JobFinished, OnlyWhenEveryEntryIsFinal) {
  EXPECT_FALSE(IsJobFinished(Job(1, {"Completed", "Running"})));
  EXPECT_FALSE(IsJobFinished(Job(1, {"Queued"})));
  EXPECT_TRUE(IsJobFinished(Job(1, {"Completed", "Failed", "Aborted", "Stopped"})));
  // An entry status this client does not know is not final.
  EXPECT_FALSE(IsJobFinished(Job(1, {"Completed", "Hibernating"})));
  // Without entries, the job's own status decides.
  EXPECT_FALSE(IsJobFinished(Job(1, {}, "Queued")));
  EXPECT_TRUE(IsJobFinished(Job(1, {}, "Aborted")));
}

TEST(JobSucceeded, OnlyWhenEveryEntryCompleted) {
  EXPECT_TRUE(JobSucceeded(Job(1, {"Completed", "Completed"})));
  EXPECT_FALSE(JobSucceeded(Job(1, {"Completed", "Failed"})));
  EXPECT_FALSE(JobSucceeded(Job(1, {"Completed", "Aborted"})));
  EXPECT_FALSE(JobSucceeded(Job(1, {"Completed", "Stopped"})));
  EXPECT_TRUE(JobSucceeded(Job(1, {}, "Completed")));
  EXPECT_FALSE(JobSucceeded(Job(1, {}, "Aborted")));
}

TEST(FormatEntriesColumn, DoneOutOfAll) {
  EXPECT_EQ(FormatEntriesColumn(Job(1, {"Completed", "Failed", "Running"})), "2/3 done");
  EXPECT_EQ(FormatEntriesColumn(Job(1, {})), "0/0 done");
}

TEST(FormatEntryReason, PrefixesTheFault) {
  auto e = Entry("lab-1", "Failed");
  e.fault = "test";
  e.reason = "exit status 3";
  EXPECT_EQ(FormatEntryReason(e), "test: exit status 3");
  e.fault = "infrastructure";
  e.reason = "host lost";
  EXPECT_EQ(FormatEntryReason(e), "infrastructure: host lost");
  e.fault = "";
  e.reason = "aborted by alice";
  EXPECT_EQ(FormatEntryReason(e), "aborted by alice");
  e.reason = "";
  EXPECT_EQ(FormatEntryReason(e), "");
}

TEST(ParseJobStatusFilter, AcceptsTheJobStatusesInAnyCase) {
  EXPECT_EQ(*ParseJobStatusFilter("running"), "Running");
  EXPECT_EQ(*ParseJobStatusFilter("COMPLETED"), "Completed");
  EXPECT_EQ(*ParseJobStatusFilter("Aborted"), "Aborted");
  EXPECT_FALSE(ParseJobStatusFilter("Gathering").ok());  // an entry status, not a job's
  EXPECT_FALSE(ParseJobStatusFilter("done").ok());
}


TEST(ParseKeepResults, ForeverADurationOrNothing) {
  EXPECT_EQ(*ParseKeepResults(""), 0);
  EXPECT_EQ(*ParseKeepResults("forever"), -1);
  EXPECT_EQ(*ParseKeepResults("30d"), 30 * 86'400'000LL);
  EXPECT_EQ(*ParseKeepResults("12h"), 12 * 3'600'000LL);
  for (const char* bad : {"0", "0d", "Forever", "never", "-1", "30x"}) {
    auto parsed = ParseKeepResults(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.status().message().find("--keep-results"), std::string::npos);
  }
  JobCreateArgs args = Valid();
  args.keep_results = "forever";
  auto request = BuildJobCreateRequest(args, NoRead);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->keep_results_ms, -1);
  args.keep_results = "soon";
  ExpectUsageError(args, "--keep-results");
}

TEST(FormatJobDelete, SaysWhatWentOrThatItWasGoneAlready) {
  protocol::JobDeleteReply reply{12, false, 3, 41, 12'582'912, 130, "deleted by alice"};
  EXPECT_EQ(FormatJobDelete(reply),
            "job 12: results removed (deleted by alice): 3 directories, 41 files, 12.0 MiB, 130 "
            "indexed results");
  reply = {7, false, 1, 1, 10, 0, "deleted by bob"};
  EXPECT_EQ(FormatJobDelete(reply),
            "job 7: results removed (deleted by bob): 1 directory, 1 file, 10 B, 0 indexed "
            "results");
  reply = {7, true, 0, 0, 0, 0, "retention 90d"};
  EXPECT_EQ(FormatJobDelete(reply), "job 7: results were already removed (retention 90d)");
}

TEST(FormatResultsState, SizeAndKeepOrWhenAndWhyRemoved) {
  protocol::JobInfo job;
  job.result_bytes = 2048;
  EXPECT_EQ(FormatResultsState(job), "2.0 KiB");
  job.keep_results_ms = -1;
  EXPECT_EQ(FormatResultsState(job), "2.0 KiB, kept forever");
  job.results = "removed";
  job.results_removed_us = 1'764'400'000'000'000LL;
  job.results_removed_reason = "deleted by alice";
  EXPECT_EQ(FormatResultsState(job), "removed 2025-11-29T07:06:40.000Z (deleted by alice)");
}

}  // namespace
}  // namespace labmesh::cli

namespace labmesh::cli {
namespace {

TEST(BuildJobCreateRequest, NotifyTargetsAndWhenAreSent) {
  JobCreateArgs args = Valid();
  args.notify = {"email:alice@example.org", "webhook:http://127.0.0.1:9000/hook"};
  args.notify_on = "Failure";
  auto request = BuildJobCreateRequest(args, NoRead);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->notify, args.notify);
  EXPECT_EQ(request->notify_on, "failure");
  // Not given: the owner's defaults, decided by the coordinator.
  auto plain = BuildJobCreateRequest(Valid(), NoRead);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->notify.empty());
  EXPECT_EQ(plain->notify_on, "");
}

TEST(BuildJobCreateRequest, BadNotifyFlagsAreUsageErrors) {
  JobCreateArgs args = Valid();
  args.notify = {"alice@example.org"};
  ExpectUsageError(args, "want email:ADDRESS or webhook:URL");
  args = Valid();
  args.notify = {"email:"};
  ExpectUsageError(args, "want email:ADDRESS or webhook:URL");
  args = Valid();
  args.notify_on = "success";
  ExpectUsageError(args, "want always or failure");
}

TEST(FormatNotification, SaysStateAttemptsAndError) {
  protocol::NotificationInfo n;
  n.target = "webhook:http://h/x";
  n.state = "delivered";
  n.attempts = 1;
  n.delivered_us = 1'764'000'000'000'000;
  EXPECT_EQ(FormatNotification(n),
            "webhook:http://h/x  delivered 2025-11-24T16:00:00.000Z (1 attempt)");
  n.state = "pending";
  n.attempts = 2;
  n.last_error = "Couldn't connect to server";
  EXPECT_EQ(FormatNotification(n),
            "webhook:http://h/x  pending (2 attempts; last error: Couldn't connect to server)");
  n.state = "failed";
  n.last_error = "gave up after 2 attempts in 3.0s: HTTP 503";
  EXPECT_EQ(FormatNotification(n),
            "webhook:http://h/x  failed (2 attempts): gave up after 2 attempts in 3.0s: HTTP 503");
}

}  // namespace
}  // namespace labmesh::cli

namespace labmesh::cli {
namespace {

TEST(BuildJobCreateRequest, AfterIdsAndAnyAreSent) {
  JobCreateArgs args = Valid();
  args.after = {4, 2};
  args.after_any = true;
  auto request = BuildJobCreateRequest(args, NoRead);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->after, (std::vector<uint64_t>{4, 2}));
  EXPECT_TRUE(request->after_any);
  args = Valid();
  args.after_any = true;
  ExpectUsageError(args, "--after-any needs --after");
  args = Valid();
  args.after = {0};
  ExpectUsageError(args, "job ids start at 1");
}

TEST(ParseJobStatusFilter, KnowsWaiting) {
  EXPECT_EQ(*ParseJobStatusFilter("waiting"), "Waiting");
}

}  // namespace
}  // namespace labmesh::cli

namespace labmesh::cli {
namespace {

TEST(ParseReservationDuration, PositiveAndAtMostSevenDays) {
  EXPECT_EQ(ParseReservationDuration("--for", "4h").value(), 4 * 3'600'000);
  EXPECT_EQ(ParseReservationDuration("--for", "2d").value(), 2 * 86'400'000);
  EXPECT_EQ(ParseReservationDuration("--for", "7d").value(), 7 * 86'400'000LL);
  auto too_long = ParseReservationDuration("--for", "8d");
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.status().message(),
            "--for 8d is longer than a reservation may last (at most 7d)");
  EXPECT_FALSE(ParseReservationDuration("--for", "0s").ok());
  EXPECT_FALSE(ParseReservationDuration("--for", "soon").ok());
  EXPECT_FALSE(ParseReservationDuration("--for", "").ok());
}

TEST(BuildJobCreateRequest, ReserveOnFailureIsSentInMs) {
  JobCreateArgs args = Valid();
  auto plain = BuildJobCreateRequest(args, NoRead);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->reserve_on_failure_ms, 0);
  args.reserve_on_failure = "2h";
  auto request = BuildJobCreateRequest(args, NoRead);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->reserve_on_failure_ms, 7'200'000);
  args.reserve_on_failure = "8d";
  ExpectUsageError(args, "--reserve-on-failure 8d is longer than a reservation may last");
}

TEST(FormatNotification, NamesTheHostOfAHostReservedNotification) {
  protocol::NotificationInfo n;
  n.target = "webhook:http://h/x";
  n.state = "pending";
  n.event = "host.reserved";
  n.host = "lab-3";
  EXPECT_EQ(FormatNotification(n),
            "webhook:http://h/x  (host lab-3 reserved) pending (0 attempts)");
}

}  // namespace
}  // namespace labmesh::cli
