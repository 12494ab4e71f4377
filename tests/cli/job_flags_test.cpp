// The job flags `job create`, `job clone`, `template create` and `job create --template` share
// (job_flags.hpp): which were given, and a base definition (a template's, a cloned job's) with
// the given ones laid over it - what to run and where replaced as a whole.

#include "labmesh/cli/job_flags.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace labmesh::cli {
namespace {

// Parses `args` as the flags of one command.
class Parsed {
 public:
  explicit Parsed(std::vector<std::string> args) {
    flags_.Add(&app_);
    std::vector<std::string> argv = {"cmd"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> raw;
    for (auto& a : argv) raw.push_back(a.data());
    app_.parse(static_cast<int>(raw.size()), raw.data());
  }
  const JobFlags& flags() const { return flags_; }

 private:
  CLI::App app_{"cmd"};
  JobFlags flags_;
};

protocol::JobCreateRequest Definition() {
  protocol::JobCreateRequest job;
  job.name = "nightly";
  job.control = "#!/bin/sh\nlabmesh-test run boot -- true\n";
  job.meta_label = "x86";
  job.meta_count = 4;
  job.priority = "high";
  job.timeout_ms = 7'200'000;
  job.retry = 2;
  job.keep_results_ms = -1;
  job.notify = {"email:team@example.org"};
  return job;
}

TEST(JobFlags, NothingGivenKeepsTheBaseWhole) {
  Parsed parsed({});
  EXPECT_FALSE(parsed.flags().AnyGiven());
  auto request = BuildFromBase(JobBaseOf(Definition()), parsed.flags(), "alice");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->name, "nightly");
  EXPECT_EQ(request->user, "alice");
  EXPECT_EQ(request->control, Definition().control);  // the base's script, not a file
  EXPECT_EQ(request->meta_label, "x86");
  EXPECT_EQ(request->meta_count, 4u);
  EXPECT_EQ(request->priority, "high");
  EXPECT_EQ(request->timeout_ms, 7'200'000);
  EXPECT_EQ(request->retry, 2u);
  EXPECT_EQ(request->keep_results_ms, -1);
  EXPECT_EQ(request->notify, std::vector<std::string>{"email:team@example.org"});
}

TEST(JobFlags, GivenFlagsReplaceTheirValueAndWhatAndWhereGoAsAWhole) {
  Parsed parsed({"--command", "make check", "--hosts", "lab-1,lab-2", "--priority", "low",
                 "--name", "try"});
  EXPECT_TRUE(parsed.flags().Given("command"));
  EXPECT_FALSE(parsed.flags().Given("label"));
  auto request = BuildFromBase(JobBaseOf(Definition()), parsed.flags(), "bob");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->command, "make check");
  EXPECT_EQ(request->control, "");  // replaced with the command, not both
  EXPECT_EQ(request->hosts, (std::vector<std::string>{"lab-1", "lab-2"}));
  EXPECT_EQ(request->meta_label, "");  // where: replaced as a whole
  EXPECT_EQ(request->meta_count, 0u);
  EXPECT_EQ(request->priority, "low");
  EXPECT_EQ(request->name, "try");
  EXPECT_EQ(request->timeout_ms, 7'200'000);  // not given: kept
}

TEST(JobFlags, OnlyACountChangesHowManyHostsButDropsTheLabel) {
  // --count alone replaces "where" as a whole: without --label the request is refused, as
  // job create refuses --count without --label.
  Parsed parsed({"--count", "1"});
  auto request = BuildFromBase(JobBaseOf(Definition()), parsed.flags(), "alice");
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.status().code(), StatusCode::kInvalidArgument);
  Parsed both({"--label", "x86", "--count", "1"});
  request = BuildFromBase(JobBaseOf(Definition()), both.flags(), "alice");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->meta_count, 1u);
}

TEST(JobFlags, ABaseFromAShownJobKeepsItsCatalogTestByName) {
  protocol::JobInfo shown;
  shown.name = "boot";
  shown.control_kind = "test";
  shown.test_name = "kernel.boot";
  shown.control = "#!/bin/sh\n# the copy the job holds\n";
  shown.hosts = {"lab-1"};
  shown.timeout_ms = 60'000;
  shown.after = {3};
  Parsed parsed({});
  auto request = BuildFromBase(JobBaseOf(shown), parsed.flags(), "alice");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->test, "kernel.boot");
  EXPECT_EQ(request->control, "");
  EXPECT_EQ(request->timeout_ms, 60'000);
  EXPECT_TRUE(request->after.empty());  // the jobs it waited for have ended
}

TEST(JobFlags, TypedIsTheFlagsAlone) {
  Parsed parsed({"--name", "x", "--command", "true", "--label", "gpu", "--count", "2"});
  JobCreateArgs typed = parsed.flags().Typed();
  EXPECT_EQ(typed.name, "x");
  ASSERT_TRUE(typed.count.has_value());
  EXPECT_EQ(*typed.count, 2u);
  Parsed none({"--name", "x"});
  EXPECT_FALSE(none.flags().Typed().count.has_value());
}

}  // namespace
}  // namespace labmesh::cli
