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
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "labmesh/common/duration.hpp"
#include "labmesh/common/logging.hpp"

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

// The logging options of every daemon (labmesh/common/logging.hpp, docs/monitoring.md "Logs").
inline void AddLogFlags(CLI::App& app, LogOptions& log) {
  Add(app, "log-level", log.level, "trace, debug, info, warn, error, off");
  Add(app, "log-format", log.format,
      "text, or json: one JSON object a line (time, level, daemon, logger, pid, message)")
      ->check(CLI::IsMember({"text", "json"}));
  Add(app, "log-file", log.file,
      "log to FILE instead of stderr; it rotates at --log-max-size (x.log: x.1.log, x.2.log, ...)")
      ->type_name("FILE");
  Add(app, "log-max-size", log.max_file_bytes,
      "with --log-file: rotate before the file grows past this (e.g. 64MiB)")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(uint64_t{1024}, uint64_t{1} << 40));
  Add(app, "log-max-files", log.max_files, "with --log-file: rotated files kept besides FILE")
      ->check(CLI::Range(1, 1000));
}

// Reads --config FILE; unknown keys in it are errors.
// The config file's reader. CLI11 2.1 cuts a value at its first '#', quoted or not, and a Z85
// key (`coordinator-key = "...#..."`) may hold one: here a '#' starts a comment only at the
// start of a line or after a blank, outside quotes; CLI11's own reader, left without a comment
// character, does the rest (`#` and `;` lines it skips itself).
class ConfigReader : public CLI::ConfigBase {
 public:
  ConfigReader() { comment('\0'); }

  // `line` without its comment.
  static std::string StripComment(const std::string& line) {
    char quote = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
        return line.substr(0, i);
      }
    }
    return line;
  }

  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    std::string text, line;
    while (std::getline(input, line)) text += StripComment(line) + "\n";
    std::istringstream stripped(text);
    return CLI::ConfigBase::from_config(stripped);
  }
};

inline void AddConfigFile(CLI::App& app) {
  app.set_config("--config", "", "config file: `flag-name = value` lines (flag names without --)");
  app.config_formatter(std::make_shared<ConfigReader>());
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
