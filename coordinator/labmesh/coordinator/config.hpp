#pragma once
// The coordinator's configuration. Every default lives here; main.cpp fills the struct from
// flags, the config file and LABMESH_* environment variables and logs what differs.

#include <cstdint>
#include <string>

#include "labmesh/protocol/envelope.hpp"

namespace labmesh::coordinator {

struct CoordinatorConfig {
  std::string data_dir = "./var/labmesh";
  // Where jobs, hosts and users are kept (store::Store::Open's spec): "" = lmdb:DATA_DIR/db, the
  // embedded default; postgresql://... a PostgreSQL database (docs/scale-out.md). Results,
  // packages and keys stay in data_dir either way.
  std::string store;
  // Wait until no other coordinator holds the store (a PostgreSQL one), then take over
  // (docs/scale-out.md). Meanwhile serve agents, API and page by relaying them to the
  // coordinator that holds it, over its relay socket. Nothing in data_dir is written while waiting.
  bool standby = false;
  // The relay socket (ROUTER, CurveZMQ with the coordinator's own key): standbys relay their
  // agents and clients through it. Empty = none. `relay_advertise` is the endpoint written to the
  // store for standbys to connect to; "" = the bound endpoint (a wildcard address replaced by
  // this machine's host name).
  std::string relay_listen;
  std::string relay_advertise;
  // A PostgreSQL store's reads and commits wait this long for a server that cannot be reached
  // (restarting, down) before they fail; the loop waits with them.
  int64_t store_wait_ms = 30'000;
  std::string agent_listen = "tcp://*:7710";        // ROUTER, CurveZMQ server
  std::string api_listen = "tcp://127.0.0.1:7711";  // ROUTER, plain: loopback only
  // A second API socket, CurveZMQ server with the coordinator's key, on any address (clients
  // need the coordinator's public key); empty = none (docs/security.md).
  std::string api_curve_listen;
  std::string http_listen = "127.0.0.1:7780";       // civetweb; empty = no web server
  // GET /metrics (docs/monitoring.md) answers whoever sends this token as `Authorization:
  // Bearer`; empty = loopback clients only.
  std::string metrics_token;
  std::string web_static_dir;  // developers: serve the page from this directory (webui/static)
  std::string chartjs_file;    // Chart.js for the plots; "" = Debian's libjs-chart.js path
  int64_t heartbeat_interval_ms = 5'000;  // told to agents in Welcome
  int64_t dead_after_ms = 30'000;         // silent this long -> Dead
  // After a start, hosts get this long to come back before they can be declared Dead; never
  // less than dead_after_ms (0 = dead_after_ms).
  int64_t restart_grace_ms = 0;
  int64_t heartbeat_flush_ms = 2'000;  // how often in-memory heartbeats are persisted
  std::string enroll_token;            // agents presenting it are accepted at once
  bool auto_accept = false;            // accept every new agent
  size_t max_frame_bytes = protocol::kDefaultMaxFrameBytes;
  // A synchronous job's group that holds some of its hosts (Pending) but cannot gather all of
  // them within this long gives them back to other work and tries again after half as long.
  int64_t sync_hold_ms = 60'000;
  // ZeroMQ I/O threads: they do the Curve and TCP work of every agent connection (about 20 us
  // of CPU per message, far more than the event loop spends on it), each connection on one of
  // them. More than one spreads a fan-out to many agents (a barrier release, a group start)
  // over cores; worth it only with cores to spare.
  int io_threads = 1;
  // Reader threads for the API's read-only queries (results list, summary and series, job
  // list): they read the stores in their own LMDB read transactions, so agent traffic on the
  // event loop never waits behind a query (docs/architecture.md).
  int query_threads = 2;
  // Under 2,000+ heartbeats/s, turns that read only heartbeats are held this far apart so that
  // one wakeup reads several (turn_pacer.hpp); 0 = never.
  int64_t turn_pacing_ms = 2;
  // Host lifecycle (docs/lifecycle.md). An idle Ready host not verified for this long gets a
  // Verify (0 = never).
  int64_t verify_interval_ms = 3'600'000;
  // A host that needed this many automatic Repairs within repair_window_ms is not repaired
  // again automatically: it goes Repair Failed and waits for a person.
  uint32_t repair_limit = 3;
  int64_t repair_window_ms = 3'600'000;
  // A task whose agent has not reported within this long after it started (or after this
  // coordinator started, if later) fails, so that an agent that never answers RunTask does not
  // leave its host Verifying/Repairing/Cleaning/Updating forever (0 = no deadline).
  int64_t task_deadline_ms = 3'600'000;
  // Out-of-band power and consoles (docs/power-console.md). A power command is killed after
  // power_timeout_ms; a second operation on one host waits power_quiet_ms after the last one
  // ended. A lost (Dead) host with a power method is power cycled at most power_cycle_limit
  // times within repair_window_ms, then left Repair Failed; one that has not registered
  // power_boot_timeout_ms after its cycle is cycled again (within the limit).
  int64_t power_timeout_ms = 60'000;
  int64_t power_quiet_ms = 10'000;
  uint32_t power_cycle_limit = 3;
  int64_t power_boot_timeout_ms = 600'000;
  // Each host's rolling console log keeps about this many bytes (two files of half of it).
  uint64_t console_log_max_bytes = 4u << 20;
  // A console whose command ended is started again after this long.
  int64_t console_restart_ms = 5'000;
  // A panic seen on a host's console makes it lost (Dead, and so power cycled) when the agent
  // has not been heard from for this long after it (0 = only the heartbeat's --dead-after).
  int64_t panic_grace_ms = 0;
  // Security (docs/security.md). A web session lasts this long after its login.
  int64_t session_ttl_ms = 12 * 3'600'000;
  // Agents whose Curve handshake was refused this many times within handshake_window_ms from
  // one address are refused outright for the rest of the window (one log line per window).
  uint32_t handshake_failures = 5;
  int64_t handshake_window_ms = 60'000;
  // An agent connection that has not finished its Curve handshake this long is dropped (0 =
  // never). ZeroMQ's default; its timers cost a scan of every connection still in its handshake
  // per handshake done, which a restart storm of a very large fleet feels (docs/architecture.md).
  int64_t handshake_timeout_ms = 30'000;
  // Running out of disk (docs/decisions.md). The store's LMDB map grows up to this size; a
  // store that reaches it is full like a full disk.
  uint64_t store_map_bytes = 64ull << 30;
  // Below this much free space on the data directory's file system, new jobs, test additions
  // and uploads are refused (`Unavailable: disk full`) so that the work already accepted can
  // finish in what is left.
  uint64_t min_free_bytes = 256ull << 20;
  // Retention (docs/retention.md); 0 = keep forever, which is the default for each. Results of
  // jobs finished longer ago than results_retention_ms are removed (a job's --keep-results
  // overrides it); above results_max_bytes of results the oldest finished jobs' results go
  // first; audit records older than audit_retention_ms go; finished jobs' records (entries,
  // results and index rows with them) older than job_retention_ms go.
  int64_t results_retention_ms = 0;
  uint64_t results_max_bytes = 0;
  int64_t audit_retention_ms = 0;
  int64_t job_retention_ms = 0;
  // How often the sweeper looks for what a policy removes (it also runs soon after a start).
  int64_t retention_sweep_interval_ms = 600'000;
  // The most time one loop turn spends sweeping (the loop's other work waits meanwhile).
  int64_t retention_turn_budget_ms = 2;
  // Notifications of job ends (docs/notifications.md). Email goes by SMTP to this relay
  // (HOST:PORT) from this address ("" = labmesh@<this machine's name>); the links in them point
  // at public_url ("" = http://<http_listen>); a notification not delivered within
  // notify_retry_for_ms of the job's end is given up (recorded failed); one attempt may take
  // notify_attempt_timeout_ms.
  std::string smtp_server = "127.0.0.1:25";
  std::string notify_from;
  std::string public_url;
  int64_t notify_retry_for_ms = 3'600'000;
  int64_t notify_attempt_timeout_ms = 10'000;
  // Host health and quarantine (docs/quarantine.md). Scores count each host's last
  // health_entries entries and tasks and its results within health_window_ms, computed every
  // health_interval_ms off the loop. quarantine_mode "off" (scores only), "suggest" (a host at
  // the threshold is marked suspect and audited) or "auto" (it is quarantined and repaired);
  // a quarantined host is released by an admin or after quarantine_probes probe jobs from the
  // template quarantine_probe_template ("" = no probes) passed in a row. flaky_build_key: the
  // keyval naming a result's build ("" or absent: the job's name).
  std::string quarantine_mode = "suggest";
  double quarantine_threshold = 6;
  int64_t health_window_ms = 7 * 24 * 3'600'000LL;
  uint32_t health_entries = 50;
  int64_t health_interval_ms = 300'000;
  uint32_t quarantine_probes = 3;
  std::string quarantine_probe_template;
  std::string flaky_build_key = "build";
  // The package mesh (docs/mesh.md): agents fetch package chunks from each other, the
  // coordinator routes them (mesh false: it serves every chunk itself). At most mesh_uploads
  // fetches from one agent at once; the coordinator serves a chunk nobody holds to at most
  // mesh_seeds fetchers at once; peers sharing the label that starts with
  // mesh_locality_prefix are preferred.
  bool mesh = true;
  uint32_t mesh_uploads = 4;
  uint32_t mesh_seeds = 2;
  std::string mesh_locality_prefix = "rack:";
};

}  // namespace labmesh::coordinator
