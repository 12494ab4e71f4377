#include "keys_command.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "labmesh/common/curve_keys.hpp"

namespace labmesh::coordinator {
namespace {

constexpr char kKeyName[] = "coordinator";
constexpr char kHeader[] =
    "# labmesh coordinator key pair: the secret key lets whoever holds it pose as this lab's "
    "coordinators; keep it so";

std::string KeysDir(const std::string& data_dir) { return data_dir + "/keys"; }

}  // namespace

Status ExportCoordinatorKeys(const std::string& data_dir, const std::string& file) {
  Result<CurveKeyPair> pair = LoadCurveKeys(KeysDir(data_dir), kKeyName);
  if (!pair.ok()) return pair.status();
  std::string text = std::string(kHeader) + "\npublic_key=" + pair->public_z85 +
                     "\nsecret_key=" + pair->secret_z85 + "\n";
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::FailedPrecondition("cannot create " + file + ": " + std::strerror(errno) +
                                      (errno == EEXIST ? " (it is never overwritten)" : ""));
  }
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  written = ::fsync(fd) == 0 && written;
  ::close(fd);
  if (!written) {
    ::unlink(file.c_str());
    return Status::Internal("cannot write " + file);
  }
  return Status::Ok();
}

Status ImportCoordinatorKeys(const std::string& data_dir, const std::string& file, bool replace) {
  std::ifstream in(file);
  if (!in) return Status::NotFound("cannot read " + file);
  CurveKeyPair pair;
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (line.starts_with("public_key=")) {
      pair.public_z85 = line.substr(11);
    } else if (line.starts_with("secret_key=")) {
      pair.secret_z85 = line.substr(11);
    } else {
      return Status::InvalidArgument(file + ": not a key file of `keys export` (a line '" +
                                     line.substr(0, 40) + "')");
    }
  }
  if (!IsCurveKeyPair(pair)) {
    return Status::InvalidArgument(file + ": not a key pair (two Z85 keys, the secret of the "
                                          "public one)");
  }
  Result<CurveKeyPair> present = LoadCurveKeys(KeysDir(data_dir), kKeyName);
  if (present.ok()) {
    if (present->public_z85 == pair.public_z85 && present->secret_z85 == pair.secret_z85) {
      return Status::Ok();
    }
    if (!replace) {
      return Status::FailedPrecondition(
          KeysDir(data_dir) + " holds another key pair (public key " + present->public_z85 +
          "), which its agents and clients trust; --replace installs this one instead");
    }
  } else if (present.status().code() != StatusCode::kNotFound && !replace) {
    return present.status();
  }
  return SaveCurveKeys(KeysDir(data_dir), kKeyName, pair);
}

}  // namespace labmesh::coordinator
