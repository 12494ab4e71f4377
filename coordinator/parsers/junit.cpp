// JUnit XML as GoogleTest (--gtest_output=xml), pytest (--junitxml), Maven Surefire and ctest
// (--output-junit) write it, read with pugixml. See docs/results-parsers.md ("JUnit XML").
//
// Status of a <testcase>, first rule that applies:
//   any <error>                                   -> ERROR
//   any <failure>                                 -> FAIL
//   ctest "Not Run" (status="notrun", <skipped> whose message is not SKIP_...) -> ERROR
//   <skipped>, status="notrun"|"disabled", result="skipped"|"suppressed"      -> TEST_NA
//   status="fail" (ctest) / status="error"       -> FAIL / ERROR
//   otherwise                                     -> GOOD

#include <cstdlib>
#include <ctime>
#include <pugixml.hpp>

#include "labmesh/parsers/parsers.hpp"
#include "parse_util.hpp"

namespace labmesh::parsers {
namespace {

using internal::CapUtf8;
using internal::StartsWith;
using internal::Trim;
using internal::Warnings;

class JUnitReader {
 public:
  JUnitReader(std::string_view text, const std::string& file, Warnings* warn,
              std::vector<TestResult>* results, size_t room)
      : text_(text), file_(file), warn_(warn), results_(results), room_(room) {}

  void Suite(const pugi::xml_node& suite, const std::string& path, int depth) {
    if (depth > kMaxNesting) {
      warn_->Add(LineOf(suite), "test suites nested deeper than " + std::to_string(kMaxNesting) +
                                    "; the rest is skipped");
      return;
    }
    for (pugi::xml_node child : suite.children()) {
      std::string_view name = child.name();
      if (name == "testsuite" || name == "testsuites") {
        std::string suite_name(Trim(child.attribute("name").value()));
        std::string child_path = path;
        if (name == "testsuite" && !suite_name.empty()) {
          child_path = path.empty() ? suite_name : path + "/" + suite_name;
        }
        Suite(child, child_path, depth + 1);
      } else if (name == "testcase") {
        if (results_->size() >= room_) {
          if (!full_) warn_->Add(LineOf(child, true), internal::ResultsCutWarning(), true);
          full_ = true;
          return;
        }
        Case(child, path);
      }
    }
  }

  // The line of `node` for a warning; 0 once warnings are only counted (it costs a scan of
  // the text up to the node, which a file of a million bad testcases would repeat each time).
  size_t LineOf(const pugi::xml_node& node, bool always = false) const {
    if (warn_->Full() && !always) return 0;
    ptrdiff_t offset = node.offset_debug();
    if (offset < 0 || static_cast<size_t>(offset) > text_.size()) return 0;
    return LineAtOffset(text_, static_cast<size_t>(offset));
  }

  static size_t LineAtOffset(std::string_view text, size_t offset) {
    size_t line = 1;
    for (size_t i = 0; i < offset && i < text.size(); ++i) line += text[i] == '\n';
    return line;
  }

 private:
  // The message attribute, or else the element's text.
  static std::string Message(const pugi::xml_node& node) {
    std::string_view message = Trim(node.attribute("message").value());
    if (message.empty()) message = Trim(node.text().get());
    return std::string(message);
  }

  static void AppendReason(std::string* reason, const std::string& more) {
    if (more.empty() || reason->size() >= kMaxReasonBytes) return;
    if (!reason->empty()) *reason += '\n';
    *reason += more;
  }

  void Case(const pugi::xml_node& tc, const std::string& suite_path) {
    TestResult r;
    r.file = file_;
    std::string name(Trim(tc.attribute("name").value()));
    if (name.empty()) {
      warn_->Add(LineOf(tc), "testcase without a name");
      name = "(unnamed)";
    }
    std::string classname(Trim(tc.attribute("classname").value()));
    if (classname.empty()) classname = Trim(tc.attribute("class").value());
    std::string prefix = classname.empty() ? suite_path : classname;
    r.test = prefix.empty() || prefix == name ? name : prefix + "." + name;

    if (pugi::xml_attribute time = tc.attribute("time")) {
      std::string seconds_text;
      for (char c : std::string_view(time.value())) {
        if (c != ',') seconds_text += c;  // old Surefire wrote "1,234.5"
      }
      double seconds = 0;
      if (!internal::ParseDouble(Trim(seconds_text), &seconds) ||
          !internal::SecondsToMicros(seconds, &r.duration_us)) {
        warn_->Add(LineOf(tc), "testcase '" + CapUtf8(r.test, 80) + "': bad time '" +
                                   CapUtf8(time.value(), 40) + "'");
      }
    }
    if (ParseIsoTimestamp(tc.attribute("timestamp").value(), &r.start_us)) {
      r.end_us = r.start_us + r.duration_us;
    }

    std::string_view status_attr = tc.attribute("status").value();
    std::string_view result_attr = tc.attribute("result").value();
    std::string errors, failures, skipped, flaky;
    bool has_error = false, has_failure = false, has_skipped = false;
    for (pugi::xml_node child : tc.children()) {
      std::string_view kind = child.name();
      if (kind == "error") {
        has_error = true;
        AppendReason(&errors, Message(child));
      } else if (kind == "failure") {
        has_failure = true;
        AppendReason(&failures, Message(child));
      } else if (kind == "skipped") {
        has_skipped = true;
        AppendReason(&skipped, Message(child));
      } else if (kind == "flakyFailure" || kind == "flakyError") {
        AppendReason(&flaky, "flaky, passed on a rerun: " + Message(child));
      }
    }
    if (has_error) {
      r.status = kError;
      r.reason = errors;
      AppendReason(&r.reason, failures);
    } else if (has_failure) {
      r.status = kFail;
      r.reason = failures;
    } else if (status_attr == "notrun" && has_skipped && result_attr.empty() &&
               !StartsWith(skipped, "SKIP_")) {
      r.status = kError;  // ctest's "Not Run": missing executable, failed fixture...
      r.reason = skipped.empty() ? "not run" : skipped;
    } else if (has_skipped || status_attr == "notrun" || status_attr == "disabled" ||
               result_attr == "skipped" || result_attr == "suppressed") {
      r.status = kTestNa;
      r.reason = skipped;
      if (r.reason.empty()) {
        bool disabled = status_attr == "disabled" || result_attr == "suppressed" ||
                        (status_attr == "notrun" && result_attr.empty());
        r.reason = disabled ? "disabled" : "skipped";
      }
    } else if (status_attr == "fail" || status_attr == "error") {
      r.status = status_attr == "fail" ? kFail : kError;
    } else {
      r.status = kGood;
      r.reason = flaky;
    }
    results_->push_back(std::move(r));
  }

  // "2024-05-01T10:00:00.123+02:00" or "...Z" as microseconds since the epoch. A timestamp
  // without a zone (GoogleTest's, ctest's) is local time on a machine we do not know: false.
  static bool ParseIsoTimestamp(std::string_view s, int64_t* us) {
    s = Trim(s);
    if (s.size() < 20) return false;
    auto digits = [&](size_t pos, size_t n, int* value) {
      int v = 0;
      for (size_t i = pos; i < pos + n; ++i) {
        if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
      }
      *value = v;
      return true;
    };
    int year, month, day, hour, minute, second;
    if (!digits(0, 4, &year) || s[4] != '-' || !digits(5, 2, &month) || s[7] != '-' ||
        !digits(8, 2, &day) || (s[10] != 'T' && s[10] != ' ') || !digits(11, 2, &hour) ||
        s[13] != ':' || !digits(14, 2, &minute) || s[16] != ':' || !digits(17, 2, &second)) {
      return false;
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60 ||
        year < 1970) {
      return false;
    }
    size_t pos = 19;
    int64_t micros = 0;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int64_t scale = 100000;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        micros += (s[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
    }
    int64_t offset_s = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
      ++pos;
    } else if (pos + 6 <= s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
      int oh, om;
      if (!digits(pos + 1, 2, &oh) || !digits(pos + 4, 2, &om)) return false;
      offset_s = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
      pos += 6;
    } else {
      return false;
    }
    if (pos != s.size()) return false;
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    int64_t epoch = static_cast<int64_t>(timegm(&tm)) - offset_s;
    if (epoch < 0) return false;
    *us = epoch * 1000000 + micros;
    return true;
  }

  std::string_view text_;
  const std::string& file_;
  Warnings* warn_;
  std::vector<TestResult>* results_;
  size_t room_;        // at most this many results (kMaxResults less what the entry has)
  bool full_ = false;  // room_ reached: the rest of the document is not read
};

bool IsJUnitRoot(const pugi::xml_node& root) {
  std::string_view name = root.name();
  return name == "testsuites" || name == "testsuite";
}

}  // namespace

bool ParseJUnit(std::string_view text, const std::string& file, ParseOutput* out) {
  size_t first_result = out->results.size(), first_warning = out->warnings.size();
  Warnings warn(file, &out->warnings);
  pugi::xml_document doc;
  pugi::xml_parse_result parsed =
      doc.load_buffer(text.data(), text.size(), pugi::parse_default, pugi::encoding_auto);
  pugi::xml_node root = doc.document_element();
  if (!parsed) {
    // Half-read documents keep what was parsed, so a cut JUnit file still shows its root.
    if (!IsJUnitRoot(root) && text.find("<testsuite") == std::string_view::npos) return false;
    size_t offset = parsed.offset < 0 ? 0 : static_cast<size_t>(parsed.offset);
    warn.Add(JUnitReader::LineAtOffset(text, offset), std::string("malformed JUnit XML (") +
                                                          parsed.description() +
                                                          "); no results read from this file");
  } else if (!IsJUnitRoot(root)) {
    return false;
  } else {
    std::vector<TestResult> results;
    JUnitReader reader(text, file, &warn, &results, internal::ResultRoom(*out));
    if (std::string_view(root.name()) == "testsuite") {
      // The root suite's own name prefixes its cases only when they have no classname.
      reader.Suite(doc, "", 0);
    } else {
      reader.Suite(root, "", 1);
    }
    for (TestResult& r : results) out->results.push_back(std::move(r));
  }
  warn.Finish();
  internal::FinishOutput(out, first_result, first_warning, file);
  return true;
}

}  // namespace labmesh::parsers
