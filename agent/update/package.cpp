// The package's MANIFEST and hashes; see package.hpp.

#include "update/package.hpp"

#include <filesystem>
#include <fstream>
#include <set>
#include <vector>

#include "labmesh/protocol/package_messages.hpp"

namespace labmesh::agent {
namespace fs = std::filesystem;

namespace {

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

bool IsPlainName(std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name == "MANIFEST") return false;
  for (char c : name) {
    if (c == '/' || static_cast<unsigned char>(c) < ' ' || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

Result<Manifest> ParseManifest(std::string_view text) {
  if (text.size() > kMaxManifestBytes) return Status::InvalidArgument("MANIFEST is too large");
  Manifest manifest;
  bool header = false, version = false;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto words = Words(line);
    if (words.empty()) continue;
    auto bad = [&](const std::string& why) {
      return Status::InvalidArgument("MANIFEST line " + std::to_string(line_no) + ": " + why);
    };
    if (!header) {
      if (words.size() != 2 || words[0] != "labmesh-agent-package" || words[1] != "1") {
        return bad("expected 'labmesh-agent-package 1'");
      }
      header = true;
    } else if (words[0] == "version") {
      if (version) return bad("a second version line");
      if (words.size() != 2 || !protocol::IsValidVersion(words[1])) return bad("a bad version");
      manifest.version = std::string(words[1]);
      version = true;
    } else if (words[0] == "sha256") {
      if (words.size() != 3 || !IsHexDigest(words[1])) {
        return bad("expected 'sha256 <64 lower-hex digits> NAME'");
      }
      if (!IsPlainName(words[2])) return bad("'" + std::string(words[2]) + "' is not a file name");
      if (!manifest.files.emplace(std::string(words[2]), std::string(words[1])).second) {
        return bad(std::string(words[2]) + " is listed twice");
      }
    } else {
      return bad("unknown item '" + std::string(words[0]) + "'");
    }
  }
  if (!header) return Status::InvalidArgument("MANIFEST is empty");
  if (!version) return Status::InvalidArgument("MANIFEST has no version line");
  return manifest;
}

Status CheckPackageDir(const std::string& dir, const std::string& version) {
  const std::string manifest_path = dir + "/MANIFEST";
  std::error_code ec;
  if (!fs::is_regular_file(fs::symlink_status(manifest_path, ec))) {
    return Status::NotFound("the package has no MANIFEST");
  }
  if (fs::file_size(manifest_path, ec) > kMaxManifestBytes) {
    return Status::InvalidArgument("MANIFEST is too large");
  }
  std::ifstream in(manifest_path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto manifest = ParseManifest(text);
  if (!manifest.ok()) return manifest.status();
  if (manifest->version != version) {
    return Status::InvalidArgument("MANIFEST says version " + manifest->version + ", not " +
                                   version);
  }
  if (!manifest->files.count(kPackageAgentName)) {
    return Status::InvalidArgument("MANIFEST does not list labmesh-agent");
  }
  std::set<std::string> seen;
  for (const auto& item : fs::directory_iterator(dir, ec)) {
    std::string name = item.path().filename().string();
    if (name == "MANIFEST") continue;
    if (!manifest->files.count(name)) {
      return Status::InvalidArgument("'" + name + "' is in the package but not in MANIFEST");
    }
    seen.insert(name);
  }
  if (ec) return Status::Internal("cannot list " + dir + ": " + ec.message());
  for (const auto& [name, sha] : manifest->files) {
    if (!seen.count(name)) return Status::NotFound(name + " is in MANIFEST but not in the package");
    const std::string path = dir + "/" + name;
    if (!fs::is_regular_file(fs::symlink_status(path, ec))) {
      return Status::InvalidArgument(name + " is not a regular file");
    }
    auto hash = HashFile(path, HashKind::kSha256);
    if (!hash.ok()) return hash.status();
    if (hash->hex != sha) {
      return Status::InvalidArgument(name + " has SHA-256 " + hash->hex + ", MANIFEST says " + sha);
    }
  }
  return Status::Ok();
}

}  // namespace labmesh::agent
