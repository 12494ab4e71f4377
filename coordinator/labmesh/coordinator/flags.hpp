#pragma once
// The coordinator's command line, config file and environment (common/flags.hpp's precedence):
// every option labmesh-coordinator takes, declared once, for its main() and for whatever else
// must read a config file exactly as the daemon does (the config fuzz target, docs/fuzzing.md).

#include <string>

#include <CLI/CLI.hpp>

#include "labmesh/common/logging.hpp"
#include "labmesh/coordinator/config.hpp"

namespace labmesh::coordinator {

// What the command line sets besides the daemon's configuration.
struct CommandLine {
  CoordinatorConfig config;
  LogOptions log;  // --log-level, --log-format, --log-file, --log-max-size, --log-max-files
  std::string check_dir;  // --check DATA_DIR: check the store and exit
  // `labmesh-coordinator migrate --from SPEC --to SPEC`: copy a store and exit.
  CLI::App* migrate = nullptr;
  std::string migrate_from;
  std::string migrate_to;
  // `labmesh-coordinator keys export FILE` / `keys import FILE [--replace]` (keys_command.hpp).
  CLI::App* keys_export = nullptr;
  CLI::App* keys_import = nullptr;
  std::string keys_file;
  bool keys_replace = false;
};

// Declares every option on `app`, bound to `line`, which must outlive the parse.
void AddFlags(CLI::App& app, CommandLine& line);

}  // namespace labmesh::coordinator
