#pragma once
// How much CPU and memory a process uses, read from /proc: what the benchmarks report about
// the coordinator (by pid) and about themselves. Linux only.

namespace labmesh::bench {

// One reading; CPU time only means something as the difference of two readings.
struct ProcSample {
  bool ok = false;     // false when the process is gone or /proc unreadable
  double cpu_s = 0;    // user + system time of every thread so far
  double rss_mib = 0;  // VmRSS
  double hwm_mib = 0;  // VmHWM: the peak RSS
};

ProcSample ReadProc(int pid);

// User + system CPU time of the calling process (every thread).
double SelfCpuSeconds();

}  // namespace labmesh::bench
