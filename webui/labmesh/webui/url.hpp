#pragma once
// Pure parsing of the parts of a URL the web API looks at: the path (still percent-encoded, as
// the server hands it over) and the query string. No I/O; tested alone.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "labmesh/common/status.hpp"

namespace labmesh::webui {

// Decodes %XX escapes (and '+' as a space when `plus_is_space`, as in query strings).
// InvalidArgument for a truncated or non-hex escape, and for a decoded NUL byte.
Result<std::string> PercentDecode(std::string_view text, bool plus_is_space);

// "/api/v1/hosts/lab%2D1" -> {"api", "v1", "hosts", "lab-1"}. Empty segments ("//", a trailing
// "/") are dropped; each segment is decoded on its own, so an encoded "/" stays inside its
// segment. InvalidArgument when the path does not start with '/' or a segment does not decode.
Result<std::vector<std::string>> SplitPath(std::string_view path);

// "status=ready&label=gpu" -> {{"label","gpu"},{"status","ready"}}. A key without '=' maps to "";
// a repeated key keeps its last value. InvalidArgument for a bad escape or more than
// `max_params` parameters.
Result<std::map<std::string, std::string>> ParseQuery(std::string_view query,
                                                      size_t max_params = 64);

}  // namespace labmesh::webui
