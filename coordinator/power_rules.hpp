#pragma once
// Out-of-band power and consoles (docs/power-console.md): the pure decisions - what a command
// template becomes for a host, what of its output may be shown, whether an operation may run
// now (quiet period), whether repair may power cycle a lost host (protection, limit per
// window), the checks of `host power-config`, and the console's panic patterns. PowerService
// (power_service.*) acts on them.

#include <cstdint>
#include <map>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/power_messages.hpp"
#include "labmesh/protocol/task_messages.hpp"
#include "labmesh/store/store.hpp"

namespace labmesh::coordinator {

inline constexpr size_t kMaxPowerCommandBytes = 4096;
inline constexpr size_t kMaxPowerAttributes = 64;
inline constexpr size_t kMaxAttributeValueBytes = 1024;
inline constexpr size_t kMaxPanicPatterns = 32;
inline constexpr size_t kMaxPanicPatternBytes = 256;
// A power command that writes more than this is killed (its output is not what a BMC says).
inline constexpr uint64_t kMaxPowerOutputBytes = 64 * 1024;

// The power actions: "on", "off", "cycle", "status".
bool IsPowerAction(std::string_view action);
// The host's command for `action`; "" when it has none.
const std::string& PowerCommandOf(const store::Host& host, std::string_view action);

// A value as one word for /bin/sh: single-quoted, a ' inside as '\''.
std::string ShellQuote(std::string_view value);

// What a command template may name: the host's `name`/`hostname`, `address` (the agent's
// reported address), `arch`, and each of its attributes (secrets included).
std::map<std::string, std::string> CommandVariables(const store::Host& host);

// `{var}` replaced by the shell-quoted value of the variable; `{{` and `}}` are literal braces.
// A variable named in `secret_names` becomes "${LABMESH_SECRET_<NAME>}" instead, its value
// passed in the command's environment (SecretEnvironment): a secret is never on a command line
// that `ps` shows. An unknown variable or an unclosed brace is an error naming it.
Result<std::string> ExpandCommand(std::string_view command,
                                  const std::map<std::string, std::string>& variables,
                                  const std::vector<std::string>& secret_names = {});
// The environment variable a secret attribute is passed in: LABMESH_SECRET_ and its name with
// '-' as '_'.
std::string SecretEnvName(std::string_view name);
// "LABMESH_SECRET_<NAME>=value" for each secret attribute of the host.
std::vector<std::string> SecretEnvironment(const store::Host& host);

// The host's secret attribute values (non-empty).
std::vector<std::string> SecretValues(const store::Host& host);
// `text` with every occurrence of each secret replaced by "***".
std::string MaskSecrets(std::string text, const std::vector<std::string>& secrets);

// How long an operation on a host must still wait: the quiet period after the last one ended
// at `last_end_ms` (0 = never); 0 when it may run now.
int64_t QuietRemainingMs(int64_t last_end_ms, int64_t now_ms, int64_t quiet_ms);

// Whether repair may power cycle a host under `protection`: none and do-not-verify may;
// repair-software-only (software only) and do-not-repair may not.
bool MayPowerCycle(protocol::Protection protection);

// Checks a `host power-config` request against the host it would change (names, sizes,
// unset names, every pattern compiles, every command's variables exist once the request's
// attributes are applied). Nothing is changed when it fails.
Status ValidatePowerConfig(const protocol::HostPowerConfigRequest& request,
                           const store::Host& host);
// Applies a validated request to the host record.
void ApplyPowerConfig(const protocol::HostPowerConfigRequest& request, store::Host& host);
// The host's configuration as readers see it (secrets "***").
protocol::PowerConfigInfo PowerConfigOf(const store::Host& host);

// The default panic and oops patterns: the kernel's words for a crash or a hang.
const std::vector<std::string>& DefaultPanicPatterns();

// The console's patterns, compiled once (ECMAScript, case-sensitive like the kernel's words).
class PanicMatcher {
 public:
  // Empty `patterns` = the defaults. A pattern that does not compile is an error naming it.
  static Result<PanicMatcher> Compile(const std::vector<std::string>& patterns);
  // Whether `line` holds one of the patterns.
  bool Matches(std::string_view line) const;

 private:
  std::vector<std::regex> regexes_;
};

}  // namespace labmesh::coordinator
