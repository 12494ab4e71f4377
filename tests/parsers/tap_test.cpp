// ParseTap: plans, directives, YAML diagnostics, subtests, bail out, malformed streams.

#include <gtest/gtest.h>

#include "labmesh/parsers/parsers.hpp"
#include "samples.hpp"

namespace labmesh::parsers {
namespace {

using samples::Dump;
using samples::Find;
using samples::Names;

ParseOutput Parse(std::string_view text, const std::string& file = "t.tap") {
  ParseOutput out;
  ParseTap(text, file, &out);
  return out;
}

TEST(Tap, DirectivesAndYamlDiagnostics) {
  ParseOutput out = Parse(samples::kTapBasic);
  EXPECT_TRUE(out.warnings.empty()) << Dump(out);
  EXPECT_EQ(Names(out), (std::vector<std::string>{"t.tap/1 connects", "t.tap/2 reads config",
                                                  "t.tap/3 optional feature",
                                                  "t.tap/4 future thing", "t.tap/5 known bug fixed",
                                                  "t.tap/6 escaped # hash in name"}));
  EXPECT_EQ(Find(out, "t.tap/1 connects").status, "GOOD");
  EXPECT_EQ(Find(out, "t.tap/1 connects").file, "t.tap");
  EXPECT_EQ(Find(out, "t.tap/2 reads config").status, "FAIL");
  EXPECT_EQ(Find(out, "t.tap/2 reads config").reason, "expected 3, got 4");
  EXPECT_EQ(Find(out, "t.tap/3 optional feature").status, "TEST_NA");
  EXPECT_EQ(Find(out, "t.tap/3 optional feature").reason, "no network");
  // A failing TODO is an expected failure, never a FAIL; a passing one is GOOD.
  EXPECT_EQ(Find(out, "t.tap/4 future thing").status, "TEST_NA");
  EXPECT_EQ(Find(out, "t.tap/4 future thing").reason, "TODO: not written yet");
  EXPECT_EQ(Find(out, "t.tap/5 known bug fixed").status, "GOOD");
  EXPECT_EQ(Find(out, "t.tap/5 known bug fixed").reason, "TODO: bug 123");
}

TEST(Tap, YamlWithoutMessageGivesTheWholeBlockForFailures) {
  ParseOutput out = Parse(
      "1..2\n"
      "not ok 1 - a\n"
      "  ---\n"
      "  found: false\n"
      "  wanted: true\n"
      "  ...\n"
      "ok 2 - b\n"
      "  ---\n"
      "  duration_ms: 1.5\n"
      "  ...\n");
  EXPECT_TRUE(out.warnings.empty()) << Dump(out);
  EXPECT_EQ(Find(out, "t.tap/1 a").reason, "found: false\nwanted: true");
  EXPECT_EQ(Find(out, "t.tap/2 b").reason, "");
  EXPECT_EQ(Find(out, "t.tap/2 b").duration_us, 1500);
}

TEST(Tap, SubtestsAreNestedBelowTheirParentTestLine) {
  ParseOutput out = Parse(samples::kTapSubtests, "suite.tap");
  EXPECT_TRUE(out.warnings.empty()) << Dump(out);
  EXPECT_EQ(Names(out), (std::vector<std::string>{
                            "suite.tap/1 parser",
                            "suite.tap/1 parser/1 parses empty",
                            "suite.tap/1 parser/2 parses nested",
                            "suite.tap/2 writer",
                            "suite.tap/2 writer/1 files",
                            "suite.tap/2 writer/1 files/1 writes a file",
                            "suite.tap/3 last",
                        }))
      << Dump(out);
  EXPECT_EQ(Find(out, "suite.tap/1 parser").status, "FAIL");
  const TestResult& nested = Find(out, "suite.tap/1 parser/2 parses nested");
  EXPECT_EQ(nested.status, "FAIL");
  EXPECT_EQ(nested.reason, "line one\nline two");
  EXPECT_EQ(nested.duration_us, 12500);
  EXPECT_EQ(Find(out, "suite.tap/2 writer/1 files/1 writes a file").status, "GOOD");
}

TEST(Tap, NodeTapStyleSubtestCommentAtTheParentLevel) {
  ParseOutput out = Parse(
      "TAP version 13\n"
      "# Subtest: some test\n"
      "    1..1\n"
      "    ok 1 - should be equal\n"
      "ok 1 - some test # time=5.2ms\n"
      "1..1\n");
  EXPECT_TRUE(out.warnings.empty()) << Dump(out);
  EXPECT_EQ(Names(out),
            (std::vector<std::string>{"t.tap/1 some test", "t.tap/1 some test/1 should be equal"}));
}

TEST(Tap, BailOutGivesOneAbortAndStops) {
  ParseOutput out = Parse(samples::kTapBailOut);
  EXPECT_TRUE(out.warnings.empty()) << Dump(out);
  EXPECT_EQ(Names(out),
            (std::vector<std::string>{"t.tap/1 setup", "t.tap/2 mount", "t.tap/bail out"}));
  const TestResult& bail = Find(out, "t.tap/bail out");
  EXPECT_EQ(bail.status, "ABORT");
  EXPECT_EQ(bail.reason, "Bail out! cannot mount /dev/sdb1; 3 of 5 planned tests did not run");
}

TEST(Tap, BailOutInsideASubtestKeepsWhatRan) {
  ParseOutput out = Parse(
      "1..2\n"
      "    # Subtest: db\n"
      "    1..3\n"
      "    ok 1 - connect\n"
      "    Bail out! database gone\n"
      "    ok 2 - never\n"
      "ok 1 - db\n");
  EXPECT_EQ(Names(out), (std::vector<std::string>{"t.tap/db/1 connect", "t.tap/bail out"}))
      << Dump(out);
  EXPECT_EQ(Find(out, "t.tap/bail out").reason,
            "Bail out! database gone; 2 of 2 planned tests did not run");
}

TEST(Tap, FewerTestsThanPlannedGivesAnAbortPlanResult) {
  ParseOutput out = Parse("TAP version 14\n1..4\nok 1 - a\nok 2 - b\n");
  EXPECT_EQ(Names(out), (std::vector<std::string>{"t.tap/1 a", "t.tap/2 b", "t.tap/plan"}));
  EXPECT_EQ(Find(out, "t.tap/plan").status, "ABORT");
  EXPECT_EQ(Find(out, "t.tap/plan").reason, "planned 4 tests but only 2 ran");
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_EQ(out.warnings[0], "t.tap: planned 4 tests, 2 ran");
}

TEST(Tap, NoPlanAtAllIsACutShortRun) {
  ParseOutput out = Parse("ok 1 - a\nnot ok 2 - b\n");
  EXPECT_EQ(Find(out, "t.tap/plan").status, "ABORT");
  EXPECT_EQ(Find(out, "t.tap/2 b").status, "FAIL");
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_EQ(out.warnings[0], "t.tap: no plan (1..N) line");
  ParseOutput empty = Parse("");
  EXPECT_EQ(Names(empty), (std::vector<std::string>{"t.tap/plan"}));
}

TEST(Tap, Tap12TrailingPlanAndNoNumbers) {
  ParseOutput out = Parse("ok - first\nnot ok\nok 3 third\n1..3\n");
  EXPECT_TRUE(out.warnings.empty()) << Dump(out);
  EXPECT_EQ(Names(out), (std::vector<std::string>{"t.tap/1 first", "t.tap/2", "t.tap/3 third"}));
}

TEST(Tap, SkipAll) {
  ParseOutput out = Parse("1..0 # SKIP no database on this host\n");
  EXPECT_TRUE(out.warnings.empty()) << Dump(out);
  ASSERT_EQ(out.results.size(), 1u);
  EXPECT_EQ(out.results[0].test, "t.tap/plan");
  EXPECT_EQ(out.results[0].status, "TEST_NA");
  EXPECT_EQ(out.results[0].reason, "skipped: no database on this host");
}

TEST(Tap, MalformedStreamWarnsAboutNumbersAndUnclosedYaml) {
  ParseOutput out = Parse(samples::kTapMalformed);
  EXPECT_EQ(Names(out), (std::vector<std::string>{"t.tap/1", "t.tap/1 again", "t.tap/5 ahead",
                                                  "t.tap/6 yaml never closed"}))
      << Dump(out);
  EXPECT_EQ(Find(out, "t.tap/6 yaml never closed").reason, "boom");
  EXPECT_EQ(out.warnings, (std::vector<std::string>{
                              "t.tap: line 3: test number 1 repeats or goes back (expected 2)",
                              "t.tap: line 4: test number 5 skips ahead (expected 2)",
                              "t.tap: line 7: YAML block without its closing '...'",
                              "t.tap: planned 3 tests, 4 ran"}));
}

TEST(Tap, DeepSubtestsStopAtTheNestingLimit) {
  std::string text = "1..1\n";
  for (int depth = 1; depth <= kMaxNesting + 10; ++depth) {
    text += std::string(4 * depth, ' ') + "ok 1 - level " + std::to_string(depth) + "\n";
  }
  text += "ok 1 - top\n";
  ParseOutput out = Parse(text);
  EXPECT_FALSE(out.results.empty());
  bool warned = false;
  for (const std::string& w : out.warnings) warned |= w.find("nested deeper") != std::string::npos;
  EXPECT_TRUE(warned) << Dump(out);
}

}  // namespace
}  // namespace labmesh::parsers
