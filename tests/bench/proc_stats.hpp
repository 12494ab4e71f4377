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

// Scheduler times summed over every thread of a process, in nanoseconds resolution (from
// /proc/PID/task/*/schedstat): how long its threads ran, and how long they were runnable but
// waited for a CPU. On a shared machine the wait tells "slow" from "not scheduled". Threads that
// ended between two readings drop out of the second, so compare readings of long-lived threads.
struct ThreadTimes {
  bool ok = false;
  double run_ms = 0;
  double wait_ms = 0;
  double main_run_ms = 0;  // the main thread's share of run_ms (the coordinator's event loop)
};

ThreadTimes ReadThreadTimes(int pid);

}  // namespace labmesh::bench
