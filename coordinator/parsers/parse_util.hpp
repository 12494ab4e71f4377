#pragma once
// Small text helpers shared by the parsers: line splitting, number parsing, UTF-8 clean-up,
// capped warnings. Internal to labmesh_parsers (tests may include it).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "labmesh/parsers/parsers.hpp"

namespace labmesh::parsers::internal {

// The lines of `text` split at '\n', each without its '\n' and a trailing '\r'. A final line
// without '\n' is kept; an empty text has no lines. At most kMaxLinesPerFile lines: when the
// text has more, `*cut` (if given) is set and the rest is not split.
std::vector<std::string_view> SplitLines(std::string_view text, bool* cut = nullptr);
// The warning a parser adds when SplitLines cut its file.
std::string LinesCutWarning();
// How many more results `out` may take before kMaxResults, and the warning when it is full.
size_t ResultRoom(const ParseOutput& out);
std::string ResultsCutWarning();

std::string_view Trim(std::string_view s);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// A whole string as a finite decimal number ("1", "-2.5", "1e3"); false for anything else,
// including "nan", "inf", trailing text and the empty string.
bool ParseDouble(std::string_view s, double* value);
// A whole string as a non-negative decimal integer that fits int64.
bool ParseCount(std::string_view s, int64_t* value);
// Seconds (possibly fractional, non-negative, at most ~year 9999) as microseconds.
bool SecondsToMicros(double seconds, int64_t* micros);

// `s` with invalid UTF-8 replaced by U+FFFD.
std::string ValidUtf8(std::string_view s);
// At most `max_bytes` of valid UTF-8; a cut string ends with "..." and never splits a
// character.
std::string CapUtf8(std::string_view s, size_t max_bytes);
// A test name: valid UTF-8, control characters turned into spaces, at most kMaxNameBytes.
std::string CleanName(std::string_view s);

// True for FAIL, ERROR and ABORT: the statuses that make an entry Failed.
bool IsFailing(std::string_view status);
bool IsKnownStatus(std::string_view status);

// "dir/name", or `name` when dir is empty.
std::string JoinPath(std::string_view dir, std::string_view name);
// The directory part of a relative path ("" for a bare name).
std::string_view DirName(std::string_view path);
// The part after the last '/'.
std::string_view BaseName(std::string_view path);

// Appends "file: line N: what" (or "file: what" for line 0) to a warning list, at most
// kMaxWarningsPerFile of them per instance; Finish() adds one line counting the rest.
class Warnings {
 public:
  Warnings(std::string file, std::vector<std::string>* out) : file_(std::move(file)), out_(out) {}
  ~Warnings() { Finish(); }
  Warnings(const Warnings&) = delete;
  Warnings& operator=(const Warnings&) = delete;

  // `always`: kept even past the cap (a limit that cut the file must always be said).
  void Add(size_t line, std::string_view what, bool always = false);
  // True once further warnings are only counted: a caller may skip working out their text.
  bool Full() const { return added_ >= kMaxWarningsPerFile; }
  void Finish();

 private:
  std::string file_;
  std::vector<std::string>* out_;
  size_t added_ = 0;
  size_t suppressed_ = 0;
};

// Cleans the results and warnings appended to `out` since the given sizes: valid UTF-8
// everywhere, names and reasons capped, `file` set where empty, unknown statuses made ERROR.
void FinishOutput(ParseOutput* out, size_t first_result, size_t first_warning,
                  const std::string& file);

}  // namespace labmesh::parsers::internal
