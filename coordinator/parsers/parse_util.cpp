// Text helpers for the parsers; see parse_util.hpp.

#include "parse_util.hpp"

#include <charconv>
#include <cmath>

namespace labmesh::parsers::internal {

std::vector<std::string_view> SplitLines(std::string_view text, bool* cut) {
  std::vector<std::string_view> lines;
  if (cut != nullptr) *cut = false;
  size_t pos = 0;
  while (pos < text.size()) {
    if (lines.size() >= kMaxLinesPerFile) {
      if (cut != nullptr) *cut = true;
      break;
    }
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return lines;
}

std::string LinesCutWarning() {
  return "more than " + std::to_string(kMaxLinesPerFile) +
         " lines; the rest of the file is not read";
}

size_t ResultRoom(const ParseOutput& out) {
  return out.results.size() >= kMaxResults ? 0 : kMaxResults - out.results.size();
}

std::string ResultsCutWarning() {
  return "more than " + std::to_string(kMaxResults) +
         " results for this directory; the rest of the file is not read";
}

std::string_view Trim(std::string_view s) {
  const char* kSpace = " \t\r\n\f\v";
  size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(kSpace);
  return s.substr(b, e - b + 1);
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

bool ParseDouble(std::string_view s, double* value) {
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);  // from_chars refuses a leading '+'
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return false;
  *value = v;
  return true;
}

bool ParseCount(std::string_view s, int64_t* value) {
  if (s.empty()) return false;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < 0) return false;
  *value = v;
  return true;
}

bool SecondsToMicros(double seconds, int64_t* micros) {
  constexpr double kMaxSeconds = 253402300799.0;  // 9999-12-31T23:59:59Z
  if (!std::isfinite(seconds) || seconds < 0 || seconds > kMaxSeconds) return false;
  *micros = static_cast<int64_t>(std::llround(seconds * 1e6));
  return true;
}

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;  // surrogates are not characters
  return n;
}

}  // namespace

std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string CapUtf8(std::string_view s, size_t max_bytes) {
  std::string valid = ValidUtf8(s);
  if (valid.size() <= max_bytes) return valid;
  size_t cut = max_bytes > 3 ? max_bytes - 3 : 0;
  // Step back to the start of a character (continuation bytes are 10xxxxxx).
  while (cut > 0 && (static_cast<unsigned char>(valid[cut]) & 0xC0) == 0x80) --cut;
  valid.resize(cut);
  valid += "...";
  return valid;
}

std::string CleanName(std::string_view s) {
  std::string name = CapUtf8(s, kMaxNameBytes);
  for (char& c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  return name;
}

bool IsFailing(std::string_view status) {
  return status == kFail || status == kError || status == kAbort;
}

bool IsKnownStatus(std::string_view status) {
  return status == kGood || status == kTestNa || status == kWarn || IsFailing(status);
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  std::string out(dir);
  out += '/';
  out += name;
  return out;
}

std::string_view DirName(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::string_view BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

void Warnings::Add(size_t line, std::string_view what, bool always) {
  if (added_ >= kMaxWarningsPerFile && !always) {
    ++suppressed_;
    return;
  }
  ++added_;
  std::string text = file_ + ": ";
  if (line > 0) text += "line " + std::to_string(line) + ": ";
  text += what;
  out_->push_back(CapUtf8(text, kMaxReasonBytes));
}

void Warnings::Finish() {
  if (suppressed_ == 0) return;
  out_->push_back(file_ + ": " + std::to_string(suppressed_) + " further warnings suppressed");
  suppressed_ = 0;
}

void FinishOutput(ParseOutput* out, size_t first_result, size_t first_warning,
                  const std::string& file) {
  for (size_t i = first_result; i < out->results.size(); ++i) {
    TestResult& r = out->results[i];
    r.test = CleanName(r.test);
    if (!IsKnownStatus(r.status)) r.status = kError;
    r.reason = CapUtf8(r.reason, kMaxReasonBytes);
    if (r.file.empty()) r.file = file;
    r.file = ValidUtf8(r.file);
    r.subdir = CleanName(r.subdir);
    std::map<std::string, std::string> keyvals;
    for (const auto& [k, v] : r.keyvals) keyvals[CleanName(k)] = CapUtf8(v, kMaxValueBytes);
    r.keyvals = std::move(keyvals);
    std::map<std::string, double> perf;
    for (const auto& [k, v] : r.perf) perf[CleanName(k)] = v;
    r.perf = std::move(perf);
    if (r.duration_us == 0 && r.start_us > 0 && r.end_us >= r.start_us) {
      r.duration_us = r.end_us - r.start_us;
    }
  }
  for (size_t i = first_warning; i < out->warnings.size(); ++i) {
    out->warnings[i] = ValidUtf8(out->warnings[i]);
  }
}

}  // namespace labmesh::parsers::internal
