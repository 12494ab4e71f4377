#pragma once
// The store check behind `labmesh-coordinator --check DATA_DIR`: reads a coordinator's data
// directory (the LMDB store, the results index and the results files) without changing anything
// and lists every broken invariant it finds. docs/chaos.md lists the checks.
//
// Read-only: both LMDB environments are opened with MDB_RDONLY (LMDB still takes a reader slot
// in lock.mdb), so the check may run beside a live coordinator; it sees the last commit, and a
// coordinator committing meanwhile may make it see a file that is newer than the store (an
// upload in progress is no problem: only entries the store says are uploaded are checked).
// No directory lock is needed or taken. Called from main() only; not thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "labmesh/common/status.hpp"

namespace labmesh::coordinator {

struct StoreCheckReport {
  // One line per broken invariant, e.g. "entry 12 (job 3): status Running but history ends
  // in Queued". Empty when the store is consistent.
  std::vector<std::string> problems;
  uint64_t jobs = 0, entries = 0, hosts = 0, tasks = 0;
  uint64_t indexed_entries = 0, results = 0;  // in the results index
  uint64_t result_dirs = 0;                   // entry directories under DATA_DIR/results

  bool clean() const { return problems.empty(); }
  // "clean: 40 jobs, 52 entries, 4 hosts, 3 tasks, 48 indexed entries, 96 results,
  // 52 result directories" (or "N problems: ..." with the same counts).
  std::string Summary() const;
};

// Checks the data directory `data_dir` (the coordinator's --data-dir). An error Status only
// when it cannot be read at all (no store there, a newer schema, a damaged file); everything
// that is merely inconsistent is a problem in the report.
// `store`: the coordinator's --store when it is not DATA_DIR/db (a PostgreSQL database).
Result<StoreCheckReport> CheckDataDir(const std::string& data_dir, const std::string& store = "");

}  // namespace labmesh::coordinator
