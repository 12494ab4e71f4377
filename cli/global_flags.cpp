#include "labmesh/cli/global_flags.hpp"

#include "labmesh/client/api_client.hpp"
#include "labmesh/common/duration.hpp"

namespace labmesh::cli {

GlobalFlags::GlobalFlags(CLI::App& app, Globals& g) : app_(app), g_(g) {
  // No CLI11 envname here: the environment is one of the places ResolveConnection looks, in its
  // order (flag, environment, credentials file), and it is passed in so that tests can set it.
  app.add_option("--api", flags_.api,
                 "coordinator API endpoint (else $LABMESH_API, the credentials file, " +
                     std::string(kDefaultApiEndpoint) + ")");
  app.add_option("--user", flags_.user,
                 "user name (else $LABMESH_USER, the credentials file)");
  app.add_option("--token", flags_.token,
                 "API token (else $LABMESH_TOKEN, the credentials file)");
  app.add_option("--credentials", flags_.credentials_file,
                 "credentials file (else $LABMESH_CREDENTIALS, "
                 "~/.config/labmesh/credentials; none: no file); must not be readable by others");
  app.add_option("--server-key", flags_.server_key,
                 "the coordinator's Curve public key (Z85) or a file holding it, to speak "
                 "CurveZMQ to its API socket (else $LABMESH_SERVER_KEY, the credentials file)");
  app.add_flag("--json", g_.json, "print one JSON document instead of a table");
  timeout_option_ =
      app.add_option("--timeout", timeout_text_, "how long to wait for the coordinator")
          ->envname("LABMESH_TIMEOUT")
          ->check([](const std::string& s) {
            auto ms = ParseDurationMs(s);
            return ms.ok() ? std::string() : ms.status().message();
          });
}

std::vector<std::string> GlobalFlags::ValueOptions() const {
  std::vector<std::string> names;
  for (const CLI::Option* option : app_.get_options()) {
    if (option->get_type_size() == 0) continue;  // a flag
    for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
    for (const std::string& name : option->get_snames()) names.push_back("-" + name);
  }
  return names;
}

int GlobalFlags::Run(const Action& action, const EnvLookup& env, zmq::context_t& context) {
  auto connection = ResolveConnection(flags_, env);
  if (!connection.ok()) return UsageError(connection.status().message());
  auto timeout_ms = ParseDurationMs(timeout_text_);
  if (!timeout_ms.ok()) return UsageError("--timeout: " + timeout_ms.status().message());
  g_.api = connection->api;
  g_.user = connection->credentials.user;
  g_.token = connection->credentials.token;
  g_.timeout_ms = *timeout_ms;
  g_.timeout_given = timeout_option_->count() > 0;
  client::ApiClient api(context, g_.api, g_.timeout_ms);
  api.set_credentials(connection->credentials);
  if (!connection->server_key.empty()) api.set_server_key(connection->server_key);
  return action(api);
}

}  // namespace labmesh::cli
