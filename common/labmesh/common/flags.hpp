#pragma once
// Command-line flags shared by every labmesh binary (CLI11, header-only).
// A daemon flag `--some-name` can also come from the config file as `some-name = value` and from
// the environment as LABMESH_SOME_NAME. Precedence: command line, then config file, then
// environment, then the default (CLI11 reads the file before the environment). An unknown key
// in the config file is an error, not silently ignored.

#include <CLI/CLI.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <string>

#include "labmesh/common/duration.hpp"

namespace labmesh::flags {

inline std::string EnvName(const std::string& flag) {
  std::string env = "LABMESH_";
  for (char c : flag) env += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return env;
}

template <typename T>
CLI::Option* Add(CLI::App& app, const std::string& name, T& value, const std::string& help) {
  return app.add_option("--" + name, value, help)->envname(EnvName(name))->capture_default_str();
}

// A duration flag ("500ms", "5s", "10m", "2h") stored in milliseconds.
inline CLI::Option* AddDuration(CLI::App& app, const std::string& name, int64_t& ms,
                                const std::string& help) {
  auto* option = app.add_option_function<std::string>(
      "--" + name,
      [&ms, name](const std::string& text) {
        auto parsed = ParseDurationMs(text);
        if (!parsed.ok()) throw CLI::ValidationError("--" + name, parsed.status().message());
        ms = *parsed;
      },
      help + " (default " + FormatDurationMs(ms) + ")");
  return option->envname(EnvName(name));
}

// Reads --config FILE; unknown keys in it are errors.
inline void AddConfigFile(CLI::App& app) {
  app.set_config("--config", "", "config file: `flag-name = value` lines (flag names without --)");
  app.allow_config_extras(CLI::config_extras_mode::error);
}

// Logs every option given (flag, file or environment), so a log shows how a daemon was set up.
// Options named in `secret` are logged without their value.
inline void LogGivenOptions(const CLI::App& app, std::initializer_list<std::string> secret) {
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->count() == 0) continue;
    bool hidden = std::find(secret.begin(), secret.end(), opt->get_name()) != secret.end();
    std::string value;
    for (const auto& r : opt->results()) value += (value.empty() ? "" : ",") + r;
    spdlog::info("config {} = {}", opt->get_name(), hidden ? "(set)" : value);
  }
}

// Usage errors exit 2 (as CLI.md asks of every labmesh command); --help and --version exit 0.
inline int ExitForParseError(const CLI::App& app, const CLI::ParseError& e) {
  int code = app.exit(e);
  return code == 0 ? 0 : 2;
}

}  // namespace labmesh::flags
