// keyval files: `key=value`, `key{perf}=number`, `key{attr}=value`, `#` comments, blank
// lines between iterations. See parsers.hpp (ParseKeyval) for how iterations are stored.

#include "labmesh/parsers/parsers.hpp"
#include "parse_util.hpp"

namespace labmesh::parsers {
namespace {

using internal::CapUtf8;
using internal::Trim;

constexpr size_t kMaxKeyBytes = 256;

}  // namespace

Keyvals ParseKeyval(std::string_view text, const std::string& file,
                    std::vector<std::string>* warnings) {
  size_t first_warning = warnings->size();
  internal::Warnings warn(file, warnings);
  std::vector<Keyvals> iterations(1);
  bool cut = false;
  std::vector<std::string_view> lines = internal::SplitLines(text, &cut);
  size_t keys = 0;  // stored so far, over all iterations
  for (size_t i = 0; i < lines.size(); ++i) {
    size_t lineno = i + 1;
    std::string_view line = Trim(lines[i]);
    if (keys >= kMaxKeyvalKeys) {
      warn.Add(lineno, "more than " + std::to_string(kMaxKeyvalKeys) +
                           " keys; the rest of the file is not read",
               true);
      cut = false;  // said already
      break;
    }
    if (line.empty()) {
      const Keyvals& last = iterations.back();
      if (!last.keyvals.empty() || !last.perf.empty()) iterations.emplace_back();
      continue;
    }
    if (line.front() == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      warn.Add(lineno, "no '=' in '" + CapUtf8(line, 80) + "'");
      continue;
    }
    std::string_view key = Trim(line.substr(0, eq));
    std::string_view value = Trim(line.substr(eq + 1));
    std::string_view type;
    if (!key.empty() && key.back() == '}') {
      size_t brace = key.rfind('{');
      if (brace != std::string_view::npos) {
        type = key.substr(brace + 1, key.size() - brace - 2);
        key = key.substr(0, brace);
      }
    }
    if (key.empty()) {
      warn.Add(lineno, "empty key in '" + CapUtf8(line, 80) + "'");
      continue;
    }
    if (key.size() > kMaxKeyBytes) {
      warn.Add(lineno, "key longer than " + std::to_string(kMaxKeyBytes) + " bytes");
      continue;
    }
    if (type == "perf") {
      double number = 0;
      if (!internal::ParseDouble(value, &number)) {
        warn.Add(lineno, "perf value of '" + CapUtf8(key, 80) + "' is not a finite number: '" +
                             CapUtf8(value, 80) + "'");
        continue;
      }
      keys += iterations.back().perf.insert_or_assign(std::string(key), number).second;
    } else if (type.empty() || type == "attr") {
      keys += iterations.back()
                  .keyvals.insert_or_assign(std::string(key), CapUtf8(value, kMaxValueBytes))
                  .second;
    } else {
      warn.Add(lineno, "unknown keyval type {" + CapUtf8(type, 40) + "} (perf or attr)");
    }
  }
  if (cut) warn.Add(kMaxLinesPerFile, internal::LinesCutWarning(), true);
  if (iterations.size() > 1 && iterations.back().keyvals.empty() &&
      iterations.back().perf.empty()) {
    iterations.pop_back();
  }
  Keyvals result;
  if (iterations.size() == 1) {
    result = std::move(iterations.front());
  } else {
    for (size_t n = 0; n < iterations.size(); ++n) {
      std::string prefix = "iteration" + std::to_string(n + 1) + "/";
      for (const auto& [k, v] : iterations[n].keyvals) {
        result.keyvals[prefix + k] = v;
        result.keyvals[k] = v;
      }
      for (const auto& [k, v] : iterations[n].perf) {
        result.perf[prefix + k] = v;
        result.perf[k] = v;
      }
    }
    result.keyvals["iterations"] = std::to_string(iterations.size());
  }
  // Keys as names: valid UTF-8 without control characters.
  Keyvals clean;
  for (auto& [k, v] : result.keyvals) clean.keyvals[internal::CleanName(k)] = std::move(v);
  for (auto& [k, v] : result.perf) clean.perf[internal::CleanName(k)] = v;
  warn.Finish();
  for (size_t i = first_warning; i < warnings->size(); ++i) {
    (*warnings)[i] = internal::ValidUtf8((*warnings)[i]);
  }
  return clean;
}

}  // namespace labmesh::parsers
