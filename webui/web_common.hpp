#pragma once
// Helpers the WebApi's files share (web_api.cpp, web_actions.cpp, live_events.cpp): error
// bodies, quoting what a client sent, and checking path and query values. Internal to webui.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "labmesh/common/status.hpp"
#include "labmesh/webui/http_types.hpp"

namespace labmesh::webui {

inline constexpr char kJsonContentType[] = "application/json";
inline constexpr size_t kMaxHostnameBytes = 255;

// {"error": message, "code": code} plus `body`'s fields, with no-store caching.
HttpResponse ErrorResponse(int http_status, std::string_view code, const std::string& message,
                           nlohmann::json body = nlohmann::json::object());

// A short, printable rendering of something the client sent, for error messages.
std::string Quote(std::string_view text);

// 1..255 bytes, no control characters.
Status ValidateHostname(const std::string& name);

// The query parameter `key`, or "" when absent.
std::string Param(const std::map<std::string, std::string>& params, const std::string& key);

// A decimal number from `min` to `max`: digits only (no sign, no spaces, no exponent), or
// InvalidArgument naming `what` and the range.
Result<uint64_t> ParseDecimal(const std::string& what, const std::string& text, uint64_t max,
                              uint64_t min = 0);

// The job statuses JobInfo::status takes, as a filter in its canonical spelling
// (case-insensitive), or InvalidArgument.
Result<std::string> CanonicalJobStatus(const std::string& text);

}  // namespace labmesh::webui
