// Hostile results (issue 20): parses each given results directory the way the coordinator's
// results intake does (ParseResultsDir) in a child process of its own, and prints what came
// out, how long it took and the child's peak RSS (VmHWM), so one case's memory does not hide
// another's. scripts/bench-hostile.sh makes the directories (a 100 MB line, 10 million TAP
// lines, a million keyval keys, billion laughs ...) and runs it. Figures are printed, never
// asserted.
//
//   labmesh-hostilebench DIR...
//   hostile: CASE results=N warnings=M time_ms=T peak_rss_mib=R
//     warning: ...            (the first three)

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "labmesh/parsers/parsers.hpp"
#include "proc_stats.hpp"

namespace {

int ParseOne(const std::string& dir) {
  auto start = std::chrono::steady_clock::now();
  labmesh::parsers::ParseOutput out = labmesh::parsers::ParseResultsDir(dir);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                  .count();
  labmesh::bench::ProcSample proc = labmesh::bench::ReadProc(getpid());
  std::printf("hostile: %s results=%zu warnings=%zu time_ms=%.0f peak_rss_mib=%.1f\n",
              std::filesystem::path(dir).filename().c_str(), out.results.size(),
              out.warnings.size(), ms, proc.hwm_mib);
  for (size_t i = 0; i < out.warnings.size() && i < 3; ++i) {
    std::printf("  warning: %.200s\n", out.warnings[i].c_str());
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: labmesh-hostilebench DIR...\n");
    return 2;
  }
  int failed = 0;
  for (int i = 1; i < argc; ++i) {
    pid_t pid = fork();
    if (pid < 0) {
      std::perror("fork");
      return 1;
    }
    if (pid == 0) _exit(ParseOne(argv[i]));
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::printf("hostile: %s FAILED (status %d)\n", argv[i], status);
      failed = 1;
    }
  }
  return failed;
}
