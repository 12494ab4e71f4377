#pragma once
// RetentionWorker: the retention sweeper's hands off the event loop (docs/retention.md). The
// sweeper hands it jobs whose results must go (Submit) after the commit that marked them
// `removing`; the worker removes their rows from the results index (several jobs per write
// transaction), then their directories under the results repository, counting what went, and
// leaves a Done for each, which the loop collects (TakeDone) on its next turn. Nothing the
// worker does holds the loop: an index commit's fsync and the unlink of thousands of files take
// far longer than the few milliseconds a loop turn may spend on retention.
//
// Threads: Submit and TakeDone are for the event-loop thread; the rest runs on the worker. The
// destructor stops the worker after the batch it is removing.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "labmesh/common/status.hpp"

namespace labmesh::store {
class ResultsIndex;
class Store;
}

namespace labmesh::coordinator {

struct RemoveWork {
  uint64_t job_id = 0;
  std::string job_dir;  // "<job>-<owner>", relative to the results repository
};

struct RemoveDone {
  uint64_t job_id = 0;
  Status status;                   // not OK: index rows or files may remain (tried again later)
  uint64_t dirs = 0;               // entry (host) directories removed
  uint64_t files = 0;              // files removed
  uint64_t bytes = 0;              // their sizes
  uint64_t index_rows = 0;         // records removed from the results index
  std::vector<std::string> hosts;  // the host directories the job had
};

class RetentionWorker {
 public:
  static constexpr size_t kMaxJobsPerCommit = 64;

  // `store` is synced (fsync) before each batch is removed: the loop commits its `removing`
  // marks without one, so that a sweep's commits never wait for the disk on the loop.
  RetentionWorker(std::string results_root, store::ResultsIndex* index, store::Store* store);
  ~RetentionWorker();
  RetentionWorker(const RetentionWorker&) = delete;
  RetentionWorker& operator=(const RetentionWorker&) = delete;

  void Start();
  void Submit(RemoveWork work);
  std::vector<RemoveDone> TakeDone();

 private:
  void Run();
  void Process(std::vector<RemoveWork> batch);
  // Counts and removes results_root/job_dir (a missing directory is no error).
  Status RemoveDir(const std::string& job_dir, RemoveDone* done) const;

  const std::string results_root_;
  store::ResultsIndex* index_;
  store::Store* store_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<RemoveWork> queue_;
  std::vector<RemoveDone> done_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace labmesh::coordinator
