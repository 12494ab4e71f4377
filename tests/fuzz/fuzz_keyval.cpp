// libFuzzer target: the keyval parser (docs/fuzzing.md). The input is a keyval file's text; the
// keys and values become a result's, which must keep parsers.hpp's promises (parser_checks.hpp).
// Corpus: corpus/keyval (the keyval samples of tests/parsers).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parser_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  labmesh::parsers::ParseOutput out;
  labmesh::parsers::Keyvals kv = labmesh::parsers::ParseKeyval(text, "f", &out.warnings);
  labmesh::parsers::TestResult result;
  result.test = "keyval";
  result.status = "GOOD";
  result.keyvals = std::move(kv.keyvals);
  result.perf = std::move(kv.perf);
  for (const auto& [key, value] : result.keyvals) {
    labmesh::fuzz::Require(value.size() <= labmesh::parsers::kMaxValueBytes,
                           "a keyval value over kMaxValueBytes");
  }
  out.results.push_back(std::move(result));
  labmesh::fuzz::CheckParseOutput(out);
  return 0;
}
