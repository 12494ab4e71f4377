#pragma once
// Out-of-band power and serial consoles (issue 28): a host's power method (commands the
// coordinator runs to switch it on, off, cycle it, ask its state) and its console source (a
// command whose output is the host's serial console), set by admins with `host power-config`;
// `host power NAME on|off|cycle|status` and `host console NAME [--follow]`.
// docs/power-console.md tells the flow; PROTOCOL.md the wire format.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "labmesh/protocol/types.hpp"

namespace labmesh::protocol {

// A host's out-of-band configuration as readers see it. Commands are templates: `{name}` is
// replaced by the host's field or attribute of that name (shell-quoted), see
// docs/power-console.md. Secret attributes are never shown back: their values read "***".
struct PowerConfigInfo {
  std::string hostname;
  std::string on;      // "" = none
  std::string off;
  std::string cycle;   // what repair runs; a host has a power method when this is set
  std::string status;  // optional
  std::string console;  // the console source command; "" = none
  // The panic and oops patterns (ECMAScript regular expressions) the console is matched
  // against; the defaults when the host has none of its own (default_patterns).
  std::vector<std::string> panic_patterns;
  bool default_patterns = true;
  std::map<std::string, std::string> attributes;  // secrets read "***"
  std::vector<std::string> secret_names;          // which attributes are secret, sorted
  // Automatic power cycles within the repair window (wall clock ms), oldest first.
  std::vector<int64_t> power_cycles_ms;
  // The console reader: running now, bytes it has read into the rolling log since the
  // coordinator started, and the last panic line it saw ("" = none).
  bool console_reading = false;
  uint64_t console_bytes = 0;
  std::string last_panic;
  int64_t last_panic_ms = 0;
};

// Sets (admins) a host's power method, console source, panic patterns and attributes. Empty
// strings and empty maps change nothing; `unset` removes: "on", "off", "cycle", "status",
// "console", "panic-patterns" (back to the defaults) or an attribute's name. Every pattern is
// compiled first; a bad one refuses the whole request. Reply: HostPowerShowReply.
struct HostPowerConfigRequest {
  static constexpr MessageType kType = MessageType::kHostPowerConfigRequest;
  std::string hostname;
  std::string on;
  std::string off;
  std::string cycle;
  std::string status;
  std::string console;
  std::vector<std::string> panic_patterns;  // replaces the host's patterns when not empty
  std::map<std::string, std::string> attributes;  // set; shown back
  // Set as secret attributes: never shown back, never in the audit log (its describer masks a
  // field whose name holds "secret"), masked as "***" in the commands' output.
  std::map<std::string, std::string> secrets;
  std::vector<std::string> unset;
};

struct HostPowerShowRequest {
  static constexpr MessageType kType = MessageType::kHostPowerShowRequest;
  std::string hostname;
};

struct HostPowerShowReply {
  static constexpr MessageType kType = MessageType::kHostPowerShowReply;
  PowerConfigInfo config;
};

// Runs one power operation now: admins and the host's reservation holder. Refused while
// another operation runs on that host or within the quiet period after the last one
// (--power-quiet). The reply leaves when the command has ended (at most --power-timeout).
struct HostPowerRequest {
  static constexpr MessageType kType = MessageType::kHostPowerRequest;
  std::string hostname;
  std::string action;  // "on", "off", "cycle", "status"
};

struct HostPowerReply {
  static constexpr MessageType kType = MessageType::kHostPowerReply;
  std::string hostname;
  std::string action;
  bool passed = false;    // the command exited 0 within the timeout
  std::string reason;     // "" when passed; else "exit status 2", "timed out after 1m0s", ...
  int32_t exit_code = -1;
  std::string output;     // its output (the tail, at most kMaxTaskOutputBytes), secrets masked
  int64_t duration_ms = 0;
  uint64_t task_id = 0;   // its record in the host's history (a task of kind Power)
};

// A piece of the host's rolling console log. Offsets count every byte the coordinator has
// kept for this host's console (the log keeps the last --console-log-max of them, in two
// files); an offset older than what is kept starts at the oldest byte kept.
struct HostConsoleRequest {
  static constexpr MessageType kType = MessageType::kHostConsoleRequest;
  std::string hostname;
  int64_t offset = -1;     // -1: the last max_bytes
  uint32_t max_bytes = 0;  // 0 = 64 KiB; at most 1 MiB
};

struct HostConsoleReply {
  static constexpr MessageType kType = MessageType::kHostConsoleReply;
  std::string hostname;
  std::vector<char> data;
  uint64_t offset = 0;       // where `data` starts
  uint64_t next_offset = 0;  // where to ask next
  bool reading = false;      // the console reader runs now
  bool configured = false;   // the host has a console source
};

}  // namespace labmesh::protocol
