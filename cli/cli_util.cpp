#include "labmesh/cli/cli_util.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "labmesh/common/duration.hpp"
#include "labmesh/protocol/json.hpp"

namespace labmesh::cli {

int Fail(const Status& status) {
  if (status.code() == StatusCode::kUnauthenticated) {
    std::cerr << "labmesh: not authenticated: " << status.message()
              << " (give --token, LABMESH_TOKEN or ~/.config/labmesh/credentials)\n";
    return kExitFailed;
  }
  if (status.code() == StatusCode::kPermissionDenied) {
    std::cerr << "labmesh: permission denied: " << status.message() << "\n";
    return kExitFailed;
  }
  std::cerr << "labmesh: " << status.message() << "\n";
  bool unreachable =
      status.code() == StatusCode::kUnavailable || status.code() == StatusCode::kTimeout;
  return unreachable ? kExitUnreachable : kExitFailed;
}

int UsageError(const std::string& message) {
  std::cerr << "labmesh: " << message << "\n";
  return kExitUsage;
}

std::string FirstCommand(int argc, const char* const* argv,
                         const std::vector<std::string>& value_options) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") return "";
    if (arg.empty() || arg[0] != '-') return std::string(arg);
    if (arg.find('=') != std::string_view::npos) continue;  // --api=tcp://...
    if (std::find(value_options.begin(), value_options.end(), arg) != value_options.end()) ++i;
  }
  return "";
}

bool IsCommandGroup(const std::string& name) {
  static const char* const kGroups[] = {"host",  "label",  "test",  "job",      "results",
                                        "user",  "acl",    "audit", "notify",   "template",
                                        "schedule", "package"};
  return std::find(std::begin(kGroups), std::end(kGroups), name) != std::end(kGroups);
}

std::string UserOf(const Globals& g) {
  if (!g.user.empty()) return g.user;
  if (const char* u = std::getenv("LABMESH_USER"); u != nullptr && *u != '\0') return u;
  if (const char* u = std::getenv("USER"); u != nullptr && *u != '\0') return u;
  // No $USER (a service, `env -i`, a container): the account this runs as.
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_name != nullptr) {
    return pw->pw_name;
  }
  return "unknown";
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Age(int64_t wall_ms) { return AgeAt(wall_ms, NowMs()); }

std::string AgeAt(int64_t wall_ms, int64_t now_ms) {
  if (wall_ms <= 0) return "never";
  return FormatDurationMs(std::max<int64_t>(0, now_ms - wall_ms)) + " ago";
}

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

std::string WallTimeOrDash(int64_t wall_ms) {
  std::string iso = protocol::FormatWallTimeIso(wall_ms);
  return iso.empty() ? "-" : iso;
}

std::string Dump(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

void PrintOk(const protocol::OkReply& ok, bool json) {
  if (json) {
    std::cout << Dump(nlohmann::json{{"ok", true}, {"message", ok.message}}) << "\n";
  } else {
    std::cout << ok.message << "\n";
  }
}

Result<std::string> ReadControlFile(const std::string& path, uint64_t max_bytes) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status::InvalidArgument(
        "control file " + path +
        (std::filesystem::exists(path, ec) ? " is not a regular file" : " does not exist"));
  }
  uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return Status::InvalidArgument("cannot read control file " + path + ": " + ec.message());
  if (size > max_bytes) {
    return Status::InvalidArgument("control file " + path + " is " + std::to_string(size) +
                                   " bytes, more than the limit of " + std::to_string(max_bytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("cannot open control file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::InvalidArgument("cannot read control file " + path);
  std::string content = text.str();
  // The file may have grown between the size check and the read.
  if (content.size() > max_bytes) {
    return Status::InvalidArgument("control file " + path + " is more than the limit of " +
                                   std::to_string(max_bytes) + " bytes");
  }
  return content;
}

}  // namespace labmesh::cli
