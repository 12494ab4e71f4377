// labmesh: the command-line client. Talks to the coordinator's API socket; prints tables for
// people and, with --json, one JSON document for scripts. Exit codes (CLI.md): 0 success,
// 1 the operation ran but failed, 2 usage error, 3 coordinator unreachable or timed out.
// This file has the global flags and the wiring; each command group is a class of its own
// (labmesh/cli/*_commands.hpp).

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <iostream>
#include <optional>
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

  // Only the command group the command line names is built (all of them for help, a typo or
  // no command): CLI11's hundreds of options are a measurable share of a run in a shell loop
  // (scripts/bench-cli.sh). The groups that add to another's (workflow, power, health) look
  // for it and add nothing when it was not built.
  const std::string top = labmesh::cli::FirstCommand(argc, argv, global_flags.ValueOptions());
  auto wants = [&](std::initializer_list<const char*> names) {
    if (!labmesh::cli::IsCommandGroup(top)) return true;
    for (const char* name : names) {
      if (top == name) return true;
    }
    return false;
  };
  using namespace labmesh::cli;  // the command groups
  // ---- host (with verify, repair, history, mod), label, test (the catalog) ----
  std::optional<HostCommands> host_commands;
  if (wants({"host"})) host_commands.emplace(app, g, action);
  std::optional<LabelCommands> label_commands;
  if (wants({"label"})) label_commands.emplace(app, g, action);
  std::optional<TestCommands> test_commands;
  if (wants({"test"})) test_commands.emplace(app, g, action);
  // ---- job ----
  std::optional<JobCommands> job_commands;
  if (wants({"job"})) job_commands.emplace(app, g, action);
  // ---- results ----
  std::optional<ResultsCommands> results_commands;
  if (wants({"results"})) results_commands.emplace(app, g, action);
  // ---- user, acl, audit ----
  std::optional<UserCommands> user_commands;
  if (wants({"user"})) user_commands.emplace(app, g, action);
  std::optional<AclCommands> acl_commands;
  if (wants({"acl"})) acl_commands.emplace(app, g, action);
  std::optional<AuditCommands> audit_commands;
  if (wants({"audit"})) audit_commands.emplace(app, g, action);
  // ---- user mod, job clone, host reserve/release, notify (after user, job and host: it adds
  // to them) ----
  std::optional<WorkflowCommands> workflow_commands;
  if (wants({"user", "job", "host", "notify"})) workflow_commands.emplace(app, g, action);
  // ---- host power-config, power, console (after HostCommands: it adds to `host`) ----
  std::optional<PowerCommands> power_commands;
  if (wants({"host"})) power_commands.emplace(app, g, action);
  // ---- template, schedule ----
  std::optional<ScheduleCommands> schedule_commands;
  if (wants({"template", "schedule"})) schedule_commands.emplace(app, g, action);
  // ---- host flaky, quarantine, unquarantine (after HostCommands: it adds to `host`) ----
  std::optional<HealthCommands> health_commands;
  if (wants({"host"})) health_commands.emplace(app, g, action);
  // ---- package ----
  std::optional<PackageCommands> package_commands;
  if (wants({"package"})) package_commands.emplace(app, g, action);

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
  int rc = global_flags.Run(action, labmesh::cli::ProcessEnvironment(), context);
  // The reply is in and printed; the socket (linger 0) has nothing left to send. Ending the
  // ZeroMQ context (joining its threads) and destroying CLI11's objects would only cost every
  // run of a shell loop time (scripts/bench-cli.sh): flush and leave, the kernel closes the
  // connection.
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  std::_Exit(rc);
}
