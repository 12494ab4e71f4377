#include "labmesh/cli/package_commands.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "labmesh/common/hash.hpp"
#include "labmesh/protocol/json.hpp"
#include "table.hpp"

namespace labmesh::cli {

std::string FormatPackageList(const protocol::PackageListReply& reply) {
  std::ostringstream out;
  const protocol::DesiredVersion& desired = reply.desired;
  if (desired.version.empty()) {
    out << "desired version: none (agents keep the version they run)\n";
  } else {
    out << "desired version: " << desired.version;
    if (desired.canary_percent < 100) out << " (canary: " << desired.canary_percent << "% of hosts)";
    out << ", set by " << desired.set_by << " " << Age(desired.set_ms) << "\n";
  }
  out << "\n";
  if (reply.packages.empty()) {
    out << "no packages (labmesh package upload FILE --version V)\n";
  } else {
    Table table({"VERSION", "BYTES", "SHA256", "UPLOADED", "BY", "HOSTS"});
    for (const protocol::PackageInfo& p : reply.packages) {
      auto hosts = reply.host_versions.find(p.version);
      std::string version = p.version == desired.version ? p.version + " *" : p.version;
      table.Add({version, std::to_string(p.bytes), p.sha256.substr(0, 16), Age(p.uploaded_ms),
                 p.uploaded_by,
                 std::to_string(hosts == reply.host_versions.end() ? 0 : hosts->second)});
    }
    table.Print(out);
  }
  out << "\nhosts by agent version:";
  if (reply.host_versions.empty()) out << " none";
  for (const auto& [version, count] : reply.host_versions) {
    out << " " << (version.empty() ? "(unknown)" : version) << "=" << count;
  }
  out << "\n";
  return out.str();
}

PackageCommands::PackageCommands(CLI::App& app, const Globals& g, Action& action) : g_(g) {
  auto* package = app.add_subcommand("package", "agent packages for self-update (admins)");
  package->require_subcommand(1);

  auto* upload = package->add_subcommand(
      "upload", "store an agent package (scripts/package-agent.sh makes one) on the coordinator");
  upload->add_option("FILE", file_, "the .tar.gz")->required()->check(CLI::ExistingFile);
  upload->add_option("--version", version_, "the agent version the package holds")->required();
  upload->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Upload(api); }; });

  auto* list = package->add_subcommand(
      "list", "the packages, the desired version and how many hosts run each version");
  list->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return List(api); }; });

  auto* desire = package->add_subcommand(
      "desire", "the version agents should run; they update before their next work");
  desire->add_option("VERSION", version_, "an uploaded version")->required();
  desire->add_option("--canary", canary_percent_,
                     "move only this percentage of hosts (chosen by a stable hash of their "
                     "name); without it every host moves")
      ->check(CLI::Range(1, 100));
  desire->callback(
      [this, &action] { action = [this](client::ApiClient& api) { return Desire(api); }; });
}

int PackageCommands::Upload(client::ApiClient& api) {
  if (!protocol::IsValidVersion(version_)) {
    return UsageError("package upload: --version '" + version_ +
                      "' must be 1-64 of A-Z a-z 0-9 . _ + ~ - starting with a letter or digit");
  }
  auto hash = HashFile(file_, HashKind::kSha256);
  if (!hash.ok()) return Fail(hash.status());
  if (hash->size == 0) return UsageError("package upload: " + file_ + " is empty");
  if (hash->size > protocol::kMaxPackageBytes) {
    return UsageError("package upload: " + file_ + " is larger than the 1 GiB a package may be");
  }
  std::ifstream in(file_, std::ios::binary);
  if (!in) return Fail(Status::NotFound("cannot open " + file_));
  protocol::PackageUploadRequest request;
  request.version = version_;
  request.sha256 = hash->hex;
  request.total_bytes = hash->size;
  protocol::PackageUploadReply reply;
  while (request.offset < hash->size) {
    uint64_t n = std::min<uint64_t>(protocol::kMaxPackageChunkBytes, hash->size - request.offset);
    request.data.resize(n);
    if (!in.read(request.data.data(), static_cast<std::streamsize>(n))) {
      return Fail(Status::Internal("cannot read " + file_ + " (did it change while uploading?)"));
    }
    auto answer = api.Call<protocol::PackageUploadReply>(request);
    if (!answer.ok()) return Fail(answer.status());
    reply = std::move(*answer);
    if (reply.done) break;  // stored (at once, when the coordinator already had this file)
    if (reply.received_bytes != request.offset + n) {
      return Fail(Status::Internal("the coordinator holds " + std::to_string(reply.received_bytes) +
                                   " bytes, expected " + std::to_string(request.offset + n)));
    }
    request.offset += n;
  }
  if (!reply.done) return Fail(Status::Internal("the coordinator did not finish the upload"));
  if (g_.json) {
    std::cout << Dump(protocol::ToJson(reply.package)) << "\n";
  } else {
    std::cout << "uploaded agent package " << reply.package.version << ": "
              << reply.package.bytes << " bytes, sha256 " << reply.package.sha256 << "\n";
  }
  return kExitOk;
}

int PackageCommands::List(client::ApiClient& api) {
  auto reply = api.Call<protocol::PackageListReply>(protocol::PackageListRequest{});
  if (!reply.ok()) return Fail(reply.status());
  PrintList(*reply);
  return kExitOk;
}

int PackageCommands::Desire(client::ApiClient& api) {
  protocol::PackageDesireRequest request;
  request.version = version_;
  request.canary_percent = canary_percent_;
  auto reply = api.Call<protocol::PackageListReply>(request);
  if (!reply.ok()) return Fail(reply.status());
  PrintList(*reply);
  return kExitOk;
}

void PackageCommands::PrintList(const protocol::PackageListReply& reply) const {
  if (g_.json) {
    std::cout << Dump(protocol::ToJson(reply)) << "\n";
  } else {
    std::cout << FormatPackageList(reply);
  }
}

}  // namespace labmesh::cli
