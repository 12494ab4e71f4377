#pragma once
// The pure parts of the `labmesh job` commands, kept apart from flags and sockets so that they
// are tested alone: turning `job create` arguments into a JobCreateRequest (every usage rule of
// CLI.md), and the text `job list/show/wait` print for a job.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "labmesh/common/byte_size.hpp"  // FormatBytes, for the formatters below
#include "labmesh/common/status.hpp"
#include "labmesh/protocol/messages.hpp"

namespace labmesh::cli {

// `job create` as typed; empty strings / zero mean "not given".
struct JobCreateArgs {
  std::string name;
  std::string control_file;  // --control FILE
  std::string command;       // --command CMD
  std::string test;          // --test NAME
  std::vector<std::string> hosts;
  std::string label;
  std::optional<uint32_t> count;
  std::vector<std::string> depends;
  uint32_t synch_count = 1;
  std::string priority = "medium";
  bool run_verify = false;
  std::string timeout;      // duration text, "" = none
  std::string max_runtime;  // duration text, "" = none
  std::string cleanup = "on-failure";  // never, always or on-failure
  uint32_t retry = 0;
  std::string keep_results;  // "forever", a duration ("30d"), "" = the coordinator's policy
  std::vector<std::string> notify;  // --notify email:ADDR / webhook:URL, repeated
  std::string notify_on;            // --notify-on always|failure, "" = the owner's default
  std::vector<uint64_t> after;      // --after ID,ID
  bool after_any = false;           // --after-any
  std::string reserve_on_failure;   // --reserve-on-failure D, "" = not
  std::string user;         // the owner, already resolved (--user, $USER, "unknown")
};

// Reads a control file (path -> text), or InvalidArgument saying why it cannot.
using ControlReader = std::function<Result<std::string>(const std::string& path)>;

// `--keep-results`: "" -> 0 (the coordinator's policy), "forever" -> -1, a duration ("30d",
// "2w", "12h") -> ms; InvalidArgument naming the flag otherwise (zero included).
Result<int64_t> ParseKeepResults(const std::string& text);

// What `job delete` prints: "job 12: results removed (deleted by alice): 3 directories, 41
// files, 12.0 MiB, 130 indexed results", or "job 12: results were already removed (...)".
std::string FormatJobDelete(const protocol::JobDeleteReply& reply);

// "present", "removed 2026-11-02T10:00:00.000Z (retention 90d)": the `results` line of job show.
std::string FormatResultsState(const protocol::JobInfo& job);


// The request `job create` sends, or InvalidArgument with a message for people (a usage error:
// the CLI exits 2 and sends nothing). Rules: a non-empty --name; exactly one of --control,
// --command, --test; --label and --count together or not at all, --count >= 1; at least one of
// --hosts / --label; no empty host or label names; --synch-count >= 1; a known priority
// (case-insensitive, sent canonical); durations as ParseDurationMs reads them and > 0; a known
// cleanup policy (never, always, on-failure; case-insensitive, sent canonical).
// `read_control` is called only for --control, after every other rule passed.
Result<protocol::JobCreateRequest> BuildJobCreateRequest(const JobCreateArgs& args,
                                                         const ControlReader& read_control);

// How many entries of a job are in each state.
struct EntryCounts {
  int completed = 0;
  int failed = 0;
  int aborted = 0;
  int stopped = 0;
  int running = 0;  // started, not final (Starting .. Parsing)
  int queued = 0;   // Queued
  int done() const { return completed + failed + aborted + stopped; }
  int total() const { return done() + running + queued; }
};
// An entry whose status this client does not know counts as running (not final).
EntryCounts CountEntries(const protocol::JobInfo& job);

// True when nothing more will happen to the job: it has entries and all are final, or (no
// entries) its derived status is final (Completed, Failed, Aborted).
bool IsJobFinished(const protocol::JobInfo& job);
// True when every entry Completed (a job without entries: its status is "Completed").
bool JobSucceeded(const protocol::JobInfo& job);

// "job 12: 3 done (2 completed, 1 failed), 1 running, 4 queued"; aborted and stopped entries
// are named in the parentheses only when there are some.
std::string FormatProgress(const protocol::JobInfo& job);
// The line `job wait` ends with: "job 12 Failed: 3 done (2 completed, 1 failed)".
std::string FormatWaitResult(const protocol::JobInfo& job);
// The ENTRIES column of `job list`: "2/3 done".
std::string FormatEntriesColumn(const protocol::JobInfo& job);
// The REASON column of `job show`: "test: exit status 3", "infrastructure: host lost", or the
// bare reason when no fault is recorded.
std::string FormatEntryReason(const protocol::EntryInfo& entry);

// A `job create --cleanup` policy in its canonical spelling (never, always, on-failure;
// case-insensitive), or InvalidArgument "unknown cleanup policy 'X' (never, always, on-failure)".
Result<std::string> ParseCleanupPolicy(const std::string& text);

// `--notify-on`: "" (the owner's default), "always" or "failure" (case-insensitive), canonical;
// InvalidArgument otherwise.
Result<std::string> ParseNotifyOn(const std::string& text);
// A `--notify` target's shape: "email:ADDR" or "webhook:URL" (a bare http(s):// URL is taken as
// a webhook). The coordinator checks the rest; InvalidArgument naming the target otherwise.
Result<std::string> CheckNotifyTarget(const std::string& text);
// One notification of `job show`: "webhook:http://h/hook  delivered 2026-12-06T10:00:01.000Z
// (1 attempt)", "... pending (2 attempts; last error: Couldn't connect to server)", "... failed
// (7 attempts): gave up ...".
std::string FormatNotification(const protocol::NotificationInfo& notification);

// A reservation's length (`host reserve --for`, `job create --reserve-on-failure`): a duration
// as ParseLongDurationMs reads it ("4h", "90m", "2d"), more than 0 and at most 7 days (the
// coordinator's cap, docs/reservations.md); InvalidArgument naming `flag` otherwise.
Result<int64_t> ParseReservationDuration(const std::string& flag, const std::string& text);
// The `reserved` line of `host show` / what `host reserve` prints: "alice until
// 2026-12-06T17:30:00.000Z (in 3h59m): kernel bisect", or "no".
std::string FormatReservation(const protocol::HostInfo& host, int64_t now_ms);

// The RETRIES column of `job show` is printed only when an entry was queued again.
bool AnyEntryRetried(const protocol::JobInfo& job);

// A `job list --status` filter in its canonical spelling (Queued, Running, Completed, Failed,
// Aborted; case-insensitive), or InvalidArgument.
Result<std::string> ParseJobStatusFilter(const std::string& text);

}  // namespace labmesh::cli
