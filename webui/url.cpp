#include "labmesh/webui/url.hpp"

namespace labmesh::webui {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= text.size()) {
        return Status::InvalidArgument("truncated percent escape");
      }
      int high = HexValue(text[i + 1]);
      int low = HexValue(text[i + 2]);
      if (high < 0 || low < 0) return Status::InvalidArgument("bad percent escape");
      char decoded = static_cast<char>(high * 16 + low);
      if (decoded == '\0') return Status::InvalidArgument("percent escape decodes to NUL");
      out.push_back(decoded);
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<std::vector<std::string>> SplitPath(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return Status::InvalidArgument("path does not start with '/'");
  }
  std::vector<std::string> segments;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) {
      auto segment = PercentDecode(path.substr(start, end - start), /*plus_is_space=*/false);
      if (!segment.ok()) return segment.status();
      segments.push_back(std::move(segment).value());
    }
    start = end + 1;
  }
  return segments;
}

Result<std::map<std::string, std::string>> ParseQuery(std::string_view query,
                                                      size_t max_params) {
  std::map<std::string, std::string> params;
  size_t count = 0;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    if (++count > max_params) {
      return Status::InvalidArgument("more than " + std::to_string(max_params) +
                                     " query parameters");
    }
    size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), /*plus_is_space=*/true);
    if (!key.ok()) return key.status();
    std::string value;
    if (eq != std::string_view::npos) {
      auto decoded = PercentDecode(pair.substr(eq + 1), /*plus_is_space=*/true);
      if (!decoded.ok()) return decoded.status();
      value = std::move(decoded).value();
    }
    params[std::move(key).value()] = std::move(value);
  }
  return params;
}

}  // namespace labmesh::webui
