// ParseKeyval: plain and perf values, iterations, comments, malformed lines.

#include <gtest/gtest.h>

#include "labmesh/parsers/parsers.hpp"
#include "samples.hpp"

namespace labmesh::parsers {
namespace {

using StringMap = std::map<std::string, std::string>;
using PerfMap = std::map<std::string, double>;

TEST(Keyval, OneIterationKeepsKeysAsTheyAre) {
  std::vector<std::string> warnings;
  Keyvals kv = ParseKeyval("# comment\nversion=1.2.3\nspeed{perf}=42.5\nhost{attr}=lab-1\n",
                           "bench/keyval", &warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(kv.keyvals, (StringMap{{"version", "1.2.3"}, {"host", "lab-1"}}));
  EXPECT_EQ(kv.perf, (PerfMap{{"speed", 42.5}}));
}

TEST(Keyval, BlankLinesSeparateIterations) {
  std::vector<std::string> warnings;
  Keyvals kv = ParseKeyval(samples::kKeyvalIterations, "bench/keyval", &warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(kv.perf, (PerfMap{{"iteration1/throughput", 123.5},
                              {"iteration1/latency_ms", 4},
                              {"iteration2/throughput", 130},
                              {"iteration2/latency_ms", 3.5},
                              {"throughput", 130},  // the last iteration's value
                              {"latency_ms", 3.5}}));
  EXPECT_EQ(kv.keyvals, (StringMap{{"iteration1/kernel", "6.1.0"},
                                   {"iteration1/build", "abc123"},
                                   {"kernel", "6.1.0"},
                                   {"build", "abc123"},
                                   {"iterations", "2"}}));
}

TEST(Keyval, RepeatedBlankLinesAndTrailingBlanksMakeNoEmptyIterations) {
  std::vector<std::string> warnings;
  Keyvals kv = ParseKeyval("\n\na=1\n\n\n\n# only a comment\n\nb=2\n\n\n", "t/keyval", &warnings);
  EXPECT_EQ(kv.keyvals, (StringMap{{"iteration1/a", "1"},
                                   {"iteration2/b", "2"},
                                   {"a", "1"},
                                   {"b", "2"},
                                   {"iterations", "2"}}));
}

TEST(Keyval, AppendedRunsOfLabmeshTestKeyvalAreOneIteration) {
  // `labmesh-test keyval NAME a=1` then `... b{perf}=2` appends lines without a blank one.
  std::vector<std::string> warnings;
  Keyvals kv = ParseKeyval("a=1\nb{perf}=2\na=3\n", "NAME/keyval", &warnings);
  EXPECT_EQ(kv.keyvals, (StringMap{{"a", "3"}}));
  EXPECT_EQ(kv.perf, (PerfMap{{"b", 2}}));
}

TEST(Keyval, MalformedLinesAreSkippedWithAWarningEach) {
  std::vector<std::string> warnings;
  Keyvals kv = ParseKeyval(
      "good=yes\n"
      "no equals sign\n"
      "=nokey\n"
      "speed{perf}=fast\n"
      "ratio{perf}=nan\n"
      "odd{weird}=1\n"
      "value with spaces = kept  \n"
      "empty=\n"
      "neg{perf}=-1.5e3\n",
      "t/keyval", &warnings);
  EXPECT_EQ(kv.keyvals, (StringMap{{"good", "yes"}, {"value with spaces", "kept"}, {"empty", ""}}));
  EXPECT_EQ(kv.perf, (PerfMap{{"neg", -1500}}));
  ASSERT_EQ(warnings.size(), 5u);
  EXPECT_EQ(warnings[0], "t/keyval: line 2: no '=' in 'no equals sign'");
  EXPECT_EQ(warnings[1], "t/keyval: line 3: empty key in '=nokey'");
  EXPECT_EQ(warnings[2], "t/keyval: line 4: perf value of 'speed' is not a finite number: 'fast'");
  EXPECT_EQ(warnings[3], "t/keyval: line 5: perf value of 'ratio' is not a finite number: 'nan'");
  EXPECT_EQ(warnings[4], "t/keyval: line 6: unknown keyval type {weird} (perf or attr)");
}

TEST(Keyval, ManyBadLinesAreCappedInWarnings) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "garbage\n";
  std::vector<std::string> warnings;
  Keyvals kv = ParseKeyval(text, "t/keyval", &warnings);
  EXPECT_TRUE(kv.keyvals.empty());
  ASSERT_EQ(warnings.size(), kMaxWarningsPerFile + 1);
  EXPECT_EQ(warnings.back(), "t/keyval: 950 further warnings suppressed");
}

}  // namespace
}  // namespace labmesh::parsers
