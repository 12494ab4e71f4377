#include "web_common.hpp"

#include <algorithm>
#include <cctype>

namespace labmesh::webui {

HttpResponse ErrorResponse(int http_status, std::string_view code, const std::string& message,
                           nlohmann::json body) {
  HttpResponse response;
  response.status = http_status;
  response.content_type = kJsonContentType;
  body["error"] = message;
  body["code"] = code;
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

// A short, printable rendering of something the client sent, for error messages.
std::string Quote(std::string_view text) {
  constexpr size_t kMax = 120;
  std::string out = "'";
  for (char c : text.substr(0, kMax)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  }
  if (text.size() > kMax) out += "...";
  return out + "'";
}

Status ValidateHostname(const std::string& name) {
  if (name.empty() || name.size() > kMaxHostnameBytes) {
    return Status::InvalidArgument("hostname must be 1 to " + std::to_string(kMaxHostnameBytes) +
                                   " bytes");
  }
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Status::InvalidArgument("hostname contains a control character");
    }
  }
  return Status::Ok();
}

std::string Param(const std::map<std::string, std::string>& params, const std::string& key) {
  auto it = params.find(key);
  return it == params.end() ? std::string() : it->second;
}

// A decimal number of at most `max`: digits only (no sign, no spaces), or InvalidArgument.
Result<uint64_t> ParseDecimal(const std::string& what, const std::string& text, uint64_t max,
                              uint64_t min) {
  auto bad = [&] {
    return Status::InvalidArgument(what + " must be a number from " + std::to_string(min) +
                                   " to " + std::to_string(max) + ", not " + Quote(text));
  };
  if (text.empty() || text.size() > 20) return bad();
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return bad();
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (digit > max || value > (max - digit) / 10) return bad();
    value = value * 10 + digit;
  }
  if (value < min) return bad();
  return value;
}

// The job statuses JobInfo::status takes, as a filter in its canonical spelling
// (case-insensitive), or InvalidArgument.
Result<std::string> CanonicalJobStatus(const std::string& text) {
  for (const char* status : {"Waiting", "Queued", "Running", "Completed", "Failed", "Aborted"}) {
    std::string_view name = status;
    if (text.size() == name.size() &&
        std::equal(text.begin(), text.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return std::string(name);
    }
  }
  return Status::InvalidArgument("unknown job status " + Quote(text) +
                                 " (Queued, Running, Completed, Failed, Aborted)");
}

}  // namespace labmesh::webui
