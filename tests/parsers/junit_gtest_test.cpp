// A real GoogleTest binary (gtest_sample.cpp) run with --gtest_output=xml: the parser must
// count what GoogleTest itself printed, and what we know the sample contains.

#include <gtest/gtest.h>

#include <regex>

#include "labmesh/parsers/parsers.hpp"
#include "process.hpp"
#include "samples.hpp"

namespace labmesh::parsers {
namespace {

using samples::CountStatus;
using samples::Dump;
using samples::Find;

// The number in GoogleTest's summary line matching `pattern`, or -1 when it printed none.
int Printed(const std::string& output, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(output, m, std::regex(pattern))) return -1;
  return std::stoi(m[1].str());
}

TEST(JUnitRealGoogleTest, CountsEqualWhatGoogleTestPrinted) {
  labmesh::testing::TempDir tmp;
  std::string xml = tmp.path() + "/out.xml";
  labmesh::testing::CommandResult run =
      labmesh::testing::RunCommand({GTEST_SAMPLE_PATH, "--gtest_output=xml:" + xml});
  EXPECT_EQ(run.exit_code, 1) << "the sample fails on purpose\n" << run.out << run.err;

  int passed = Printed(run.out, R"(\[  PASSED  \] (\d+) tests?\.)");
  int failed = Printed(run.out, R"(\[  FAILED  \] (\d+) tests?, listed below)");
  int skipped = Printed(run.out, R"(\[  SKIPPED \] (\d+) tests?, listed below)");
  int disabled = Printed(run.out, R"(YOU HAVE (\d+) DISABLED TESTS?)");
  ASSERT_EQ(passed, 5) << run.out;
  ASSERT_EQ(failed, 3) << run.out;
  ASSERT_EQ(skipped, 1) << run.out;
  ASSERT_EQ(disabled, 1) << run.out;

  ParseOutput out = ParseResultsDir(tmp.path());
  EXPECT_TRUE(out.warnings.empty()) << Dump(out);
  EXPECT_EQ(static_cast<int>(CountStatus(out, "GOOD")), passed) << Dump(out);
  EXPECT_EQ(static_cast<int>(CountStatus(out, "FAIL")), failed) << Dump(out);
  // GoogleTest prints skipped and disabled tests apart; both are TEST_NA here.
  EXPECT_EQ(static_cast<int>(CountStatus(out, "TEST_NA")), skipped + disabled) << Dump(out);
  EXPECT_EQ(static_cast<int>(out.results.size()), passed + failed + skipped + disabled);

  EXPECT_EQ(Find(out, "SampleMath.Adds").status, "GOOD");
  EXPECT_EQ(Find(out, "SampleMath.Adds").file, "out.xml");
  EXPECT_NE(Find(out, "SampleMath.Subtracts").reason.find("deliberate failure"), std::string::npos);
  const TestResult& compares = Find(out, "SampleStrings.Compares");
  EXPECT_EQ(compares.status, "FAIL");
  EXPECT_NE(compares.reason.find("second deliberate failure"), std::string::npos)
      << "both failures are in the reason: " << compares.reason;
  EXPECT_EQ(Find(out, "SampleStrings.NeedsNetwork").status, "TEST_NA");
  EXPECT_NE(Find(out, "SampleStrings.NeedsNetwork").reason.find("no network in the lab"),
            std::string::npos);
  EXPECT_EQ(Find(out, "SampleStrings.DISABLED_TakesForever").reason, "disabled");
  EXPECT_EQ(Find(out, "Numbers/SampleParam.IsEven/1").status, "FAIL");
  EXPECT_EQ(Find(out, "Numbers/SampleParam.IsEven/2").status, "GOOD");
}

}  // namespace
}  // namespace labmesh::parsers
