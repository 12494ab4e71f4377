#pragma once
// `labmesh user list|create|delete|token|passwd|whoami` (CLI.md, docs/security-cli.md): flags,
// the coordinator calls and the output. Texts live in auth_logic.hpp.

#include <CLI/CLI.hpp>
#include <functional>
#include <istream>
#include <string>

#include "labmesh/cli/cli_util.hpp"
#include "labmesh/client/api_client.hpp"

namespace labmesh::cli {

// Reads a new password; `prompt` names whose ("New password for alice: "). InvalidArgument
// when it cannot (no input, two different entries on a terminal).
using PasswordReader = std::function<Result<std::string>(const std::string& prompt)>;

// From standard input: on a terminal, prompts (on stderr) twice without echo and the two must
// match; otherwise reads one line, so that `echo "$PW" | labmesh user passwd` works.
PasswordReader StdinPasswordReader();

// One line of `in` without its line end ("\n" or "\r\n"); InvalidArgument when `in` holds no
// line at all.
Result<std::string> ReadPasswordLine(std::istream& in);

class UserCommands {
 public:
  // Adds `user` and its verbs to `app`; choosing one sets `action`. `app`, `g` and `action` must
  // outlive this object, and this object must outlive the parse and the action.
  UserCommands(CLI::App& app, const Globals& g, Action& action,
               PasswordReader read_password = StdinPasswordReader());
  UserCommands(const UserCommands&) = delete;
  UserCommands& operator=(const UserCommands&) = delete;

 private:
  int List(client::ApiClient& api);
  int Create(client::ApiClient& api);
  int Delete(client::ApiClient& api);
  int Token(client::ApiClient& api);
  int Passwd(client::ApiClient& api);
  int WhoAmI(client::ApiClient& api);
  // The name given, else who the credentials name (WhoAmIRequest).
  Result<std::string> NameOrCurrentUser(client::ApiClient& api);
  int PrintToken(const protocol::UserTokenReply& reply, bool created, bool revoked_others);

  const Globals& g_;
  PasswordReader read_password_;

  // Parsed flags (one set per verb; only the chosen verb's are read).
  std::string name_;
  bool admin_ = false;
  bool revoke_others_ = false;
  bool clear_ = false;
};

}  // namespace labmesh::cli
