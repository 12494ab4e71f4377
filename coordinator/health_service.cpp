#include "health_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <unordered_map>

#include "audit_log.hpp"
#include "core.hpp"
#include "host_registry.hpp"
#include "labels.hpp"
#include "labmesh/protocol/envelope.hpp"
#include "labmesh/protocol/messages.hpp"
#include "labmesh/store/results_index.hpp"
#include "labmesh/store/store.hpp"
#include "lifecycle_rules.hpp"

namespace labmesh::coordinator {
namespace {

using protocol::EntryStatus;
using protocol::HostStatus;

constexpr int64_t kProbeCheckMs = 1'000;
constexpr size_t kMaxReasonBytes = 256;
// Records one (test, host) pair's flip check reads at most (newest first).
constexpr uint32_t kMaxFlipRecords = 5'000;

bool Final(EntryStatus status) {
  return status == EntryStatus::kCompleted || status == EntryStatus::kFailed ||
         status == EntryStatus::kAborted || status == EntryStatus::kStopped;
}

TestRuns RunsOf(const std::string& test, const std::string& host,
                const store::StatusCounts& counts, int64_t last_us) {
  using store::ResultStatus;
  TestRuns runs;
  runs.test = test;
  runs.host = host;
  runs.runs = counts.total() - counts[ResultStatus::kTestNa];
  runs.failed = counts[ResultStatus::kFail] + counts[ResultStatus::kError];
  runs.passed = counts[ResultStatus::kGood];
  runs.last_us = last_us;
  return runs;
}

// Pages through the records `filter` matches, newest first, at most `max` of them.
Status ForEachRecord(const store::ResultsIndex& index, store::ResultFilter filter, uint32_t max,
                     const std::function<void(const store::ResultRecord&)>& fn) {
  uint32_t seen = 0;
  filter.limit = store::kMaxQueryLimit;
  for (;;) {
    auto page = index.Query(filter);
    if (!page.ok()) return page.status();
    for (const store::ResultRecord& r : page->records) {
      fn(r);
      if (++seen >= max) return Status::Ok();
    }
    if (page->next_cursor.empty()) return Status::Ok();
    filter.cursor = page->next_cursor;
  }
}

}  // namespace

HealthService::HealthService(const CoordinatorConfig& config, const Clock* clock,
                             store::Store* store, store::ResultsIndex* index,
                             HostRegistry* registry, Core* core, AuditLog* audit)
    : config_(config),
      clock_(clock),
      store_(store),
      index_(index),
      registry_(registry),
      core_(core),
      audit_(audit),
      view_(std::make_shared<HealthView>()) {}

HealthService::~HealthService() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

Status HealthService::Start() {
  LABMESH_RETURN_IF_ERROR(ValidateQuarantineMode(config_.quarantine_mode));
  for (const auto& [name, host] : registry_->hosts()) {
    if (host.record.quarantined_ms != 0) quarantined_.insert(name);
  }
  next_compute_ms_ = clock_->SteadyMs();
  next_probe_check_ms_ = next_compute_ms_;
  worker_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void HealthService::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || request_.has_value(); });
    if (stopping_) return;
    auto [now_ms, hosts] = std::move(*request_);
    request_.reset();
    lock.unlock();
    Computed computed = Compute(config_, *store_, *index_, std::move(hosts), now_ms);
    lock.lock();
    done_ = std::move(computed);
  }
}

HealthService::Computed HealthService::Compute(const CoordinatorConfig& config,
                                               const store::Store& store,
                                               const store::ResultsIndex& index,
                                               std::vector<HostInput> hosts, int64_t now_ms) {
  const auto begin = std::chrono::steady_clock::now();
  Computed out;
  out.requested_ms = now_ms;
  const int64_t window_start_us = (now_ms - config.health_window_ms) * 1000;
  HealthInput input;
  input.threshold = config.quarantine_threshold;
  // Hosts counted afresh since a release: their results are read record by record (summaries
  // are whole hours, which would count the hour before the release again).
  std::unordered_map<std::string, int64_t> fresh_since_us;
  for (HostInput& host : hosts) {
    const int64_t since_us = std::max(window_start_us, host.since_ms * 1000);
    if (host.since_ms * 1000 > window_start_us) fresh_since_us[host.hostname] = since_us;
    HostHistory history;
    history.hostname = host.hostname;
    history.labels = std::move(host.labels);
    history.status = std::move(host.status);
    history.quarantine_reason = std::move(host.quarantine_reason);
    history.quarantined_ms = host.quarantined_ms;
    auto entries = store.ListHostEntries(history.hostname, config.health_entries);
    if (!entries.ok()) {
      out.status = entries.status();
      return out;
    }
    for (store::Entry& entry : *entries) {
      if (Final(entry.status) && entry.finished_us >= since_us) {
        history.entries.push_back(std::move(entry));
      }
    }
    auto tasks = store.ListHostTasks(history.hostname, config.health_entries);
    if (!tasks.ok()) {
      out.status = tasks.status();
      return out;
    }
    for (store::SpecialTask& task : *tasks) {
      if (task.finished_ms != 0 && task.finished_ms * 1000 >= since_us) {
        history.tasks.push_back(std::move(task));
      }
    }
    input.hosts.push_back(std::move(history));
  }

  // Every (test, host) of the window from the hourly summaries.
  store::SummaryFilter filter;
  filter.group_by = store::SummaryGroup::kHost;
  filter.since_us = window_start_us;
  auto rows = index.Summary(filter);
  if (!rows.ok()) {
    out.status = rows.status();
    return out;
  }
  for (const store::SummaryRow& row : *rows) {
    if (fresh_since_us.count(row.group) > 0) continue;
    input.runs.push_back(RunsOf(row.test, row.group, row.counts, row.last_us));
  }
  for (const auto& [host, since_us] : fresh_since_us) {
    std::map<std::string, std::pair<store::StatusCounts, int64_t>> per_test;
    store::ResultFilter records;
    records.host = host;
    records.since_us = since_us;
    Status read = ForEachRecord(index, records, 100'000, [&](const store::ResultRecord& r) {
      auto status = store::ParseResultStatus(r.status);
      if (!status) return;
      auto& [counts, last] = per_test[r.test];
      ++counts[*status];
      last = std::max(last, r.start_us);
    });
    if (!read.ok()) {
      out.status = read;
      return out;
    }
    for (const auto& [test, counted] : per_test) {
      input.runs.push_back(RunsOf(test, host, counted.first, counted.second));
    }
  }

  // Flaky tests: where a host both passed and failed a test, look at the builds.
  std::unordered_map<uint64_t, std::string> job_names;
  for (const TestRuns& runs : input.runs) {
    if (runs.passed == 0 || runs.failed == 0) continue;
    store::ResultFilter records;
    records.test = runs.test;
    records.host = runs.host;
    auto fresh = fresh_since_us.find(runs.host);
    records.since_us = fresh != fresh_since_us.end() ? fresh->second : window_start_us;
    std::map<std::string, std::pair<bool, bool>> builds;  // build -> passed, failed
    Status read = ForEachRecord(index, records, kMaxFlipRecords, [&](const store::ResultRecord& r) {
      bool failed = IsFailedResult(r.status);
      if (!failed && r.status != "GOOD") return;
      std::string build;
      auto key = config.flaky_build_key.empty() ? r.keyvals.end()
                                                : r.keyvals.find(config.flaky_build_key);
      if (key != r.keyvals.end()) {
        build = key->second;
      } else {
        auto name = job_names.find(r.job_id);
        if (name == job_names.end()) {
          auto job = store.GetJob(r.job_id);
          std::string found = job.ok() && job->has_value() ? (*job)->name : "";
          name = job_names.emplace(r.job_id, found.empty() ? "job " + std::to_string(r.job_id)
                                                           : found).first;
        }
        build = name->second;
      }
      auto& [p, f] = builds[build];
      (failed ? f : p) = true;
    });
    if (!read.ok()) {
      out.status = read;
      return out;
    }
    for (const auto& [build, seen] : builds) {
      if (seen.first && seen.second) {
        input.flips.push_back({runs.test, runs.host, build});
        break;
      }
    }
  }

  out.scores = ScoreHosts(input);
  out.compute_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                            begin)
          .count());
  return out;
}

std::vector<HealthService::HostInput> HealthService::Inputs() const {
  std::vector<HostInput> hosts;
  hosts.reserve(registry_->hosts().size());
  for (const auto& [name, state] : registry_->hosts()) {
    const store::Host* h = registry_->Staged(name);
    if (h == nullptr || h->enrollment != store::Enrollment::kAccepted) continue;
    HostInput in;
    in.hostname = name;
    in.labels = EffectiveLabels(h->agent_labels, h->admin_labels);
    in.status = std::string(protocol::HostStatusName(h->status));
    in.quarantine_reason = h->quarantine_reason;
    in.quarantined_ms = h->quarantined_ms;
    in.since_ms = h->health_since_ms;
    hosts.push_back(std::move(in));
  }
  return hosts;
}

void HealthService::ComputeNow() {
  Apply(Compute(config_, *store_, *index_, Inputs(), clock_->WallMs()));
}

void HealthService::Request(int64_t now_ms) {
  {
    std::lock_guard lock(mu_);
    request_.emplace(now_ms, Inputs());
  }
  in_flight_ = true;
  wake_.notify_one();
}

void HealthService::Step() {
  const int64_t now = clock_->SteadyMs();
  std::optional<Computed> done;
  {
    std::lock_guard lock(mu_);
    done.swap(done_);
  }
  if (done) {
    in_flight_ = false;
    Apply(std::move(*done));
  }
  if (!in_flight_ && now >= next_compute_ms_) {
    Request(clock_->WallMs());
    next_compute_ms_ = now + std::max<int64_t>(config_.health_interval_ms, 100);
  }
  if (now >= next_probe_check_ms_) {
    next_probe_check_ms_ = now + kProbeCheckMs;
    StartProbes();
  }
}

void HealthService::Apply(Computed computed) {
  if (!computed.status.ok()) {
    spdlog::warn("health scores not computed: {}", computed.status.ToString());
    return;
  }
  auto view = std::make_shared<HealthView>();
  for (const protocol::HostHealthInfo& host : computed.scores.hosts) {
    view->hosts[host.hostname] = {host.score, host.suspect};
  }
  for (const protocol::FlakyTestInfo& test : computed.scores.flaky) {
    view->flaky_tests.insert(test.test);
  }
  view_ = view;
  registry_->set_health(view);
  spdlog::debug("health scores of {} hosts computed in {} ms", computed.scores.hosts.size(),
                computed.compute_ms);

  const int64_t now = clock_->WallMs();
  for (const protocol::HostHealthInfo& info : computed.scores.hosts) {
    const store::Host* h = registry_->Staged(info.hostname);
    if (h == nullptr || config_.quarantine_mode == "off") continue;
    // Released (or quarantined by hand) since these scores were asked for: they are stale.
    if (h->health_since_ms > computed.requested_ms || h->quarantined_ms != 0) continue;
    if (!info.suspect) {
      if (h->suspect_ms != 0) registry_->Stage(info.hostname)->suspect_ms = 0;
      continue;
    }
    std::string reason = QuarantineReason(info, config_.quarantine_threshold);
    if (config_.quarantine_mode == "auto") {
      Quarantine(info.hostname, reason, kCoordinatorUser);
    } else if (h->suspect_ms == 0) {
      registry_->Stage(info.hostname)->suspect_ms = now;
      spdlog::warn("host={} suspect: {}", info.hostname, reason);
      if (audit_ != nullptr) audit_->Record("HostSuspect", info.hostname + ": " + reason);
    }
  }
  latest_ = std::move(computed);
}

void HealthService::Quarantine(const std::string& hostname, const std::string& reason,
                               const std::string& by) {
  store::Host* h = registry_->Stage(hostname);
  if (h == nullptr) return;
  const int64_t now = clock_->WallMs();
  h->quarantine_reason = reason;
  h->quarantined_by = by;
  h->quarantined_ms = now;
  h->probes_passed = 0;
  h->probe_job_id = 0;
  h->probes_stopped = false;
  if (h->suspect_ms == 0) h->suspect_ms = now;
  const protocol::Protection protection = h->protection;
  if (h->status == HostStatus::kReady) {
    (void)registry_->Transition(hostname, HostStatus::kQuarantined, "quarantined: " + reason);
  }
  quarantined_.insert(hostname);
  spdlog::warn("host={} quarantined by {}: {}", hostname, by, reason);
  if (by == kCoordinatorUser && audit_ != nullptr) {
    audit_->Record("HostQuarantine", hostname + ": " + reason);
  }
  // Mend it before it is probed: a Repair (with its verify), or a Verify where repairs are
  // not allowed (TaskOnReturn: the same choice as for a host that was lost).
  HostTasks& tasks = core_->tasks();
  if (auto kind = TaskOnReturn(protection); kind && !tasks.HasOpenTask(hostname)) {
    tasks.QueueTask(hostname, *kind, "quarantined: " + reason, by);
  }
}

void HealthService::Release(const std::string& hostname, const std::string& why) {
  store::Host* h = registry_->Stage(hostname);
  if (h == nullptr) return;
  h->quarantine_reason.clear();
  h->quarantined_by.clear();
  h->quarantined_ms = 0;
  h->probes_passed = 0;
  h->probe_job_id = 0;
  h->probes_stopped = false;
  h->suspect_ms = 0;
  h->health_since_ms = clock_->WallMs();  // its score starts afresh
  if (h->status == HostStatus::kQuarantined) {
    (void)registry_->Transition(hostname, HostStatus::kReady, "released from quarantine: " + why);
  }
  quarantined_.erase(hostname);
  spdlog::info("host={} released from quarantine: {}", hostname, why);
  core_->RequestSchedule();
}

void HealthService::StartProbes() {
  if (config_.quarantine_probe_template.empty() || config_.quarantine_probes == 0) return;
  for (auto it = quarantined_.begin(); it != quarantined_.end();) {
    const std::string name = *it;
    const store::Host* h = registry_->Staged(name);
    if (h == nullptr || h->quarantined_ms == 0) {
      it = quarantined_.erase(it);
      continue;
    }
    ++it;
    const HostState* state = registry_->Find(name);
    if (h->probes_stopped || h->probe_job_id != 0 || h->status != HostStatus::kQuarantined ||
        state == nullptr || state->routing_id.empty() || core_->tasks().HasOpenTask(name)) {
      continue;
    }
    auto found = store_->GetTemplate(config_.quarantine_probe_template);
    if (found.ok() && !found->has_value()) {
      // Not made yet: the probes wait for it (an admin may create it after the quarantine).
      spdlog::debug("host={} waits for probe template {}", name, config_.quarantine_probe_template);
      continue;
    }
    Status made = found.ok() ? Status::Ok() : found.status();
    uint64_t job_id = 0;
    if (made.ok()) {
      protocol::JobCreateRequest request = (*found)->job;
      request.user = (*found)->owner;
      request.template_name = config_.quarantine_probe_template;
      request.name = "probe " + std::to_string(h->probes_passed + 1) + " of " + name;
      request.hosts = {name};
      request.meta_label.clear();
      request.meta_count = 0;
      request.synch_count = 1;
      request.after.clear();
      auto id = core_->jobs().CreateJob(std::move(request), "", name);
      if (id.ok()) {
        job_id = *id;
      } else {
        made = id.status();
      }
    }
    store::Host* staged = registry_->Stage(name);
    if (!made.ok()) {
      staged->probes_stopped = true;
      spdlog::warn("host={} no probe job: {}", name, made.ToString());
      if (audit_ != nullptr) audit_->Record("QuarantineProbe", name + ": no probe job: " + made.message());
      continue;
    }
    staged->probe_job_id = job_id;
    spdlog::info("host={} probe job {} created", name, job_id);
  }
}

void HealthService::OnJobEnd(const store::Job& job, const std::vector<store::Entry>& entries) {
  if (job.probe_for.empty()) return;
  const store::Host* h = registry_->Staged(job.probe_for);
  if (h == nullptr || h->quarantined_ms == 0 || h->probe_job_id != job.id) return;
  const bool passed = !entries.empty() && std::all_of(entries.begin(), entries.end(), [](const auto& e) {
    return e.status == EntryStatus::kCompleted;
  });
  store::Host* staged = registry_->Stage(job.probe_for);
  staged->probe_job_id = 0;
  if (!passed) {
    staged->probes_passed = 0;
    staged->probes_stopped = true;
    spdlog::warn("host={} probe job {} failed: it stays quarantined until an admin releases it",
                 job.probe_for, job.id);
    if (audit_ != nullptr) {
      audit_->Record("QuarantineProbe", job.probe_for + ": probe job " + std::to_string(job.id) +
                                            " failed; waiting for an admin");
    }
    return;
  }
  ++staged->probes_passed;
  if (staged->probes_passed < config_.quarantine_probes) return;
  std::string why = std::to_string(staged->probes_passed) + " probe jobs passed";
  Release(job.probe_for, why);
  if (audit_ != nullptr) audit_->Record("HostQuarantineRelease", job.probe_for + ": " + why);
}

std::string HealthService::HandleFlaky(const protocol::Envelope& e) const {
  auto req = protocol::DecodeBody<protocol::HostFlakyRequest>(e);
  if (!req.ok()) return protocol::ErrorFrame(e.request_id, req.status());
  protocol::HostFlakyReply reply;
  reply.window_ms = config_.health_window_ms;
  reply.window_entries = config_.health_entries;
  reply.mode = config_.quarantine_mode;
  reply.threshold = config_.quarantine_threshold;
  if (latest_) {
    reply.computed_ms = latest_->requested_ms;
    reply.compute_ms = latest_->compute_ms;
    for (const protocol::HostHealthInfo& host : latest_->scores.hosts) {
      if (!req->host.empty() && host.hostname != req->host) continue;
      if (!req->label.empty() &&
          !std::binary_search(host.labels.begin(), host.labels.end(), req->label)) {
        continue;
      }
      protocol::HostHealthInfo shown = host;
      if (const store::Host* now = registry_->Staged(host.hostname)) {  // as it is now
        shown.status = std::string(protocol::HostStatusName(now->status));
        shown.quarantine_reason = now->quarantine_reason;
        shown.quarantined_ms = now->quarantined_ms;
      }
      reply.hosts.push_back(std::move(shown));
      if (req->limit > 0 && reply.hosts.size() >= req->limit) break;
    }
    reply.flaky_tests = latest_->scores.flaky;
  }
  if (!req->host.empty() && registry_->Staged(req->host) == nullptr) {
    return protocol::ErrorFrame(e.request_id, Status::NotFound("host " + req->host + " not found"));
  }
  return protocol::Encode(reply, e.request_id);
}

std::string HealthService::HandleQuarantine(const protocol::Envelope& e, const Principal& who) {
  auto req = protocol::DecodeBody<protocol::HostQuarantineRequest>(e);
  if (!req.ok()) return protocol::ErrorFrame(e.request_id, req.status());
  if (req->reason.size() > kMaxReasonBytes) {
    return protocol::ErrorFrame(
        e.request_id, Status::InvalidArgument("--reason: at most 256 bytes"));
  }
  HostState* state = registry_->Find(req->hostname);
  const store::Host* h = registry_->Staged(req->hostname);
  if (state == nullptr || h == nullptr) {
    return protocol::ErrorFrame(e.request_id,
                                Status::NotFound("host " + req->hostname + " not found"));
  }
  if (req->release) {
    if (h->quarantined_ms == 0) {
      return protocol::ErrorFrame(e.request_id, Status::FailedPrecondition(
                                                    "host " + req->hostname + " is not quarantined"));
    }
    Release(req->hostname, "by " + who.user + (req->reason.empty() ? "" : ": " + req->reason));
  } else {
    if (h->quarantined_ms != 0) {
      return protocol::ErrorFrame(
          e.request_id, Status::AlreadyExists("host " + req->hostname + " is already quarantined: " +
                                              h->quarantine_reason));
    }
    Quarantine(req->hostname, req->reason.empty() ? "by " + who.user : req->reason, who.user);
  }
  return protocol::Encode(
      protocol::HostShowReply{registry_->ToInfo(*state, *registry_->Staged(req->hostname)), {}},
      e.request_id);
}

}  // namespace labmesh::coordinator
