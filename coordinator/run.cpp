#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

#include "labmesh/coordinator/coordinator.hpp"

namespace labmesh::coordinator {
namespace {

// Thousands of agents are thousands of sockets: take every descriptor the hard limit allows.
void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

Status RunCoordinator(const CoordinatorConfig& config) {
  RaiseFileLimit();
  // Block the stop signals before any thread starts (ZeroMQ's, civetweb's) so that only the
  // waiter below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto coordinator = Coordinator::Start(config, SystemClock::Default());
  if (!coordinator.ok()) return coordinator.status();

  std::atomic<bool> done{false};
  std::thread waiter([&] {
    timespec tick{0, 200'000'000};
    while (!done.load()) {
      int sig = sigtimedwait(&stop_signals, nullptr, &tick);
      if (sig == SIGTERM || sig == SIGINT) {
        spdlog::info("signal {}: stopping", sig);
        (*coordinator)->Stop();
        return;
      }
    }
  });
  Status status = (*coordinator)->Run();
  done.store(true);
  waiter.join();
  coordinator->reset();
  return status;
}

}  // namespace labmesh::coordinator
