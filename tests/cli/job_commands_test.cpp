// `labmesh job ...` as a script sees it: the request each command sends, what it prints (table,
// --json, the wait result line, log bytes) and its exit code, against a canned-reply stand-in
// for the coordinator's API socket on inproc. The real coordinator is exercised in tests/e2e.

#include "labmesh/cli/job_commands.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_run.hpp"
#include "fake_coordinator.hpp"
#include "labmesh/protocol/json.hpp"

namespace labmesh::cli {
namespace {

using testing::CliRun;
using webui::testing::FakeCoordinator;
using webui::testing::SampleJob;

constexpr char kEndpoint[] = "inproc://cli-job-test";

protocol::JobInfo JobWith(uint64_t id, const std::string& status,
                          const std::vector<std::string>& entry_statuses) {
  protocol::JobInfo job = SampleJob(id);
  job.status = status;
  job.entries.clear();
  int i = 0;
  for (const auto& s : entry_statuses) {
    protocol::EntryInfo e;
    e.id = id * 10 + static_cast<uint64_t>(i);
    e.job_id = id;
    e.host = "lab-" + std::to_string(++i);
    e.status = s;
    job.entries.push_back(e);
  }
  return job;
}

class JobCommandsTest : public ::testing::Test {
 protected:
  // Parses `args` as `labmesh ARGS` (with the global --user and --json) and runs the chosen
  // job command against the fake coordinator.
  CliRun Run(std::vector<std::string> args, const std::string& endpoint = kEndpoint,
             int64_t timeout_ms = 2000) {
    CLI::App app{"labmesh"};
    Globals g;
    Action action;
    app.add_option("--user", g.user);
    app.add_flag("--json", g.json);
    JobCommands jobs(app, g, action);
    return testing::ParseAndRun(app, action, std::move(args), context_, endpoint, timeout_ms);
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    std::string path = (std::filesystem::temp_directory_path() /
                        ("labmesh-cli-test-" + std::to_string(::getpid()) + "-" + name))
                           .string();
    std::ofstream(path, std::ios::binary) << text;
    files_.push_back(path);
    return path;
  }

  void TearDown() override {
    for (const auto& path : files_) std::filesystem::remove(path);
  }

  zmq::context_t context_;
  FakeCoordinator coordinator_{context_, kEndpoint};
  std::vector<std::string> files_;
};

TEST_F(JobCommandsTest, CreateSendsEveryFlagAndPrintsTheId) {
  coordinator_.Reply<protocol::JobCreateRequest>(protocol::JobCreateReply{12});
  CliRun run = Run({"--user",
                    "bob",
                    "job",
                    "create",
                    "--name",
                    "boot",
                    "--command",
                    "make check",
                    "--hosts",
                    "lab-1,lab-2",
                    "--label",
                    "gpu",
                    "--count",
                    "2",
                    "--depends",
                    "usb-hub,arch:x86_64",
                    "--synch-count",
                    "2",
                    "--priority",
                    "High",
                    "--run-verify",
                    "--timeout",
                    "1h",
                    "--max-runtime",
                    "10m"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "12\n");
  auto request = coordinator_.LastRequest<protocol::JobCreateRequest>();
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->name, "boot");
  EXPECT_EQ(request->user, "bob");
  EXPECT_EQ(request->command, "make check");
  EXPECT_EQ(request->hosts, (std::vector<std::string>{"lab-1", "lab-2"}));
  EXPECT_EQ(request->meta_label, "gpu");
  EXPECT_EQ(request->meta_count, 2u);
  EXPECT_EQ(request->depends, (std::vector<std::string>{"usb-hub", "arch:x86_64"}));
  EXPECT_EQ(request->synch_count, 2u);
  EXPECT_EQ(request->priority, "high");
  EXPECT_TRUE(request->run_verify);
  EXPECT_EQ(request->timeout_ms, 3'600'000);
  EXPECT_EQ(request->max_runtime_ms, 600'000);
}

TEST_F(JobCommandsTest, CreateSendsCleanupPolicyAndRetry) {
  coordinator_.Reply<protocol::JobCreateRequest>(protocol::JobCreateReply{5});
  CliRun run = Run({"job", "create", "--name", "x", "--command", "c", "--hosts", "lab-1",
                    "--cleanup", "Always", "--retry", "2"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto request = coordinator_.LastRequest<protocol::JobCreateRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->cleanup, "always");  // canonical spelling on the wire
  EXPECT_EQ(request->retry, 2u);
}

TEST_F(JobCommandsTest, CreateWithoutCleanupOrRetrySendsOnFailureAndZero) {
  coordinator_.Reply<protocol::JobCreateRequest>(protocol::JobCreateReply{5});
  CliRun run = Run({"job", "create", "--name", "x", "--command", "c", "--hosts", "lab-1"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto request = coordinator_.LastRequest<protocol::JobCreateRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->cleanup, "on-failure");
  EXPECT_EQ(request->retry, 0u);
}

TEST_F(JobCommandsTest, CreateRefusesAnUnknownCleanupPolicyNamingTheValidOnes) {
  CliRun run = Run({"job", "create", "--name", "x", "--command", "c", "--hosts", "lab-1",
                    "--cleanup", "sometimes"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err,
            "labmesh: job create: unknown cleanup policy 'sometimes' (never, always, on-failure)\n");
  EXPECT_TRUE(coordinator_.Requests().empty());
}

TEST_F(JobCommandsTest, CreateWithJsonPrintsAnIdObject) {
  coordinator_.Reply<protocol::JobCreateRequest>(protocol::JobCreateReply{7});
  CliRun run =
      Run({"--json", "job", "create", "--name", "x", "--test", "kernel.boot", "--hosts", "lab-1"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out), nlohmann::json({{"id", 7}}));
}

TEST_F(JobCommandsTest, CreateSendsTheControlFileByteForByte) {
  coordinator_.Reply<protocol::JobCreateRequest>(protocol::JobCreateReply{3});
  const std::string control = "#!/bin/sh\necho \"h\u00e9llo\"\t'x'\nexit 0";
  CliRun run = Run({"job", "create", "--name", "x", "--control", WriteFile("c.sh", control),
                    "--label", "gpu", "--count", "1"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto request = coordinator_.LastRequest<protocol::JobCreateRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->control, control);
  EXPECT_EQ(request->command, "");
  EXPECT_TRUE(request->hosts.empty());
}

TEST_F(JobCommandsTest, CreateUsageErrorsExitTwoAndSendNothing) {
  const std::vector<std::vector<std::string>> cases = {
      {"job", "create", "--name", "x", "--hosts", "a"},
      {"job", "create", "--name", "x", "--command", "c", "--test", "t", "--hosts", "a"},
      {"job", "create", "--name", "x", "--command", "c", "--hosts", "a", "--label", "gpu"},
      {"job", "create", "--name", "x", "--command", "c", "--hosts", "a", "--count", "2"},
      {"job", "create", "--name", "x", "--command", "c"},
      {"job", "create", "--command", "c", "--hosts", "a"},
      {"job", "create", "--name", "x", "--control", "/no/such/file.sh", "--hosts", "a"},
      {"job", "create", "--name", "x", "--control",
       WriteFile("big.sh", std::string((1 << 20) + 1, '#')), "--hosts", "a"},
      {"job", "create", "--name", "x", "--command", "c", "--hosts", "a", "--priority", "asap"},
      {"job", "create", "--name", "x", "--command", "c", "--hosts", "a", "--max-runtime", "x"},
      {"job", "create", "--name", "x", "--command", "c", "--hosts", "a", "--count", "-1", "--label",
       "gpu"},
      {"job", "create", "--name", "x", "--command", "c", "--hosts", "a", "--cleanup", "no"},
      {"job", "create", "--name", "x", "--command", "c", "--hosts", "a", "--cleanup", ""},
      {"job", "create", "--name", "x", "--command", "c", "--hosts", "a", "--retry", "-1"},
      {"job", "create", "--name", "x", "--command", "c", "--hosts", "a", "--retry", "two"},
      {"job", "create", "--name", "x", "--command", "c", "--hosts", "a", "--retry",
       "99999999999"},
  };
  for (const auto& args : cases) {
    CliRun run = Run(args);
    EXPECT_EQ(run.exit_code, 2) << ::testing::PrintToString(args) << "\n" << run.err;
    EXPECT_FALSE(run.err.empty()) << ::testing::PrintToString(args);
  }
  EXPECT_TRUE(coordinator_.Requests().empty());
}

TEST_F(JobCommandsTest, UnreadableControlFileMessageNamesTheFile) {
  CliRun run =
      Run({"job", "create", "--name", "x", "--control", "/no/such/file.sh", "--hosts", "a"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("/no/such/file.sh"), std::string::npos) << run.err;
}

TEST_F(JobCommandsTest, CoordinatorErrorIsExitOneWithItsMessage) {
  coordinator_.Fail<protocol::JobShowRequest>(Status::NotFound("no job 99"));
  CliRun run = Run({"job", "show", "99"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "labmesh: no job 99\n");
  EXPECT_EQ(run.out, "");
  coordinator_.Fail<protocol::JobCreateRequest>(Status::InvalidArgument("no host named lab-9"));
  run = Run({"job", "create", "--name", "x", "--command", "c", "--hosts", "lab-9"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("no host named lab-9"), std::string::npos);
}

TEST_F(JobCommandsTest, UnreachableCoordinatorIsExitThree) {
  CliRun run = Run({"job", "list"}, "inproc://nobody-binds-this", 200);
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_FALSE(run.err.empty());
}

TEST_F(JobCommandsTest, ListPrintsATableWithEntryProgress) {
  coordinator_.ServeJobs({JobWith(12, "Running", {"Completed", "Running", "Queued"}),
                          JobWith(11, "Failed", {"Completed", "Failed"})});
  CliRun run = Run({"job", "list", "--owner", "alice", "--status", "running", "--limit", "5"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.rfind("ID ", 0), 0u) << run.out;
  for (const char* column : {"NAME", "OWNER", "PRIORITY", "STATUS", "ENTRIES", "CREATED"}) {
    EXPECT_NE(run.out.find(column), std::string::npos) << column;
  }
  EXPECT_NE(run.out.find("1/3 done"), std::string::npos) << run.out;
  auto request = coordinator_.LastRequest<protocol::JobListRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->owner, "alice");
  EXPECT_EQ(request->status, "Running");  // canonical spelling on the wire
  EXPECT_EQ(request->limit, 5u);
}

TEST_F(JobCommandsTest, ListJsonIsAnArrayOfJobObjects) {
  coordinator_.ServeJobs({SampleJob(12), SampleJob(11)});
  CliRun run = Run({"--json", "job", "list"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto body = nlohmann::json::parse(run.out);
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 2u);
  protocol::JobInfo listed = SampleJob(12);
  listed.control.clear();
  EXPECT_EQ(body[0], protocol::ToJson(listed, /*with_control=*/false));
  EXPECT_EQ(body[1]["id"], 11);
}

TEST_F(JobCommandsTest, ShowPrintsFieldsAndAnEntryTableWithFaults) {
  coordinator_.ServeJobs({SampleJob(12)});
  CliRun run = Run({"job", "show", "12"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const char* text :
       {"boot <b>test</b>", "alice", "high", "make check", "HOST", "STARTED", "FINISHED", "REASON",
        "lab-1", "Completed", "lab-2", "test: exit status 3"}) {
    EXPECT_NE(run.out.find(text), std::string::npos) << text << "\n" << run.out;
  }
  EXPECT_EQ(coordinator_.LastRequest<protocol::JobShowRequest>()->id, 12u);
}

TEST_F(JobCommandsTest, ShowPrintsCleanupAndRetryLines) {
  protocol::JobInfo job = SampleJob(12);
  job.cleanup = "always";
  job.retry = 2;
  protocol::JobInfo plain = SampleJob(13);  // defaults: on-failure, no retry
  coordinator_.ServeJobs({job, plain});
  CliRun run = Run({"job", "show", "12"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("\ncleanup         always\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("\nretry           up to 2 times when a host is lost\n"),
            std::string::npos)
      << run.out;
  run = Run({"job", "show", "13"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("\ncleanup         on-failure\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("\nretry           none\n"), std::string::npos) << run.out;
}

TEST_F(JobCommandsTest, ShowHasARetriesColumnOnlyWhenAnEntryWasQueuedAgain) {
  protocol::JobInfo job = SampleJob(12);
  job.retry = 3;
  job.entries[1].retries = 2;
  coordinator_.ServeJobs({job, SampleJob(13)});
  CliRun run = Run({"job", "show", "12"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("HOST   STATUS     STARTED                   FINISHED                  "
                         "REASON               RETRIES\n"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("test: exit status 3  2\n"), std::string::npos) << run.out;
  run = Run({"job", "show", "13"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.find("RETRIES"), std::string::npos) << run.out;
}

TEST_F(JobCommandsTest, ShowWithoutParsedResultsHasNoResultsColumnOrWarnings) {
  coordinator_.ServeJobs({SampleJob(12)});
  CliRun run = Run({"job", "show", "12"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.find("RESULTS"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("warning:"), std::string::npos) << run.out;
}

TEST_F(JobCommandsTest, ShowPrintsEachEntrysResultCountsAndParseWarningsUnderTheTable) {
  protocol::JobInfo job = SampleJob(12);
  job.entries[0].result_counts = {{"GOOD", 12}, {"FAIL", 1}};
  job.entries[1].parse_warnings = {"status.log: line 7: END without START",
                                   "results.xml: not JUnit"};
  coordinator_.ServeJobs({job});
  CliRun run = Run({"job", "show", "12"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  size_t header = run.out.find("RESULTS");
  ASSERT_NE(header, std::string::npos) << run.out;
  // lab-1's row has its counts in table order; lab-2 (nothing parsed) has a dash.
  size_t row1 = run.out.find("lab-1", header);
  size_t row2 = run.out.find("lab-2", header);
  ASSERT_NE(row1, std::string::npos);
  ASSERT_NE(row2, std::string::npos);
  std::string line1 = run.out.substr(row1, run.out.find('\n', row1) - row1);
  std::string line2 = run.out.substr(row2, run.out.find('\n', row2) - row2);
  EXPECT_NE(line1.find("12 GOOD, 1 FAIL"), std::string::npos) << line1;
  EXPECT_EQ(line2.substr(line2.size() - 1), "-") << line2;
  // The warnings come after the table, one line each, naming the host.
  size_t warning = run.out.find("warning: lab-2: status.log: line 7: END without START\n");
  ASSERT_NE(warning, std::string::npos) << run.out;
  EXPECT_GT(warning, row2);
  EXPECT_NE(run.out.find("warning: lab-2: results.xml: not JUnit\n"), std::string::npos);
}

TEST_F(JobCommandsTest, ShowJsonIsTheJobObject) {
  coordinator_.ServeJobs({SampleJob(12)});
  CliRun run = Run({"--json", "job", "show", "12"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out), protocol::ToJson(SampleJob(12)));
}

TEST_F(JobCommandsTest, WaitPollsUntilEveryEntryIsFinalAndExitsZeroWhenAllCompleted) {
  std::atomic<int> polls{0};
  coordinator_.On(protocol::JobShowRequest::kType, [&polls](const protocol::Envelope& envelope) {
    int n = ++polls;
    protocol::JobInfo job = n < 3 ? JobWith(12, "Running", {"Completed", "Running"})
                                  : JobWith(12, "Completed", {"Completed", "Completed"});
    return protocol::Encode(protocol::JobShowReply{job}, envelope.request_id);
  });
  CliRun run = Run({"job", "wait", "12"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(polls.load(), 3);
  // Not a terminal: no progress lines, only the result.
  EXPECT_EQ(run.out, "job 12 Completed: 2 done (2 completed, 0 failed)\n");
}

TEST_F(JobCommandsTest, WaitExitsOneWhenAnyEntryDidNotComplete) {
  coordinator_.ServeJobs({JobWith(12, "Failed", {"Completed", "Failed"}),
                          JobWith(13, "Aborted", {"Aborted", "Completed"})});
  CliRun failed = Run({"job", "wait", "12"});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_EQ(failed.out, "job 12 Failed: 2 done (1 completed, 1 failed)\n");
  CliRun aborted = Run({"job", "wait", "13"});
  EXPECT_EQ(aborted.exit_code, 1);
}

TEST_F(JobCommandsTest, WaitJsonPrintsTheFinalJob) {
  coordinator_.ServeJobs({JobWith(12, "Completed", {"Completed"})});
  CliRun run = Run({"--json", "job", "wait", "12"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  auto body = nlohmann::json::parse(run.out);
  EXPECT_EQ(body["id"], 12);
  EXPECT_EQ(body["status"], "Completed");
  EXPECT_EQ(body["entries"][0]["status"], "Completed");
}

TEST_F(JobCommandsTest, WaitTimeoutIsExitThreeWithAMessage) {
  coordinator_.ServeJobs({JobWith(12, "Running", {"Running", "Queued"})});
  CliRun run = Run({"job", "wait", "12", "--timeout", "300ms"});
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_EQ(run.err, "labmesh: job 12 not finished after 300ms\n");
  EXPECT_EQ(run.out, "");
}

TEST_F(JobCommandsTest, WaitForAnUnknownJobIsExitOne) {
  coordinator_.ServeJobs({});
  CliRun run = Run({"job", "wait", "5"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "labmesh: no job 5\n");
}

TEST_F(JobCommandsTest, AbortSendsUserAndHostAndPrintsTheMessage) {
  coordinator_.Reply<protocol::JobAbortRequest>(protocol::OkReply{"job 12 aborted on lab-2"});
  CliRun run = Run({"--user", "carol", "job", "abort", "12", "--host", "lab-2"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "job 12 aborted on lab-2\n");
  auto request = coordinator_.LastRequest<protocol::JobAbortRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->id, 12u);
  EXPECT_EQ(request->host, "lab-2");
  EXPECT_EQ(request->user, "carol");
}

// A log served in pieces: "hello " at once, then nothing new (once), then "world\n" and done.
protocol::JobLogReply LogPiece(uint64_t offset, int& empty_replies) {
  protocol::JobLogReply reply;
  reply.status = "Running";
  if (offset == 0) {
    reply.data = {'h', 'e', 'l', 'l', 'o', ' '};
    reply.next_offset = 6;
  } else if (offset == 6 && empty_replies++ == 0) {
    reply.next_offset = 6;
  } else {
    reply.data = {'w', 'o', 'r', 'l', 'd', '\n'};
    reply.next_offset = 12;
    reply.complete = true;
    reply.status = "Completed";
  }
  return reply;
}

TEST_F(JobCommandsTest, LogFollowPrintsBytesAsTheyComeUntilComplete) {
  int empty_replies = 0;
  coordinator_.On(protocol::JobLogRequest::kType, [&empty_replies](const protocol::Envelope& e) {
    auto request = protocol::DecodeBody<protocol::JobLogRequest>(e);
    return protocol::Encode(LogPiece(request->offset, empty_replies), e.request_id);
  });
  CliRun run = Run({"job", "log", "12", "--host", "lab-1", "--follow"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "hello world\n");
  auto request = coordinator_.LastRequest<protocol::JobLogRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->id, 12u);
  EXPECT_EQ(request->host, "lab-1");
  EXPECT_EQ(request->offset, 6u);
}

TEST_F(JobCommandsTest, LogWithoutFollowPrintsWhatThereIsAndExits) {
  int empty_replies = 0;
  coordinator_.On(protocol::JobLogRequest::kType, [&empty_replies](const protocol::Envelope& e) {
    auto request = protocol::DecodeBody<protocol::JobLogRequest>(e);
    return protocol::Encode(LogPiece(request->offset, empty_replies), e.request_id);
  });
  CliRun run = Run({"job", "log", "12", "--host", "lab-1"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "hello ");
  EXPECT_EQ(coordinator_.LastRequest<protocol::JobLogRequest>()->offset, 0u + 6u);
}

TEST_F(JobCommandsTest, LogOfAnUnknownHostIsExitOne) {
  coordinator_.Fail<protocol::JobLogRequest>(Status::NotFound("job 12 has no entry on lab-9"));
  CliRun run = Run({"job", "log", "12", "--host", "lab-9"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("lab-9"), std::string::npos);
}

}  // namespace
}  // namespace labmesh::cli
