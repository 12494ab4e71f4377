#pragma once
// `labmesh test add|list|show` (CLI.md): the test catalog, named control programs jobs run by
// name (TestAddRequest, TestListRequest, TestShowRequest), and the output.

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "labmesh/cli/cli_util.hpp"
#include "labmesh/client/api_client.hpp"

namespace labmesh::cli {

class TestCommands {
 public:
  // Adds `test` and its verbs to `app`; choosing one sets `action`. `app`, `g` and `action`
  // must outlive this object, and this object must outlive the parse and the action.
  TestCommands(CLI::App& app, const Globals& g, Action& action);
  TestCommands(const TestCommands&) = delete;
  TestCommands& operator=(const TestCommands&) = delete;

 private:
  // A control file that cannot be read is a usage error and nothing is sent; its size is the
  // coordinator's rule (exit 1 with its message).
  int Add(client::ApiClient& api);
  int List(client::ApiClient& api);
  int Show(client::ApiClient& api);
  // One line per test: a multi-line description shows its first line.
  void PrintTests(const std::vector<protocol::TestInfo>& tests) const;
  // The test's fields, then its control exactly as stored (plus a newline if it lacks a final
  // one).
  void PrintTest(const protocol::TestInfo& t) const;

  const Globals& g_;

  // Parsed flags (one set per verb; only the chosen verb's are read).
  std::string name_;
  std::string control_file_;
  std::string description_;
  std::string prefix_;
};

}  // namespace labmesh::cli
