#include "labmesh/common/stop_signals.hpp"

#include <pthread.h>
#include <signal.h>

#include <spdlog/spdlog.h>

namespace labmesh {
namespace {

sigset_t StopSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

StopSignals::StopSignals() {
  sigset_t set = StopSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

StopSignals::~StopSignals() { Cancel(); }

void StopSignals::Cancel() {
  done_.store(true);
  if (waiter_.joinable()) {
    // Wakes the waiter with a stop signal for its thread alone, which it takes as "done". A
    // waiter that already returned (it ran stop) has the signal discarded with it.
    pthread_kill(waiter_.native_handle(), SIGTERM);
    waiter_.join();
  }
}

void StopSignals::OnStop(std::function<void()> stop) {
  waiter_ = std::thread([this, stop = std::move(stop)] {
    sigset_t set = StopSet();
    // No timeout: Cancel() wakes it, so an idle daemon's waiter never runs.
    while (true) {
      int sig = sigwaitinfo(&set, nullptr);
      if (done_.load()) return;
      if (sig == SIGTERM || sig == SIGINT) {
        spdlog::info("signal {}: stopping", sig);
        stop();
        return;
      }
    }
  });
}

}  // namespace labmesh
