// status.log lines in the Autotest format; see status_log.hpp.

#include "work/status_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace labmesh::agent {
namespace {

std::string Stamp(std::time_t when) {
  std::tm local{};
  localtime_r(&when, &local);
  char buf[64];
  std::strftime(buf, sizeof buf, "%b %d %H:%M:%S", &local);
  return "timestamp=" + std::to_string(static_cast<long long>(when)) + "\tlocaltime=" + buf;
}

}  // namespace

std::string StatusStartLine(const std::string& name, std::time_t when) {
  return "START\t----\t" + name + "\t" + Stamp(when) + "\n";
}

std::string StatusResultLine(bool good, const std::string& name, std::time_t when,
                             const std::string& reason) {
  return std::string("\t") + (good ? "GOOD" : "FAIL") + "\t----\t" + name + "\t" + Stamp(when) +
         "\t" + (good ? std::string("completed successfully") : reason) + "\n";
}

std::string StatusEndLine(bool good, const std::string& name, std::time_t when) {
  return std::string("END ") + (good ? "GOOD" : "FAIL") + "\t----\t" + name + "\t" +
         Stamp(when) + "\n";
}

Status AppendToFile(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Internal("cannot open " + path + ": " + std::strerror(errno));
  ssize_t n = write(fd, text.data(), text.size());
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    return Status::Internal("cannot append to " + path + ": " +
                            (n < 0 ? std::strerror(err) : "short write"));
  }
  return Status::Ok();
}

Status WriteDefaultStatusLog(const std::string& path, const std::string& name, std::time_t started,
                             std::time_t ended, bool good, const std::string& reason) {
  return AppendToFile(path, StatusStartLine(name, started) +
                                StatusResultLine(good, name, ended, reason) +
                                StatusEndLine(good, name, ended));
}

bool IsValidTestName(const std::string& name) {
  if (name.empty() || name.size() > 100 || name[0] == '.') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace labmesh::agent
