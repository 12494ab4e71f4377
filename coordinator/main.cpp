// labmesh-coordinator: parses configuration (flags > environment > config file > defaults),
// sets up logging and runs the coordinator. Everything else lives in the library.

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

#include "labmesh/common/flags.hpp"
#include "labmesh/common/logging.hpp"
#include "labmesh/coordinator/coordinator.hpp"
#include "labmesh/coordinator/flags.hpp"
#include "labmesh/store/store.hpp"
#include "keys_command.hpp"
#include "store_check.hpp"

int main(int argc, char** argv) {
  namespace flags = labmesh::flags;
  labmesh::coordinator::CommandLine line;
  CLI::App app{"labmesh-coordinator: holds hosts and jobs, talks to agents and clients"};
  labmesh::coordinator::AddFlags(app, line);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return flags::ExitForParseError(app, e);
  }
  if (auto s = labmesh::SetupLogging("coordinator", line.log); !s.ok()) {
    std::cerr << "labmesh-coordinator: " << s.message() << "\n";
    return 2;
  }
  if (line.migrate->parsed()) {
    labmesh::Status copied = labmesh::store::CopyStore(
        line.migrate_from, line.migrate_to, [](std::string_view table, uint64_t rows) {
          std::cout << "migrate: " << table << ": " << rows << " rows" << std::endl;
        });
    if (!copied.ok()) {
      std::cerr << "labmesh-coordinator migrate: " << copied.ToString() << "\n";
      return 1;
    }
    std::cout << "migrate: done; start the coordinator with --store " << line.migrate_to
              << "\n";
    return 0;
  }
  if (line.keys_export->parsed() || line.keys_import->parsed()) {
    const bool exporting = line.keys_export->parsed();
    labmesh::Status done =
        exporting ? labmesh::coordinator::ExportCoordinatorKeys(line.config.data_dir, line.keys_file)
                  : labmesh::coordinator::ImportCoordinatorKeys(line.config.data_dir,
                                                                line.keys_file, line.keys_replace);
    if (!done.ok()) {
      std::cerr << "labmesh-coordinator keys " << (exporting ? "export" : "import") << ": "
                << done.ToString() << "\n";
      return 1;
    }
    std::cout << "keys " << (exporting ? "exported to " : "imported from ") << line.keys_file
              << "\n";
    return 0;
  }
  if (!line.check_dir.empty()) {
    auto report = labmesh::coordinator::CheckDataDir(line.check_dir, line.config.store);
    if (!report.ok()) {
      std::cerr << "labmesh-coordinator --check " << line.check_dir << ": "
                << report.status().ToString() << "\n";
      return 2;
    }
    for (const std::string& problem : report->problems) std::cout << problem << "\n";
    std::cout << "check " << line.check_dir << ": " << report->Summary() << std::endl;
    return report->clean() ? 0 : 1;
  }
  flags::LogGivenOptions(app, {"--enroll-token", "--metrics-token", "--store"});
  labmesh::Status status = labmesh::coordinator::RunCoordinator(line.config);
  if (!status.ok()) {
    spdlog::error("{}", status.ToString());
    return 1;
  }
  return 0;
}
