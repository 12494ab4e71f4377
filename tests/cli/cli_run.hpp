#pragma once
// Runs a `labmesh` command line inside a test: parses it with the caller's CLI::App, runs the
// chosen action against an ApiClient on `endpoint` and captures what it prints and its exit
// code. Shared by the command tests of tests/cli.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "labmesh/cli/cli_util.hpp"
#include "labmesh/cli/credentials.hpp"
#include "labmesh/cli/global_flags.hpp"
#include "labmesh/client/api_client.hpp"

namespace labmesh::cli::testing {

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Replaces std::cout and std::cerr's buffers for its lifetime.
class CaptureOutput {
 public:
  CaptureOutput()
      : old_out_(std::cout.rdbuf(out_.rdbuf())), old_err_(std::cerr.rdbuf(err_.rdbuf())) {}
  ~CaptureOutput() {
    std::cout.rdbuf(old_out_);
    std::cerr.rdbuf(old_err_);
  }
  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }

 private:
  std::ostringstream out_;
  std::ostringstream err_;
  std::streambuf* old_out_;
  std::streambuf* old_err_;
};

// Parses `args` with `app` (whose commands set `action` when chosen) and, when that worked and
// chose a command, runs `run_action` with the output captured. A parse error is exit 2 with
// CLI11's message as `err`, as in main.
inline CliRun ParseAndCapture(CLI::App& app, const Action& action, std::vector<std::string> args,
                              const std::function<int()>& run_action) {
  args.insert(args.begin(), "labmesh");
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  CliRun run;
  CaptureOutput capture;
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    run.exit_code = kExitUsage;
    run.err = e.what();
    return run;
  }
  if (!action) {
    run.exit_code = kExitUsage;
    return run;
  }
  run.exit_code = run_action();
  run.out = capture.out();
  run.err = capture.err();
  return run;
}

// Runs the chosen action against an ApiClient on `endpoint` (no credentials).
inline CliRun ParseAndRun(CLI::App& app, const Action& action, std::vector<std::string> args,
                          zmq::context_t& context, const std::string& endpoint,
                          int64_t timeout_ms) {
  return ParseAndCapture(app, action, std::move(args), [&] {
    client::ApiClient api(context, endpoint, timeout_ms);
    return action(api);
  });
}

// An environment holding just `vars` (an empty value counts as unset, as in the process).
inline EnvLookup FakeEnvironment(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
}

// As main runs a command line: `app` holds `global_flags` and the commands, which set `action`
// when chosen; after the parse, GlobalFlags::Run resolves the endpoint and the credentials from
// the flags, `env` and the credentials file, and runs the action. A parse error is exit 2 with
// CLI11's message as `err`.
inline CliRun ParseAndRunAsMain(CLI::App& app, GlobalFlags& global_flags, const Action& action,
                                std::vector<std::string> args, zmq::context_t& context,
                                const EnvLookup& env) {
  return ParseAndCapture(app, action, std::move(args),
                         [&] { return global_flags.Run(action, env, context); });
}

}  // namespace labmesh::cli::testing
