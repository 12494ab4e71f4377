#pragma once
// What every result-file parser promises (coordinator/parsers/labmesh/parsers/parsers.hpp),
// checked on each fuzz input: statuses from the vocabulary, valid UTF-8 everywhere, names and
// reasons within their caps, warnings capped and naming their file. A broken promise aborts, so
// libFuzzer keeps the input as a crash.

#include <cstdio>
#include <cstdlib>
#include <string>

#include "labmesh/parsers/parsers.hpp"
#include "parse_util.hpp"

namespace labmesh::fuzz {

inline void Require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "parser promise broken: %s\n", what);
  std::abort();
}

inline bool IsValidUtf8(const std::string& s) { return parsers::internal::ValidUtf8(s) == s; }

inline void CheckParseOutput(const parsers::ParseOutput& out) {
  using namespace labmesh::parsers;
  for (const TestResult& r : out.results) {
    Require(internal::IsKnownStatus(r.status), "status outside the vocabulary");
    Require(IsValidUtf8(r.test) && IsValidUtf8(r.reason) && IsValidUtf8(r.file) &&
                IsValidUtf8(r.subdir),
            "invalid UTF-8 in a result");
    Require(r.test.size() <= kMaxNameBytes, "test name over kMaxNameBytes");
    Require(r.reason.size() <= kMaxReasonBytes, "reason over kMaxReasonBytes");
    for (const auto& [k, v] : r.keyvals) {
      Require(IsValidUtf8(k) && IsValidUtf8(v), "invalid UTF-8 in a keyval");
    }
    for (const auto& [k, v] : r.perf) Require(IsValidUtf8(k), "invalid UTF-8 in a perf key");
  }
  Require(out.warnings.size() <= kMaxWarningsPerFile + 1, "more warnings than the cap");
  for (const std::string& w : out.warnings) {
    Require(IsValidUtf8(w), "invalid UTF-8 in a warning");
    Require(w.rfind("f: ", 0) == 0, "a warning that does not name its file");
  }
}

}  // namespace labmesh::fuzz
