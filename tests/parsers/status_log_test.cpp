// ParseStatusLog: Autotest nesting, END wins, crashes, timestamps, and the lines our own
// writer (agent/work/status_log.cpp, used by labmesh-test) produces.

#include "work/status_log.hpp"

#include <gtest/gtest.h>

#include "labmesh/parsers/parsers.hpp"
#include "samples.hpp"

namespace labmesh::parsers {
namespace {

using samples::Dump;
using samples::Find;
using samples::Names;

constexpr int64_t kSecond = 1000000;

TEST(StatusLog, NestedGroupsGiveOneResultEachInStartOrder) {
  ParseOutput out;
  ParseStatusLog(samples::kStatusLogNested, "status.log", &out);
  EXPECT_EQ(Names(out), (std::vector<std::string>{"CLIENT_JOB.0", "sleeptest", "suite", "suite/a",
                                                  "suite/b", "suite/c"}))
      << Dump(out);
  EXPECT_TRUE(out.warnings.empty()) << Dump(out);
  for (const TestResult& r : out.results) EXPECT_EQ(r.file, "status.log");

  const TestResult& sleeptest = Find(out, "sleeptest");
  EXPECT_EQ(sleeptest.status, "GOOD");
  EXPECT_EQ(sleeptest.reason, "completed successfully");
  EXPECT_EQ(sleeptest.subdir, "sleeptest");
  EXPECT_EQ(sleeptest.start_us, 1700000001 * kSecond);
  EXPECT_EQ(sleeptest.end_us, 1700000011 * kSecond);
  EXPECT_EQ(sleeptest.duration_us, 10 * kSecond);

  const TestResult& a = Find(out, "suite/a");
  EXPECT_EQ(a.status, "FAIL");
  EXPECT_EQ(a.reason, "assertion failed: x == 1");
  EXPECT_EQ(a.duration_us, 1 * kSecond);

  const TestResult& b = Find(out, "suite/b");
  EXPECT_EQ(b.status, "GOOD");
  EXPECT_EQ(b.reason, "b passed");
  EXPECT_EQ(b.start_us, 0);  // a single status line only says when it ended
  EXPECT_EQ(b.end_us, 1700000023 * kSecond);
  EXPECT_EQ(Find(out, "suite/c").status, "WARN");
}

TEST(StatusLog, EndLineWinsButAFailingChildIsNoted) {
  ParseOutput out;
  ParseStatusLog(samples::kStatusLogNested, "status.log", &out);
  const TestResult& suite = Find(out, "suite");
  EXPECT_EQ(suite.status, "GOOD");
  EXPECT_EQ(suite.reason, "END GOOD despite a (FAIL)");
  EXPECT_EQ(suite.duration_us, 10 * kSecond);
  // The anonymous client job ended GOOD and no direct child failed.
  const TestResult& job = Find(out, "CLIENT_JOB.0");
  EXPECT_EQ(job.status, "GOOD");
  EXPECT_EQ(job.reason, "");
  EXPECT_EQ(job.duration_us, 31 * kSecond);
}

TEST(StatusLog, EndWarnStaysWarn) {
  ParseOutput out;
  ParseStatusLog(
      "START\t----\tt\ttimestamp=10\n"
      "\tWARN\t----\tt\ttimestamp=11\tdisk nearly full\n"
      "END WARN\t----\tt\ttimestamp=12\n",
      "status.log", &out);
  ASSERT_EQ(out.results.size(), 1u) << Dump(out);
  EXPECT_EQ(out.results[0].status, "WARN");
  EXPECT_EQ(out.results[0].reason, "disk nearly full");
}

TEST(StatusLog, StartWithoutEndIsAbortWithReason) {
  ParseOutput out;
  ParseStatusLog(samples::kStatusLogCrashed, "sub/status.log", &out);
  ASSERT_EQ(Names(out),
            (std::vector<std::string>{"boot_test", "boot_test/inner", "boot_test/inner/step1"}))
      << Dump(out);
  for (const char* name : {"boot_test", "boot_test/inner"}) {
    const TestResult& r = Find(out, name);
    EXPECT_EQ(r.status, "ABORT") << name;
    EXPECT_EQ(r.reason, "no END line: log ended (crashed?)") << name;
    EXPECT_EQ(r.end_us, 1700000102 * kSecond) << "the last timestamp in the log";
  }
  EXPECT_EQ(Find(out, "boot_test").duration_us, 2 * kSecond);
  EXPECT_EQ(Find(out, "boot_test/inner/step1").status, "GOOD");
}

TEST(StatusLog, ParentEndClosesAChildWithoutEndAsAbort) {
  ParseOutput out;
  ParseStatusLog(
      "START\t----\touter\ttimestamp=100\n"
      "\tSTART\t----\tinner\ttimestamp=101\n"
      "END GOOD\t----\touter\ttimestamp=105\n",
      "status.log", &out);
  ASSERT_EQ(out.results.size(), 2u) << Dump(out);
  EXPECT_EQ(Find(out, "outer/inner").status, "ABORT");
  EXPECT_EQ(Find(out, "outer/inner").reason, "no END line before the END of 'outer'");
  EXPECT_EQ(Find(out, "outer").reason, "END GOOD despite inner (ABORT)");
}

TEST(StatusLog, MalformedLinesWarnAndTheRestIsRead) {
  ParseOutput out;
  ParseStatusLog(
      "some stray stderr output\n"
      "GOOD\tonly-two-fields\n"
      "END GOOD\t----\tnever_started\n"
      "START\t----\tt\ttimestamp=yesterday\n"
      "END BOGUS\t----\tt\n"
      "GOOD\t----\tafter\ttimestamp=5\tfine\n",
      "status.log", &out);
  EXPECT_EQ(Names(out), (std::vector<std::string>{"t", "after"})) << Dump(out);
  EXPECT_EQ(Find(out, "t").status, "ERROR");  // an unknown END status
  EXPECT_EQ(Find(out, "after").status, "GOOD");
  ASSERT_EQ(out.warnings.size(), 5u) << Dump(out);
  EXPECT_EQ(out.warnings[0], "status.log: line 1: not a status line: 'some stray stderr output'");
  EXPECT_EQ(out.warnings[2],
            "status.log: line 3: END GOOD without a matching START for "
            "'never_started'");
  EXPECT_EQ(out.warnings[3], "status.log: line 4: bad timestamp 'yesterday'");
}

TEST(StatusLog, ExtraFieldsBecomeKeyvalsAndTestnameFallsBackToSubdir) {
  ParseOutput out;
  ParseStatusLog("GOOD\tkernel_build\t----\ttimestamp=7\tkernel=6.1.0-lab\tpatch0=fix.diff\tdone\n",
                 "status.log", &out);
  ASSERT_EQ(out.results.size(), 1u) << Dump(out);
  const TestResult& r = out.results[0];
  EXPECT_EQ(r.test, "kernel_build");
  EXPECT_EQ(r.subdir, "kernel_build");
  EXPECT_EQ(r.reason, "done");
  EXPECT_EQ(r.keyvals,
            (std::map<std::string, std::string>{{"kernel", "6.1.0-lab"}, {"patch0", "fix.diff"}}));
}

// What `labmesh-test run NAME -- CMD` writes: START at column 0, the result line indented,
// END at column 0; several runs may interleave when a control runs tests in parallel.
TEST(StatusLog, OurOwnWriterParsesExactly) {
  std::string log = agent::StatusStartLine("build", 1764400000) +
                    agent::StatusResultLine(true, "build", 1764400042, "") +
                    agent::StatusEndLine(true, "build", 1764400042) +
                    agent::StatusStartLine("unit", 1764400050) +
                    agent::StatusStartLine("lint", 1764400051) +
                    agent::StatusResultLine(false, "unit", 1764400060, "exit status 3") +
                    agent::StatusEndLine(false, "unit", 1764400060) +
                    agent::StatusResultLine(true, "lint", 1764400070, "") +
                    agent::StatusEndLine(true, "lint", 1764400070);
  ParseOutput out;
  ParseStatusLog(log, "status.log", &out);
  EXPECT_TRUE(out.warnings.empty()) << Dump(out);
  ASSERT_EQ(Names(out), (std::vector<std::string>{"build", "unit", "lint"})) << Dump(out);
  const TestResult& build = Find(out, "build");
  EXPECT_EQ(build.status, "GOOD");
  EXPECT_EQ(build.reason, "completed successfully");
  EXPECT_EQ(build.start_us, 1764400000 * kSecond);
  EXPECT_EQ(build.duration_us, 42 * kSecond);
  EXPECT_TRUE(build.keyvals.empty()) << "timestamp= and localtime= are not keyvals";
  const TestResult& unit = Find(out, "unit");
  EXPECT_EQ(unit.status, "FAIL");
  EXPECT_EQ(unit.reason, "exit status 3");
  EXPECT_EQ(unit.duration_us, 10 * kSecond);
  EXPECT_EQ(Find(out, "lint").status, "GOOD");
  EXPECT_EQ(Find(out, "lint").duration_us, 19 * kSecond);
}

TEST(StatusLog, OurDefaultLogForAControlWithoutOne) {
  // WriteDefaultStatusLog's content, built from the same line functions.
  std::string log = agent::StatusStartLine("job-17", 1764400000) +
                    agent::StatusResultLine(false, "job-17", 1764400300, "killed by signal 9") +
                    agent::StatusEndLine(false, "job-17", 1764400300);
  ParseOutput out;
  ParseStatusLog(log, "status.log", &out);
  ASSERT_EQ(out.results.size(), 1u) << Dump(out);
  EXPECT_EQ(out.results[0].status, "FAIL");
  EXPECT_EQ(out.results[0].reason, "killed by signal 9");
  EXPECT_EQ(out.results[0].duration_us, 300 * kSecond);
}

TEST(StatusLog, WindowsLineEndingsAndEmptyInput) {
  ParseOutput out;
  ParseStatusLog("GOOD\t----\tt\ttimestamp=1\tok\r\n\r\n", "status.log", &out);
  ASSERT_EQ(out.results.size(), 1u) << Dump(out);
  EXPECT_EQ(out.results[0].reason, "ok");
  ParseOutput empty;
  ParseStatusLog("", "status.log", &empty);
  EXPECT_TRUE(empty.results.empty());
  EXPECT_TRUE(empty.warnings.empty());
}

}  // namespace
}  // namespace labmesh::parsers
