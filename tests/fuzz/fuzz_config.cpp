// libFuzzer target: config files (docs/fuzzing.md). The input is written to a file and read as
// `--config FILE` with the coordinator's and the agent's own options (their AddFlags, which their
// main() declares too), catching only what main() catches (CLI::ParseError); it is also parsed
// as the CLI's credentials file (cli/credentials.hpp, which catches CLI::Error) and as one duration and one
// byte size value. Anything else thrown, or any sanitizer report, is a bug.
// Corpus: corpus/config (config files of the docs and tests).

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include "labmesh/agent/flags.hpp"
#include "labmesh/cli/credentials.hpp"
#include "labmesh/common/duration.hpp"
#include "labmesh/coordinator/flags.hpp"
#include "work/builtin_checks.hpp"

namespace {

std::string g_path;

// Parses the config file with `add_flags`' options the way main() does, catching only what
// main() catches (CLI::ParseError, a usage error: exit 2).
template <typename CommandLine, typename AddFlags>
void ParseAsDaemon(AddFlags add_flags) {
  CommandLine line;
  CLI::App app{"fuzz"};
  add_flags(app, line);
  const char* argv[] = {"labmesh-fuzz", "--config", g_path.c_str()};
  try {
    app.parse(3, argv);
  } catch (const CLI::ParseError& e) {
    (void)e;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char pattern[] = "/tmp/labmesh-fuzz-config-XXXXXX";
  int fd = ::mkstemp(pattern);
  if (fd < 0) std::abort();
  ::close(fd);
  g_path = pattern;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  FILE* file = std::fopen(g_path.c_str(), "wb");
  if (file == nullptr) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, file) != size) std::abort();
  std::fclose(file);
  ParseAsDaemon<labmesh::coordinator::CommandLine>(labmesh::coordinator::AddFlags);
  ParseAsDaemon<labmesh::agent::CommandLine>(labmesh::agent::AddFlags);

  std::istringstream in(text);
  (void)labmesh::cli::ParseCredentialsFile(in, "credentials");
  if (size <= 64) {
    (void)labmesh::ParseDurationMs(text);
    (void)labmesh::agent::ParseByteSize(text);
  }
  return 0;
}
