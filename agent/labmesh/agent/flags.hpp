#pragma once
// The agent's command line, config file and environment (common/flags.hpp's precedence): every
// option labmesh-agent takes except --version (main() sets it: a test build plays another
// version) and the hidden `--update-watchdog FD` (taken off before parsing), declared once for
// its main() and for whatever else must read a config file exactly as the agent does (the config
// fuzz target, docs/fuzzing.md).

#include <string>

#include <CLI/CLI.hpp>

#include "labmesh/agent/config.hpp"
#include "labmesh/common/logging.hpp"

namespace labmesh::agent {

// What the command line sets besides the agent's configuration.
struct CommandLine {
  AgentConfig config;
  std::string key_or_file;  // --coordinator-key: a Z85 key or a file holding one
  LogOptions log;  // --log-level, --log-format, --log-file, --log-max-size, --log-max-files
};

// Declares every option on `app`, bound to `line`, which must outlive the parse.
void AddFlags(CLI::App& app, CommandLine& line);

}  // namespace labmesh::agent
