#include "labmesh/cli/credentials.hpp"

#include <CLI/CLI.hpp>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "labmesh/common/curve_keys.hpp"

namespace labmesh::cli {

namespace {

std::string Octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// The first of `values` that is not empty, else "".
std::string FirstOf(std::initializer_list<std::optional<std::string>> values) {
  for (const auto& v : values) {
    if (v.has_value() && !v->empty()) return *v;
  }
  return "";
}

std::optional<std::string> Given(const std::string& flag) {
  if (flag.empty()) return std::nullopt;
  return flag;
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
}

Result<CredentialsFile> ParseCredentialsFile(std::istream& in, const std::string& path) {
  // CLI11's INI/TOML reader. Its default comment character '#' would also cut a value at a '#'
  // (even inside quotes), and '#' is one of the 85 characters of a Z85 server key; so here only
  // ';' starts a comment within a line (whole lines starting with '#' or ';' are comments
  // either way).
  CLI::ConfigTOML parser;
  parser.comment(';');
  std::vector<CLI::ConfigItem> items;
  try {
    items = parser.from_config(in);
  } catch (const CLI::Error& e) {
    return Status::InvalidArgument("credentials file " + path + ": " + e.what());
  }
  CredentialsFile file;
  for (const CLI::ConfigItem& item : items) {
    // Section markers CLI11 inserts around a [section]: the keys inside are refused below.
    if (item.name == "++" || item.name == "--") continue;
    std::string key = item.fullname();
    std::string* field = nullptr;
    if (item.parents.empty()) {
      if (key == "user") field = &file.user;
      if (key == "token") field = &file.token;
      if (key == "api") field = &file.api;
      if (key == "server_key" || key == "server-key") field = &file.server_key;
    }
    if (field == nullptr) {
      return Status::InvalidArgument("credentials file " + path + ": unknown key '" + key +
                                     "' (known: user, token, api, server_key)");
    }
    if (item.inputs.size() != 1) {
      return Status::InvalidArgument(
          "credentials file " + path + ": '" + key +
          "' must be one quoted value (comments go on their own line)");
    }
    *field = item.inputs.front();
  }
  return file;
}

Result<CredentialsFile> ReadCredentialsFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::NotFound("credentials file " + path + " does not exist");
    return Status::InvalidArgument("cannot read credentials file " + path + ": " +
                                   std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument("credentials file " + path + " is not a regular file");
  }
  std::ifstream in(path);
  if (!in) {
    return Status::InvalidArgument("cannot read credentials file " + path + ": " +
                                   std::strerror(errno));
  }
  auto file = ParseCredentialsFile(in, path);
  if (!file.ok()) return file.status();
  if (in.bad()) return Status::InvalidArgument("cannot read credentials file " + path);
  // A token anyone else on the machine can read is no longer a secret: refuse to use it (as ssh
  // refuses a private key file others can read) rather than quietly go on.
  if (!file->token.empty() && (st.st_mode & 077) != 0) {
    return Status::InvalidArgument("credentials file " + path + " holds a token but is readable by " +
                                   ((st.st_mode & 007) != 0 ? "others" : "its group") + " (mode " +
                                   Octal(st.st_mode) + "); run: chmod 600 " + path);
  }
  return file;
}

std::string DefaultCredentialsPath(const EnvLookup& env) {
  // XDG Base Directory: a relative $XDG_CONFIG_HOME is invalid and must be ignored.
  if (auto xdg = env("XDG_CONFIG_HOME"); xdg.has_value() && xdg->front() == '/') {
    return *xdg + "/labmesh/credentials";
  }
  if (auto home = env("HOME"); home.has_value()) return *home + "/.config/labmesh/credentials";
  return "";
}

Result<Connection> ResolveConnection(const ConnectionFlags& flags, const EnvLookup& env) {
  // Which file, and whether it was named (then it must exist).
  std::string path = FirstOf({Given(flags.credentials_file), env("LABMESH_CREDENTIALS")});
  bool named = !path.empty();
  if (!named) path = DefaultCredentialsPath(env);

  // "none" reads no file at all (as ssh -F none): scripts and test harnesses that must not
  // pick up the invoking user's file.
  if (path == kNoCredentialsFile) path.clear();

  Connection connection;
  CredentialsFile file;
  if (!path.empty()) {
    auto read = ReadCredentialsFile(path);
    if (read.ok()) {
      file = *read;
      connection.credentials_file = path;
    } else if (read.status().code() != StatusCode::kNotFound || named) {
      return Status::InvalidArgument(read.status().message());
    }
  }

  connection.api = FirstOf({Given(flags.api), env("LABMESH_API"), Given(file.api)});
  if (connection.api.empty()) connection.api = kDefaultApiEndpoint;

  std::string token_flag_or_env = FirstOf({Given(flags.token), env("LABMESH_TOKEN")});
  connection.credentials.token = FirstOf({Given(token_flag_or_env), Given(file.token)});
  // The file's user belongs to the file's token; with a token from elsewhere it is not sent.
  std::optional<std::string> file_user =
      token_flag_or_env.empty() ? Given(file.user) : std::nullopt;
  connection.credentials.user = FirstOf({Given(flags.user), env("LABMESH_USER"), file_user});

  std::string key_or_file =
      FirstOf({Given(flags.server_key), env("LABMESH_SERVER_KEY"), Given(file.server_key)});
  if (!key_or_file.empty()) {
    auto key = ResolveCurveKey(key_or_file);
    if (!key.ok()) return Status::InvalidArgument("server key: " + key.status().message());
    connection.server_key = *key;
  }
  return connection;
}

}  // namespace labmesh::cli
