#pragma once
// The agent's spool: WORK_DIR/spool/<entry_id>/{entry.mp.0, entry.mp.1, control, results/},
// plus spool/free/<n>, emptied spools of finished entries kept for reuse. The record (entry.mp.*)
// holds the StartEntry and the agent's progress so that a restarted agent knows every entry it held
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
#include "protocol_codec.hpp"  // SpoolRecord embeds StartEntry and FileDigest

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
  // Reboots and crashes (docs/kernel-lab.md). Phase "rebooting": the control asked for a reboot
  // (reboot_timeout_ms); the agent that starts after the boot runs the control again.
  std::string boot_id;            // the machine's boot id when the control last started
  uint32_t boot_count = 0;        // reboots the control asked for that happened
  int64_t reboot_timeout_ms = 0;  // of the reboot asked for (phase "rebooting")
  bool unexpected_reboot = false;  // the machine rebooted under the running control
  bool crash_collected = false;    // crash collection was started (never twice)
  MSGPACK_DEFINE_MAP(start, phase, sequence, report_acked, pgid, started_us, ended_us, exit_code,
                     signal, outcome, reason, files_listed, files, manifest, boot_id, boot_count,
                     reboot_timeout_ms, unexpected_reboot, crash_collected)
};

// Paths of one entry's spool.
struct SpoolPaths {
  std::string dir;  // WORK_DIR/spool/<id>
  std::string record;  // entry.mp: the legacy record file; the records are record + ".0"/".1"
  std::string control;
  std::string results;
  std::string control_log;  // results/debug/control.log
};
SpoolPaths PathsFor(const std::string& spool_dir, uint64_t entry_id);

// The record is kept in two files, `base`.0 and `base`.1, written alternately in place
// (pwrite + ftruncate, no rename): a rename-based rewrite allocates and frees an inode per save,
// which on ext4 slows every file creation on the machine (docs/jobs.md "Performance"). Each
// file holds a header (magic, payload length, save number, entry id, BLAKE2b-256 of header and
// payload) and the MessagePack record. A save overwrites the file with the older save number,
// so a save torn by a crash leaves the other, previous, record intact.
//
// `*saves` is the save number of the newest record on disk (0: none): SaveRecord writes
// number *saves + 1 to file (*saves + 1) % 2 and advances *saves. Not fsync'ed: a crash of the
// machine may lose the latest progress, which the protocol tolerates (reports repeat, uploads
// resume from an older offset), and hundreds of entries a second must not wait for the disk.
Status SaveRecord(const std::string& base, const SpoolRecord& record, uint64_t* saves);

// The newest record of entry `entry_id`: of `base`.0 and `base`.1 the one with the highest save
// number whose checksum matches, that decodes and belongs to `entry_id` (a record of another
// entry, left in a recycled slot, never wins); else the legacy single file `base` (written by
// older agents through tmp + rename). `*saves` (optional) receives the save number found (0 for
// a legacy record), for the next SaveRecord. NotFound when no file exists, Corruption when none
// is usable.
Result<SpoolRecord> LoadRecord(const std::string& base, uint64_t entry_id,
                               uint64_t* saves = nullptr);

// A loaded spool entry and the save number of its record.
struct LoadedRecord {
  SpoolRecord record;
  uint64_t saves = 0;
};

// Every spool/<id> directory with a usable record, by entry id. Unusable ones (and any other
// directory but kFreeDir) are returned in `broken` (their paths) for the caller to log and remove.
std::vector<LoadedRecord> LoadSpool(const std::string& spool_dir,
                                    std::vector<std::string>* broken);

// spool/free/<n>: spool directories of finished entries kept for reuse, so that an entry
// allocates (and later frees) no inode for its directories, control.log and status.log.
inline constexpr const char* kFreeDir = "free";

// Empties the spool directory `dir` of a finished entry for reuse while keeping the inodes it
// will need again: results/debug/ stays, results/debug/control.log, results/status.log, the
// control script and both record files are truncated to 0 (a truncated record file holds no
// record, so the next entry can never load the previous one's); everything else, including a
// legacy entry.mp, is removed. Something of the wrong type where a kept file belongs (e.g. a
// symlink or a directory named status.log) is removed too. An error means the directory may be
// partly cleaned and must not be reused.
Status CleanSpoolForReuse(const std::string& dir);

// Regular files under `results_dir` (symlinks, devices, sockets... skipped), paths relative and
// '/'-separated, sorted, with their sizes.
Result<std::vector<SpoolFile>> ListResultFiles(const std::string& results_dir);


// Reads up to `max` bytes of `path` at `offset` (fewer at the end of the file).
Result<std::vector<char>> ReadChunk(const std::string& path, uint64_t offset, size_t max);

}  // namespace labmesh::agent
