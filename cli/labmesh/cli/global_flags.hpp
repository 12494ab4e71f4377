#pragma once
// The flags every `labmesh` command takes before its noun (CLI.md): --api, --user, --token,
// --credentials, --server-key, --json, --timeout; and running the chosen command's action with
// an ApiClient set up from them (docs/security-cli.md). Shared by main and the command tests,
// so that the tests go through the same credential rules as the binary.

#include <CLI/CLI.hpp>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "labmesh/cli/cli_util.hpp"
#include "labmesh/cli/credentials.hpp"

namespace labmesh::cli {

class GlobalFlags {
 public:
  // Adds the flags to `app`; their values land in `g` (--json) and in this object. `app` and `g`
  // must outlive this object.
  GlobalFlags(CLI::App& app, Globals& g);
  GlobalFlags(const GlobalFlags&) = delete;
  GlobalFlags& operator=(const GlobalFlags&) = delete;

  // After a successful parse: resolves the connection (ResolveConnection; a bad credentials file
  // or server key is a usage error: exit 2 and nothing is sent), fills `g` (api, user, token,
  // timeout), makes the client, gives it the credentials and the server key once, and returns
  // what `action` returns.
  int Run(const Action& action, const EnvLookup& env, zmq::context_t& context);

  // The global options that take a value ("--api", ...), for FirstCommand before the parse.
  std::vector<std::string> ValueOptions() const;

 private:
  CLI::App& app_;
  Globals& g_;
  ConnectionFlags flags_;
  std::string timeout_text_ = "5s";
  CLI::Option* timeout_option_ = nullptr;
};

}  // namespace labmesh::cli
