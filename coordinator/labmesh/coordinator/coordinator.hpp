#pragma once
// The coordinator daemon as a library: main.cpp and the tests build one from a config and run it.
//
// Threads: Run() is the event loop and the only thread that touches the sockets, the host
// table and the store's write side. civetweb's worker threads reach it through the API socket's
// inproc endpoint. Stop() may be called from any thread (a signal-handling thread, a test).

#include <atomic>
#include <memory>
#include <string>

#include "labmesh/common/clock.hpp"
#include "labmesh/common/status.hpp"
#include "labmesh/coordinator/config.hpp"
#include "labmesh/coordinator/retention_stats.hpp"
#include "labmesh/store/store.hpp"

namespace labmesh::coordinator {

// Where the coordinator actually listens (ports resolved when the config asked for port 0 / *).
struct BoundEndpoints {
  std::string agent;  // e.g. tcp://0.0.0.0:7710
  std::string api;    // e.g. tcp://127.0.0.1:7711
  std::string api_curve;  // the CurveZMQ API socket; empty when there is none
  std::string http;   // e.g. 127.0.0.1:7780, empty when the web server is off
  std::string relay;  // the socket standbys relay through; empty without --relay-listen
};

class Coordinator {
 public:
  // Creates the data directory, opens the store, loads or creates the Curve key pair
  // (DATA_DIR/keys/coordinator.{pub,key}), binds every socket and starts the web server.
  // Writes the bound endpoints to DATA_DIR/coordinator.endpoints (key=value lines).
  // `store`: the store already opened and claimed (a standby that took over, RunCoordinator);
  // null: Start opens config.store (DATA_DIR/db when empty) and claims it.
  static Result<std::unique_ptr<Coordinator>> Start(const CoordinatorConfig& config,
                                                    const Clock* clock,
                                                    std::unique_ptr<store::Store> store = nullptr);
  virtual ~Coordinator() = default;

  // Serves until Stop(); then finishes the current work, persists heartbeats and returns.
  virtual Status Run() = 0;
  virtual void Stop() = 0;
  virtual const BoundEndpoints& endpoints() const = 0;
  virtual const std::string& public_key() const = 0;
  // What retention removed so far (docs/retention.md); any thread.
  virtual RetentionStats retention_stats() const = 0;
};

// The store `config` names (--store; DATA_DIR/db when empty), opened with its options (map size,
// --store-wait), not yet claimed.
Result<std::unique_ptr<store::Store>> OpenStore(const CoordinatorConfig& config);

// For main(): Start + Run, with SIGTERM/SIGINT stopping the loop cleanly. With config.standby it
// first waits until no other coordinator holds the store, and then starts as that one would
// have (docs/scale-out.md).
Status RunCoordinator(const CoordinatorConfig& config);

}  // namespace labmesh::coordinator
