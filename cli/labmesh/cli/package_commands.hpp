#pragma once
// `labmesh package upload FILE --version V | list | desire V [--canary P]` (CLI.md,
// docs/update.md): agent packages for self-update. Admins only (the coordinator checks).

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "labmesh/cli/cli_util.hpp"
#include "labmesh/client/api_client.hpp"

namespace labmesh::cli {

// The text of `package list`: the desired version, the packages (the desired one marked) and
// how many hosts run each version.
std::string FormatPackageList(const protocol::PackageListReply& reply);

class PackageCommands {
 public:
  // Adds `package` and its verbs to `app`; choosing one sets `action`. `app`, `g` and `action`
  // must outlive this object, and this object must outlive the parse and the action.
  PackageCommands(CLI::App& app, const Globals& g, Action& action);
  PackageCommands(const PackageCommands&) = delete;
  PackageCommands& operator=(const PackageCommands&) = delete;

 private:
  int Upload(client::ApiClient& api);
  int List(client::ApiClient& api);
  int Desire(client::ApiClient& api);
  void PrintList(const protocol::PackageListReply& reply) const;

  const Globals& g_;
  std::string file_;
  std::string version_;
  uint32_t canary_percent_ = 100;
};

}  // namespace labmesh::cli
