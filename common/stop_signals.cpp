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
  if (waiter_.joinable()) waiter_.join();
}

void StopSignals::OnStop(std::function<void()> stop) {
  waiter_ = std::thread([this, stop = std::move(stop)] {
    sigset_t set = StopSet();
    timespec tick{0, 200'000'000};  // how quickly the destructor is noticed
    while (!done_.load()) {
      int sig = sigtimedwait(&set, nullptr, &tick);
      if (sig == SIGTERM || sig == SIGINT) {
        spdlog::info("signal {}: stopping", sig);
        stop();
        return;
      }
    }
  });
}

}  // namespace labmesh
