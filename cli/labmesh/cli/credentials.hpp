#pragma once
// Who `labmesh` is and where it talks to (docs/security-cli.md): the API endpoint, the user and
// token every request carries, and the coordinator's Curve public key, resolved from the
// command line, the environment and the credentials file, in that order.
//
// The environment is passed in (EnvLookup) so that the rules are tested without touching the
// test process's own environment; the file system is real.

#include <functional>
#include <istream>
#include <optional>
#include <string>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/envelope.hpp"

namespace labmesh::cli {

// The API endpoint when nothing names one (CLI.md).
inline constexpr char kDefaultApiEndpoint[] = "tcp://127.0.0.1:7711";
// `--credentials none` / LABMESH_CREDENTIALS=none: read no credentials file.
inline constexpr char kNoCredentialsFile[] = "none";

// Looks up an environment variable; nullopt when unset or empty (an empty variable names
// nothing, as in a shell's `LABMESH_TOKEN= labmesh ...`).
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
// The process environment (std::getenv).
EnvLookup ProcessEnvironment();

// What the credentials file says; "" = not in the file.
struct CredentialsFile {
  std::string user;
  std::string token;
  std::string api;
  std::string server_key;  // a Z85 key or a key file, as --server-key takes it
};

// Parses the file's text: `key = "value"` lines (TOML/INI style, read by CLI11's config
// parser), keys user, token, api, server_key; comments are lines starting with # or ;.
// InvalidArgument for an unknown key (a typo would otherwise be ignored silently), a key under a
// [section], or a key given a list. `path` only names the file in messages.
Result<CredentialsFile> ParseCredentialsFile(std::istream& in, const std::string& path);

// Reads and parses the file at `path`. NotFound when it does not exist; InvalidArgument when it
// is not a regular file, cannot be read, does not parse, or holds a token while group or others
// may read it (mode & 077, like ssh with a private key).
Result<CredentialsFile> ReadCredentialsFile(const std::string& path);

// $XDG_CONFIG_HOME/labmesh/credentials when that variable is an absolute path, else
// $HOME/.config/labmesh/credentials; "" when neither is set.
std::string DefaultCredentialsPath(const EnvLookup& env);

// The connection flags as typed on the command line; "" = not given.
struct ConnectionFlags {
  std::string api;               // --api
  std::string user;              // --user
  std::string token;             // --token
  std::string credentials_file;  // --credentials
  std::string server_key;        // --server-key (a key or a key file)
};

// Where to connect and as whom, resolved.
struct Connection {
  std::string api;
  // user and token each from the first of: flag, environment (LABMESH_USER, LABMESH_TOKEN),
  // file. The file's user is used only with the file's token: a token names its user, so a
  // token from a flag or the environment is not paired with a user it may not belong to.
  protocol::Credentials credentials;
  std::string server_key;        // the 40-character Z85 key, "" = plain text
  std::string credentials_file;  // the file that was read, "" = none
};

// Resolves every field: api from --api, LABMESH_API, the file, kDefaultApiEndpoint; the server
// key from --server-key, LABMESH_SERVER_KEY, the file. The file is --credentials, else
// LABMESH_CREDENTIALS, else DefaultCredentialsPath (a missing default file is no file; a
// missing named one is an error; kNoCredentialsFile reads none). InvalidArgument (a usage error) for a bad file or a server key
// that is neither a 40-character Z85 key nor a file holding one.
Result<Connection> ResolveConnection(const ConnectionFlags& flags, const EnvLookup& env);

}  // namespace labmesh::cli
