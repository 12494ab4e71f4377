#pragma once
// What the retention sweeper has removed since the coordinator started (docs/retention.md),
// for the logs, the tests and the metrics endpoint: Coordinator::retention_stats() returns a
// copy from any thread.

#include <cstdint>

namespace labmesh::coordinator {

struct RetentionStats {
  uint64_t sweeps = 0;           // sweeps run to their end
  uint64_t results_removed = 0;  // jobs whose results went (policies and `job delete`)
  uint64_t dirs_removed = 0;     // entry (host) directories removed
  uint64_t files_removed = 0;
  uint64_t bytes_removed = 0;
  uint64_t index_rows_removed = 0;  // records removed from the results index
  uint64_t jobs_removed = 0;        // job records removed (--job-retention)
  uint64_t entries_removed = 0;     // their entries
  uint64_t audit_removed = 0;       // audit records removed (--audit-retention)
  uint64_t errors = 0;              // removals that failed (tried again by the next sweep)
  int64_t longest_turn_us = 0;      // the longest a loop turn spent sweeping
  uint64_t records_removed() const { return jobs_removed + entries_removed + audit_removed; }
};

}  // namespace labmesh::coordinator
