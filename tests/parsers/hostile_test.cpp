// Hostile result files (issue 20): every parser stops at its documented limit with one warning
// saying what was not read, instead of holding (or spending time on) whatever a control wrote.
// The inputs here are just over each limit; scripts/bench-hostile.sh feeds the giant ones
// (a 100 MB line, 10 million TAP lines, a million keys) and prints memory and time.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "labmesh/parsers/parsers.hpp"
#include "process.hpp"
#include "samples.hpp"

namespace labmesh::parsers {
namespace {

namespace fs = std::filesystem;
using samples::Dump;

void Write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

bool HasWarning(const ParseOutput& out, std::string_view text) {
  for (const std::string& w : out.warnings) {
    if (w.find(text) != std::string::npos) return true;
  }
  return false;
}

std::string Repeat(std::string_view line, size_t times) {
  std::string text;
  text.reserve(line.size() * times);
  for (size_t i = 0; i < times; ++i) text += line;
  return text;
}

TEST(HostileTap, MoreTestsThanTheResultLimitStopWithAWarning) {
  ParseOutput out;
  ParseTap(Repeat("ok\n", kMaxResults + 10), "flood.tap", &out);
  // The cut-off file has no plan: one "plan" ABORT on top of the kept tests.
  EXPECT_LE(out.results.size(), kMaxResults + 1);
  EXPECT_GE(out.results.size(), kMaxResults);
  EXPECT_TRUE(HasWarning(out, "flood.tap: line 100001: more than 100000 results for this "
                              "directory; the rest of the file is not read"))
      << Dump(out);
}

TEST(HostileTap, LinesBeyondTheLineLimitAreNotRead) {
  ParseOutput out;
  ParseTap("1..1\n" + Repeat("# noise\n", kMaxLinesPerFile) + "ok 1 - never read\n", "long.tap",
           &out);
  EXPECT_TRUE(HasWarning(out, "long.tap: line 1000000: more than 1000000 lines; the rest of the "
                              "file is not read"))
      << Dump(out);
  for (const TestResult& r : out.results) EXPECT_EQ(r.test.find("never read"), std::string::npos);
}

TEST(HostileStatusLog, MoreResultsThanTheLimitStopWithAWarning) {
  ParseOutput out;
  ParseStatusLog(Repeat("GOOD\t----\tt\ttimestamp=1\tok\n", kMaxResults + 10), "status.log",
                 &out);
  EXPECT_EQ(out.results.size(), kMaxResults);
  EXPECT_TRUE(HasWarning(out, "status.log: line 100001: more than 100000 results")) << Dump(out);
}

TEST(HostileKeyval, KeysBeyondTheLimitAreNotRead) {
  std::string text;
  for (size_t i = 0; i < kMaxKeyvalKeys + 10; ++i) text += "k" + std::to_string(i) + "=v\n";
  std::vector<std::string> warnings;
  Keyvals kv = ParseKeyval(text, "t/keyval", &warnings);
  EXPECT_EQ(kv.keyvals.size(), kMaxKeyvalKeys);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0],
            "t/keyval: line 10001: more than 10000 keys; the rest of the file is not read");
  // The same key again and again is one key: nothing is cut.
  warnings.clear();
  kv = ParseKeyval(Repeat("same=1\n", kMaxKeyvalKeys + 10), "u/keyval", &warnings);
  EXPECT_EQ(kv.keyvals.size(), 1u);
  EXPECT_TRUE(warnings.empty());
}

TEST(HostileJUnit, MoreTestcasesThanTheLimitStopWithAWarning) {
  // Nameless testcases also warn: once 50 warnings are kept, their line is no longer looked up.
  std::string xml = "<testsuite name=\"s\">\n" + Repeat("<testcase/>\n", kMaxResults + 10) +
                    "</testsuite>\n";
  ParseOutput out;
  ASSERT_TRUE(ParseJUnit(xml, "flood.xml", &out));
  EXPECT_EQ(out.results.size(), kMaxResults);
  EXPECT_TRUE(HasWarning(out, "more than 100000 results")) << Dump(out);
  EXPECT_TRUE(HasWarning(out, "further warnings suppressed")) << Dump(out);
}

// Billion laughs: each entity ten of the one before. pugixml reads no DTD, so no entity is
// ever expanded: the references stay as their text, a few bytes.
TEST(HostileJUnit, EntityExpansionIsNeverDone) {
  std::string xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n";
  for (int i = 1; i <= 9; ++i) {
    xml += " <!ENTITY lol" + std::to_string(i) + " \"" +
           Repeat("&lol" + (i == 1 ? std::string() : std::to_string(i - 1)) + ";", 10) + "\">\n";
  }
  xml += "]>\n<testsuite name=\"s\"><testcase classname=\"c\" name=\"laughs\">"
         "<failure message=\"&lol9;\"/></testcase></testsuite>\n";
  ParseOutput out;
  ParseJUnit(xml, "lolz.xml", &out);
  for (const TestResult& r : out.results) EXPECT_LT(r.reason.size(), 100u) << Dump(r);
  ASSERT_EQ(out.results.size(), 1u) << Dump(out);
  EXPECT_EQ(out.results[0].status, "FAIL");
}

TEST(HostileJUnit, ExternalEntitiesAreNeverRead) {
  std::string xml =
      "<?xml version=\"1.0\"?>\n"
      "<!DOCTYPE t [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> ]>\n"
      "<testsuite name=\"s\"><testcase classname=\"c\" name=\"xxe\">"
      "<failure message=\"&xxe;\">&xxe;</failure></testcase></testsuite>\n";
  ParseOutput out;
  ParseJUnit(xml, "xxe.xml", &out);
  std::string all = Dump(out);
  EXPECT_EQ(all.find("root:"), std::string::npos) << all;
}

TEST(HostileDir, ResultsBeyondTheLimitLeaveLaterFilesUnparsed) {
  labmesh::testing::TempDir tmp;
  std::string half = Repeat("ok\n", kMaxResults / 2 + 100);
  Write(tmp.path() + "/a.tap", "1..50100\n" + half);
  Write(tmp.path() + "/b.tap", "1..50100\n" + half);
  Write(tmp.path() + "/c.tap", "1..1\nok 1\n");
  Write(tmp.path() + "/d/keyval", "k=1\n");  // would be a keyval-only result
  ParseOutput out = ParseResultsDir(tmp.path());
  EXPECT_LE(out.results.size(), kMaxResults + 1);
  EXPECT_TRUE(HasWarning(out, "b.tap: line 49902: more than 100000 results")) << Dump(out);
  EXPECT_TRUE(HasWarning(out, "1 files not parsed: more than 100000 results")) << Dump(out);
  EXPECT_TRUE(HasWarning(out, "d/keyval: more than 100000 results")) << Dump(out);
}

TEST(HostileDir, FifoNamedLikeAResultFileIsNeverOpened) {
  labmesh::testing::TempDir tmp;
  Write(tmp.path() + "/ok.tap", "1..1\nok 1\n");
  ASSERT_EQ(mkfifo((tmp.path() + "/status.log").c_str(), 0600), 0);
  ASSERT_EQ(mkfifo((tmp.path() + "/pipe.tap").c_str(), 0600), 0);
  // Would block forever in open() if the walk tried to read it.
  ParseOutput out = ParseResultsDir(tmp.path());
  EXPECT_EQ(out.results.size(), 1u) << Dump(out);
  EXPECT_TRUE(HasWarning(out, "status.log: not a regular file, not read")) << Dump(out);
  EXPECT_TRUE(HasWarning(out, "pipe.tap: not a regular file, not read")) << Dump(out);
}

TEST(HostileNames, MarkupAndEscapesAreKeptAsTextWithoutControlCharacters) {
  ParseOutput out;
  ParseTap("1..1\nok 1 <img src=x onerror=\"window.__pwned=1\"> \x1b[31mred\x1b[0m\n", "x.tap",
           &out);
  ASSERT_EQ(out.results.size(), 1u);
  // Stored as the text it is (the page and the CLI show it inert); names carry no control
  // characters at all.
  EXPECT_NE(out.results[0].test.find("<img src=x onerror="), std::string::npos);
  EXPECT_EQ(out.results[0].test.find('\x1b'), std::string::npos) << out.results[0].test;
}

}  // namespace
}  // namespace labmesh::parsers
