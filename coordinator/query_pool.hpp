#pragma once
// QueryPool: the reader threads that answer the API's read-only queries (results list, summary
// and series, job list) off the event loop, so that agent traffic never waits behind a query
// that reads a million results (docs/architecture.md, "Queries off the loop").
//
// A query is two halves: `work` runs on a reader thread and reads only what is safe there (the
// store and the results index, each read in its own LMDB read transaction, and immutable
// snapshots handed over at submission); `deliver` runs back on the event loop with the frame
// `work` returned and sends it. The loop learns of finished work by fd() turning readable.
// A query sees everything committed before it was submitted: a client that waited for a change's
// reply and then asks finds it.
//
// The readers run niced (kReaderNice): on a machine short of cores, queries wait for the CPU
// before agent traffic does. At most kMaxQueued queries wait; past that Submit refuses (the caller answers Unavailable):
// a flood of queries slows queries, never the loop.
//
// Threads: Submit, Deliver, fd and the counts are for the event-loop thread; `work` runs on a
// reader thread. The destructor finishes the queries being run and drops the waiting ones.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "labmesh/common/status.hpp"

namespace labmesh::coordinator {

class QueryPool {
 public:
  static constexpr size_t kMaxQueued = 256;
  // The readers' nice value: below the loop's and the I/O threads' priority.
  static constexpr int kReaderNice = 10;

  using Work = std::function<std::string()>;
  using Deliver = std::function<void(std::string frame)>;

  explicit QueryPool(size_t threads);
  ~QueryPool();
  QueryPool(const QueryPool&) = delete;
  QueryPool& operator=(const QueryPool&) = delete;

  // Creates the wake-up descriptor and starts the readers.
  Status Start();
  // False (and nothing queued) when kMaxQueued queries already wait.
  bool Submit(Work work, Deliver deliver);
  // Readable while finished queries wait for Deliver (an eventfd).
  int fd() const { return event_fd_; }
  // Runs `deliver` of every finished query, in the order they finished. Event loop only.
  void DeliverDone();

  size_t waiting() const;  // submitted, not yet taken by a reader

 private:
  struct Query {
    Work work;
    Deliver deliver;
    std::string frame;
  };
  void Run();

  const size_t threads_;
  int event_fd_ = -1;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Query> queue_;
  std::vector<Query> done_;
  bool stopping_ = false;
  std::vector<std::thread> readers_;
};

}  // namespace labmesh::coordinator
