// FindCrashLine and FindCrashInfoLine: the kernel's crash words in a log and in an entry's
// crashinfo/ (docs/kernel-lab.md "Crash collection").

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "labmesh/parsers/parsers.hpp"
#include "process.hpp"

namespace labmesh::parsers {
namespace {

namespace fs = std::filesystem;

TEST(CrashLine, TheMostTellingLineWins) {
  EXPECT_EQ(FindCrashLine("boot ok\n"), "");
  EXPECT_EQ(FindCrashLine(""), "");
  // An oops comes first in the log, the panic later: the panic is what the line says.
  EXPECT_EQ(FindCrashLine("[ 1.0] Oops: 0002 [#1] SMP\n[ 1.1] Call Trace:\n"
                          "[ 1.2] Kernel panic - not syncing: Fatal exception\n"),
            "[ 1.2] Kernel panic - not syncing: Fatal exception");
  // A warning's trace, a user process's fault: no crash.
  EXPECT_EQ(FindCrashLine("WARNING: CPU: 0 PID: 1 at x.c:1\nCall Trace:\n"
                          "traps: a.out[42] general protection fault ip:4011 sp:7ffc\n"),
            "");
  EXPECT_EQ(FindCrashLine("  BUG: kernel NULL pointer dereference, address: 0000  \nOops: 0002\n"),
            "BUG: kernel NULL pointer dereference, address: 0000");
  EXPECT_EQ(FindCrashLine("watchdog: Watchdog detected hard LOCKUP on cpu 3\n"),
            "watchdog: Watchdog detected hard LOCKUP on cpu 3");
}

TEST(CrashLine, InvalidUtf8AndLongLinesAreCleaned) {
  std::string line = "Oops: \xff\xfe" + std::string(10000, 'x');
  std::string found = FindCrashLine(line);
  EXPECT_LE(found.size(), kMaxReasonBytes + 3);
  EXPECT_EQ(found.find('\xff'), std::string::npos);
  EXPECT_EQ(found.rfind("Oops: ", 0), 0u);
}

TEST(CrashInfoLine, LooksThroughCrashInfoOnly) {
  testing::TempDir tmp;
  const fs::path dir = tmp.path();
  EXPECT_EQ(FindCrashInfoLine(dir.string()), "");  // no crashinfo/
  fs::create_directories(dir / "crashinfo" / "pstore");
  std::ofstream(dir / "status.log") << "Kernel panic in a test's own output\n";
  // The process list may hold anything (a test's command line): it is not a log.
  std::ofstream(dir / "crashinfo" / "processes.txt") << "python3 check 'Kernel panic'\n";
  EXPECT_EQ(FindCrashInfoLine(dir.string()), "");
  std::ofstream(dir / "crashinfo" / "kernel.log") << "[ 5.0] BUG: soft lockup - CPU#0 stuck\n";
  EXPECT_EQ(FindCrashInfoLine(dir.string()), "[ 5.0] BUG: soft lockup - CPU#0 stuck");
  std::ofstream(dir / "crashinfo" / "pstore" / "dmesg-ramoops-0")
      << "<0>Kernel panic - not syncing: sysrq triggered crash\n";
  EXPECT_EQ(FindCrashInfoLine(dir.string()),
            "<0>Kernel panic - not syncing: sysrq triggered crash");
}

TEST(CrashInfoLine, DoesNotFollowSymbolicLinks) {
  testing::TempDir tmp;
  const fs::path dir = tmp.path();
  fs::create_directories(dir / "crashinfo");
  fs::create_directories(dir / "elsewhere");
  std::ofstream(dir / "elsewhere" / "log") << "Kernel panic - not ours\n";
  fs::create_symlink(dir / "elsewhere" / "log", dir / "crashinfo" / "link");
  fs::create_directory_symlink(dir / "elsewhere", dir / "crashinfo" / "dirlink");
  EXPECT_EQ(FindCrashInfoLine(dir.string()), "");
  fs::remove_all(dir / "crashinfo");
  fs::create_directory_symlink(dir / "elsewhere", dir / "crashinfo");
  EXPECT_EQ(FindCrashInfoLine(dir.string()), "");
}

}  // namespace
}  // namespace labmesh::parsers
