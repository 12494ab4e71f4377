#pragma once
// Result files as the tools write them, shared by the parser tests and the fuzz test, plus a
// few helpers to look at ParseOutput in assertions.

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "labmesh/parsers/parsers.hpp"

namespace labmesh::parsers::samples {

// An Autotest client job: an anonymous group holding a passing test, a group whose child
// fails while its END says GOOD, and an INFO line.
inline const std::string kStatusLogNested =
    "START\t----\t----\ttimestamp=1700000000\tlocaltime=Nov 14 22:13:20\t\n"
    "\tSTART\tsleeptest\tsleeptest\ttimestamp=1700000001\tlocaltime=Nov 14 22:13:21\t\n"
    "\t\tGOOD\tsleeptest\tsleeptest\ttimestamp=1700000011\tlocaltime=Nov 14 22:13:31\t"
    "completed successfully\n"
    "\tEND GOOD\tsleeptest\tsleeptest\ttimestamp=1700000011\tlocaltime=Nov 14 22:13:31\t\n"
    "\tSTART\tsuite\tsuite\ttimestamp=1700000020\tlocaltime=Nov 14 22:13:40\t\n"
    "\t\tSTART\tsuite/a\ta\ttimestamp=1700000021\tlocaltime=Nov 14 22:13:41\t\n"
    "\t\t\tFAIL\tsuite/a\ta\ttimestamp=1700000022\tlocaltime=Nov 14 22:13:42\t"
    "assertion failed: x == 1\n"
    "\t\tEND FAIL\tsuite/a\ta\ttimestamp=1700000022\tlocaltime=Nov 14 22:13:42\t\n"
    "\t\tGOOD\t----\tb\ttimestamp=1700000023\tlocaltime=Nov 14 22:13:43\tb passed\n"
    "\t\tWARN\t----\tc\ttimestamp=1700000024\tlocaltime=Nov 14 22:13:44\tslow\n"
    "\tEND GOOD\tsuite\tsuite\ttimestamp=1700000030\tlocaltime=Nov 14 22:13:50\t\n"
    "\tINFO\t----\t----\tkernel=6.1.0\tjob info line\n"
    "END GOOD\t----\t----\ttimestamp=1700000031\tlocaltime=Nov 14 22:13:51\t\n";

// A log cut off by a crash: two groups opened, never ended.
inline const std::string kStatusLogCrashed =
    "START\t----\tboot_test\ttimestamp=1700000100\tlocaltime=Nov 14 22:15:00\n"
    "\tSTART\t----\tinner\ttimestamp=1700000101\tlocaltime=Nov 14 22:15:01\n"
    "\t\tGOOD\t----\tstep1\ttimestamp=1700000102\tlocaltime=Nov 14 22:15:02\tok\n";

inline const std::string kKeyvalIterations =
    "# written by the benchmark\n"
    "throughput{perf}=123.5\n"
    "latency_ms{perf}=4\n"
    "kernel=6.1.0\n"
    "build{attr}=abc123\n"
    "\n"
    "throughput{perf}=130\n"
    "latency_ms{perf}=3.5\n";

// GoogleTest 1.12 --gtest_output=xml: a pass, a failure, a GTEST_SKIP, a DISABLED_ test and a
// value-parameterised test.
inline const std::string kJUnitGoogleTest = R"xml(<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="5" failures="1" disabled="1" errors="0" time="0.012" timestamp="2024-05-01T10:00:00.000" name="AllTests">
  <testsuite name="MathTest" tests="4" failures="1" disabled="1" skipped="1" errors="0" time="0.01" timestamp="2024-05-01T10:00:00.001">
    <testcase name="Adds" file="math_test.cc" line="5" status="run" result="completed" time="0.001" timestamp="2024-05-01T10:00:00.001" classname="MathTest" />
    <testcase name="Divides" file="math_test.cc" line="9" status="run" result="completed" time="0.002" timestamp="2024-05-01T10:00:00.002" classname="MathTest">
      <failure message="math_test.cc:11&#x0A;Expected equality of these values:&#x0A;  Divide(6, 3)&#x0A;    Which is: 3&#x0A;  2" type=""><![CDATA[math_test.cc:11
Expected equality of these values:
  Divide(6, 3)
    Which is: 3
  2]]></failure>
    </testcase>
    <testcase name="NeedsGpu" file="math_test.cc" line="14" status="run" result="skipped" time="0" timestamp="2024-05-01T10:00:00.004" classname="MathTest">
      <skipped message="math_test.cc:15&#x0A;no GPU"><![CDATA[math_test.cc:15
no GPU]]></skipped>
    </testcase>
    <testcase name="DISABLED_Slow" file="math_test.cc" line="18" status="notrun" result="suppressed" time="0" timestamp="2024-05-01T10:00:00.004" classname="MathTest" />
  </testsuite>
  <testsuite name="Params/ParamTest" tests="1" failures="0" disabled="0" skipped="0" errors="0" time="0" timestamp="2024-05-01T10:00:00.005">
    <testcase name="Works/0" value_param="1" file="math_test.cc" line="25" status="run" result="completed" time="0" timestamp="2024-05-01T10:00:00.005" classname="Params/ParamTest" />
  </testsuite>
</testsuites>
)xml";

// pytest 8 --junitxml: failure, skip, xfail, error in a fixture, a parametrised test.
inline const std::string kJUnitPytest =
    R"xml(<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="1" skipped="2" tests="6" time="0.050" timestamp="2024-05-01T10:00:00.123456+00:00" hostname="lab-1"><testcase classname="tests.test_math" name="test_add" time="0.001" /><testcase classname="tests.test_math" name="test_sub" time="0.002"><failure message="assert 1 == 2">def test_sub():
&gt;       assert 1 == 2
E       assert 1 == 2

tests/test_math.py:5: AssertionError</failure></testcase><testcase classname="tests.test_math" name="test_skip" time="0.000"><skipped type="pytest.skip" message="not on linux">tests/test_math.py:8: not on linux</skipped></testcase><testcase classname="tests.test_math" name="test_xfail" time="0.001"><skipped type="pytest.xfail" message="known bug 12" /></testcase><testcase classname="tests.test_math.TestClass" name="test_param[1-2]" time="0.001" /><testcase classname="tests.test_math" name="test_db" time="0.000"><error message="failed on setup with &quot;RuntimeError: no database&quot;">@pytest.fixture
def db():
&gt;   raise RuntimeError("no database")
E   RuntimeError: no database</error></testcase></testsuite></testsuites>
)xml";

// Maven Surefire 3 TEST-*.xml: root <testsuite>, properties, failure, error, skip, a flaky test
// that passed on a rerun, and the old "1,234.5" time format.
inline const std::string kJUnitSurefire = R"xml(<?xml version="1.0" encoding="UTF-8"?>
<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="https://maven.apache.org/surefire/maven-surefire-plugin/xsd/surefire-test-report-3.0.xsd" version="3.0" name="com.example.CalculatorTest" time="1,234.567" tests="5" errors="1" skipped="1" failures="1">
  <properties>
    <property name="java.version" value="17.0.9"/>
    <property name="os.name" value="Linux"/>
  </properties>
  <testcase name="addsNumbers" classname="com.example.CalculatorTest" time="0.004"/>
  <testcase name="divides" classname="com.example.CalculatorTest" time="1,234.5">
    <failure message="expected: &lt;2&gt; but was: &lt;3&gt;" type="org.opentest4j.AssertionFailedError"><![CDATA[org.opentest4j.AssertionFailedError: expected: <2> but was: <3>
	at com.example.CalculatorTest.divides(CalculatorTest.java:21)
]]></failure>
    <system-out><![CDATA[dividing 6 by 3]]></system-out>
  </testcase>
  <testcase name="nullInput" classname="com.example.CalculatorTest" time="0.002">
    <error message="Cannot invoke &quot;String.length()&quot; because &quot;s&quot; is null" type="java.lang.NullPointerException"><![CDATA[java.lang.NullPointerException
	at com.example.Calculator.parse(Calculator.java:40)
]]></error>
  </testcase>
  <testcase name="slowPath" classname="com.example.CalculatorTest" time="0">
    <skipped message="not ready yet"/>
  </testcase>
  <testcase name="sometimes" classname="com.example.CalculatorTest" time="0.01">
    <flakyFailure message="timeout" type="java.util.concurrent.TimeoutException"><![CDATA[java.util.concurrent.TimeoutException]]></flakyFailure>
  </testcase>
</testsuite>
)xml";

// ctest 3.25 --output-junit, as written for: pass, fail, SKIP_RETURN_CODE, DISABLED, and a
// missing executable (ctest's "Not Run", which ctest counts as a failure).
inline const std::string kJUnitCtest = R"xml(<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="(empty)"
	tests="5"
	failures="1"
	disabled="1"
	skipped="2"
	hostname=""
	time="0"
	timestamp="2024-05-01T10:00:00"
	>
	<testcase name="passes" classname="passes" time="0.0026707" status="run">
		<system-out></system-out>
	</testcase>
	<testcase name="fails" classname="fails" time="0.00264401" status="fail">
		<failure message=""/>
		<system-out></system-out>
	</testcase>
	<testcase name="skipme" classname="skipme" time="0.00229326" status="notrun">
		<skipped message="SKIP_RETURN_CODE=77"/>
		<system-out>skipping
</system-out>
	</testcase>
	<testcase name="disabled" classname="disabled" time="0" status="disabled">
		<system-out>Disabled</system-out>
	</testcase>
	<testcase name="missing" classname="missing" time="0" status="notrun">
		<skipped message="Unable to find executable"/>
		<system-out>Unable to find executable: /nonexistent/bin</system-out>
	</testcase>
</testsuite>
)xml";

// Nested suites without classnames, and a timestamp with a zone.
inline const std::string kJUnitNested = R"xml(<?xml version="1.0"?>
<testsuites name="all">
  <testsuite name="outer">
    <testsuite name="inner">
      <testcase name="deep" time="0.5" timestamp="2024-05-01T10:00:00.5Z"/>
    </testsuite>
    <testcase name="shallow" time="2"/>
  </testsuite>
</testsuites>
)xml";

// TAP 13: YAML diagnostics, SKIP, TODO both ways, an escaped '#'.
inline const std::string kTapBasic =
    "TAP version 13\n"
    "1..6\n"
    "ok 1 - connects\n"
    "not ok 2 - reads config\n"
    "  ---\n"
    "  message: 'expected 3, got 4'\n"
    "  severity: fail\n"
    "  data:\n"
    "    got: 4\n"
    "    expect: 3\n"
    "  ...\n"
    "ok 3 - optional feature # SKIP no network\n"
    "not ok 4 - future thing # TODO not written yet\n"
    "ok 5 - known bug fixed # TODO bug 123\n"
    "ok 6 escaped \\# hash in name\n"
    "# all done\n";

// TAP 14 subtests: "# Subtest:" at the child's indentation, two levels, YAML in a subtest.
inline const std::string kTapSubtests =
    "TAP version 14\n"
    "1..3\n"
    "    # Subtest: parser\n"
    "    1..2\n"
    "    ok 1 - parses empty\n"
    "    not ok 2 - parses nested\n"
    "      ---\n"
    "      message: |\n"
    "        line one\n"
    "        line two\n"
    "      duration_ms: 12.5\n"
    "      ...\n"
    "not ok 1 - parser\n"
    "    # Subtest: writer\n"
    "    1..1\n"
    "        # Subtest: files\n"
    "        1..1\n"
    "        ok 1 - writes a file\n"
    "    ok 1 - files\n"
    "ok 2 - writer\n"
    "ok 3 - last\n";

inline const std::string kTapBailOut =
    "TAP version 13\n"
    "1..5\n"
    "ok 1 - setup\n"
    "not ok 2 - mount\n"
    "Bail out! cannot mount /dev/sdb1\n"
    "ok 3 - never seen\n";

inline const std::string kTapMalformed =
    "1..3\n"
    "ok 1\n"
    "ok 1 - again\n"
    "ok 5 - ahead\n"
    "this is not TAP at all\n"
    "not ok 6 - yaml never closed\n"
    "  ---\n"
    "  message: boom\n";

// Every sample, for the fuzz test.
inline std::vector<std::string> AllSamples() {
  return {kStatusLogNested, kStatusLogCrashed, kKeyvalIterations, kJUnitGoogleTest,
          kJUnitPytest,     kJUnitSurefire,    kJUnitCtest,       kJUnitNested,
          kTapBasic,        kTapSubtests,      kTapBailOut,       kTapMalformed};
}

// The one result named `test`, or a failed assertion.
inline const TestResult& Find(const ParseOutput& out, std::string_view test) {
  static const TestResult kMissing;
  for (const TestResult& r : out.results) {
    if (r.test == test) return r;
  }
  ADD_FAILURE() << "no result named '" << test << "'";
  return kMissing;
}

inline std::vector<std::string> Names(const ParseOutput& out) {
  std::vector<std::string> names;
  for (const TestResult& r : out.results) names.push_back(r.test);
  return names;
}

inline size_t CountStatus(const ParseOutput& out, std::string_view status) {
  size_t n = 0;
  for (const TestResult& r : out.results) n += r.status == status;
  return n;
}

// Everything in a result, for comparing two parses and for readable failures.
inline std::string Dump(const TestResult& r) {
  std::string s = r.test + " | " + r.status + " | " + r.reason + " | " +
                  std::to_string(r.start_us) + " | " + std::to_string(r.end_us) + " | " +
                  std::to_string(r.duration_us) + " | " + r.file + " | " + r.subdir + " |";
  for (const auto& [k, v] : r.keyvals) s += " " + k + "=" + v;
  for (const auto& [k, v] : r.perf) s += " " + k + "{perf}=" + std::to_string(v);
  return s;
}

inline std::string Dump(const ParseOutput& out) {
  std::string s;
  for (const TestResult& r : out.results) s += Dump(r) + "\n";
  for (const std::string& w : out.warnings) s += "warning: " + w + "\n";
  return s;
}

}  // namespace labmesh::parsers::samples
