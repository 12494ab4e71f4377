#include "labmesh/common/duration.hpp"

#include <charconv>
#include <cstdio>
#include <limits>

namespace labmesh {

Result<int64_t> ParseDurationMs(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("bad duration '" + std::string(text) +
                                   "' (expected e.g. 500ms, 5s, 10m, 2h)");
  };
  if (text.empty()) return bad();
  int64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || number < 0) return bad();
  std::string_view unit(end, text.data() + text.size() - end);
  int64_t scale;
  if (unit.empty() || unit == "s") {
    scale = 1000;
  } else if (unit == "ms") {
    scale = 1;
  } else if (unit == "m") {
    scale = 60'000;
  } else if (unit == "h") {
    scale = 3'600'000;
  } else {
    return bad();
  }
  if (number > std::numeric_limits<int64_t>::max() / scale) return bad();
  return number * scale;
}

Result<int64_t> ParseLongDurationMs(std::string_view text) {
  if (text.size() >= 2 && (text.back() == 'd' || text.back() == 'w')) {
    const int64_t unit_ms = text.back() == 'd' ? 86'400'000 : 7 * 86'400'000LL;
    std::string_view digits = text.substr(0, text.size() - 1);
    int64_t count = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), count);
    if (ec == std::errc() && end == digits.data() + digits.size() && count >= 0 &&
        count <= std::numeric_limits<int64_t>::max() / unit_ms) {
      return count * unit_ms;
    }
    return Status::InvalidArgument("bad duration '" + std::string(text) +
                                   "' (expected e.g. 90d, 2w, 12h, 30m)");
  }
  auto parsed = ParseDurationMs(text);
  if (!parsed.ok()) {
    return Status::InvalidArgument("bad duration '" + std::string(text) +
                                   "' (expected e.g. 90d, 2w, 12h, 30m)");
  }
  return parsed;
}

std::string FormatDurationMs(int64_t ms) {
  char buf[48];
  if (ms < 0) ms = 0;
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(ms));
  } else if (ms < 60'000) {
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
  } else if (ms < 3'600'000) {
    std::snprintf(buf, sizeof buf, "%lldm%llds", static_cast<long long>(ms / 60'000),
                  static_cast<long long>((ms / 1000) % 60));
  } else if (ms < 86'400'000) {
    std::snprintf(buf, sizeof buf, "%lldh%lldm", static_cast<long long>(ms / 3'600'000),
                  static_cast<long long>((ms / 60'000) % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldd%lldh", static_cast<long long>(ms / 86'400'000),
                  static_cast<long long>((ms / 3'600'000) % 24));
  }
  return buf;
}

}  // namespace labmesh
