#include "labmesh/cli/test_commands.hpp"

#include <iomanip>
#include <iostream>
#include <limits>

#include "labmesh/protocol/json.hpp"
#include "table.hpp"

namespace labmesh::cli {

TestCommands::TestCommands(CLI::App& app, const Globals& g, Action& action) : g_(g) {
  auto* test =
      app.add_subcommand("test", "the test catalog: named control programs")->require_subcommand(1);

  auto* add = test->add_subcommand(
      "add", "add a test (or replace the one of that name) from a control file");
  add->add_option("name", name_, "test name: 1-64 of A-Z a-z 0-9 . _ : -")->required();
  add->add_option("--control", control_file_,
                  "the control program: a script, UTF-8 text of at most 1 MiB")
      ->required();
  add->add_option("--description", description_, "what the test does");
  add->callback([this, &action] { action = [this](client::ApiClient& api) { return Add(api); }; });

  auto* list = test->add_subcommand("list", "tests with description, size and creator");
  list->add_option("--prefix", prefix_, "only tests whose name starts with this");
  list->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return List(api); }; });

  auto* show = test->add_subcommand("show", "one test with its control");
  show->add_option("name", name_, "test name")->required();
  show->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Show(api); }; });
}

int TestCommands::Add(client::ApiClient& api) {
  // No limit here: over 1 MiB the coordinator refuses with its own message.
  auto control = ReadControlFile(control_file_, std::numeric_limits<uint64_t>::max());
  if (!control.ok()) return UsageError("test add: " + control.status().message());
  auto reply = api.Call<protocol::OkReply>(
      protocol::TestAddRequest{name_, *control, description_, UserOf(g_)});
  if (!reply.ok()) return Fail(reply.status());
  PrintOk(*reply, g_.json);
  return kExitOk;
}

int TestCommands::List(client::ApiClient& api) {
  auto reply = api.Call<protocol::TestListReply>(protocol::TestListRequest{prefix_});
  if (!reply.ok()) return Fail(reply.status());
  PrintTests(reply->tests);
  return kExitOk;
}

int TestCommands::Show(client::ApiClient& api) {
  auto reply = api.Call<protocol::TestShowReply>(protocol::TestShowRequest{name_});
  if (!reply.ok()) return Fail(reply.status());
  PrintTest(reply->test);
  return kExitOk;
}

void TestCommands::PrintTests(const std::vector<protocol::TestInfo>& tests) const {
  if (g_.json) {
    nlohmann::json array = nlohmann::json::array();
    for (const auto& t : tests) array.push_back(protocol::ToJson(t, /*with_control=*/false));
    std::cout << Dump(array) << "\n";
    return;
  }
  Table table({"NAME", "DESCRIPTION", "BYTES", "CREATED BY"});
  for (const auto& t : tests) {
    table.Add({t.name, t.description.substr(0, t.description.find('\n')),
               std::to_string(t.control_bytes), t.created_by});
  }
  table.Print(std::cout);
}

void TestCommands::PrintTest(const protocol::TestInfo& t) const {
  if (g_.json) {
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

}  // namespace labmesh::cli
