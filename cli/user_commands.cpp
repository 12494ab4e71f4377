#include "labmesh/cli/user_commands.hpp"

#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "labmesh/cli/auth_logic.hpp"
#include "labmesh/protocol/json.hpp"

namespace labmesh::cli {

namespace {

// Reads one line from the terminal on stdin with echo off; echo comes back even on failure.
Result<std::string> ReadWithoutEcho(const std::string& prompt) {
  std::cerr << prompt << std::flush;
  termios saved{};
  bool have_termios = ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (have_termios) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;  // the Enter still moves the cursor to the next line
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  auto line = ReadPasswordLine(std::cin);
  if (have_termios) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  return line;
}

}  // namespace

Result<std::string> ReadPasswordLine(std::istream& in) {
  std::string line;
  if (!std::getline(in, line)) return Status::InvalidArgument("no password on standard input");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

PasswordReader StdinPasswordReader() {
  return [](const std::string& prompt) -> Result<std::string> {
    if (!::isatty(STDIN_FILENO)) return ReadPasswordLine(std::cin);
    auto first = ReadWithoutEcho(prompt);
    if (!first.ok()) return first.status();
    // An empty first entry is refused by the caller (or cleared with --clear): no need to ask
    // again.
    if (first->empty()) return first;
    auto second = ReadWithoutEcho("Again: ");
    if (!second.ok()) return second.status();
    if (*first != *second) return Status::InvalidArgument("the two passwords differ");
    return first;
  };
}

UserCommands::UserCommands(CLI::App& app, const Globals& g, Action& action,
                           PasswordReader read_password)
    : g_(g), read_password_(std::move(read_password)) {
  auto* user = app.add_subcommand("user", "users, their API tokens and web passwords")
                   ->require_subcommand(1);

  auto* list = user->add_subcommand("list", "users with admin flag, groups, tokens, password");
  list->add_option("name", name_, "just this user");
  list->callback([this, &action] { action = [this](client::ApiClient& api) { return List(api); }; });

  auto* create = user->add_subcommand(
      "create", "create a user (admins only); prints its first token, once");
  create->add_option("name", name_, "user name")->required();
  create->add_flag("--admin", admin_, "the user may administer users, groups and hosts");
  create->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Create(api); }; });

  auto* del = user->add_subcommand(
      "delete", "delete a user (admins only): its tokens and sessions stop working; jobs stay");
  del->add_option("name", name_, "user name")->required();
  del->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Delete(api); }; });

  auto* token = user->add_subcommand(
      "token", "a new API token for a user (default: yourself); printed once");
  token->add_option("name", name_, "user name (admins: anyone; default: who you are)");
  token->add_flag("--revoke-others", revoke_others_, "revoke every older token of the user");
  token->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Token(api); }; });

  auto* passwd = user->add_subcommand(
      "passwd",
      "set the web login password of a user (default: yourself); read from standard input "
      "(asked twice without echo on a terminal)");
  passwd->add_option("name", name_, "user name (admins: anyone; default: who you are)");
  passwd->add_flag("--clear", clear_, "remove the password instead (no web login by password)");
  passwd->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Passwd(api); }; });

  auto* whoami = user->add_subcommand("whoami", "who the credentials name: user, admin, groups");
  whoami->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return WhoAmI(api); }; });
}

int UserCommands::List(client::ApiClient& api) {
  auto reply = api.Call<protocol::UserListReply>(protocol::UserListRequest{name_});
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    nlohmann::json array = nlohmann::json::array();
    for (const auto& u : reply->users) array.push_back(protocol::ToJson(u));
    std::cout << Dump(array) << "\n";
  } else {
    std::cout << FormatUserList(reply->users);
  }
  return kExitOk;
}

int UserCommands::PrintToken(const protocol::UserTokenReply& reply, bool created,
                             bool revoked_others) {
  if (g_.json) {
    std::cout << Dump(nlohmann::json{{"name", reply.name}, {"token", reply.token}}) << "\n";
  } else {
    std::cout << FormatNewToken(reply, created, revoked_others);
  }
  return kExitOk;
}

int UserCommands::Create(client::ApiClient& api) {
  auto reply = api.Call<protocol::UserTokenReply>(protocol::UserCreateRequest{name_, admin_});
  if (!reply.ok()) return Fail(reply.status());
  return PrintToken(*reply, /*created=*/true, /*revoked_others=*/false);
}

int UserCommands::Delete(client::ApiClient& api) {
  auto reply = api.Call<protocol::OkReply>(protocol::UserDeleteRequest{name_});
  if (!reply.ok()) return Fail(reply.status());
  PrintOk(*reply, g_.json);
  return kExitOk;
}

Result<std::string> UserCommands::NameOrCurrentUser(client::ApiClient& api) {
  if (!name_.empty()) return name_;
  auto me = api.Call<protocol::WhoAmIReply>(protocol::WhoAmIRequest{/*with_groups=*/false});
  if (!me.ok()) return me.status();
  return me->user;
}

int UserCommands::Token(client::ApiClient& api) {
  auto name = NameOrCurrentUser(api);
  if (!name.ok()) return Fail(name.status());
  auto reply =
      api.Call<protocol::UserTokenReply>(protocol::UserTokenRequest{*name, revoke_others_});
  if (!reply.ok()) return Fail(reply.status());
  return PrintToken(*reply, /*created=*/false, revoke_others_);
}

int UserCommands::Passwd(client::ApiClient& api) {
  // The password is read (and an empty one refused) before anything is sent.
  std::string password;
  if (!clear_) {
    auto read = read_password_(name_.empty() ? "New password: "
                                             : "New password for " + name_ + ": ");
    if (!read.ok()) return UsageError("user passwd: " + read.status().message());
    if (read->empty()) {
      return UsageError("user passwd: empty password (use --clear to remove the password)");
    }
    password = std::move(*read);
  }
  auto name = NameOrCurrentUser(api);
  if (!name.ok()) return Fail(name.status());
  auto reply = api.Call<protocol::OkReply>(protocol::UserPasswdRequest{*name, password});
  if (!reply.ok()) return Fail(reply.status());
  PrintOk(*reply, g_.json);
  return kExitOk;
}

int UserCommands::WhoAmI(client::ApiClient& api) {
  auto reply = api.Call<protocol::WhoAmIReply>(protocol::WhoAmIRequest{/*with_groups=*/true});
  if (!reply.ok()) return Fail(reply.status());
  if (g_.json) {
    std::cout << Dump(WhoAmIJson(*reply)) << "\n";
  } else {
    std::cout << FormatWhoAmI(*reply);
  }
  return kExitOk;
}

}  // namespace labmesh::cli
