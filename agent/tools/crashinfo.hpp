#pragma once
// Crash collection (docs/kernel-lab.md "Crash collection"): what `labmesh-test crashinfo`
// gathers into an entry's results/crashinfo/ after its control failed or the machine rebooted
// under it. The agent runs it as a process of its own (bounded, off its event loop).

#include <cstdint>
#include <string>

namespace labmesh::agent {

struct CrashSources {
  std::string results;     // the entry's results directory; crashinfo/ goes below it
  int64_t since_us = 0;    // the entry's start: the kernel log and crash dumps since then
  std::string pstore_dir;  // /sys/fs/pstore
  std::string crash_dir;   // /var/crash
  // Where systemd-pstore.service moves pstore's records at boot (Debian 12 enables it), before
  // the agent starts: the records of a panic are there, not in pstore_dir.
  std::string systemd_pstore_dir = "/var/lib/systemd/pstore";
  bool previous_boot = false;  // the machine rebooted unexpectedly: the previous boot's log too
};

// Every file at most this many bytes (a log keeps its end, where a panic is), all of them at
// most kMaxCrashInfoBytes together; what did not fit is said in sources.txt.
inline constexpr uint64_t kMaxCrashFileBytes = 1 << 20;
inline constexpr uint64_t kMaxCrashInfoBytes = 8 << 20;

// Writes crashinfo/: journal-previous-boot.log (journalctl -k -b -1, previous_boot only),
// pstore/ (copies of pstore_dir's files), systemd-pstore/ (the files below systemd_pstore_dir
// written since the entry started), var-crash/ (crash_dir's files changed since the entry
// started), kernel.log (this boot's kernel log since the entry started), processes.txt,
// df.txt, and sources.txt saying for each source what was found or why nothing was (a missing
// source is noted, never an error). Returns 0, or 1 when crashinfo/ itself cannot be written.
int CollectCrashInfo(const CrashSources& sources);

}  // namespace labmesh::agent
