#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

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

// How often a standby asks for the store.
constexpr auto kStandbyPoll = std::chrono::milliseconds(250);

// --standby: opens the store and claims it as soon as no other coordinator holds it; nullptr
// when `stopping` came first.
Result<std::unique_ptr<store::Store>> AwaitStore(const CoordinatorConfig& config,
                                                 const std::atomic<bool>& stopping) {
  if (!config.store.starts_with("postgresql://") && !config.store.starts_with("postgres://")) {
    return Status::InvalidArgument(
        "--standby needs a PostgreSQL --store: an LMDB store belongs to the one coordinator "
        "that holds its data directory");
  }
  std::unique_ptr<store::Store> store;
  Status last;
  while (!stopping.load()) {
    if (!store) {
      auto opened = OpenStore(config);
      if (opened.ok()) store = std::move(*opened);
      last = opened.status();
      if (!opened.ok() && opened.status().code() != StatusCode::kUnavailable) return last;
    }
    if (store) {
      Status claimed = store->ClaimWriter();
      if (claimed.ok()) return store;
      if (claimed.code() != StatusCode::kFailedPrecondition &&
          claimed.code() != StatusCode::kUnavailable) {
        return claimed;
      }
      if (claimed.message() != last.message()) {
        spdlog::info("standby: {}; waiting to take over", claimed.message());
      }
      last = claimed;
    }
    std::this_thread::sleep_for(kStandbyPoll);
  }
  return std::unique_ptr<store::Store>();
}

}  // namespace

Result<std::unique_ptr<store::Store>> OpenStore(const CoordinatorConfig& config) {
  store::StoreOptions options;
  options.unavailable_wait_ms = config.store_wait_ms;
  options.max_map_bytes = config.store_map_bytes;
  options.initial_map_bytes = std::min(options.initial_map_bytes, config.store_map_bytes);
  return store::Store::Open(config.store.empty() ? config.data_dir + "/db" : config.store, options);
}

Status RunCoordinator(const CoordinatorConfig& config) {
  RaiseFileLimit();
  StopSignals signals;  // before ZeroMQ and civetweb start their threads
  std::atomic<bool> stopping{false};
  std::atomic<Coordinator*> running{nullptr};
  signals.OnStop([&] {
    stopping.store(true);
    if (Coordinator* coordinator = running.load()) coordinator->Stop();
  });
  std::unique_ptr<store::Store> store;
  if (config.standby) {
    auto claimed = AwaitStore(config, stopping);
    if (!claimed.ok() || !*claimed) {
      signals.Cancel();
      return claimed.ok() ? Status::Ok() : claimed.status();
    }
    store = std::move(*claimed);
    spdlog::warn("standby: the store is ours; taking over");
  }
  auto coordinator = Coordinator::Start(config, SystemClock::Default(), std::move(store));
  if (!coordinator.ok()) {
    signals.Cancel();
    return coordinator.status();
  }
  running.store(coordinator->get());
  if (stopping.load()) (*coordinator)->Stop();  // a signal before `running` was set
  Status status = (*coordinator)->Run();
  signals.Cancel();  // no stop() on a destroyed coordinator
  return status;
}

}  // namespace labmesh::coordinator
