#include "retention_rules.hpp"

#include <algorithm>

#include "labmesh/common/duration.hpp"

namespace labmesh::coordinator {

namespace {

constexpr int64_t kDayMs = 86'400'000;

bool Expired(int64_t finished_us, int64_t age_ms, int64_t now_us) {
  return age_ms > 0 && finished_us > 0 && finished_us <= now_us - age_ms * 1000;
}

}  // namespace

std::string AgeText(int64_t ms) {
  if (ms > 0 && ms % kDayMs == 0) return std::to_string(ms / kDayMs) + "d";
  if (ms > 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms > 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms > 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return FormatDurationMs(ms);
}

std::string ResultsExpiry(const store::Job& job, const RetentionPolicy& policy, int64_t now_us) {
  if (job.finished_us == 0 || job.results_state != store::ResultsState::kPresent) return "";
  if (job.keep_results_ms == store::kKeepForever) return "";
  if (job.keep_results_ms > 0) {
    return Expired(job.finished_us, job.keep_results_ms, now_us)
               ? "--keep-results " + AgeText(job.keep_results_ms)
               : "";
  }
  return Expired(job.finished_us, policy.results_retention_ms, now_us)
             ? "retention " + AgeText(policy.results_retention_ms)
             : "";
}

std::string RecordExpiry(const store::Job& job, const RetentionPolicy& policy, int64_t now_us) {
  if (job.finished_us == 0 || !Expired(job.finished_us, policy.job_retention_ms, now_us)) {
    return "";
  }
  if (job.keep_results_ms == store::kKeepForever) return "";
  if (job.keep_results_ms > 0 && !Expired(job.finished_us, job.keep_results_ms, now_us)) {
    return "";
  }
  return "job retention " + AgeText(policy.job_retention_ms);
}

bool CapMayRemove(const store::Job& job) {
  return job.finished_us != 0 && job.results_state == store::ResultsState::kPresent &&
         job.keep_results_ms != store::kKeepForever;
}

std::vector<uint64_t> OverCap(std::vector<SizedJob> candidates, uint64_t total_bytes,
                              uint64_t max_bytes) {
  std::vector<uint64_t> out;
  if (max_bytes == 0 || total_bytes <= max_bytes) return out;
  std::sort(candidates.begin(), candidates.end(), [](const SizedJob& a, const SizedJob& b) {
    return a.finished_us != b.finished_us ? a.finished_us < b.finished_us : a.id < b.id;
  });
  for (const SizedJob& job : candidates) {
    if (total_bytes <= max_bytes) break;
    out.push_back(job.id);
    total_bytes -= std::min(total_bytes, job.bytes);
  }
  return out;
}

}  // namespace labmesh::coordinator
