// The coordinator's options (labmesh/coordinator/flags.hpp): main() and the config fuzz target
// declare them through AddFlags, so both read a config file the same way.

#include "labmesh/coordinator/flags.hpp"

#include <cstdint>

#include "labmesh/common/flags.hpp"

namespace labmesh::coordinator {

namespace {

// A retention age ("90d", "2w", "12h"; 0 or "forever" = keep forever) stored in ms.
CLI::Option* AddRetention(CLI::App& app, const std::string& name, int64_t& ms,
                          const std::string& help) {
  auto* option = app.add_option_function<std::string>(
      "--" + name,
      [&ms, name](const std::string& text) {
        if (text == "forever") {
          ms = 0;
          return;
        }
        auto parsed = ParseLongDurationMs(text);
        if (!parsed.ok()) throw CLI::ValidationError("--" + name, parsed.status().message());
        ms = *parsed;
      },
      help + " (e.g. 90d, 2w, 12h; 0 or forever: keep forever, the default)");
  return option->envname(flags::EnvName(name))->type_name("AGE");
}

void AddRetentionFlags(CLI::App& app, CoordinatorConfig& config) {
  AddRetention(app, "results-retention", config.results_retention_ms,
               "remove the results of jobs finished longer ago than this (a job's "
               "--keep-results overrides it)");
  flags::Add(app, "results-max-bytes", config.results_max_bytes,
             "above this many bytes of results, remove the oldest finished jobs' results first "
             "(e.g. 500G; 0: no cap)")
      ->transform(CLI::AsSizeValue(false));
  AddRetention(app, "audit-retention", config.audit_retention_ms,
               "remove audit records older than this");
  AddRetention(app, "job-retention", config.job_retention_ms,
               "remove finished jobs (records, entries, results) finished longer ago than this");
  flags::AddDuration(app, "retention-sweep-interval", config.retention_sweep_interval_ms,
                     "how often the retention sweeper looks for what to remove")
      ->check([](const std::string& text) {
        auto ms = ParseDurationMs(text);
        return ms.ok() && *ms > 0 ? std::string() : std::string("must be positive");
      });
}

void AddNotifyFlags(CLI::App& app, CoordinatorConfig& config) {
  flags::Add(app, "smtp-server", config.smtp_server,
             "SMTP relay HOST:PORT for email notifications (docs/notifications.md)");
  flags::Add(app, "notify-from", config.notify_from,
             "sender address of email notifications (default labmesh@<hostname>)");
  flags::Add(app, "public-url", config.public_url,
             "the web page's address as people reach it, for links in notifications (default "
             "http://<http-listen>)");
  auto positive = [](const std::string& text) {
    auto ms = ParseDurationMs(text);
    return ms.ok() && *ms > 0 ? std::string() : std::string("must be positive");
  };
  flags::AddDuration(app, "notify-retry-for", config.notify_retry_for_ms,
                     "give a notification up (recorded failed) when not delivered this long "
                     "after the job ended")
      ->check(positive);
  flags::AddDuration(app, "notify-attempt-timeout", config.notify_attempt_timeout_ms,
                     "the longest one delivery attempt (HTTP POST or SMTP session) may take")
      ->check(positive);
}

// Host health and quarantine (docs/quarantine.md).
void AddHealthFlags(CLI::App& app, CoordinatorConfig& config) {
  flags::Add(app, "quarantine", config.quarantine_mode,
             "off: health scores only; suggest: a host whose score reaches "
             "--quarantine-threshold is marked suspect; auto: it is quarantined and repaired")
      ->check(CLI::IsMember({"off", "suggest", "auto"}));
  flags::Add(app, "quarantine-threshold", config.quarantine_threshold,
             "the health score at which a host is suspect (docs/quarantine.md has the weights)")
      ->check(CLI::Range(0.5, 1e6));
  flags::AddDuration(app, "health-window", config.health_window_ms,
                     "the history a health score counts (its results, entries and tasks)")
      ->check([](const std::string& text) {
        auto ms = ParseDurationMs(text);
        return ms.ok() && *ms > 0 ? std::string() : std::string("must be positive");
      });
  flags::Add(app, "health-entries", config.health_entries,
             "a health score counts at most this many of a host's newest entries and tasks")
      ->check(CLI::Range(1, 10'000));
  flags::AddDuration(app, "health-interval", config.health_interval_ms,
                     "how often the health scores are computed")
      ->check([](const std::string& text) {
        auto ms = ParseDurationMs(text);
        return ms.ok() && *ms >= 100 ? std::string() : std::string("must be at least 100ms");
      });
  flags::Add(app, "quarantine-probes", config.quarantine_probes,
             "probe jobs that must pass in a row to release a quarantined host (0: only an "
             "admin releases it)")
      ->check(CLI::Range(0, 1000));
  flags::Add(app, "quarantine-probe-template", config.quarantine_probe_template,
             "the template probe jobs are made from (empty: no probe jobs)");
  flags::Add(app, "flaky-build-key", config.flaky_build_key,
             "the keyval naming a result's build for flaky tests (absent: the job's name)");
}

// The package mesh (docs/mesh.md).
void AddMeshFlags(CLI::App& app, CoordinatorConfig& config) {
  flags::Add(app, "mesh", config.mesh,
             "on: agents fetch package chunks from each other; off: the coordinator serves all");
  flags::Add(app, "mesh-uploads", config.mesh_uploads,
             "the most fetches the coordinator sends to one agent at once")
      ->check(CLI::Range(1, 64));
  flags::Add(app, "mesh-seeds", config.mesh_seeds,
             "the most fetchers the coordinator itself serves a chunk no peer holds, at once")
      ->check(CLI::Range(1, 1000));
  flags::Add(app, "mesh-locality-prefix", config.mesh_locality_prefix,
             "peers sharing the host label that starts with this are preferred (empty: none)");
}

}  // namespace

void AddFlags(CLI::App& app, CommandLine& line) {
  namespace flags = labmesh::flags;
  CoordinatorConfig& config = line.config;
  app.set_version_flag("--version", std::string(LABMESH_VERSION));
  flags::AddConfigFile(app);
  flags::Add(app, "data-dir", config.data_dir, "data directory (store, results, packages, keys)");
  flags::Add(app, "store", config.store,
             "where jobs, hosts and users are kept: lmdb:DIR, or postgresql://USER@HOST:PORT/DB "
             "(empty: lmdb:DATA_DIR/db; docs/scale-out.md)");
  app.add_flag("--standby", config.standby,
               "with a PostgreSQL --store: while another coordinator holds it, serve agents, API "
               "and page by relaying them to it (its --relay-listen), then take over when it is "
               "gone (agents list every coordinator: --coordinator A,B,C)")
      ->envname("LABMESH_STANDBY");
  flags::Add(app, "relay-listen", config.relay_listen,
             "with a PostgreSQL --store: the socket standbys relay through (CurveZMQ, this "
             "coordinator's own key), e.g. tcp://*:7714 (empty: none)");
  flags::Add(app, "relay-advertise", config.relay_advertise,
             "the endpoint standbys connect to for --relay-listen (empty: the bound endpoint, a "
             "wildcard address replaced by this machine's host name)");
  flags::AddDuration(app, "store-wait", config.store_wait_ms,
                     "with a PostgreSQL --store: how long reads and commits wait for a server "
                     "that cannot be reached (a restart) before they fail");
  flags::Add(app, "agent-listen", config.agent_listen, "agent socket (CurveZMQ)");
  flags::Add(app, "api-listen", config.api_listen, "API socket (plain: loopback or ipc only)");
  flags::Add(app, "api-curve-listen", config.api_curve_listen,
             "a second API socket, CurveZMQ, on any address (empty: none)");
  flags::Add(app, "http-listen", config.http_listen, "web server ADDRESS:PORT (empty: off)");
  flags::Add(app, "metrics-token", config.metrics_token,
             "GET /metrics on the web port answers requests with `Authorization: Bearer TOKEN` "
             "(from anywhere); without it, loopback clients only (docs/monitoring.md)");
  flags::Add(app, "web-static-dir", config.web_static_dir,
             "developers: serve the web page's files from DIR (webui/static) instead of the "
             "built-in copy");
  flags::Add(app, "chartjs-file", config.chartjs_file,
             "Chart.js for the web page's plots (default: Debian libjs-chart.js's chart.min.js)");
  flags::AddDuration(app, "session-ttl", config.session_ttl_ms,
                     "how long a web login lasts");
  flags::Add(app, "handshake-failures", config.handshake_failures,
             "refused agent handshakes from one address within --handshake-window before it is "
             "refused outright")
      ->check(CLI::Range(1, 1'000'000));
  flags::AddDuration(app, "handshake-window", config.handshake_window_ms,
                     "the window --handshake-failures counts in");
  flags::AddDuration(app, "handshake-timeout", config.handshake_timeout_ms,
                     "drop an agent connection that has not finished its Curve handshake after "
                     "this long (0: never; docs/architecture.md, \"A large fleet\")");
  flags::AddDuration(app, "heartbeat-interval", config.heartbeat_interval_ms,
                     "heartbeat interval asked of agents");
  flags::AddDuration(app, "dead-after", config.dead_after_ms, "a host silent this long is Dead");
  flags::AddDuration(app, "sync-hold", config.sync_hold_ms,
                     "a synchronous group that cannot gather its hosts this long releases them");
  flags::AddDuration(app, "restart-grace", config.restart_grace_ms,
                     "after a start, time for hosts to come back before any is Dead (0: dead-after)");
  flags::AddDuration(app, "heartbeat-flush", config.heartbeat_flush_ms,
                     "how often heartbeats are persisted");
  flags::AddDuration(app, "verify-interval", config.verify_interval_ms,
                     "verify an idle host not verified for this long (0: never)");
  flags::Add(app, "repair-limit", config.repair_limit,
             "automatic repairs of one host within --repair-window before it is left Repair Failed")
      ->check(CLI::Range(1, 1000));
  flags::AddDuration(app, "repair-window", config.repair_window_ms,
                     "the window --repair-limit counts repairs in");
  flags::AddDuration(app, "task-deadline", config.task_deadline_ms,
                     "a verify/repair/cleanup/update task whose agent has not reported this long "
                     "after its start fails (0: no deadline)");
  flags::AddDuration(app, "power-timeout", config.power_timeout_ms,
                     "a power command (on/off/cycle/status) is killed after this long");
  flags::AddDuration(app, "power-quiet", config.power_quiet_ms,
                     "a power operation on a host waits this long after the last one ended");
  flags::Add(app, "power-cycle-limit", config.power_cycle_limit,
             "automatic power cycles of one lost host within --repair-window before it is "
             "left Repair Failed")
      ->check(CLI::Range(1, 1000));
  flags::AddDuration(app, "power-boot-timeout", config.power_boot_timeout_ms,
                     "a power cycled host whose agent has not registered this long after it is "
                     "cycled again (within --power-cycle-limit)");
  flags::Add(app, "console-log-max", config.console_log_max_bytes,
             "bytes of each host's rolling console log kept (e.g. 4MiB)")
      ->transform(CLI::AsSizeValue(false));
  flags::AddDuration(app, "console-restart", config.console_restart_ms,
                     "a console command that ended is started again after this long");
  flags::AddDuration(app, "panic-grace", config.panic_grace_ms,
                     "a host whose console showed a panic and whose agent stays silent this long "
                     "is lost at once (power cycled); 0: wait for --dead-after");
  flags::Add(app, "enroll-token", config.enroll_token, "agents presenting this token are accepted");
  app.add_flag("--auto-accept", config.auto_accept, "accept every new agent")
      ->envname("LABMESH_AUTO_ACCEPT");
  flags::Add(app, "max-frame-bytes", config.max_frame_bytes,
             "largest message accepted (one up to twice this is answered TooLarge; a larger one "
             "drops its connection)");
  flags::Add(app, "store-map-size", config.store_map_bytes,
             "largest size of the store's LMDB map (e.g. 64GiB); a store that reaches it refuses "
             "new work like a full disk")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(uint64_t{1} << 20, uint64_t{1} << 46));
  flags::Add(app, "min-free-space", config.min_free_bytes,
             "free space the data directory's file system keeps; below it new jobs, tests and "
             "uploads are refused (e.g. 256MiB)")
      ->transform(CLI::AsSizeValue(false));
  AddRetentionFlags(app, config);
  AddNotifyFlags(app, config);
  AddHealthFlags(app, config);
  AddMeshFlags(app, config);
  flags::Add(app, "io-threads", config.io_threads,
             "ZeroMQ I/O threads (Curve and TCP work of the agent connections)")
      ->check(CLI::Range(1, 64));
  flags::Add(app, "query-threads", config.query_threads,
             "reader threads answering results and job-list queries off the event loop")
      ->check(CLI::Range(1, 64));
  flags::AddDuration(app, "turn-pacing", config.turn_pacing_ms,
                     "with 2,000+ heartbeats/s, start a turn that reads only heartbeats at most "
                     "this often (0: never)");
  flags::AddLogFlags(app, line.log);
  app.add_option("--check", line.check_dir,
                 "check the store in DATA_DIR (or --store) read-only (beside a running coordinator too), print "
                 "each broken invariant and exit: 0 clean, 1 problems found, 2 unreadable "
                 "(docs/chaos.md)")
      ->type_name("DATA_DIR");
  line.migrate = app.add_subcommand(
      "migrate", "copy every job, host, user and setting of one store into a new one and exit "
                 "(stop the coordinator first; docs/scale-out.md)");
  line.migrate->add_option("--from", line.migrate_from, "the store to copy: lmdb:DIR (e.g. "
                                                        "lmdb:/var/lib/labmesh/db) or postgresql://...")
      ->required();
  line.migrate->add_option("--to", line.migrate_to, "the new store: postgresql://... or lmdb:DIR")
      ->required();
  auto* keys = app.add_subcommand(
      "keys", "the coordinator's CurveZMQ key pair, shared by the coordinators of one lab "
              "(docs/scale-out.md)");
  keys->require_subcommand(1);
  line.keys_export = keys->add_subcommand(
      "export", "write DATA_DIR/keys/coordinator.{pub,key} into FILE (created 0600, never "
                "overwritten) and exit");
  line.keys_export->add_option("FILE", line.keys_file, "the file to create")->required();
  line.keys_import = keys->add_subcommand(
      "import", "install the key pair of FILE (from `keys export`) in DATA_DIR/keys and exit");
  line.keys_import->add_option("FILE", line.keys_file, "a file `keys export` wrote")->required();
  line.keys_import->add_flag("--replace", line.keys_replace,
                             "replace another key pair already there (its agents and clients "
                             "must then be given the new public key)");
  for (CLI::App* sub : {keys, line.keys_export, line.keys_import}) sub->fallthrough();
}

}  // namespace labmesh::coordinator
