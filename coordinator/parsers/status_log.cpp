// Autotest status.log: START / END groups nested by tab indentation, single status lines,
// key=value fields and a reason. See parsers.hpp and docs/results-parsers.md ("status.log").
//
// Nesting follows the indentation, but lines are matched to groups by name as well, because
// `labmesh-test run` writes every START at column 0 (a control may run several at once, so
// their lines can interleave): a status line whose name is that of an open group is that
// group's own line, and an END closes the open group of its name.

#include <algorithm>
#include <climits>
#include <optional>

#include "labmesh/parsers/parsers.hpp"
#include "parse_util.hpp"

namespace labmesh::parsers {
namespace {

using internal::CapUtf8;
using internal::IsFailing;
using internal::IsKnownStatus;
using internal::SecondsToMicros;
using internal::Trim;
using internal::Warnings;

constexpr std::string_view kNoName = "----";
// Open groups beyond this are refused (keeps every line's lookups bounded).
constexpr size_t kMaxOpenGroups = 256;
constexpr size_t kMaxNotedChildren = 5;
constexpr int kAnyDepth = INT_MIN;

enum class Kind { kStart, kEnd, kStatus };

struct Line {
  Kind kind = Kind::kStatus;
  int depth = 0;       // leading tabs
  std::string status;  // the END's status, or the status word
  std::string subdir;  // "" for "----"
  std::string name;    // testname, or subdir when testname is "----"; "" = anonymous
  std::string reason;  // the non key=value fields, joined by a space
  int64_t timestamp_us = 0;
  std::map<std::string, std::string> fields;  // key=value fields but timestamp and localtime
};

bool IsFieldKey(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Autotest words that are not test results.
bool IsNonResultWord(std::string_view word) {
  return word == "INFO" || word == "ALERT" || word == "RUNNING" || word == "NOSTATUS";
}

std::optional<Line> ParseLine(std::string_view raw, size_t lineno, Warnings* warn) {
  size_t depth = 0;
  while (depth < raw.size() && raw[depth] == '\t') ++depth;
  std::string_view rest = raw.substr(depth);
  if (Trim(rest).empty()) return std::nullopt;
  std::vector<std::string_view> fields;
  for (size_t pos = 0;;) {
    size_t tab = rest.find('\t', pos);
    fields.push_back(rest.substr(pos, tab == std::string_view::npos ? tab : tab - pos));
    if (tab == std::string_view::npos) break;
    pos = tab + 1;
  }
  Line line;
  line.depth = static_cast<int>(std::min<size_t>(depth, 1 << 20));
  std::string_view word = Trim(fields[0]);
  if (word == "START") {
    line.kind = Kind::kStart;
  } else if (internal::StartsWith(word, "END ")) {
    line.kind = Kind::kEnd;
    line.status = std::string(Trim(word.substr(4)));
    if (!IsKnownStatus(line.status)) {
      warn->Add(lineno, "unknown END status '" + CapUtf8(line.status, 40) + "', taken as ERROR");
      line.status = std::string(kError);
    }
  } else if (IsKnownStatus(word)) {
    line.kind = Kind::kStatus;
    line.status = std::string(word);
  } else if (IsNonResultWord(word)) {
    return std::nullopt;
  } else {
    warn->Add(lineno, "not a status line: '" + CapUtf8(rest, 80) + "'");
    return std::nullopt;
  }
  if (fields.size() < 3) {
    warn->Add(lineno, "expected STATUS<tab>subdir<tab>testname: '" + CapUtf8(rest, 80) + "'");
    return std::nullopt;
  }
  std::string_view subdir = Trim(fields[1]);
  std::string_view testname = Trim(fields[2]);
  line.subdir = subdir == kNoName ? "" : std::string(subdir);
  line.name = testname == kNoName || testname.empty() ? line.subdir : std::string(testname);
  for (size_t i = 3; i < fields.size(); ++i) {
    std::string_view f = fields[i];
    size_t eq = f.find('=');
    if (eq != std::string_view::npos && IsFieldKey(f.substr(0, eq))) {
      std::string_view key = f.substr(0, eq), value = f.substr(eq + 1);
      if (key == "timestamp") {
        double seconds = 0;
        if (!internal::ParseDouble(value, &seconds) ||
            !SecondsToMicros(seconds, &line.timestamp_us)) {
          warn->Add(lineno, "bad timestamp '" + CapUtf8(value, 40) + "'");
        }
      } else if (key != "localtime") {  // no year and no zone: timestamp= is the time
        line.fields[std::string(key)] = std::string(value);
      }
    } else if (!Trim(f).empty()) {
      if (!line.reason.empty()) line.reason += ' ';
      line.reason += f;
    }
  }
  return line;
}

int Rank(std::string_view status) {
  if (status == kAbort) return 5;
  if (status == kError) return 4;
  if (status == kFail) return 3;
  if (status == kWarn) return 2;
  if (status == kGood) return 1;
  return 0;  // TEST_NA, or nothing yet
}

class StatusLogParser {
 public:
  explicit StatusLogParser(Warnings* warn) : warn_(warn) {}

  void Add(const Line& line, size_t lineno) {
    if (line.timestamp_us > last_us_) last_us_ = line.timestamp_us;
    switch (line.kind) {
      case Kind::kStart:
        return Start(line, lineno);
      case Kind::kEnd:
        return End(line, lineno);
      case Kind::kStatus:
        return Single(line);
    }
  }

  size_t results() const { return results_.size(); }

  // Closes what is still open (the log was cut off) and hands the results over.
  std::vector<TestResult> Finish() {
    std::vector<int> still_open = open_;
    for (auto it = still_open.rbegin(); it != still_open.rend(); ++it) {
      Close(*it, std::string(kAbort), "no END line: log ended (crashed?)", last_us_, {});
    }
    return std::move(results_);
  }

 private:
  struct Group {
    size_t result = 0;  // index into results_
    int depth = 0;
    int parent = -1;     // index into groups_
    std::string name;    // own name, "" = anonymous
    std::string prefix;  // what children's names start with
    std::string own_status;
    std::string own_reason;
    std::vector<std::string> failing;  // "name (STATUS)" of failed children and own lines
  };

  // Innermost open group at `depth` (or kAnyDepth) named `name` (any name when empty).
  int FindOpen(int depth, std::string_view name) const {
    for (auto it = open_.rbegin(); it != open_.rend(); ++it) {
      const Group& g = groups_[*it];
      if ((depth == kAnyDepth || g.depth == depth) && (name.empty() || g.name == name)) return *it;
    }
    return -1;
  }

  // Innermost open group shallower than `depth`.
  int InnermostAbove(int depth) const {
    for (auto it = open_.rbegin(); it != open_.rend(); ++it) {
      if (groups_[*it].depth < depth) return *it;
    }
    return -1;
  }

  std::string Qualify(int parent, const std::string& name) const {
    std::string prefix = parent < 0 ? "" : groups_[parent].prefix;
    return CapUtf8(prefix.empty() ? name : prefix + "/" + name, kMaxNameBytes);
  }

  bool IsDescendant(int id, int ancestor) const {
    for (int p = groups_[id].parent; p >= 0; p = groups_[p].parent) {
      if (p == ancestor) return true;
    }
    return false;
  }

  void Start(const Line& line, size_t lineno) {
    if (open_.size() >= kMaxOpenGroups) {
      warn_->Add(lineno, "more than " + std::to_string(kMaxOpenGroups) +
                             " open START lines; this one is ignored");
      return;
    }
    Group g;
    g.depth = line.depth;
    g.parent = InnermostAbove(line.depth);
    g.name = line.name;
    TestResult r;
    if (line.name.empty()) {
      // An anonymous group (Autotest's client job) is transparent to its children's names.
      r.test = "CLIENT_JOB." + std::to_string(client_jobs_++);
      g.prefix = g.parent < 0 ? "" : groups_[g.parent].prefix;
    } else {
      r.test = Qualify(g.parent, line.name);
      g.prefix = r.test;
    }
    r.status = std::string(kAbort);  // until its END
    r.reason = line.reason;
    r.start_us = line.timestamp_us;
    r.keyvals = line.fields;
    r.subdir = line.subdir;
    g.result = results_.size();
    results_.push_back(std::move(r));
    open_.push_back(static_cast<int>(groups_.size()));
    groups_.push_back(std::move(g));
  }

  void End(const Line& line, size_t lineno) {
    int id = FindOpen(line.depth, line.name);
    if (id < 0 && !line.name.empty()) id = FindOpen(kAnyDepth, line.name);
    if (id < 0 && line.name.empty() && !open_.empty()) id = open_.back();
    if (id < 0) {
      warn_->Add(lineno, "END " + line.status + " without a matching START" +
                             (line.name.empty() ? "" : " for '" + line.name + "'"));
      return;
    }
    std::vector<int> inner;
    for (auto it = open_.rbegin(); it != open_.rend(); ++it) {
      if (IsDescendant(*it, id)) inner.push_back(*it);
    }
    std::string why = "no END line before the END of '" + results_[groups_[id].result].test + "'";
    for (int child : inner) Close(child, std::string(kAbort), why, line.timestamp_us, {});
    Close(id, line.status, line.reason, line.timestamp_us, line.fields);
  }

  void Single(const Line& line) {
    // The group's own line: its name (our writer, Autotest's run_test) or anonymous.
    int own =
        line.name.empty() ? InnermostAbove(line.depth + 1) : FindOpen(line.depth - 1, line.name);
    if (own < 0 && !line.name.empty()) own = FindOpen(line.depth, line.name);
    if (own >= 0) {
      Group& g = groups_[own];
      if (Rank(line.status) >= Rank(g.own_status)) {
        g.own_status = line.status;
        if (!line.reason.empty()) g.own_reason = line.reason;
      }
      if (IsFailing(line.status)) g.failing.push_back(OwnName(g) + " (" + line.status + ")");
      for (const auto& [k, v] : line.fields) results_[g.result].keyvals[k] = v;
      return;
    }
    int parent = FindOpen(line.depth - 1, "");
    if (parent < 0) parent = InnermostAbove(line.depth);
    TestResult r;
    r.test = line.name.empty() ? "SERVER_JOB" : Qualify(parent, line.name);
    r.status = line.status;
    r.reason = line.reason;
    r.end_us = line.timestamp_us;
    r.keyvals = line.fields;
    r.subdir = line.subdir;
    if (parent >= 0 && IsFailing(r.status)) {
      groups_[parent].failing.push_back(line.name + " (" + r.status + ")");
    }
    results_.push_back(std::move(r));
  }

  std::string OwnName(const Group& g) const {
    return g.name.empty() ? results_[g.result].test : g.name;
  }

  void Close(int id, const std::string& status, const std::string& reason, int64_t end_us,
             const std::map<std::string, std::string>& fields) {
    Group& g = groups_[id];
    TestResult& r = results_[g.result];
    r.status = status;
    if (end_us >= r.start_us) r.end_us = end_us;
    if (!reason.empty()) {
      r.reason = reason;
    } else if (!g.own_reason.empty()) {
      r.reason = g.own_reason;
    }
    for (const auto& [k, v] : fields) r.keyvals[k] = v;
    // Autotest's END wins; a failure inside a group that ends well is kept visible here.
    if (!IsFailing(status) && !g.failing.empty()) {
      std::string note = "END " + status + " despite ";
      for (size_t i = 0; i < g.failing.size() && i < kMaxNotedChildren; ++i) {
        note += (i > 0 ? ", " : "") + g.failing[i];
      }
      if (g.failing.size() > kMaxNotedChildren) {
        note += " and " + std::to_string(g.failing.size() - kMaxNotedChildren) + " more";
      }
      r.reason = r.reason.empty() ? note : r.reason + "; " + note;
    }
    open_.erase(std::find(open_.begin(), open_.end(), id));
    if (g.parent >= 0 && IsFailing(status)) {
      groups_[g.parent].failing.push_back(OwnName(g) + " (" + status + ")");
    }
  }

  Warnings* warn_;
  std::vector<TestResult> results_;  // in START order (a group before its children)
  std::vector<Group> groups_;        // every group seen
  std::vector<int> open_;            // indexes of open groups, in opening order
  int64_t last_us_ = 0;              // the latest timestamp seen: the end of a cut-off group
  int client_jobs_ = 0;
};

}  // namespace

void ParseStatusLog(std::string_view text, const std::string& file, ParseOutput* out) {
  size_t first_result = out->results.size(), first_warning = out->warnings.size();
  Warnings warn(file, &out->warnings);
  StatusLogParser parser(&warn);
  bool cut = false;
  std::vector<std::string_view> lines = internal::SplitLines(text, &cut);
  size_t room = internal::ResultRoom(*out);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (parser.results() >= room) {  // every START and status line makes one result
      warn.Add(i + 1, internal::ResultsCutWarning(), true);
      cut = false;  // said already
      break;
    }
    if (std::optional<Line> line = ParseLine(lines[i], i + 1, &warn)) parser.Add(*line, i + 1);
  }
  if (cut) warn.Add(kMaxLinesPerFile, internal::LinesCutWarning(), true);
  for (TestResult& r : parser.Finish()) {
    r.file = file;
    out->results.push_back(std::move(r));
  }
  warn.Finish();
  internal::FinishOutput(out, first_result, first_warning, file);
}

}  // namespace labmesh::parsers
