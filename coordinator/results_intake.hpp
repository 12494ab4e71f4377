#pragma once
// ResultsIntake: the analysis backend's worker thread. The event loop hands it entries whose
// files are complete (Submit); the worker parses them (labmesh::parsers::ParseResultsDir),
// writes their results into the results index (several entries per write transaction) and
// leaves a Done for each, which the loop collects (TakeDone) when fd() is readable. Scheduling
// never waits for parsing: the index has its own LMDB environment and the loop only reads it.
//
// Threads: Submit, TakeDone and fd are for the event-loop thread; everything else runs on the
// worker. The destructor stops the worker after the entry it is parsing.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "labmesh/common/status.hpp"
#include "labmesh/store/results_index.hpp"
#include "labmesh/store/store.hpp"

namespace labmesh::coordinator {
class HostRegistry;
}

namespace labmesh::coordinator {

struct ParseWork {
  uint64_t job_id = 0;
  uint64_t entry_id = 0;
  std::string host;
  std::vector<std::string> labels;  // the host's labels now
  std::string entry_dir;            // "<job>-<owner>/<host>", relative to the repository
  int64_t default_start_us = 0;     // the time of results whose files carry none
  uint64_t reparse = 0;             // 0: the entry's first parse; else the reparse it is for
};

struct ParseDone {
  ParseWork work;
  Status status;  // not OK: the results could not be indexed (the files are still there)
  store::StatusCounts counts;
  uint64_t results = 0;
  std::vector<std::string> warnings;
  std::vector<std::string> failed;  // the first few tests that did not pass (FAIL/ERROR/ABORT)
  std::string crash_line;  // parsers::FindCrashInfoLine of the entry's directory
};

// The parse work of a finished entry's files: its host's labels as `registry` has them now,
// its results directory (the job's `owner` is part of it) and `default_start_us` for results
// whose files carry no time. Shared by the first parse and by reparses.
ParseWork ParseWorkOf(const store::Entry& entry, const std::string& owner,
                      const HostRegistry& registry, int64_t default_start_us);

// The records a parse of `work`'s files gives: names too long for the index shortened, link
// and fallback time set, invalid ones dropped with a warning. Pure (reads only the files).
std::vector<store::ResultRecord> ParseEntryFiles(const std::string& results_root,
                                                 const ParseWork& work,
                                                 std::vector<std::string>* warnings);

class ResultsIntake {
 public:
  static constexpr size_t kMaxEntriesPerCommit = 64;
  static constexpr size_t kMaxWarningsKept = 20;
  // The index's disk is full: the same entries are tried again this much later.
  static constexpr int64_t kDiskFullRetryMs = 5'000;

  ResultsIntake(std::string results_root, store::ResultsIndex* index);
  ~ResultsIntake();
  ResultsIntake(const ResultsIntake&) = delete;
  ResultsIntake& operator=(const ResultsIntake&) = delete;

  // Creates the wake-up descriptor and starts the worker.
  Status Start();
  void Submit(ParseWork work);
  // Readable while Done items wait (an eventfd).
  int fd() const { return event_fd_; }
  std::vector<ParseDone> TakeDone();
  size_t backlog() const;

 private:
  void Run();
  void Process(std::vector<ParseWork> batch);

  const std::string results_root_;
  store::ResultsIndex* index_;
  int event_fd_ = -1;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<ParseWork> queue_;
  std::vector<ParseDone> done_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace labmesh::coordinator
