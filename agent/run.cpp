#include <pthread.h>
#include <signal.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

#include "labmesh/agent/agent.hpp"

namespace labmesh::agent {

Status RunAgent(const AgentConfig& config) {
  // Block the stop signals before ZeroMQ starts its threads so only the waiter gets them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto agent = Agent::Create(config, SystemClock::Default());
  if (!agent.ok()) return agent.status();
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    timespec tick{0, 200'000'000};
    while (!done.load()) {
      int sig = sigtimedwait(&stop_signals, nullptr, &tick);
      if (sig == SIGTERM || sig == SIGINT) {
        spdlog::info("signal {}: stopping", sig);
        (*agent)->Stop();
        return;
      }
    }
  });
  Status status = (*agent)->Run();
  done.store(true);
  waiter.join();
  return status;
}

}  // namespace labmesh::agent
