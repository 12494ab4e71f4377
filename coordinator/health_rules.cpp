#include "health_rules.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <unordered_map>

namespace labmesh::coordinator {
namespace {

using protocol::EntryStatus;
using protocol::HealthEvidenceInfo;
using protocol::TaskKind;
using protocol::TaskStatus;

std::string LabelKey(const std::vector<std::string>& labels) {
  std::string key;
  for (const std::string& label : labels) {
    key += label;
    key += '\n';
  }
  return key;
}

std::string Score(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", value);
  return text;
}

void EntryEvidence(const store::Entry& entry, const HealthWeights& w,
                   std::vector<HealthEvidenceInfo>& out) {
  HealthEvidenceInfo e;
  e.job_id = entry.job_id;
  e.entry_id = entry.id;
  e.time_us = entry.finished_us;
  if (entry.crash) {
    e.kind = "crash";
    e.weight = w.crash;
    e.detail = "job " + std::to_string(entry.job_id) + ": " +
               (entry.crash_line.empty() ? entry.status_reason : entry.crash_line);
  } else if (entry.status == EntryStatus::kFailed && entry.fault == "infrastructure") {
    e.kind = "infrastructure";
    e.weight = w.infrastructure;
    e.detail = "job " + std::to_string(entry.job_id) + ": " + entry.status_reason;
  } else {
    return;
  }
  out.push_back(std::move(e));
}

void TaskEvidence(const store::SpecialTask& task, const HealthWeights& w,
                  std::vector<HealthEvidenceInfo>& out) {
  if (task.status != TaskStatus::kFailed) return;
  HealthEvidenceInfo e;
  switch (task.kind) {
    case TaskKind::kVerify:
      e.kind = "verify";
      e.weight = w.verify;
      break;
    case TaskKind::kRepair:
      e.kind = "repair";
      e.weight = w.repair;
      break;
    case TaskKind::kCleanup:
      e.kind = "cleanup";
      e.weight = w.cleanup;
      break;
    case TaskKind::kUpdate:  // a package's fault, not the host's
    case TaskKind::kPower:   // the BMC's or the PDU's; a host that needed one shows as a crash
      return;
  }
  e.task_id = task.id;
  e.job_id = task.job_id;
  e.entry_id = task.entry_id;
  e.time_us = task.finished_ms * 1000;
  e.detail = std::string(protocol::TaskKindName(task.kind)) + " " + std::to_string(task.id) +
             " failed: " + task.reason;
  out.push_back(std::move(e));
}

}  // namespace

bool IsFailedResult(std::string_view status) { return status == "FAIL" || status == "ERROR"; }

HealthScores ScoreHosts(const HealthInput& input) {
  const HealthWeights& w = input.weights;
  // Hosts by name, and by label set (peers).
  std::unordered_map<std::string, const HostHistory*> by_name;
  std::unordered_map<std::string, std::string> label_key;
  for (const HostHistory& host : input.hosts) {
    by_name[host.hostname] = &host;
    label_key[host.hostname] = LabelKey(host.labels);
  }
  // test -> its runs per host.
  std::map<std::string, std::vector<const TestRuns*>> by_test;
  for (const TestRuns& runs : input.runs) {
    if (by_name.count(runs.host) > 0) by_test[runs.test].push_back(&runs);
  }

  std::unordered_map<std::string, std::vector<HealthEvidenceInfo>> evidence;
  std::unordered_map<std::string, uint64_t> results;
  for (const auto& [test, hosts] : by_test) {
    for (const TestRuns* here : hosts) {
      results[here->host] += here->runs;
      if (here->failed < w.min_lone_failures ||
          static_cast<double>(here->failed) < w.min_lone_rate * static_cast<double>(here->runs)) {
        continue;
      }
      const std::string& key = label_key[here->host];
      HealthEvidenceInfo e;
      std::vector<std::string> passed;
      for (const TestRuns* peer : hosts) {
        if (peer == here || peer->runs == 0 || label_key[peer->host] != key) continue;
        ++e.peer_hosts;
        e.peer_runs += peer->runs;
        e.peer_failed += peer->failed;
        if (peer->passed > 0) passed.push_back(peer->host);
      }
      if (e.peer_runs < w.min_peer_runs ||
          static_cast<double>(e.peer_failed) > w.max_peer_fail_rate * static_cast<double>(e.peer_runs)) {
        continue;  // no peers to compare with, or it fails there too: not this host's doing
      }
      std::sort(passed.begin(), passed.end());
      if (passed.size() > 5) passed.resize(5);
      e.kind = "lone-failure";
      e.test = test;
      e.failed = here->failed;
      e.runs = here->runs;
      e.time_us = here->last_us;
      e.weight = w.lone_failure * static_cast<double>(std::min<uint64_t>(here->failed, w.lone_cap));
      e.peers_passed = std::move(passed);
      e.detail = test + " failed " + std::to_string(here->failed) + " of " +
                 std::to_string(here->runs) + " here; " + std::to_string(e.peer_failed) + " of " +
                 std::to_string(e.peer_runs) + " failed on " + std::to_string(e.peer_hosts) +
                 " peer(s)";
      evidence[here->host].push_back(std::move(e));
    }
  }

  HealthScores scores;
  for (const HostHistory& host : input.hosts) {
    protocol::HostHealthInfo info;
    info.hostname = host.hostname;
    info.status = host.status;
    info.labels = host.labels;
    info.quarantine_reason = host.quarantine_reason;
    info.quarantined_ms = host.quarantined_ms;
    info.entries = host.entries.size();
    info.results = results[host.hostname];
    std::vector<HealthEvidenceInfo>& found = evidence[host.hostname];
    for (const store::Entry& entry : host.entries) EntryEvidence(entry, w, found);
    for (const store::SpecialTask& task : host.tasks) TaskEvidence(task, w, found);
    for (const HealthEvidenceInfo& e : found) info.score += e.weight;
    info.suspect = info.score >= input.threshold && input.threshold > 0;
    std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
      return a.weight != b.weight ? a.weight > b.weight : a.time_us > b.time_us;
    });
    if (found.size() > kMaxEvidence) found.resize(kMaxEvidence);
    info.evidence = std::move(found);
    scores.hosts.push_back(std::move(info));
  }
  std::sort(scores.hosts.begin(), scores.hosts.end(), [](const auto& a, const auto& b) {
    return a.score != b.score ? a.score > b.score : a.hostname < b.hostname;
  });

  // Flaky tests: one entry per test, the hosts it flipped on.
  std::map<std::string, protocol::FlakyTestInfo> flaky;
  std::map<std::string, std::set<std::string>> flaky_hosts;
  for (const BuildFlip& flip : input.flips) {
    protocol::FlakyTestInfo& info = flaky[flip.test];
    if (info.test.empty()) {
      info.test = flip.test;
      info.build = flip.build;
    }
    flaky_hosts[flip.test].insert(flip.host);
  }
  for (auto& [test, info] : flaky) {
    for (const std::string& host : flaky_hosts[test]) {
      if (info.hosts.size() >= kMaxFlakyHosts) break;
      info.hosts.push_back(host);
    }
    auto runs = by_test.find(test);
    if (runs != by_test.end()) {
      for (const TestRuns* r : runs->second) {
        info.passed += r->passed;
        info.failed += r->failed;
      }
    }
    scores.flaky.push_back(std::move(info));
  }
  return scores;
}

std::string QuarantineReason(const protocol::HostHealthInfo& host, double threshold) {
  std::string reason = "health score " + Score(host.score) + " >= " + Score(threshold);
  size_t shown = 0;
  for (const HealthEvidenceInfo& e : host.evidence) {
    if (shown == 3) break;
    reason += shown == 0 ? ": " : "; ";
    reason += e.detail;
    ++shown;
  }
  if (host.evidence.size() > shown) {
    reason += " (+" + std::to_string(host.evidence.size() - shown) + " more)";
  }
  if (reason.size() > 1024) reason.resize(1024);
  return reason;
}

Status ValidateQuarantineMode(std::string_view mode) {
  if (mode == "off" || mode == "suggest" || mode == "auto") return Status::Ok();
  return Status::InvalidArgument("--quarantine " + std::string(mode) +
                                 ": expected off, suggest or auto");
}

}  // namespace labmesh::coordinator
