#include "health.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace labmesh::agent {
namespace {

// The whole of a small file (/proc files report size 0, so read until the end); "" if unreadable.
std::string ReadSmallFile(const char* path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Unquote(std::string value) {
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'')) {
    value = value.substr(1, value.size() - 2);
  }
  return value;
}

// The first IPv4 address of an interface that is up and not loopback, else 127.0.0.1.
std::string PrimaryAddress() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "127.0.0.1";
  std::string address = "127.0.0.1";
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    if ((i->ifa_flags & IFF_UP) == 0 || (i->ifa_flags & IFF_LOOPBACK) != 0) continue;
    char buf[INET_ADDRSTRLEN];
    auto* sin = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
    if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf) != nullptr) {
      address = buf;
      break;
    }
  }
  freeifaddrs(list);
  return address;
}

}  // namespace

std::optional<LoadAverages> ParseLoadavg(std::string_view text) {
  std::istringstream in{std::string(text)};
  LoadAverages load;
  if (!(in >> load.load1 >> load.load5 >> load.load15)) return std::nullopt;
  return load;
}

std::optional<uint64_t> ParseMeminfo(std::string_view text, std::string_view key) {
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos || std::string_view(line).substr(0, colon) != key) continue;
    std::istringstream fields(line.substr(colon + 1));
    uint64_t value = 0;
    std::string unit;
    if (!(fields >> value)) return std::nullopt;
    fields >> unit;
    return unit == "kB" ? value * 1024 : value;
  }
  return std::nullopt;
}

protocol::HostFacts CollectFacts() {
  protocol::HostFacts facts;
  utsname uts{};
  if (uname(&uts) == 0) {
    facts.arch = uts.machine;
    facts.kernel = uts.release;
  }
  std::ifstream os_release("/etc/os-release");
  std::string line;
  while (std::getline(os_release, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq);
    if (key == "ID") facts.os = Unquote(line.substr(eq + 1));
    if (key == "VERSION_ID") facts.os_version = Unquote(line.substr(eq + 1));
  }
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  facts.cpus = cpus > 0 ? static_cast<uint32_t>(cpus) : 0;
  facts.memory_bytes = ParseMeminfo(ReadSmallFile("/proc/meminfo"), "MemTotal").value_or(0);
  facts.address = PrimaryAddress();
  return facts;
}

protocol::HostHealth CollectHealth(const std::string& work_dir) {
  protocol::HostHealth health;
  if (auto load = ParseLoadavg(ReadSmallFile("/proc/loadavg"))) {
    health.load1 = load->load1;
    health.load5 = load->load5;
    health.load15 = load->load15;
  }
  std::string meminfo = ReadSmallFile("/proc/meminfo");
  health.mem_total_bytes = ParseMeminfo(meminfo, "MemTotal").value_or(0);
  health.mem_available_bytes = ParseMeminfo(meminfo, "MemAvailable").value_or(0);
  struct statvfs fs {};
  if (statvfs(work_dir.c_str(), &fs) == 0) {
    health.disk_total_bytes = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
    health.disk_free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  }
  std::ifstream uptime("/proc/uptime");
  double seconds = 0;
  if (uptime >> seconds) health.uptime_s = static_cast<uint64_t>(seconds);
  return health;
}

}  // namespace labmesh::agent
