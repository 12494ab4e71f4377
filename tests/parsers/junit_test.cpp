// ParseJUnit on what GoogleTest, pytest, Maven Surefire and ctest write, and on broken XML.

#include <gtest/gtest.h>

#include "labmesh/parsers/parsers.hpp"
#include "samples.hpp"

namespace labmesh::parsers {
namespace {

using samples::CountStatus;
using samples::Dump;
using samples::Find;
using samples::Names;

TEST(JUnit, GoogleTest) {
  ParseOutput out;
  EXPECT_TRUE(ParseJUnit(samples::kJUnitGoogleTest, "reports/unit.xml", &out));
  EXPECT_TRUE(out.warnings.empty()) << Dump(out);
  EXPECT_EQ(Names(out),
            (std::vector<std::string>{"MathTest.Adds", "MathTest.Divides", "MathTest.NeedsGpu",
                                      "MathTest.DISABLED_Slow", "Params/ParamTest.Works/0"}));
  EXPECT_EQ(Find(out, "MathTest.Adds").status, "GOOD");
  EXPECT_EQ(Find(out, "MathTest.Adds").duration_us, 1000);
  EXPECT_EQ(Find(out, "MathTest.Adds").start_us, 0) << "a timestamp without a zone is unknown";
  EXPECT_EQ(Find(out, "MathTest.Adds").file, "reports/unit.xml");
  const TestResult& divides = Find(out, "MathTest.Divides");
  EXPECT_EQ(divides.status, "FAIL");
  EXPECT_EQ(divides.reason,
            "math_test.cc:11\nExpected equality of these values:\n  Divide(6, 3)\n    Which is: "
            "3\n  2");
  EXPECT_EQ(Find(out, "MathTest.NeedsGpu").status, "TEST_NA");
  EXPECT_EQ(Find(out, "MathTest.NeedsGpu").reason, "math_test.cc:15\nno GPU");
  EXPECT_EQ(Find(out, "MathTest.DISABLED_Slow").status, "TEST_NA");
  EXPECT_EQ(Find(out, "MathTest.DISABLED_Slow").reason, "disabled");
  EXPECT_EQ(Find(out, "Params/ParamTest.Works/0").status, "GOOD");
}

TEST(JUnit, Pytest) {
  ParseOutput out;
  EXPECT_TRUE(ParseJUnit(samples::kJUnitPytest, "junit.xml", &out));
  EXPECT_TRUE(out.warnings.empty()) << Dump(out);
  ASSERT_EQ(out.results.size(), 6u) << Dump(out);
  EXPECT_EQ(Find(out, "tests.test_math.test_add").status, "GOOD");
  EXPECT_EQ(Find(out, "tests.test_math.test_sub").status, "FAIL");
  EXPECT_EQ(Find(out, "tests.test_math.test_sub").reason, "assert 1 == 2");
  EXPECT_EQ(Find(out, "tests.test_math.test_sub").duration_us, 2000);
  EXPECT_EQ(Find(out, "tests.test_math.test_skip").status, "TEST_NA");
  EXPECT_EQ(Find(out, "tests.test_math.test_skip").reason, "not on linux");
  EXPECT_EQ(Find(out, "tests.test_math.test_xfail").status, "TEST_NA");
  EXPECT_EQ(Find(out, "tests.test_math.TestClass.test_param[1-2]").status, "GOOD");
  EXPECT_EQ(Find(out, "tests.test_math.test_db").status, "ERROR");
  EXPECT_EQ(Find(out, "tests.test_math.test_db").reason,
            "failed on setup with \"RuntimeError: no database\"");
}

TEST(JUnit, MavenSurefire) {
  ParseOutput out;
  EXPECT_TRUE(ParseJUnit(samples::kJUnitSurefire, "target/surefire-reports/TEST-x.xml", &out));
  EXPECT_TRUE(out.warnings.empty()) << Dump(out);
  ASSERT_EQ(out.results.size(), 5u) << Dump(out);
  EXPECT_EQ(Find(out, "com.example.CalculatorTest.addsNumbers").status, "GOOD");
  const TestResult& divides = Find(out, "com.example.CalculatorTest.divides");
  EXPECT_EQ(divides.status, "FAIL");
  EXPECT_EQ(divides.reason, "expected: <2> but was: <3>");
  EXPECT_EQ(divides.duration_us, 1234500000) << "old Surefire's 1,234.5 seconds";
  EXPECT_EQ(Find(out, "com.example.CalculatorTest.nullInput").status, "ERROR");
  EXPECT_EQ(Find(out, "com.example.CalculatorTest.slowPath").status, "TEST_NA");
  EXPECT_EQ(Find(out, "com.example.CalculatorTest.slowPath").reason, "not ready yet");
  const TestResult& flaky = Find(out, "com.example.CalculatorTest.sometimes");
  EXPECT_EQ(flaky.status, "GOOD");
  EXPECT_EQ(flaky.reason, "flaky, passed on a rerun: timeout");
}

TEST(JUnit, Ctest) {
  ParseOutput out;
  EXPECT_TRUE(ParseJUnit(samples::kJUnitCtest, "ctest.xml", &out));
  EXPECT_TRUE(out.warnings.empty()) << Dump(out);
  // ctest's classname equals the name: the test is named once.
  EXPECT_EQ(Names(out),
            (std::vector<std::string>{"passes", "fails", "skipme", "disabled", "missing"}));
  EXPECT_EQ(Find(out, "passes").status, "GOOD");
  EXPECT_EQ(Find(out, "passes").duration_us, 2671);
  EXPECT_EQ(Find(out, "fails").status, "FAIL");
  EXPECT_EQ(Find(out, "skipme").status, "TEST_NA");
  EXPECT_EQ(Find(out, "skipme").reason, "SKIP_RETURN_CODE=77");
  EXPECT_EQ(Find(out, "disabled").status, "TEST_NA");
  EXPECT_EQ(Find(out, "disabled").reason, "disabled");
  EXPECT_EQ(Find(out, "missing").status, "ERROR") << "ctest counts Not Run as a failure";
  EXPECT_EQ(Find(out, "missing").reason, "Unable to find executable");
}

TEST(JUnit, NestedSuitesNameCasesWithoutClassnameAndZonedTimestamps) {
  ParseOutput out;
  EXPECT_TRUE(ParseJUnit(samples::kJUnitNested, "n.xml", &out));
  EXPECT_EQ(Names(out), (std::vector<std::string>{"outer/inner.deep", "outer.shallow"}));
  const TestResult& deep = Find(out, "outer/inner.deep");
  EXPECT_EQ(deep.start_us, 1714557600500000);  // 2024-05-01T10:00:00.5Z
  EXPECT_EQ(deep.duration_us, 500000);
  EXPECT_EQ(deep.end_us, 1714557601000000);
  EXPECT_EQ(Find(out, "outer.shallow").duration_us, 2000000);
}

TEST(JUnit, TimestampWithOffset) {
  ParseOutput out;
  EXPECT_TRUE(ParseJUnit(R"(<testsuite name="s"><testcase classname="c" name="n" time="1"
      timestamp="2024-05-01T12:00:00+02:00"/></testsuite>)",
                         "t.xml", &out));
  ASSERT_EQ(out.results.size(), 1u);
  EXPECT_EQ(out.results[0].start_us, 1714557600000000);
  EXPECT_EQ(out.results[0].test, "c.n");
}

TEST(JUnit, TruncatedXmlWarnsAndGivesNoResults) {
  const std::string& full = samples::kJUnitGoogleTest;
  for (size_t cut : {full.size() / 2, full.size() - 20, size_t{60}}) {
    ParseOutput out;
    EXPECT_TRUE(ParseJUnit(full.substr(0, cut), "unit.xml", &out)) << cut;
    EXPECT_TRUE(out.results.empty()) << cut << "\n" << Dump(out);
    ASSERT_EQ(out.warnings.size(), 1u) << cut;
    EXPECT_NE(out.warnings[0].find("unit.xml: line "), std::string::npos) << out.warnings[0];
    EXPECT_NE(out.warnings[0].find("malformed JUnit XML"), std::string::npos) << out.warnings[0];
  }
}

TEST(JUnit, OtherXmlIsIgnoredSilently) {
  for (const char* xml :
       {"<?xml version=\"1.0\"?><project><modelVersion>4.0.0</modelVersion></project>",
        "<html><body><p>unclosed", "", "not xml at all"}) {
    ParseOutput out;
    EXPECT_FALSE(ParseJUnit(xml, "pom.xml", &out)) << xml;
    EXPECT_TRUE(out.results.empty());
    EXPECT_TRUE(out.warnings.empty()) << xml;
  }
}

TEST(JUnit, BadAttributesWarnButTheCaseCounts) {
  ParseOutput out;
  EXPECT_TRUE(
      ParseJUnit(R"(<testsuites><testsuite name="s"><testcase classname="c" time="soon"/>)"
                 R"(<testcase classname="c" name="ok" time="-1"/></testsuite></testsuites>)",
                 "t.xml", &out));
  EXPECT_EQ(Names(out), (std::vector<std::string>{"c.(unnamed)", "c.ok"}));
  EXPECT_EQ(CountStatus(out, "GOOD"), 2u);
  ASSERT_EQ(out.warnings.size(), 3u) << Dump(out);
  EXPECT_EQ(out.warnings[0], "t.xml: line 1: testcase without a name");
}

TEST(JUnit, Utf16DocumentIsRead) {
  std::string utf8 = R"(<testsuite name="s"><testcase classname="c" name="é"/></testsuite>)";
  std::string utf16 = "\xFF\xFE";  // UTF-16LE with a BOM; every character here is one unit
  for (size_t i = 0; i < utf8.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(utf8[i]);
    if (c == 0xC3) {  // "é" is C3 A9 in UTF-8, U+00E9
      utf16 += '\xE9';
      utf16 += '\0';
      ++i;
      continue;
    }
    utf16 += static_cast<char>(c);
    utf16 += '\0';
  }
  ParseOutput out;
  EXPECT_TRUE(ParseJUnit(utf16, "t.xml", &out));
  ASSERT_EQ(out.results.size(), 1u) << Dump(out);
  EXPECT_EQ(out.results[0].test, "c.\xC3\xA9");
}

}  // namespace
}  // namespace labmesh::parsers
