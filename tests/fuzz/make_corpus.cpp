// Writes the seed corpora that come from the test samples (docs/fuzzing.md): every message of
// tests/protocol/sample_messages.hpp encoded (corpus/decode) and the result files of
// tests/parsers/samples.hpp (corpus/status_log, keyval, junit, tap), one file each, named by
// content. Run by hand when the samples change:
//   build-fuzz/tests/fuzz/fuzz_make_corpus tests/fuzz/corpus
// Not a fuzzer: built without sanitizers, in the fuzz build only.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "samples.hpp"
#include "sample_messages.hpp"

namespace {

namespace fs = std::filesystem;

// A short name from the content (FNV-1a), so a regenerated seed overwrites itself.
std::string NameOf(const std::string& data) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) h = (h ^ c) * 1099511628211ull;
  char name[32];
  std::snprintf(name, sizeof name, "seed-%016llx", static_cast<unsigned long long>(h));
  return name;
}

void Write(const fs::path& dir, const std::vector<std::string>& seeds) {
  fs::create_directories(dir);
  for (const std::string& seed : seeds) std::ofstream(dir / NameOf(seed), std::ios::binary) << seed;
  std::printf("%s: %zu seeds\n", dir.c_str(), seeds.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const fs::path out = argv[1];
  namespace s = labmesh::parsers::samples;
  Write(out / "decode", labmesh::protocol::testing::AllSampleFrames());
  Write(out / "status_log", {s::kStatusLogNested, s::kStatusLogCrashed});
  Write(out / "keyval", {s::kKeyvalIterations});
  Write(out / "junit", {s::kJUnitGoogleTest, s::kJUnitPytest, s::kJUnitSurefire, s::kJUnitCtest,
                        s::kJUnitNested});
  Write(out / "tap", {s::kTapBasic, s::kTapSubtests, s::kTapBailOut, s::kTapMalformed});
  return 0;
}
