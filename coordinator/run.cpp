#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "labmesh/common/stop_signals.hpp"
#include "labmesh/common/curve_keys.hpp"
#include "labmesh/coordinator/coordinator.hpp"
#include "relay.hpp"

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
// when `stopping` came first. Meanwhile, once the store is open, it relays its agents and
// clients to the coordinator that holds it (relay.hpp).
Result<std::unique_ptr<store::Store>> AwaitStore(const CoordinatorConfig& config,
                                                 const std::atomic<bool>& stopping) {
  if (!store::IsPostgresSpec(config.store)) {
    return Status::InvalidArgument(
        "--standby needs a PostgreSQL --store: an LMDB store belongs to the one coordinator "
        "that holds its data directory");
  }
  std::unique_ptr<store::Store> store;
  Status last;
  auto try_claim = [&]() -> Status {
    Status claimed = store->ClaimWriter();
    if (!claimed.ok() && claimed.message() != last.message()) {
      spdlog::info("standby: {}; waiting to take over", claimed.message());
    }
    last = claimed;
    return claimed;
  };
  while (!stopping.load()) {
    if (!store) {
      auto opened = OpenStore(config);
      if (opened.ok()) store = std::move(*opened);
      last = opened.status();
      if (!opened.ok() && opened.status().code() != StatusCode::kUnavailable) return last;
    }
    if (store) {
      Status claimed = try_claim();
      if (claimed.ok()) return store;
      if (claimed.code() != StatusCode::kFailedPrecondition &&
          claimed.code() != StatusCode::kUnavailable) {
        return claimed;
      }
      // The lab's key pair must be there already: a standby creates nothing in the data
      // directory it shares with the active coordinator.
      auto keys = LoadCurveKeys(config.data_dir + "/keys", "coordinator");
      if (!keys.ok()) {
        return Status(keys.status().code(),
                      "a standby needs the lab's coordinator key pair in " + config.data_dir +
                          "/keys (shared, or installed with `labmesh-coordinator keys import`): " +
                          keys.status().message());
      }
      auto relay = Relay::Start(config, *keys);
      if (!relay.ok()) return relay.status();
      Status relayed = (*relay)->Run(*store, try_claim, stopping);
      relay->reset();  // its sockets closed and its context ended: the endpoints are free
      if (!relayed.ok()) return relayed;
      if (last.ok()) return store;  // claimed
      continue;                     // stopping
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
