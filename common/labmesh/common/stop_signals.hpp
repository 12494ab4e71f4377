#pragma once
// How a labmesh daemon stops: SIGTERM and SIGINT are blocked in every thread (call this before
// any thread starts: ZeroMQ's, civetweb's) and one waiter thread turns them into a call of
// `stop`, so the event loop finishes its current work and returns. SIGPIPE is ignored.

#include <atomic>
#include <functional>
#include <thread>

namespace labmesh {

class StopSignals {
 public:
  StopSignals();   // blocks the signals in the calling thread (inherited by later threads)
  ~StopSignals();  // ends the waiter

  // Starts waiting; `stop` runs on the waiter thread at the first SIGTERM/SIGINT.
  void OnStop(std::function<void()> stop);
  // Ends the waiter; after it returns `stop` will not run. Call before what `stop` uses goes.
  void Cancel();

 private:
  std::atomic<bool> done_{false};
  std::thread waiter_;
};

}  // namespace labmesh
