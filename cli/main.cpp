// labmesh: the command-line client. Talks to the coordinator's API socket; prints tables for
// people and, with --json, one JSON document for scripts. Exit codes (CLI.md): 0 success,
// 1 the operation ran but failed, 2 usage error, 3 coordinator unreachable or timed out.
// This file has the global flags and the wiring; each command group is a class of its own
// (labmesh/cli/*_commands.hpp).

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>
#include <zmq.hpp>

#include "labmesh/cli/acl_commands.hpp"
#include "labmesh/cli/audit_commands.hpp"
#include "labmesh/cli/cli_util.hpp"
#include "labmesh/cli/global_flags.hpp"
#include "labmesh/cli/health_commands.hpp"
#include "labmesh/cli/host_commands.hpp"
#include "labmesh/cli/job_commands.hpp"
#include "labmesh/cli/label_commands.hpp"
#include "labmesh/cli/package_commands.hpp"
#include "labmesh/cli/power_commands.hpp"
#include "labmesh/cli/results_commands.hpp"
#include "labmesh/cli/schedule_commands.hpp"
#include "labmesh/cli/test_commands.hpp"
#include "labmesh/cli/user_commands.hpp"
#include "labmesh/cli/workflow_commands.hpp"
#include "labmesh/cli/visible_text.hpp"
#include "labmesh/common/flags.hpp"

int main(int argc, char** argv) {
  // Names, reasons and logs are other people's text: their terminal escapes are shown as
  // \x1b-style text, never run by the user's terminal (visible_text.hpp).
  labmesh::cli::MakeOutputVisible();
  labmesh::cli::Globals g;
  CLI::App app{"labmesh: drive a labmesh coordinator (hosts, labels, jobs, results, users)"};
  app.set_version_flag("--version", std::string(LABMESH_VERSION));
  app.require_subcommand(1);
  // --api, --user, --token, --credentials, --server-key, --json, --timeout.
  labmesh::cli::GlobalFlags global_flags(app, g);

  // The action to run once the command line parsed; set by the chosen subcommand.
  labmesh::cli::Action action;

  // ---- host (with verify, repair, history, mod), label, test (the catalog) ----
  labmesh::cli::HostCommands host_commands(app, g, action);
  labmesh::cli::LabelCommands label_commands(app, g, action);
  labmesh::cli::TestCommands test_commands(app, g, action);

  // ---- job ----
  labmesh::cli::JobCommands job_commands(app, g, action);

  // ---- results ----
  labmesh::cli::ResultsCommands results_commands(app, g, action);

  // ---- user, acl, audit ----
  labmesh::cli::UserCommands user_commands(app, g, action);
  labmesh::cli::AclCommands acl_commands(app, g, action);
  labmesh::cli::AuditCommands audit_commands(app, g, action);
  // ---- user mod, notify (after UserCommands: it adds to `user`) ----
  labmesh::cli::WorkflowCommands workflow_commands(app, g, action);
  // ---- host power-config, power, console (after HostCommands: it adds to `host`) ----
  labmesh::cli::PowerCommands power_commands(app, g, action);
  // ---- template, schedule ----
  labmesh::cli::ScheduleCommands schedule_commands(app, g, action);
  // ---- host flaky, quarantine, unquarantine (after HostCommands: it adds to `host`) ----
  labmesh::cli::HealthCommands health_commands(app, g, action);

  // ---- package ----
  labmesh::cli::PackageCommands package_commands(app, g, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return labmesh::flags::ExitForParseError(app, e);
  }
  if (!action) {
    std::cerr << app.help();
    return 2;
  }
  zmq::context_t context;
  return global_flags.Run(action, labmesh::cli::ProcessEnvironment(), context);
}
