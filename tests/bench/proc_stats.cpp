#include "proc_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace labmesh::bench {

ProcSample ReadProc(int pid) {
  ProcSample sample;
  std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream stat(dir + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return sample;
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  size_t close = line.rfind(')');
  if (close == std::string::npos) return sample;
  std::istringstream fields(line.substr(close + 1));
  std::string skip;
  for (int field = 3; field <= 13; ++field) fields >> skip;  // state .. cmajflt
  uint64_t utime = 0, stime = 0;                             // fields 14 and 15, in clock ticks
  if (!(fields >> utime >> stime)) return sample;
  sample.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream status(dir + "/status");
  while (std::getline(status, line)) {
    double kib = 0;
    if (std::sscanf(line.c_str(), "VmRSS: %lf kB", &kib) == 1) sample.rss_mib = kib / 1024;
    if (std::sscanf(line.c_str(), "VmHWM: %lf kB", &kib) == 1) sample.hwm_mib = kib / 1024;
  }
  sample.ok = true;
  return sample;
}

double SelfCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace labmesh::bench
