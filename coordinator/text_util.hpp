#pragma once
// Small text helpers the coordinator's messages share.

#include <algorithm>
#include <cctype>
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

// `text` with its ASCII letters in lower case.
inline std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// True when `text` contains `part`, ASCII letters compared without case.
inline bool ContainsIgnoringCase(std::string_view text, std::string_view part) {
  auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  return std::search(text.begin(), text.end(), part.begin(), part.end(),
                     [&](char a, char b) { return lower(a) == lower(b); }) != text.end();
}

}  // namespace labmesh::coordinator
