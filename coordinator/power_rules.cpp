#include "power_rules.hpp"

#include <algorithm>
#include <set>

namespace labmesh::coordinator {
namespace {

const std::set<std::string, std::less<>> kBuiltinVariables = {"name", "hostname", "address",
                                                               "arch"};
const std::set<std::string, std::less<>> kUnsetFields = {"on",      "off",     "cycle", "status",
                                                         "console", "panic-patterns"};

bool IsAttributeName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  if (!(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

bool HasControlBytes(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 && c != '\t';
  });
}

}  // namespace

bool IsPowerAction(std::string_view action) {
  return action == "on" || action == "off" || action == "cycle" || action == "status";
}

const std::string& PowerCommandOf(const store::Host& host, std::string_view action) {
  static const std::string kNone;
  if (action == "on") return host.power_on;
  if (action == "off") return host.power_off;
  if (action == "cycle") return host.power_cycle;
  if (action == "status") return host.power_status;
  return kNone;
}

std::string ShellQuote(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::map<std::string, std::string> CommandVariables(const store::Host& host) {
  std::map<std::string, std::string> vars = host.attributes;
  vars["name"] = host.hostname;
  vars["hostname"] = host.hostname;
  vars["address"] = host.facts.address;
  vars["arch"] = host.facts.arch;
  return vars;
}

std::string SecretEnvName(std::string_view name) {
  std::string env = "LABMESH_SECRET_";
  for (char c : name) env += c == '-' ? '_' : c;
  return env;
}

std::vector<std::string> SecretEnvironment(const store::Host& host) {
  std::vector<std::string> env;
  for (const std::string& name : host.secret_attributes) {
    auto it = host.attributes.find(name);
    if (it != host.attributes.end()) env.push_back(SecretEnvName(name) + "=" + it->second);
  }
  return env;
}

Result<std::string> ExpandCommand(std::string_view command,
                                  const std::map<std::string, std::string>& variables,
                                  const std::vector<std::string>& secret_names) {
  std::string out;
  for (size_t i = 0; i < command.size(); ++i) {
    char c = command[i];
    if (c == '{' && i + 1 < command.size() && command[i + 1] == '{') {
      out += '{';
      ++i;
    } else if (c == '}' && i + 1 < command.size() && command[i + 1] == '}') {
      out += '}';
      ++i;
    } else if (c == '{') {
      size_t end = command.find('}', i + 1);
      if (end == std::string_view::npos) {
        return Status::InvalidArgument("unclosed '{' in command: " + std::string(command));
      }
      std::string name(command.substr(i + 1, end - i - 1));
      auto it = variables.find(name);
      if (it == variables.end()) {
        return Status::InvalidArgument("unknown variable {" + name +
                                       "} in command (the host's fields name, hostname, address, "
                                       "arch, or an attribute set with --attr/--secret)");
      }
      if (std::find(secret_names.begin(), secret_names.end(), name) != secret_names.end()) {
        out += "\"${" + SecretEnvName(name) + "}\"";
      } else {
        out += ShellQuote(it->second);
      }
      i = end;
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::string> SecretValues(const store::Host& host) {
  std::vector<std::string> values;
  for (const std::string& name : host.secret_attributes) {
    auto it = host.attributes.find(name);
    if (it != host.attributes.end() && !it->second.empty()) values.push_back(it->second);
  }
  // Longest first, so that a secret containing another is masked whole.
  std::sort(values.begin(), values.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return values;
}

std::string MaskSecrets(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + 3)) {
      text.replace(at, secret.size(), "***");
    }
  }
  return text;
}

int64_t QuietRemainingMs(int64_t last_end_ms, int64_t now_ms, int64_t quiet_ms) {
  if (last_end_ms <= 0 || quiet_ms <= 0) return 0;
  return std::max<int64_t>(0, last_end_ms + quiet_ms - now_ms);
}

bool MayPowerCycle(protocol::Protection protection) {
  return protection == protocol::Protection::kNone ||
         protection == protocol::Protection::kDoNotVerify;
}

Status ValidatePowerConfig(const protocol::HostPowerConfigRequest& request,
                           const store::Host& host) {
  for (const std::string& name : request.unset) {
    if (kUnsetFields.count(name) == 0 && host.attributes.count(name) == 0) {
      return Status::InvalidArgument("--unset " + name +
                                     ": neither on, off, cycle, status, console, panic-patterns "
                                     "nor an attribute of host " + host.hostname);
    }
  }
  for (const auto* values : {&request.attributes, &request.secrets}) {
    for (const auto& [name, value] : *values) {
      if (!IsAttributeName(name)) {
        return Status::InvalidArgument("attribute name '" + name.substr(0, 64) +
                                       "': letters, digits, '_' and '-', starting with a letter "
                                       "or '_', at most 64");
      }
      if (kBuiltinVariables.count(name) > 0) {
        return Status::InvalidArgument("attribute name '" + name +
                                       "' is one of the host's own fields (name, hostname, "
                                       "address, arch)");
      }
      if (value.size() > kMaxAttributeValueBytes || HasControlBytes(value)) {
        return Status::InvalidArgument("attribute " + name + ": at most " +
                                       std::to_string(kMaxAttributeValueBytes) +
                                       " bytes of text on one line");
      }
    }
  }
  for (const auto& [name, value] : request.attributes) {
    if (request.secrets.count(name) > 0) {
      return Status::InvalidArgument("attribute " + name + " given both as --attr and --secret");
    }
  }
  store::Host after = host;
  ApplyPowerConfig(request, after);
  if (after.attributes.size() > kMaxPowerAttributes) {
    return Status::InvalidArgument("at most " + std::to_string(kMaxPowerAttributes) +
                                   " attributes on a host");
  }
  const auto variables = CommandVariables(after);
  const std::pair<const char*, const std::string*> commands[] = {
      {"--on", &after.power_on},         {"--off", &after.power_off},
      {"--cycle", &after.power_cycle},   {"--status", &after.power_status},
      {"--console", &after.console_command}};
  for (const auto& [flag, command] : commands) {
    if (command->empty()) continue;
    if (command->size() > kMaxPowerCommandBytes || HasControlBytes(*command)) {
      return Status::InvalidArgument(std::string(flag) + ": at most " +
                                     std::to_string(kMaxPowerCommandBytes) +
                                     " bytes of text on one line");
    }
    auto expanded = ExpandCommand(*command, variables);
    if (!expanded.ok()) {
      return Status::InvalidArgument(std::string(flag) + ": " + expanded.status().message());
    }
  }
  if (request.panic_patterns.size() > kMaxPanicPatterns) {
    return Status::InvalidArgument("at most " + std::to_string(kMaxPanicPatterns) +
                                   " panic patterns");
  }
  for (const std::string& pattern : request.panic_patterns) {
    if (pattern.empty() || pattern.size() > kMaxPanicPatternBytes) {
      return Status::InvalidArgument("a panic pattern is 1 to " +
                                     std::to_string(kMaxPanicPatternBytes) + " bytes");
    }
  }
  auto matcher = PanicMatcher::Compile(request.panic_patterns);
  if (!matcher.ok()) return matcher.status();
  return Status::Ok();
}

void ApplyPowerConfig(const protocol::HostPowerConfigRequest& request, store::Host& host) {
  for (const std::string& name : request.unset) {
    if (name == "on") host.power_on.clear();
    else if (name == "off") host.power_off.clear();
    else if (name == "cycle") host.power_cycle.clear();
    else if (name == "status") host.power_status.clear();
    else if (name == "console") host.console_command.clear();
    else if (name == "panic-patterns") host.panic_patterns.clear();
    else {
      host.attributes.erase(name);
      std::erase(host.secret_attributes, name);
    }
  }
  if (!request.on.empty()) host.power_on = request.on;
  if (!request.off.empty()) host.power_off = request.off;
  if (!request.cycle.empty()) host.power_cycle = request.cycle;
  if (!request.status.empty()) host.power_status = request.status;
  if (!request.console.empty()) host.console_command = request.console;
  if (!request.panic_patterns.empty()) host.panic_patterns = request.panic_patterns;
  for (const auto& [name, value] : request.attributes) {
    host.attributes[name] = value;
    std::erase(host.secret_attributes, name);  // shown from now on: it was said in the clear
  }
  for (const auto& [name, value] : request.secrets) {
    host.attributes[name] = value;
    if (std::find(host.secret_attributes.begin(), host.secret_attributes.end(), name) ==
        host.secret_attributes.end()) {
      host.secret_attributes.push_back(name);
    }
  }
  std::sort(host.secret_attributes.begin(), host.secret_attributes.end());
}

protocol::PowerConfigInfo PowerConfigOf(const store::Host& host) {
  protocol::PowerConfigInfo info;
  info.hostname = host.hostname;
  info.on = host.power_on;
  info.off = host.power_off;
  info.cycle = host.power_cycle;
  info.status = host.power_status;
  info.console = host.console_command;
  info.default_patterns = host.panic_patterns.empty();
  info.panic_patterns = info.default_patterns ? DefaultPanicPatterns() : host.panic_patterns;
  info.attributes = host.attributes;
  for (const std::string& name : host.secret_attributes) {
    auto it = info.attributes.find(name);
    if (it != info.attributes.end()) it->second = "***";
  }
  info.secret_names = host.secret_attributes;
  info.power_cycles_ms = host.power_cycles_ms;
  return info;
}

const std::vector<std::string>& DefaultPanicPatterns() {
  // A bare "Call Trace" is left out, as crashinfo leaves it out (docs/kernel-lab.md): a WARN
  // prints one too. A lab that wants it adds it with --panic-pattern.
  static const std::vector<std::string> kDefaults = {
      "Kernel panic",
      "BUG:",
      "Oops",
      "general protection fault",
      "soft lockup",
      "hard LOCKUP",
      "blocked for more than [0-9]+ seconds",
  };
  return kDefaults;
}

Result<PanicMatcher> PanicMatcher::Compile(const std::vector<std::string>& patterns) {
  PanicMatcher matcher;
  for (const std::string& pattern : patterns.empty() ? DefaultPanicPatterns() : patterns) {
    try {
      matcher.regexes_.emplace_back(pattern, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      return Status::InvalidArgument("panic pattern '" + pattern.substr(0, 64) +
                                     "' is not a regular expression: " + e.what());
    }
  }
  return matcher;
}

bool PanicMatcher::Matches(std::string_view line) const {
  for (const std::regex& regex : regexes_) {
    if (std::regex_search(line.begin(), line.end(), regex)) return true;
  }
  return false;
}

}  // namespace labmesh::coordinator
