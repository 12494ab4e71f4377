#pragma once
// What the retention policies remove (docs/retention.md), as pure functions of a job record,
// the policy and the time: the sweeper (retention.cpp) asks them, and tests ask them alone.
//
// - A finished job's results expire `keep_results_ms` after it finished when the job set one,
//   else `results_retention_ms` after (0 = never); `--keep-results forever` never expires.
// - Its record (entries, index rows and results with it) expires `job_retention_ms` after it
//   finished (0 = never), but not while its own --keep-results keeps its results: a record is
//   what its results hang on (job show, the results tree's owner).
// - Over `results_max_bytes`, results go oldest finished first, except those kept forever:
//   a job kept forever is one somebody chose to keep, and the cap is a disk budget, not a
//   reason to undo that choice. A job with a --keep-results duration is not exempt.

#include <cstdint>
#include <string>
#include <vector>

#include "labmesh/store/store.hpp"

namespace labmesh::coordinator {

struct RetentionPolicy {
  int64_t results_retention_ms = 0;  // 0 = forever
  uint64_t results_max_bytes = 0;    // 0 = no cap
  int64_t audit_retention_ms = 0;    // 0 = forever
  int64_t job_retention_ms = 0;      // 0 = forever

  bool any() const {
    return results_retention_ms > 0 || results_max_bytes > 0 || audit_retention_ms > 0 ||
           job_retention_ms > 0;
  }
};

// Why the job's results expired at `now_us` ("retention 90d", "--keep-results 30d"), or "" when
// they did not (or the job is not finished, or its results are not present).
std::string ResultsExpiry(const store::Job& job, const RetentionPolicy& policy, int64_t now_us);

// Why the job's record expired ("job retention 1y"), or "".
std::string RecordExpiry(const store::Job& job, const RetentionPolicy& policy, int64_t now_us);

// Whether the byte cap may remove the job's results: finished, present, not kept forever.
bool CapMayRemove(const store::Job& job);

struct SizedJob {
  uint64_t id = 0;
  int64_t finished_us = 0;
  uint64_t bytes = 0;
};

// Which of `candidates` (any order) go, oldest finished first (ties: lower id), so that
// `total_bytes` falls to `max_bytes` or below; all of them when that is not enough. Empty when
// there is no cap or the total is within it.
std::vector<uint64_t> OverCap(std::vector<SizedJob> candidates, uint64_t total_bytes,
                              uint64_t max_bytes);

// "90d", "36h", "45m": a retention age for reasons and logs.
std::string AgeText(int64_t ms);

}  // namespace labmesh::coordinator
