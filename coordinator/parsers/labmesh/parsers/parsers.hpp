#pragma once
// The result-file parsers of the analysis backend (issue 8): Autotest status.log, keyval files,
// JUnit XML and TAP, turned into one list of TestResult per results directory.
//
// Pure functions of their input: no store, no sockets, no clock, no logging, no globals, so any
// thread may call them at the same time (the coordinator calls ParseResultsDir on its results
// worker). Malformed input never throws and never crashes: it becomes a line in
// ParseOutput::warnings ("path: line N: what was wrong"), and everything else in the file that
// can be read is still returned. docs/results-parsers.md describes the formats and decisions.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace labmesh::parsers {

// Autotest's status vocabulary, the only values TestResult::status takes.
inline constexpr std::string_view kGood = "GOOD";
inline constexpr std::string_view kFail = "FAIL";
inline constexpr std::string_view kError = "ERROR";
inline constexpr std::string_view kAbort = "ABORT";
inline constexpr std::string_view kWarn = "WARN";
inline constexpr std::string_view kTestNa = "TEST_NA";

// Limits. Text beyond them is cut (at a UTF-8 character boundary) and marked with "...".
inline constexpr size_t kMaxReasonBytes = 4096;
inline constexpr size_t kMaxNameBytes = 1024;
inline constexpr size_t kMaxValueBytes = 4096;       // one keyval value
inline constexpr uint64_t kMaxFileBytes = 64 << 20;  // larger files are skipped with a warning
inline constexpr size_t kMaxWarningsPerFile = 50;    // then one "further warnings suppressed"
inline constexpr int kMaxNesting = 64;  // deeper status.log groups / TAP subtests / suites
// Bounds on what hostile results can make a parse hold in memory or cost in time (issue 20,
// docs/results-parsers.md "Limits"): each cut adds one warning saying what was not read.
inline constexpr size_t kMaxLinesPerFile = 1'000'000;  // status.log, TAP, keyval: the rest is not read
inline constexpr size_t kMaxResults = 100'000;    // per ParseOutput (one entry's directory)
inline constexpr size_t kMaxKeyvalKeys = 10'000;  // distinct keys of one keyval file
inline constexpr size_t kMaxDirEntries = 100'000;  // files and directories walked below `dir`

// One test result. Every string is valid UTF-8 (invalid bytes become U+FFFD), so it can go
// into JSON as it is.
struct TestResult {
  // Full name, nested with '/':
  //   status.log: "outer/inner" (the testname field, or the subdir when testname is "----");
  //   JUnit: "classname.name" ("name" alone when classname is empty or equal to name);
  //   TAP: "<file>/<N> <description>" ("<file>/<N>" without description), subtests below
  //        their parent: "t.tap/2 parent/1 child".
  std::string test;
  std::string status;       // one of GOOD FAIL ERROR ABORT WARN TEST_NA
  std::string reason;       // failure message / reason text, may be empty (<= kMaxReasonBytes)
  int64_t start_us = 0;     // microseconds since the epoch; 0 when unknown
  int64_t end_us = 0;       // 0 when unknown
  int64_t duration_us = 0;  // end - start, or the file's own time attribute; 0 when unknown
  std::map<std::string, std::string> keyvals;  // plain key=value
  std::map<std::string, double> perf;          // key{perf}=value
  std::string file;  // the source file, relative to the entry's results dir
  // status.log only: the subdir field ("" for "----"); keyval files in <dir of status.log>/
  // <subdir>/keyval attach to this result.
  std::string subdir;
};

struct ParseOutput {
  std::vector<TestResult> results;
  std::vector<std::string> warnings;  // "path: line N: what was wrong"
};

// Parses every recognised file under `dir` (an entry's results directory):
//   - every file named `status.log`;
//   - every file named `keyval` in a subdirectory (`<test>/keyval`; a top-level `keyval` is the
//     entry's own and is ignored), merged into the matching result (see below);
//   - every `*.xml` whose root element is <testsuites> or <testsuite> (other XML is ignored
//     silently; XML that fails to parse warns only when it starts like JUnit);
//   - every `*.tap`.
// Results come sorted by file path (byte order), then in file order, so two parses of the same
// tree give identical output. No symbolic link is followed, anywhere below `dir` (each one is
// skipped with a warning); a recognised file larger than kMaxFileBytes is skipped with a
// warning; directories deeper than kMaxNesting are not entered.
//
// A keyval file at `P/keyval` attaches to, in this order of preference (first rule that
// matches any result wins, and then to every result it matches):
//   1. results of a status.log in directory D whose subdir field gives D/subdir == P;
//   2. results whose directory of `file` joined with the full test name == P
//      (`labmesh-test run NAME` + `labmesh-test keyval NAME ...` gives NAME/keyval);
//   3. the single result whose last name component equals the last component of P.
// When nothing matches, the keyvals are not dropped: a result named P is created with status
// TEST_NA, reason "keyvals only: no test result named P", file "P/keyval".
ParseOutput ParseResultsDir(const std::string& dir);

// One parser per format; each appends its results and warnings to `out` and never throws.
// `file` is the path used in TestResult::file and in warnings.

// Autotest status.log (docs/results-parsers.md: nesting, END wins, START without END is ABORT).
void ParseStatusLog(std::string_view text, const std::string& file, ParseOutput* out);

// JUnit XML (GoogleTest, pytest, Maven Surefire, ctest). Returns false, adding nothing, for a
// document that is not JUnit: its root is not <testsuites> or <testsuite>, or it is broken XML
// that does not look like JUnit. A JUnit document that fails to parse adds one warning and no
// results (and returns true).
bool ParseJUnit(std::string_view text, const std::string& file, ParseOutput* out);

// TAP 12, 13 and 14 (plans, directives, YAML diagnostics, subtests, bail out).
void ParseTap(std::string_view text, const std::string& file, ParseOutput* out);

// The content of one keyval file: lines `key=value`, `key{perf}=number`, `key{attr}=value`,
// `#` comments; blank lines separate iterations. With one iteration the keys are stored as
// they are. With several, every value is stored as "iteration<N>/<key>" (N from 1), the plain
// key holds the value of the last iteration that set it, and keyvals["iterations"] = N.
struct Keyvals {
  std::map<std::string, std::string> keyvals;
  std::map<std::string, double> perf;
};
// Malformed lines (no '=', empty key, unknown {type}, non-numeric or non-finite perf value)
// are skipped with a warning appended to `warnings`.
Keyvals ParseKeyval(std::string_view text, const std::string& file,
                    std::vector<std::string>* warnings);

// ---- crashes (docs/kernel-lab.md "Crash collection") ----

// The kernel's words for a crash, most telling first: "Kernel panic", "BUG:", "Oops",
// "general protection fault" (not a user process's "traps: ... general protection fault"),
// "hard LOCKUP".
// The first line of `text` holding the most telling of them (trimmed, valid UTF-8, at most
// kMaxReasonBytes), or "" when none does.
std::string FindCrashLine(std::string_view text);

// The crash line of an entry's results directory `dir`: FindCrashLine over the regular files
// below dir/crashinfo/ but its processes.txt, df.txt and sources.txt (sorted by path; no
// symbolic link followed; at most 64 files and the last 8 MiB of each), the most telling
// pattern across them winning. "" when there is none or
// no crashinfo/.
std::string FindCrashInfoLine(const std::string& dir);

}  // namespace labmesh::parsers
