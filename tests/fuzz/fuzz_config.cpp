// libFuzzer target: config files (docs/fuzzing.md). The input is written to a file and read the
// way the daemons read `--config FILE` (common/flags.hpp over CLI11: AddConfigFile, Add,
// AddDuration, a byte size like the agent's, a list with a delimiter, a flag, range checks),
// catching only what their main() catches (CLI::ParseError); it is also parsed as the CLI's
// credentials file (cli/credentials.hpp, which catches CLI::Error) and as one duration and one
// byte size value. Anything else thrown, or any sanitizer report, is a bug.
// Corpus: corpus/config (config files of the docs and tests).

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "labmesh/cli/credentials.hpp"
#include "labmesh/common/duration.hpp"
#include "labmesh/common/flags.hpp"
#include "work/builtin_checks.hpp"

namespace {

std::string g_path;

// The kinds of option the coordinator's and the agent's main() declare.
struct Config {
  std::string data_dir = "/var/lib/labmesh";
  std::string listen = "tcp://127.0.0.1:7710";
  std::string enroll_token;
  std::vector<std::string> labels;
  int64_t heartbeat_ms = 5000;
  int64_t dead_after_ms = 60000;
  int handshake_failures = 20;
  uint64_t max_frame_bytes = 16 << 20;
  uint64_t min_free_bytes = 0;
  bool auto_accept = false;
  std::string log_level = "info";
};

void ParseDaemonConfig() {
  namespace flags = labmesh::flags;
  Config config;
  CLI::App app{"fuzz"};
  flags::AddConfigFile(app);
  flags::Add(app, "data-dir", config.data_dir, "data directory");
  flags::Add(app, "agent-listen", config.listen, "agent socket");
  flags::Add(app, "enroll-token", config.enroll_token, "token");
  flags::Add(app, "labels", config.labels, "labels")->delimiter(',');
  flags::AddDuration(app, "heartbeat-interval", config.heartbeat_ms, "heartbeat");
  flags::AddDuration(app, "dead-after", config.dead_after_ms, "dead after")
      ->check([](const std::string& text) {
        auto ms = labmesh::ParseDurationMs(text);
        return ms.ok() && *ms <= 0 ? std::string("must be more than 0") : std::string();
      });
  flags::Add(app, "handshake-failures", config.handshake_failures, "failures")
      ->check(CLI::Range(1, 1'000'000));
  flags::Add(app, "max-frame-bytes", config.max_frame_bytes, "largest message");
  app.add_option_function<std::string>(
         "--min-free-space",
         [&config](const std::string& text) {
           auto parsed = labmesh::agent::ParseByteSize(text);
           if (!parsed.ok()) throw CLI::ValidationError("--min-free-space", parsed.status().message());
           config.min_free_bytes = *parsed;
         },
         "free space")
      ->envname(flags::EnvName("min-free-space"));
  app.add_flag("--auto-accept", config.auto_accept, "accept every new agent");
  flags::Add(app, "log-level", config.log_level, "log level");
  const char* argv[] = {"labmesh-fuzz", "--config", g_path.c_str()};
  try {
    app.parse(3, argv);
  } catch (const CLI::ParseError& e) {
    (void)e;  // what main() turns into a usage error (exit 2)
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
  ParseDaemonConfig();

  std::istringstream in(text);
  (void)labmesh::cli::ParseCredentialsFile(in, "credentials");
  if (size <= 64) {
    (void)labmesh::ParseDurationMs(text);
    (void)labmesh::agent::ParseByteSize(text);
  }
  return 0;
}
