#pragma once
// The agent's spool: WORK_DIR/spool/<entry_id>/{entry.mp, control, results/}. entry.mp holds
// the StartEntry and the agent's progress so that a restarted agent knows every entry it held
// (docs/jobs.md "Agent side of one entry"). Also the results-file helpers the upload needs
// (listing regular files, BLAKE2b-256 hashes). Called by the WorkManager on the agent's event
// loop thread; the functions keep no state and may be used from any thread.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/job_messages.hpp"

namespace labmesh::agent {

// Upload progress of one results file. `acked` is how much the coordinator confirmed holding;
// `done` is set once an acknowledgement covered the whole file (needed for empty files, where
// acked == size == 0 says nothing).
struct SpoolFile {
  std::string path;  // relative to results/, '/'-separated
  uint64_t size = 0;
  uint64_t acked = 0;
  bool done = false;
  MSGPACK_DEFINE_MAP(path, size, acked, done)
};

// What entry.mp holds. The latest EntryReport is rebuilt from it (phase, sequence, outcome...),
// so "resend the latest report" needs nothing else.
struct SpoolRecord {
  protocol::StartEntry start;
  std::string phase;          // "running", "exited", "uploaded"
  uint64_t sequence = 0;      // of the latest report of this entry
  bool report_acked = false;  // the coordinator acknowledged `sequence`
  int32_t pgid = 0;           // the control's process group (its session leader's pid)
  int64_t started_us = 0;
  int64_t ended_us = 0;
  int32_t exit_code = -1;
  int32_t signal = 0;
  std::string outcome;
  std::string reason;
  bool files_listed = false;  // `files` is the final upload list (set once the control ended)
  std::vector<SpoolFile> files;
  std::vector<protocol::FileDigest> manifest;  // phase "uploaded"
  MSGPACK_DEFINE_MAP(start, phase, sequence, report_acked, pgid, started_us, ended_us, exit_code,
                     signal, outcome, reason, files_listed, files, manifest)
};

// Paths of one entry's spool.
struct SpoolPaths {
  std::string dir;  // WORK_DIR/spool/<id>
  std::string record;
  std::string control;
  std::string results;
  std::string control_log;  // results/debug/control.log
};
SpoolPaths PathsFor(const std::string& spool_dir, uint64_t entry_id);

// Writes entry.mp atomically (entry.mp.tmp + rename). Not fsync'ed: a crash of the machine
// may lose the latest progress, which the protocol tolerates (reports repeat, uploads resume
// from an older offset), and hundreds of entries a second must not wait for the disk.
Status SaveRecord(const std::string& path, const SpoolRecord& record);
Result<SpoolRecord> LoadRecord(const std::string& path);

// Every spool/<id> directory with a readable entry.mp, by entry id. Unreadable ones are
// returned in `broken` (their directory paths) for the caller to log and remove.
std::vector<SpoolRecord> LoadSpool(const std::string& spool_dir, std::vector<std::string>* broken);

// Regular files under `results_dir` (symlinks, devices, sockets... skipped), paths relative and
// '/'-separated, sorted, with their sizes.
Result<std::vector<SpoolFile>> ListResultFiles(const std::string& results_dir);

// BLAKE2b-256 (libsodium crypto_generichash, 32 bytes) as lower hex.
std::string HashBytes(std::string_view data);
Result<std::string> HashFile(const std::string& path);

// Reads up to `max` bytes of `path` at `offset` (fewer at the end of the file).
Result<std::vector<char>> ReadChunk(const std::string& path, uint64_t offset, size_t max);

}  // namespace labmesh::agent
