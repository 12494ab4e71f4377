#pragma once
// Pieces every `labmesh` command shares: the global flags, the exit codes CLI.md fixes, how a
// failed call becomes an exit code, and small text helpers.

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/messages.hpp"

namespace labmesh::client {
class ApiClient;
}  // namespace labmesh::client

namespace labmesh::cli {

// Exit codes (CLI.md): 0 success, 1 the operation ran but failed, 2 usage error,
// 3 coordinator unreachable or timed out.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

// The control files `test add` and `job create --control` send: at most 1 MiB (the coordinator
// refuses more anyway; the CLI says so before sending).
inline constexpr uint64_t kMaxControlBytes = 1u << 20;

// Filled by GlobalFlags::Run from the flags, the environment and the credentials file
// (credentials.hpp) before the action runs.
struct Globals {
  std::string api;
  std::string user;   // the user the credentials name, "" = none given
  std::string token;
  bool json = false;
  int64_t timeout_ms = 5'000;
  // --timeout (or $LABMESH_TIMEOUT) was given: commands that wait longer by default (results
  // reparse) use timeout_ms instead.
  bool timeout_given = false;
};

// What a chosen subcommand runs once the command line parsed; returns the exit code.
using Action = std::function<int(client::ApiClient& api)>;

// The command group a command line names: its first argument that is neither an option nor the
// value of one of `value_options` (the global options that take a separate value); "" when
// there is none.
std::string FirstCommand(int argc, const char* const* argv,
                         const std::vector<std::string>& value_options);
// `name` is one of labmesh's top-level command groups (host, job, ...).
bool IsCommandGroup(const std::string& name);

// Prints "labmesh: MESSAGE" to stderr; returns 3 for Unavailable/Timeout, else 1.
// Unauthenticated is "labmesh: not authenticated: MESSAGE (give --token, LABMESH_TOKEN or
// ~/.config/labmesh/credentials)", PermissionDenied "labmesh: permission denied: MESSAGE".
int Fail(const Status& status);

// Prints "labmesh: MESSAGE" to stderr and returns 2.
int UsageError(const std::string& message);

// The user request bodies name (the coordinator believes the token, not this): the resolved
// user (--user, $LABMESH_USER, the credentials file), else $LABMESH_USER, else $USER, else the
// account's name, else "unknown".
std::string UserOf(const Globals& g);

// "5m ago", or "never" for 0; `wall_ms` is wall-clock ms since the epoch.
std::string Age(int64_t wall_ms);
// The same at a given "now" (wall-clock ms), for texts that are tested; a time after `now_ms`
// (clock skew) is "0ms ago".
std::string AgeAt(int64_t wall_ms, int64_t now_ms);
// "2026-11-29T10:00:00Z" for wall-clock ms since the epoch, "-" for 0.
std::string WallTimeOrDash(int64_t wall_ms);
// Wall-clock ms since the epoch, now.
int64_t NowMs();

std::string Join(const std::vector<std::string>& items, const char* sep = ",");

// Pretty JSON with invalid UTF-8 replaced instead of throwing (wire text is whatever was sent).
std::string Dump(const nlohmann::json& j);

// An OkReply: its message, or with `json` {"ok": true, "message": ...}.
void PrintOk(const protocol::OkReply& ok, bool json);

// The whole file. InvalidArgument naming the file when it is missing, not a regular file,
// unreadable, or larger than `max_bytes` (checked before reading it).
Result<std::string> ReadControlFile(const std::string& path, uint64_t max_bytes = kMaxControlBytes);

}  // namespace labmesh::cli
