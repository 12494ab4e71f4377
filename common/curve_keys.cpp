#include "labmesh/common/curve_keys.hpp"

#include <sys/stat.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace labmesh {
namespace {

Result<std::string> ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read " + path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

Status WriteFile(const std::string& path, const std::string& text, mode_t mode) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Status::Internal("cannot write " + tmp + ": " + std::strerror(errno));
    out << text << "\n";
    if (!out.flush()) return Status::Internal("cannot write " + tmp);
  }
  if (::chmod(tmp.c_str(), mode) != 0) return Status::Internal("cannot chmod " + tmp);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::Internal("cannot rename " + tmp + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

bool IsZ85Key(std::string_view text) {
  if (text.size() != 40) return false;
  static constexpr std::string_view kAlphabet =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  for (char c : text) {
    if (kAlphabet.find(c) == std::string_view::npos) return false;
  }
  return true;
}

Result<CurveKeyPair> LoadCurveKeys(const std::string& dir, const std::string& name) {
  std::string pub_path = dir + "/" + name + ".pub";
  std::string key_path = dir + "/" + name + ".key";
  std::error_code ec;
  bool have_pub = std::filesystem::exists(pub_path, ec);
  bool have_key = std::filesystem::exists(key_path, ec);
  if (have_pub && have_key) {
    auto pub = ReadFirstLine(pub_path);
    if (!pub.ok()) return pub.status();
    auto key = ReadFirstLine(key_path);
    if (!key.ok()) return key.status();
    if (!IsZ85Key(*pub) || !IsZ85Key(*key)) {
      return Status::Corruption("key files in " + dir + " are not 40-character Z85 keys");
    }
    return CurveKeyPair{*pub, *key};
  }
  if (have_pub || have_key) {
    return Status::FailedPrecondition("only one of " + pub_path + " and " + key_path +
                                      " exists; remove it to create a new key pair");
  }
  return Status::NotFound("no key pair " + pub_path + " and " + key_path);
}

Result<CurveKeyPair> LoadOrCreateCurveKeys(const std::string& dir, const std::string& name) {
  Result<CurveKeyPair> loaded = LoadCurveKeys(dir, name);
  if (loaded.ok() || loaded.status().code() != StatusCode::kNotFound) return loaded;
  char pub[41], sec[41];
  if (zmq_curve_keypair(pub, sec) != 0) {
    return Status::Internal(std::string("zmq_curve_keypair: ") + zmq_strerror(zmq_errno()));
  }
  CurveKeyPair pair{pub, sec};
  LABMESH_RETURN_IF_ERROR(SaveCurveKeys(dir, name, pair));
  return pair;
}

Status SaveCurveKeys(const std::string& dir, const std::string& name, const CurveKeyPair& pair) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Internal("cannot create " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  LABMESH_RETURN_IF_ERROR(WriteFile(dir + "/" + name + ".key", pair.secret_z85, 0600));
  return WriteFile(dir + "/" + name + ".pub", pair.public_z85, 0644);
}

bool IsCurveKeyPair(const CurveKeyPair& pair) {
  if (!IsZ85Key(pair.public_z85) || !IsZ85Key(pair.secret_z85)) return false;
  char derived[41] = {};
  return zmq_curve_public(derived, pair.secret_z85.c_str()) == 0 && pair.public_z85 == derived;
}

Result<std::string> ResolveCurveKey(std::string_view key_or_file) {
  // An existing file wins: a 40-character path can look like a Z85 key.
  std::error_code ec;
  bool is_file = std::filesystem::is_regular_file(std::string(key_or_file), ec);
  if (!is_file && IsZ85Key(key_or_file)) return std::string(key_or_file);
  auto line = ReadFirstLine(std::string(key_or_file));
  if (!line.ok()) {
    return Status::InvalidArgument("'" + std::string(key_or_file) +
                                   "' is neither a 40-character Z85 key nor a readable key file");
  }
  if (!IsZ85Key(*line)) {
    return Status::InvalidArgument("file " + std::string(key_or_file) +
                                   " does not hold a 40-character Z85 key");
  }
  return *line;
}

}  // namespace labmesh
