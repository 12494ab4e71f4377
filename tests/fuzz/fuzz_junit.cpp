// libFuzzer target: the JUnit XML (through pugixml) parser (docs/fuzzing.md). The input is the file's
// text; the output must keep parsers.hpp's promises (parser_checks.hpp).
// Corpus: corpus/junit (the JUnit samples of tests/parsers/samples.hpp and a GoogleTest report).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parser_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  labmesh::parsers::ParseOutput out;
  (void)labmesh::parsers::ParseJUnit(text, "f", &out);
  labmesh::fuzz::CheckParseOutput(out);
  return 0;
}
