#pragma once
// Small text helpers the coordinator's messages share.

#include <string>
#include <string_view>
#include <vector>

namespace labmesh::coordinator {

// "a,b,c" (or with another separator); "" for none.
inline std::string Join(const std::vector<std::string>& values, std::string_view sep = ",") {
  std::string out;
  for (const std::string& v : values) {
    if (!out.empty()) out += sep;
    out += v;
  }
  return out;
}

}  // namespace labmesh::coordinator
