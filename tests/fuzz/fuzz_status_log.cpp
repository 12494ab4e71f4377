// libFuzzer target: the Autotest status.log parser (docs/fuzzing.md). The input is the file's
// text; the output must keep parsers.hpp's promises (parser_checks.hpp).
// Corpus: corpus/status_log (tests/parsers/samples.hpp status.log samples and the docs examples).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parser_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  labmesh::parsers::ParseOutput out;
  labmesh::parsers::ParseStatusLog(text, "f", &out);
  labmesh::fuzz::CheckParseOutput(out);
  return 0;
}
