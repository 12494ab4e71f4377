#include <sys/resource.h>

#include "labmesh/common/stop_signals.hpp"
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
  StopSignals signals;  // before ZeroMQ and civetweb start their threads
  auto coordinator = Coordinator::Start(config, SystemClock::Default());
  if (!coordinator.ok()) return coordinator.status();
  signals.OnStop([&] { (*coordinator)->Stop(); });
  Status status = (*coordinator)->Run();
  signals.Cancel();  // no stop() on a destroyed coordinator
  return status;
}

}  // namespace labmesh::coordinator
