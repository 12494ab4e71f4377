// TAP 12, 13 and 14. See docs/results-parsers.md ("TAP") for names and statuses:
//   ok -> GOOD, not ok -> FAIL, # SKIP -> TEST_NA, not ok # TODO -> TEST_NA (an expected
//   failure, like pytest's xfail), ok # TODO -> GOOD;
//   Bail out! -> one ABORT result "<file>/bail out";
//   fewer tests than planned, or no plan at all -> one ABORT result "<prefix>/plan";
//   1..0 # SKIP why -> one TEST_NA result "<prefix>/plan".
// Subtests are 4-space indented TAP streams (with or without a "# Subtest: name" comment at
// either level) closed by the parent's test line; YAML diagnostics are indented 2 spaces more
// than their test line. Unknown lines are ignored, as TAP says.

#include <cstdint>
#include <optional>

#include "labmesh/parsers/parsers.hpp"
#include "parse_util.hpp"

namespace labmesh::parsers {
namespace {

using internal::CapUtf8;
using internal::StartsWith;
using internal::Trim;
using internal::Warnings;

struct TapLine {
  size_t indent = 0;      // leading spaces
  std::string_view body;  // the rest, without trailing white space
};

// One TAP stream: the file itself or one subtest. Names are relative to the stream.
struct Stream {
  std::vector<TestResult> results;
  bool plan_seen = false;
  int64_t planned = 0;
  bool skip_all = false;
  std::string skip_reason;
  bool tests_after_trailing_plan = false;
  int64_t count = 0;  // test lines seen
  int64_t next = 1;   // the number the next test line should have
};

bool IsTestLine(std::string_view body) {
  for (std::string_view word : {std::string_view("ok"), std::string_view("not ok")}) {
    if (StartsWith(body, word) &&
        (body.size() == word.size() || body[word.size()] == ' ' || body[word.size()] == '\t')) {
      return true;
    }
  }
  return false;
}

// "1..N" with an optional "# comment" after it.
bool ParsePlan(std::string_view body, int64_t* n, std::string_view* comment) {
  if (!StartsWith(body, "1..")) return false;
  size_t end = 3;
  while (end < body.size() && body[end] >= '0' && body[end] <= '9') ++end;
  if (end == 3 || !internal::ParseCount(body.substr(3, end - 3), n)) return false;
  std::string_view rest = Trim(body.substr(end));
  if (!rest.empty() && rest.front() != '#') return false;
  *comment = rest.empty() ? rest : Trim(rest.substr(1));
  return true;
}

// "# Subtest: name" (or "# Subtest name") -> name.
std::optional<std::string> SubtestName(std::string_view body) {
  if (!StartsWith(body, "#")) return std::nullopt;
  std::string_view rest = Trim(body.substr(1));
  if (!StartsWith(rest, "Subtest")) return std::nullopt;
  rest = rest.substr(7);
  if (!rest.empty() && rest.front() == ':') rest.remove_prefix(1);
  return std::string(Trim(rest));
}

// The directive word at the start of `text` (SKIP, skipped, TODO... case-insensitive).
bool DirectiveIs(std::string_view text, std::string_view word) {
  return text.size() >= word.size() &&
         internal::EqualsIgnoreCase(text.substr(0, word.size()), word);
}

std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '#' || s[i + 1] == '\\')) ++i;
    out += s[i];
  }
  return out;
}

// The value of a top-level YAML key, enough of YAML for `message:` (plain, quoted, block).
std::optional<std::string> YamlValue(const std::vector<std::string>& yaml, std::string_view key) {
  for (size_t i = 0; i < yaml.size(); ++i) {
    std::string_view line = yaml[i];
    if (!StartsWith(line, key) || line.size() <= key.size() || line[key.size()] != ':') continue;
    std::string_view value = Trim(line.substr(key.size() + 1));
    bool block = value.empty() || value.front() == '|' || value.front() == '>';
    if (block) {
      bool literal = !value.empty() && value.front() == '|';
      std::string text;
      for (size_t k = i + 1; k < yaml.size(); ++k) {
        std::string_view more = yaml[k];
        if (!more.empty() && more.front() != ' ') break;
        if (!text.empty()) text += literal ? '\n' : ' ';
        text += Trim(more);
      }
      return text;
    }
    char quote = value.front();
    if ((quote == '"' || quote == '\'') && value.size() >= 2 && value.back() == quote) {
      std::string text;
      std::string_view inner = value.substr(1, value.size() - 2);
      for (size_t k = 0; k < inner.size(); ++k) {
        if (quote == '\'' && inner[k] == '\'' && k + 1 < inner.size() && inner[k + 1] == '\'') {
          text += '\'';
          ++k;
        } else if (quote == '"' && inner[k] == '\\' && k + 1 < inner.size()) {
          char c = inner[++k];
          text += c == 'n' ? '\n' : c == 't' ? '\t' : c;
        } else {
          text += inner[k];
        }
      }
      return text;
    }
    return std::string(value);
  }
  return std::nullopt;
}

class TapParser {
 public:
  TapParser(std::vector<TapLine> lines, size_t room, Warnings* warn)
      : lines_(std::move(lines)), warn_(warn), room_(room) {}

  // Parses the whole file into `top`; bailed() then says whether it ended with "Bail out!".
  void Run(Stream* top) {
    ParseStream(0, 0, top);
    Finish(top, /*top=*/true, 0);
  }
  bool bailed() const { return bailed_; }
  // The results reached `room` (kMaxResults); parsing stopped at line full_at().
  bool full() const { return full_at_ > 0; }
  size_t full_at() const { return full_at_; }
  const std::string& bail_reason() const { return bail_reason_; }

 private:
  void ParseStream(size_t indent, int depth, Stream* s) {
    std::optional<Stream> child;  // a subtest waiting for its parent's test line
    std::string child_name;       // from "# Subtest: name"
    std::string hint;             // a "# Subtest: name" at this level, for the next child
    while (i_ < lines_.size() && !bailed_ && full_at_ == 0) {
      const TapLine& line = lines_[i_];
      size_t lineno = i_ + 1;
      if (line.body.empty()) {
        ++i_;
        continue;
      }
      if (line.indent < indent) break;  // the end of this subtest
      if (StartsWith(line.body, "Bail out!")) {
        bailed_ = true;
        bail_reason_ = Trim(line.body.substr(9));
        ++i_;
        break;
      }
      if (line.indent > indent) {
        if (line.indent != indent + 4 || !StartsSubtest(line.body)) {
          ++i_;  // unknown (or stray) indented line: ignored
          continue;
        }
        if (child) Orphan(s, &*child, child_name, lineno);
        child_name = hint;
        hint.clear();
        if (std::optional<std::string> name = SubtestName(line.body)) {
          child_name = *name;
          ++i_;
        }
        Stream sub;
        if (depth + 1 > kMaxNesting) {
          warn_->Add(lineno,
                     "subtests nested deeper than " + std::to_string(kMaxNesting) + "; skipped");
          while (i_ < lines_.size() && (lines_[i_].body.empty() || lines_[i_].indent > indent)) {
            ++i_;
          }
        } else {
          ParseStream(indent + 4, depth + 1, &sub);
          Finish(&sub, /*top=*/false, lineno);
        }
        child = std::move(sub);
        continue;
      }
      if (IsTestLine(line.body)) {
        if (produced_ >= room_) {
          full_at_ = lineno;
          break;
        }
        TestPoint(indent, s, child ? &*child : nullptr);
        child.reset();
        continue;
      }
      if (child) {
        Orphan(s, &*child, child_name, lineno);
        child.reset();
      }
      int64_t n = 0;
      std::string_view comment;
      if (ParsePlan(line.body, &n, &comment)) {
        Plan(s, n, comment, lineno);
      } else if (StartsWith(line.body, "TAP version")) {
        if (s->count > 0 || s->plan_seen) warn_->Add(lineno, "TAP version line after tests");
      } else if (std::optional<std::string> name = SubtestName(line.body)) {
        hint = *name;
      }
      ++i_;  // comments, pragmas and unknown lines are ignored
    }
    if (child) Orphan(s, &*child, child_name, i_);
  }

  static bool StartsSubtest(std::string_view body) {
    int64_t n = 0;
    std::string_view comment;
    return SubtestName(body) || IsTestLine(body) || ParsePlan(body, &n, &comment) ||
           StartsWith(body, "TAP version");
  }

  void Plan(Stream* s, int64_t n, std::string_view comment, size_t lineno) {
    if (s->plan_seen) {
      warn_->Add(lineno, "second plan line ignored");
      return;
    }
    s->plan_seen = true;
    s->planned = n;
    s->tests_after_trailing_plan = s->count > 0;
    if (n == 0) {
      s->skip_all = true;
      std::string_view why = comment;
      if (DirectiveIs(why, "skip")) {
        size_t space = why.find_first_of(" \t");
        why = space == std::string_view::npos ? std::string_view() : Trim(why.substr(space));
      }
      s->skip_reason = why.empty() ? "skipped: plan 1..0" : "skipped: " + std::string(why);
    }
  }

  void TestPoint(size_t indent, Stream* s, Stream* child) {
    std::string_view body = lines_[i_].body;
    size_t lineno = i_ + 1;
    ++i_;
    bool ok = StartsWith(body, "ok");
    std::string_view rest = Trim(body.substr(ok ? 2 : 6));
    size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    int64_t number = s->next;
    if (digits > 0) {
      int64_t given = 0;
      if (internal::ParseCount(rest.substr(0, digits), &given)) {
        if (given < s->next) {
          warn_->Add(lineno, "test number " + std::to_string(given) +
                                 " repeats or goes back (expected " + std::to_string(s->next) +
                                 ")");
        } else if (given > s->next) {
          warn_->Add(lineno, "test number " + std::to_string(given) + " skips ahead (expected " +
                                 std::to_string(s->next) + ")");
        }
        number = given;
      } else {
        warn_->Add(lineno, "test number too large");
      }
      rest = Trim(rest.substr(digits));
    }
    if (s->plan_seen && s->tests_after_trailing_plan) {
      warn_->Add(lineno, "test line after the plan at the end");
      s->tests_after_trailing_plan = false;  // warn once
    }
    if (StartsWith(rest, "-")) rest = Trim(rest.substr(1));
    // The description runs to the first unescaped '#'.
    size_t hash = 0;
    while (hash < rest.size() && !(rest[hash] == '#' && (hash == 0 || rest[hash - 1] != '\\'))) {
      ++hash;
    }
    std::string desc = Unescape(Trim(rest.substr(0, hash)));
    std::string_view directive = hash < rest.size() ? Trim(rest.substr(hash + 1)) : "";
    s->count++;
    s->next = number < INT64_MAX ? number + 1 : number;

    TestResult r;
    r.test = std::to_string(number) + (desc.empty() ? "" : " " + desc);
    r.status = ok ? kGood : kFail;
    bool skip = DirectiveIs(directive, "skip"), todo = DirectiveIs(directive, "todo");
    if (skip || todo) {
      size_t space = directive.find_first_of(" \t");
      std::string why =
          space == std::string_view::npos ? "" : std::string(Trim(directive.substr(space)));
      if (skip) {
        r.status = kTestNa;
        r.reason = why.empty() ? "skipped" : why;
      } else {
        r.status = ok ? kGood : kTestNa;
        r.reason = "TODO" + (why.empty() ? "" : ": " + why);
      }
    }
    Yaml(indent, &r);
    std::string name = r.test;  // Attach grows s->results: no reference into it
    s->results.push_back(std::move(r));
    ++produced_;
    if (child != nullptr) Attach(s, child, name);
  }

  // A YAML block right after a test line: "---" ... "..." indented 2 more than the test line.
  void Yaml(size_t indent, TestResult* r) {
    if (i_ >= lines_.size() || lines_[i_].indent != indent + 2 || lines_[i_].body != "---") return;
    size_t start = i_ + 1;
    ++i_;
    std::vector<std::string> yaml;
    bool closed = false;
    while (i_ < lines_.size()) {
      const TapLine& line = lines_[i_];
      if (line.body.empty()) {
        yaml.emplace_back();
        ++i_;
        continue;
      }
      if (line.indent < indent + 2) break;
      ++i_;
      if (line.indent == indent + 2 && line.body == "...") {
        closed = true;
        break;
      }
      yaml.push_back(std::string(line.indent - indent - 2, ' ') + std::string(line.body));
    }
    if (!closed) warn_->Add(start, "YAML block without its closing '...'");
    if (std::optional<std::string> ms = YamlValue(yaml, "duration_ms")) {
      double value = 0;
      if (internal::ParseDouble(*ms, &value))
        internal::SecondsToMicros(value / 1000, &r->duration_us);
    }
    std::optional<std::string> message = YamlValue(yaml, "message");
    std::string text;
    if (message) {
      text = *message;
    } else if (r->status != kGood) {
      for (const std::string& line : yaml) {
        if (text.size() >= kMaxReasonBytes) break;
        text += line + "\n";
      }
      text = std::string(Trim(text));
    }
    if (!text.empty()) r->reason = r->reason.empty() ? text : r->reason + "\n" + text;
  }

  static void Attach(Stream* s, Stream* child, const std::string& parent) {
    for (TestResult& r : child->results) {
      r.test = CapUtf8(parent + "/" + r.test, kMaxNameBytes);
      s->results.push_back(std::move(r));
    }
  }

  // A subtest that no test line closed (a cut-off or bailed-out stream).
  void Orphan(Stream* s, Stream* child, const std::string& name, size_t lineno) {
    std::string parent = name.empty() ? "subtest" : name;
    if (!bailed_) warn_->Add(lineno, "subtest '" + parent + "' has no closing test line");
    Attach(s, child, parent);
  }

  // The plan checks of a finished stream.
  void Finish(Stream* s, bool top, size_t lineno) {
    if (bailed_) return;  // the bail-out result says why tests are missing
    auto add = [&](std::string_view status, std::string reason) {
      TestResult r;
      r.test = "plan";
      r.status = std::string(status);
      r.reason = std::move(reason);
      s->results.push_back(std::move(r));
    };
    std::string where = top ? "" : "subtest: ";
    if (!s->plan_seen) {
      if (top || s->count > 0) warn_->Add(lineno, where + "no plan (1..N) line");
      if (top) {
        add(kAbort, "no plan line: the output may have been cut short (" +
                        std::to_string(s->count) + " tests seen)");
      }
    } else if (s->skip_all) {
      if (s->count > 0) warn_->Add(lineno, where + "plan 1..0 but tests ran");
      add(kTestNa, s->skip_reason);
    } else if (s->count < s->planned) {
      warn_->Add(lineno, where + "planned " + std::to_string(s->planned) + " tests, " +
                             std::to_string(s->count) + " ran");
      add(kAbort, "planned " + std::to_string(s->planned) + " tests but only " +
                      std::to_string(s->count) + " ran");
    } else if (s->count > s->planned) {
      warn_->Add(lineno, where + "planned " + std::to_string(s->planned) + " tests, " +
                             std::to_string(s->count) + " ran");
    }
  }

  std::vector<TapLine> lines_;
  Warnings* warn_;
  size_t i_ = 0;
  bool bailed_ = false;
  std::string bail_reason_;
  size_t room_;
  size_t produced_ = 0;  // test lines read, subtests included
  size_t full_at_ = 0;
};

}  // namespace

void ParseTap(std::string_view text, const std::string& file, ParseOutput* out) {
  size_t first_result = out->results.size(), first_warning = out->warnings.size();
  Warnings warn(file, &out->warnings);
  std::vector<TapLine> lines;
  bool cut = false;
  for (std::string_view raw : internal::SplitLines(text, &cut)) {
    TapLine line;
    while (line.indent < raw.size() && raw[line.indent] == ' ') ++line.indent;
    line.body = raw.substr(line.indent);
    size_t end = line.body.find_last_not_of(" \t");
    line.body = end == std::string_view::npos ? std::string_view() : line.body.substr(0, end + 1);
    lines.push_back(line);
  }
  Stream top;
  TapParser parser(std::move(lines), internal::ResultRoom(*out), &warn);
  parser.Run(&top);
  if (parser.full()) {
    warn.Add(parser.full_at(), internal::ResultsCutWarning(), true);
  } else if (cut) {
    warn.Add(kMaxLinesPerFile, internal::LinesCutWarning(), true);
  }
  if (parser.bailed()) {
    TestResult r;
    r.test = "bail out";
    r.status = std::string(kAbort);
    r.reason = "Bail out!" + (parser.bail_reason().empty() ? "" : " " + parser.bail_reason());
    if (top.plan_seen && top.count < top.planned) {
      r.reason += "; " + std::to_string(top.planned - top.count) + " of " +
                  std::to_string(top.planned) + " planned tests did not run";
    }
    top.results.push_back(std::move(r));
  }
  for (TestResult& r : top.results) {
    r.test = file + "/" + r.test;
    r.file = file;
    out->results.push_back(std::move(r));
  }
  warn.Finish();
  internal::FinishOutput(out, first_result, first_warning, file);
}

}  // namespace labmesh::parsers
