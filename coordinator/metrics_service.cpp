#include "metrics_service.hpp"

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "mesh_tracker.hpp"
#include "disk_guard.hpp"
#include "host_registry.hpp"
#include "job_service.hpp"
#include "labmesh/common/disk_space.hpp"
#include "labmesh/protocol/messages.hpp"
#include "labmesh/store/results_index.hpp"
#include "labmesh/store/store.hpp"
#include "labmesh/coordinator/retention_stats.hpp"
#include "metrics.hpp"
#include "reservation_rules.hpp"

namespace labmesh::coordinator {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<std::pair<std::string, std::string>>;

// The queue's label for entries on named hosts: parentheses are not allowed in label names, so
// it can never be mistaken for one.
constexpr char kNamedHosts[] = "(named hosts)";
constexpr char kPendingApproval[] = "Pending Approval";

class Gauges {
 public:
  // Starts a family; the samples that follow belong to it.
  void Family(std::string name, std::string help) {
    families_.push_back(MetricFamily{std::move(name), std::move(help), MetricType::Gauge, {}});
  }
  void Sample(double value, const Labels& labels = {}) {
    ClientMetric metric;
    for (const auto& [name, label_value] : labels) metric.label.push_back({name, label_value});
    metric.gauge.value = value;
    families_.back().metric.push_back(std::move(metric));
  }
  void One(std::string name, std::string help, double value) {
    Family(std::move(name), std::move(help));
    Sample(value);
  }
  // A counter kept elsewhere (a total since the start), exposed as one.
  void Total(std::string name, std::string help, double value) {
    families_.push_back(MetricFamily{std::move(name), std::move(help), MetricType::Counter, {}});
    ClientMetric metric;
    metric.counter.value = value;
    families_.back().metric.push_back(std::move(metric));
  }
  std::vector<MetricFamily> Take() { return std::move(families_); }

 private:
  std::vector<MetricFamily> families_;
};

double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

void HostGauges(const HostRegistry& registry, const Clock& clock, int64_t heartbeat_interval_ms,
                Gauges& out) {
  std::map<std::string, uint64_t> by_status;
  for (uint8_t s = 0; s <= static_cast<uint8_t>(protocol::HostStatus::kQuarantined); ++s) {
    by_status[std::string(protocol::HostStatusName(static_cast<protocol::HostStatus>(s)))] = 0;
  }
  by_status[kPendingApproval] = 0;
  std::map<std::string, uint64_t> versions;
  uint64_t connected = 0, late = 0, reserved = 0;
  int64_t max_lag_ms = 0;
  const int64_t now = clock.SteadyMs();
  const int64_t wall_now = clock.WallMs();
  for (const auto& [name, host] : registry.hosts()) {
    if (ReservationActive(host.record, wall_now)) ++reserved;
    if (host.record.enrollment == store::Enrollment::kPending) {
      ++by_status[kPendingApproval];
      continue;
    }
    ++by_status[std::string(protocol::HostStatusName(host.record.status))];
    if (host.routing_id.empty()) continue;
    ++connected;
    ++versions[host.record.agent_version];
    int64_t lag = std::max<int64_t>(0, now - host.last_seen_steady_ms);
    max_lag_ms = std::max(max_lag_ms, lag);
    if (lag > 2 * heartbeat_interval_ms) ++late;
  }
  out.Family("labmesh_hosts", "Hosts by status (enrolled hosts; Pending Approval: not yet)");
  for (const auto& [status, count] : by_status) {
    out.Sample(static_cast<double>(count), {{"status", status}});
  }
  out.One("labmesh_agents_connected", "Hosts whose agent is connected now",
          static_cast<double>(connected));
  out.Family("labmesh_agent_versions", "Connected agents by agent version");
  for (const auto& [version, count] : versions) {
    out.Sample(static_cast<double>(count), {{"version", version}});
  }
  out.One("labmesh_heartbeat_lag_max_seconds",
          "The longest silence of a connected agent: time since its last message",
          Seconds(max_lag_ms));
  out.One("labmesh_hosts_heartbeat_late",
          "Connected agents silent for more than two heartbeat intervals",
          static_cast<double>(late));
  out.One("labmesh_hosts_reserved",
          "Hosts reserved for one user's jobs now (host reserve, --reserve-on-failure)",
          static_cast<double>(reserved));
}

void QueueGauges(const JobService& jobs, Gauges& out) {
  std::map<std::pair<std::string, std::string>, uint64_t> queued;
  for (const auto& [id, entry] : jobs.entries()) {
    if (entry.status != protocol::EntryStatus::kQueued) continue;
    auto job = jobs.jobs().find(entry.job_id);
    if (job == jobs.jobs().end()) continue;
    std::string label = entry.meta_label.empty() ? kNamedHosts : entry.meta_label;
    ++queued[{label, std::string(protocol::PriorityName(job->second.job.priority))}];
  }
  out.Family("labmesh_queue_entries",
             "Queued host queue entries by the label they wait for (\"(named hosts)\": entries "
             "for a named host) and their job's priority");
  for (const auto& [key, count] : queued) {
    out.Sample(static_cast<double>(count), {{"label", key.first}, {"priority", key.second}});
  }
  out.One("labmesh_jobs_active", "Jobs with an entry that is not final",
          static_cast<double>(jobs.active_jobs()));
}

void StoreGauges(const store::Store& store, const store::ResultsIndex* index, uint64_t max_map,
                 Gauges& out) {
  out.Family("labmesh_store_map_bytes", "Size of an LMDB map (it doubles when full)");
  out.Sample(static_cast<double>(store.map_size_bytes()), {{"db", "store"}});
  if (index != nullptr) out.Sample(static_cast<double>(index->map_size_bytes()), {{"db", "results_index"}});
  out.Family("labmesh_store_used_bytes", "Part of an LMDB map in use (pages up to the highest)");
  out.Sample(static_cast<double>(store.used_bytes()), {{"db", "store"}});
  if (index != nullptr) out.Sample(static_cast<double>(index->used_bytes()), {{"db", "results_index"}});
  out.One("labmesh_store_max_map_bytes",
          "--store-map-size: the store's map never grows past it (then it is full like a disk)",
          static_cast<double>(max_map));
}

// The retention sweeper's totals since the start (docs/retention.md), kept by the sweeper itself.
void RetentionFigures(const RetentionStats& stats, Gauges& out) {
  auto total = [&](const char* name, const char* help, uint64_t value) {
    out.Total(name, help, static_cast<double>(value));
  };
  total("labmesh_retention_sweeps_total", "Retention sweeps run to their end", stats.sweeps);
  total("labmesh_retention_results_removed_total",
        "Jobs whose results were removed (retention policies and job delete)",
        stats.results_removed);
  total("labmesh_retention_dirs_removed_total", "Entry result directories removed",
        stats.dirs_removed);
  total("labmesh_retention_files_removed_total", "Result files removed", stats.files_removed);
  total("labmesh_retention_bytes_removed_total", "Bytes of result files removed",
        stats.bytes_removed);
  total("labmesh_retention_index_rows_removed_total", "Results index records removed",
        stats.index_rows_removed);
  total("labmesh_retention_records_removed_total",
        "Store records removed: jobs and their entries (--job-retention), audit records "
        "(--audit-retention)",
        stats.records_removed());
  total("labmesh_retention_errors_total", "Removals that failed (the next sweep tries again)",
        stats.errors);
  out.One("labmesh_retention_longest_turn_seconds",
          "The longest a loop turn has spent sweeping since the start",
          static_cast<double>(stats.longest_turn_us) / 1e6);
}

}  // namespace

MetricsService::MetricsService(const CoordinatorConfig& config, const Clock* clock,
                               Sources sources)
    : config_(config), clock_(clock), sources_(sources), start_wall_ms_(clock->WallMs()) {}

std::string MetricsService::Handle(const protocol::Envelope& e) const {
  return protocol::Encode(protocol::MetricsReply{Text()}, e.request_id);
}

void MetricsService::NoteRefused(const std::string& from, const Status& why) {
  const int64_t now = clock_->SteadyMs();
  if (refusals_.size() >= kMaxRefusingClients && refusals_.count(from) == 0) refusals_.clear();
  Refusals& client = refusals_[from];
  if (client.next_log_ms != 0 && now < client.next_log_ms) {
    ++client.unlogged;
    return;
  }
  spdlog::info("metrics scrape from {} refused: {}{}", from, why.ToString(),
               client.unlogged == 0
                   ? std::string()
                   : " (" + std::to_string(client.unlogged) + " more refused in the last minute)");
  client.unlogged = 0;
  client.next_log_ms = now + kRefusalLogEveryMs;
}

std::string MetricsService::Text() const {
  std::vector<MetricFamily> families;
  if (sources_.metrics != nullptr) families = sources_.metrics->Collect();
  Gauges gauges;
  gauges.Family("labmesh_build_info", "The coordinator's version (always 1)");
  gauges.Sample(1, {{"version", LABMESH_VERSION}});
  gauges.One("labmesh_start_time_seconds", "When this coordinator started (Unix time)",
             Seconds(start_wall_ms_));
  if (sources_.registry != nullptr) {
    HostGauges(*sources_.registry, *clock_, config_.heartbeat_interval_ms, gauges);
  }
  if (sources_.jobs != nullptr) QueueGauges(*sources_.jobs, gauges);
  if (sources_.store != nullptr) {
    StoreGauges(*sources_.store, sources_.index, config_.store_map_bytes, gauges);
  }
  auto free_bytes = AvailableBytes(config_.data_dir);
  if (free_bytes.ok()) {
    gauges.One("labmesh_data_dir_free_bytes",
               "Free space an unprivileged writer has on the data directory's file system",
               static_cast<double>(*free_bytes));
  }
  gauges.One("labmesh_data_dir_min_free_bytes",
             "--min-free-space: below it new jobs, tests and uploads are refused",
             static_cast<double>(config_.min_free_bytes));
  if (sources_.disk != nullptr) {
    gauges.One("labmesh_disk_full", "1 while new work is refused for want of disk space",
               sources_.disk->full() ? 1 : 0);
  }
  if (sources_.retention != nullptr) RetentionFigures(*sources_.retention, gauges);
  if (sources_.mesh != nullptr) {
    const MeshTracker::Stats& mesh = sources_.mesh->stats();
    gauges.Family("labmesh_mesh_chunk_answers",
                  "Mesh chunk requests of agents since the start, by answer: the coordinator "
                  "served the chunk, named a peer, or said wait (docs/mesh.md)");
    gauges.Sample(static_cast<double>(mesh.direct), {{"answer", "coordinator"}});
    gauges.Sample(static_cast<double>(mesh.peer), {{"answer", "peer"}});
    gauges.Sample(static_cast<double>(mesh.wait), {{"answer", "wait"}});
    gauges.One("labmesh_mesh_bad_peer_reports",
               "Reports of peers that served a corrupt chunk, timed out or refused, since the start",
               static_cast<double>(mesh.bad_reports));
  }
  for (MetricFamily& family : gauges.Take()) families.push_back(std::move(family));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace labmesh::coordinator
