// labmesh: the command-line client. Talks to the coordinator's API socket; prints tables for
// people and, with --json, one JSON document for scripts. Exit codes (CLI.md): 0 success,
// 1 the operation ran but failed, 2 usage error, 3 coordinator unreachable or timed out.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <zmq.hpp>

#include "labmesh/cli/acl_commands.hpp"
#include "labmesh/cli/audit_commands.hpp"
#include "labmesh/cli/cli_util.hpp"
#include "labmesh/cli/global_flags.hpp"
#include "labmesh/cli/host_lifecycle_commands.hpp"
#include "labmesh/cli/host_output.hpp"
#include "labmesh/cli/job_commands.hpp"
#include "labmesh/cli/package_commands.hpp"
#include "labmesh/cli/results_commands.hpp"
#include "labmesh/cli/user_commands.hpp"
#include "labmesh/client/api_client.hpp"
#include "labmesh/common/duration.hpp"
#include "labmesh/common/flags.hpp"
#include "labmesh/protocol/json.hpp"
#include "table.hpp"

namespace {

using labmesh::Status;
using labmesh::StatusCode;
namespace protocol = labmesh::protocol;

using labmesh::cli::Dump;
using labmesh::cli::Fail;
using labmesh::cli::Globals;
using labmesh::cli::Join;
using labmesh::cli::kExitOk;
using labmesh::cli::PrintHost;
using labmesh::cli::PrintHosts;
using labmesh::cli::PrintOk;

void PrintTests(const std::vector<protocol::TestInfo>& tests, bool json) {
  if (json) {
    nlohmann::json array = nlohmann::json::array();
    for (const auto& t : tests) array.push_back(protocol::ToJson(t, /*with_control=*/false));
    std::cout << Dump(array) << "\n";
    return;
  }
  labmesh::cli::Table table({"NAME", "DESCRIPTION", "BYTES", "CREATED BY"});
  for (const auto& t : tests) {
    // One line per test: a multi-line description shows its first line.
    table.Add({t.name, t.description.substr(0, t.description.find('\n')),
               std::to_string(t.control_bytes), t.created_by});
  }
  table.Print(std::cout);
}

// The test's fields, then its control exactly as stored (plus a newline if it lacks a final one).
void PrintTest(const protocol::TestInfo& t, bool json) {
  if (json) {
    std::cout << Dump(protocol::ToJson(t)) << "\n";
    return;
  }
  auto line = [](const char* key, const std::string& value) {
    std::cout << std::left << std::setw(16) << key << value << "\n";
  };
  line("name", t.name);
  line("description", t.description);
  line("bytes", std::to_string(t.control_bytes));
  line("created", protocol::FormatWallTimeIso(t.created_ms) + " by " + t.created_by);
  line("updated", protocol::FormatWallTimeIso(t.updated_ms) + " by " + t.updated_by);
  std::cout << "control:\n" << t.control;
  if (!t.control.empty() && t.control.back() != '\n') std::cout << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  Globals g;
  CLI::App app{"labmesh: drive a labmesh coordinator (hosts, labels, jobs, results, users)"};
  app.set_version_flag("--version", std::string(LABMESH_VERSION));
  app.require_subcommand(1);
  // --api, --user, --token, --credentials, --server-key, --json, --timeout.
  labmesh::cli::GlobalFlags global_flags(app, g);

  // The action to run once the command line parsed; set by the chosen subcommand.
  labmesh::cli::Action action;

  // ---- host ----
  auto* host = app.add_subcommand("host", "hosts of the fleet")->require_subcommand(1);
  std::string host_status, host_label, hostname, reason;
  std::vector<std::string> add_labels, remove_labels;

  auto* host_list = host->add_subcommand(
      "list", "hosts with status, labels, lock, version, heartbeat, last special task");
  host_list->add_option("--status", host_status, "only hosts in this status");
  host_list->add_option("--label", host_label, "only hosts carrying this label");
  host_list->callback([&] {
    action = [&](labmesh::client::ApiClient& api) {
      auto reply = api.Call<protocol::HostListReply>(protocol::HostListRequest{host_status, host_label});
      if (!reply.ok()) return Fail(reply.status());
      PrintHosts(reply->hosts, g.json);
      return kExitOk;
    };
  });

  auto* host_show = host->add_subcommand(
      "show", "one host: facts, health, labels, groups, protection, last special task");
  host_show->add_option("name", hostname, "hostname")->required();
  host_show->callback([&] {
    action = [&](labmesh::client::ApiClient& api) {
      auto reply = api.Call<protocol::HostShowReply>(protocol::HostShowRequest{hostname});
      if (!reply.ok()) return Fail(reply.status());
      PrintHost(reply->host, g.json);
      return kExitOk;
    };
  });

  auto* host_pending = host->add_subcommand("pending", "agents waiting for approval");
  host_pending->add_option("--label", host_label, "only hosts carrying this label");
  host_pending->callback([&] {
    action = [&](labmesh::client::ApiClient& api) {
      auto reply = api.Call<protocol::HostListReply>(protocol::HostPendingRequest{host_label});
      if (!reply.ok()) return Fail(reply.status());
      PrintHosts(reply->hosts, g.json);
      return kExitOk;
    };
  });

  // accept / reject / lock / unlock / delete share one request.
  struct HostAction {
    const char* name;
    const char* help;
    bool needs_reason;
  };
  for (const HostAction& a : {HostAction{"accept", "accept a pending agent", false},
                              HostAction{"reject", "refuse a pending agent for good", false},
                              HostAction{"lock", "take a host out of scheduling", true},
                              HostAction{"unlock", "put a host back into scheduling", false},
                              HostAction{"delete", "remove a host and revoke its key", false}}) {
    auto* sub = host->add_subcommand(a.name, a.help);
    sub->add_option("name", hostname, "hostname")->required();
    auto* reason_opt = sub->add_option("--reason", reason, "why (recorded)");
    if (a.needs_reason) reason_opt->required();
    std::string verb = a.name;
    sub->callback([&, verb] {
      action = [&, verb](labmesh::client::ApiClient& api) {
        protocol::HostActionRequest request{hostname, verb, reason,
                                            labmesh::cli::UserOf(g)};
        auto reply = api.Call<protocol::OkReply>(request);
        if (!reply.ok()) return Fail(reply.status());
        PrintOk(*reply, g.json);
        return kExitOk;
      };
    });
  }

  auto* host_label_cmd = host->add_subcommand("label", "change a host's admin labels");
  host_label_cmd->add_option("name", hostname, "hostname")->required();
  host_label_cmd->add_option("--add", add_labels, "labels to add, comma-separated")->delimiter(',');
  host_label_cmd->add_option("--remove", remove_labels, "labels to remove, comma-separated")
      ->delimiter(',');
  host_label_cmd->callback([&] {
    action = [&](labmesh::client::ApiClient& api) {
      if (add_labels.empty() && remove_labels.empty()) {
        std::cerr << "labmesh: host label: give --add and/or --remove\n";
        return 2;
      }
      auto reply = api.Call<protocol::HostShowReply>(
          protocol::HostLabelRequest{hostname, add_labels, remove_labels});
      if (!reply.ok()) return Fail(reply.status());
      if (g.json) {
        PrintHost(reply->host, true);
      } else {
        std::cout << reply->host.hostname << ": " << Join(reply->host.labels, ", ") << "\n";
      }
      return kExitOk;
    };
  });

  // verify / repair / history / mod (the host lifecycle).
  labmesh::cli::HostLifecycleCommands host_lifecycle_commands(*host, g, action);

  // ---- label ----
  auto* label = app.add_subcommand("label", "labels")->require_subcommand(1);
  std::string label_name, label_kind;
  auto* label_list = label->add_subcommand("list", "labels with their kind and host count");
  label_list->add_option("--kind", label_kind, "admin, agent or auto");
  label_list->callback([&] {
    action = [&](labmesh::client::ApiClient& api) {
      auto reply = api.Call<protocol::LabelListReply>(protocol::LabelListRequest{label_kind});
      if (!reply.ok()) return Fail(reply.status());
      if (g.json) {
        nlohmann::json array = nlohmann::json::array();
        for (const auto& l : reply->labels) array.push_back(protocol::ToJson(l));
        std::cout << array.dump(2) << "\n";
      } else {
        labmesh::cli::Table table({"LABEL", "KIND", "HOSTS"});
        for (const auto& l : reply->labels) table.Add({l.name, l.kind, std::to_string(l.hosts)});
        table.Print(std::cout);
      }
      return kExitOk;
    };
  });
  for (const char* verb : {"create", "delete"}) {
    auto* sub = label->add_subcommand(verb, std::string(verb) + " an admin label");
    sub->add_option("name", label_name, "label")->required();
    std::string v = verb;
    sub->callback([&, v] {
      action = [&, v](labmesh::client::ApiClient& api) {
        auto reply = api.Call<protocol::OkReply>(protocol::LabelActionRequest{
            label_name, v, labmesh::cli::UserOf(g)});
        if (!reply.ok()) return Fail(reply.status());
        PrintOk(*reply, g.json);
        return kExitOk;
      };
    });
  }

  // ---- test (the catalog) ----
  auto* test = app.add_subcommand("test", "the test catalog: named control programs")
                   ->require_subcommand(1);
  std::string test_name, control_file, test_description, test_prefix;
  auto* test_add = test->add_subcommand(
      "add", "add a test (or replace the one of that name) from a control file");
  test_add->add_option("name", test_name, "test name: 1-64 of A-Z a-z 0-9 . _ : -")->required();
  test_add->add_option("--control", control_file,
                       "the control program: a script, UTF-8 text of at most 1 MiB")
      ->required();
  test_add->add_option("--description", test_description, "what the test does");
  test_add->callback([&] {
    action = [&](labmesh::client::ApiClient& api) {
      // A file that cannot be read is a usage error: nothing is sent.
      // Size is the coordinator's rule here (exit 1 with its message), so no limit is applied.
      auto control = labmesh::cli::ReadControlFile(control_file,
                                                   std::numeric_limits<uint64_t>::max());
      if (!control.ok()) {
        std::cerr << "labmesh: test add: " << control.status().message() << "\n";
        return 2;
      }
      auto reply = api.Call<protocol::OkReply>(protocol::TestAddRequest{
          test_name, *control, test_description, labmesh::cli::UserOf(g)});
      if (!reply.ok()) return Fail(reply.status());
      PrintOk(*reply, g.json);
      return kExitOk;
    };
  });
  auto* test_list = test->add_subcommand("list", "tests with description, size and creator");
  test_list->add_option("--prefix", test_prefix, "only tests whose name starts with this");
  test_list->callback([&] {
    action = [&](labmesh::client::ApiClient& api) {
      auto reply = api.Call<protocol::TestListReply>(protocol::TestListRequest{test_prefix});
      if (!reply.ok()) return Fail(reply.status());
      PrintTests(reply->tests, g.json);
      return kExitOk;
    };
  });
  auto* test_show = test->add_subcommand("show", "one test with its control");
  test_show->add_option("name", test_name, "test name")->required();
  test_show->callback([&] {
    action = [&](labmesh::client::ApiClient& api) {
      auto reply = api.Call<protocol::TestShowReply>(protocol::TestShowRequest{test_name});
      if (!reply.ok()) return Fail(reply.status());
      PrintTest(reply->test, g.json);
      return kExitOk;
    };
  });

  // ---- job ----
  labmesh::cli::JobCommands job_commands(app, g, action);

  // ---- results ----
  labmesh::cli::ResultsCommands results_commands(app, g, action);

  // ---- user, acl, audit ----
  labmesh::cli::UserCommands user_commands(app, g, action);
  labmesh::cli::AclCommands acl_commands(app, g, action);
  labmesh::cli::AuditCommands audit_commands(app, g, action);

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
