// libFuzzer target: config files (docs/fuzzing.md). The input is read as a config file (CLI11's
// parse_from_stream: the reader `--config FILE` uses) with the coordinator's and the agent's own
// options (their AddFlags, which their main() declares too), catching only what main() catches
// (CLI::ParseError); it is also parsed as the CLI's credentials file (cli/credentials.hpp,
// which catches CLI::Error) and as one duration and one byte size value. Anything else thrown,
// or any sanitizer report, is a bug.
// Corpus: corpus/config (config files of the docs and tests).

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include "labmesh/agent/flags.hpp"
#include "labmesh/cli/credentials.hpp"
#include "labmesh/common/duration.hpp"
#include "labmesh/coordinator/flags.hpp"
#include "work/builtin_checks.hpp"

namespace {

// One daemon's command line, declared once by its AddFlags (as its main() does) and parsed
// again for every input: the options are the expensive part, and App::clear() resets what a
// parse leaves behind (the bound values keep the last input's, which changes no parse).
template <typename CommandLine>
struct Daemon {
  CommandLine line;
  CLI::App app{"fuzz"};

  template <typename AddFlags>
  explicit Daemon(AddFlags add_flags) {
    add_flags(app, line);
  }

  // The bytes as the config file's text: CLI11's config reader and the options' own checks,
  // catching only what main() catches (CLI::ParseError, a usage error: exit 2).
  void Parse(const std::string& text) {
    app.clear();
    std::istringstream in(text);
    try {
      app.parse_from_stream(in);
    } catch (const CLI::ParseError& e) {
      (void)e;
    }
  }
};

Daemon<labmesh::coordinator::CommandLine>* g_coordinator = nullptr;
Daemon<labmesh::agent::CommandLine>* g_agent = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_coordinator = new Daemon<labmesh::coordinator::CommandLine>(labmesh::coordinator::AddFlags);
  g_agent = new Daemon<labmesh::agent::CommandLine>(labmesh::agent::AddFlags);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  g_coordinator->Parse(text);
  g_agent->Parse(text);

  std::istringstream in(text);
  (void)labmesh::cli::ParseCredentialsFile(in, "credentials");
  if (size <= 64) {
    (void)labmesh::ParseDurationMs(text);
    (void)labmesh::agent::ParseByteSize(text);
  }
  return 0;
}
