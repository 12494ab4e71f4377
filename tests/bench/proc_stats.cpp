#include "proc_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
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

ThreadTimes ReadThreadTimes(int pid) {
  ThreadTimes times;
  std::error_code ec;
  std::filesystem::directory_iterator tasks("/proc/" + std::to_string(pid) + "/task", ec);
  if (ec) return times;
  for (const auto& task : tasks) {
    std::ifstream stat(task.path() / "schedstat");
    uint64_t run_ns = 0, wait_ns = 0;
    if (!(stat >> run_ns >> wait_ns)) continue;  // the thread ended meanwhile
    times.run_ms += static_cast<double>(run_ns) / 1e6;
    times.wait_ms += static_cast<double>(wait_ns) / 1e6;
    if (task.path().filename() == std::to_string(pid)) {
      times.main_run_ms = static_cast<double>(run_ns) / 1e6;
    }
  }
  times.ok = true;
  return times;
}

}  // namespace labmesh::bench
