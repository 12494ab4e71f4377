#include "labmesh/cli/job_logic.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <iterator>

#include "labmesh/cli/cli_util.hpp"
#include "labmesh/common/duration.hpp"
#include "labmesh/protocol/json.hpp"
#include "labmesh/protocol/types.hpp"

namespace labmesh::cli {
namespace {

constexpr std::array<const char*, 3> kCleanupPolicies = {"never", "always", "on-failure"};

constexpr std::array<const char*, 6> kJobStatuses = {"Waiting", "Queued", "Running", "Completed", "Failed",
                                                     "Aborted"};

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// A duration flag's value in ms; 0 when not given.
Result<int64_t> OptionalDuration(const std::string& flag, const std::string& text) {
  if (text.empty()) return int64_t{0};
  Result<int64_t> ms = ParseDurationMs(text);
  if (!ms.ok()) return Status::InvalidArgument(flag + ": " + ms.status().message());
  if (*ms <= 0) return Status::InvalidArgument(flag + " must be longer than 0");
  return ms;
}

Status NoEmptyItems(const std::string& flag, const std::vector<std::string>& items) {
  for (const auto& item : items) {
    if (item.empty()) return Status::InvalidArgument(flag + " has an empty name");
  }
  return Status::Ok();
}

}  // namespace

std::string FormatJobDelete(const protocol::JobDeleteReply& reply) {
  std::string head = "job " + std::to_string(reply.job_id) + ": ";
  if (reply.already_removed) {
    return head + "results were already removed (" + reply.reason + ")";
  }
  return head + "results removed (" + reply.reason + "): " + std::to_string(reply.dirs) +
         (reply.dirs == 1 ? " directory, " : " directories, ") + std::to_string(reply.files) +
         (reply.files == 1 ? " file, " : " files, ") + FormatBytes(reply.bytes) + ", " +
         std::to_string(reply.index_rows) + " indexed results";
}

std::string FormatResultsState(const protocol::JobInfo& job) {
  std::string kept = job.keep_results_ms == -1 ? "kept forever"
                     : job.keep_results_ms > 0 ? "kept " + FormatDurationMs(job.keep_results_ms)
                                               : "";
  if (job.results == "present") {
    return FormatBytes(job.result_bytes) + (kept.empty() ? "" : ", " + kept);
  }
  return job.results + " " + WallTimeOrDash(job.results_removed_us / 1000) + " (" +
         job.results_removed_reason + ")";
}

Result<int64_t> ParseKeepResults(const std::string& text) {
  if (text.empty()) return int64_t{0};
  if (text == "forever") return int64_t{-1};
  auto ms = ParseLongDurationMs(text);
  if (!ms.ok() || *ms <= 0) {
    return Status::InvalidArgument("--keep-results: '" + text +
                                   "' is neither forever nor a duration (e.g. 30d, 2w, 12h)");
  }
  return ms;
}

Result<protocol::JobCreateRequest> BuildJobCreateRequest(const JobCreateArgs& args,
                                                         const ControlReader& read_control) {
  if (args.name.empty()) return Status::InvalidArgument("job create: --name is required");
  int sources = (args.control_file.empty() ? 0 : 1) + (args.command.empty() ? 0 : 1) +
                (args.test.empty() ? 0 : 1);
  if (sources != 1) {
    return Status::InvalidArgument(
        "job create: give exactly one of --control FILE, --command CMD, --test NAME");
  }
  if (args.label.empty() != !args.count.has_value()) {
    return Status::InvalidArgument("job create: --label and --count go together");
  }
  if (args.count.has_value() && *args.count == 0) {
    return Status::InvalidArgument("job create: --count must be at least 1");
  }
  if (args.hosts.empty() && args.label.empty()) {
    return Status::InvalidArgument("job create: give --hosts and/or --label with --count");
  }
  LABMESH_RETURN_IF_ERROR(NoEmptyItems("--hosts", args.hosts));
  LABMESH_RETURN_IF_ERROR(NoEmptyItems("--depends", args.depends));
  if (args.synch_count == 0) {
    return Status::InvalidArgument("job create: --synch-count must be at least 1");
  }
  std::optional<protocol::Priority> priority = protocol::ParsePriority(args.priority);
  if (!priority) {
    return Status::InvalidArgument("job create: unknown priority '" + args.priority +
                                   "' (low, medium, high, urgent)");
  }
  Result<int64_t> timeout = OptionalDuration("--timeout", args.timeout);
  if (!timeout.ok()) return timeout.status();
  Result<int64_t> max_runtime = OptionalDuration("--max-runtime", args.max_runtime);
  if (!max_runtime.ok()) return max_runtime.status();
  Result<int64_t> keep = ParseKeepResults(args.keep_results);
  if (!keep.ok()) return Status::InvalidArgument("job create: " + keep.status().message());
  Result<std::string> cleanup = ParseCleanupPolicy(args.cleanup);
  if (!cleanup.ok()) return Status::InvalidArgument("job create: " + cleanup.status().message());
  for (const std::string& target : args.notify) {
    Result<std::string> checked = CheckNotifyTarget(target);
    if (!checked.ok()) return Status::InvalidArgument("job create: " + checked.status().message());
  }
  Result<std::string> notify_on = ParseNotifyOn(args.notify_on);
  if (!notify_on.ok()) return Status::InvalidArgument("job create: " + notify_on.status().message());

  protocol::JobCreateRequest request;
  request.name = args.name;
  request.user = args.user;
  request.command = args.command;
  request.test = args.test;
  if (!args.control_file.empty()) {
    Result<std::string> control = read_control(args.control_file);
    if (!control.ok()) return Status::InvalidArgument("job create: " + control.status().message());
    request.control = std::move(control).value();
  }
  request.hosts = args.hosts;
  request.meta_label = args.label;
  request.meta_count = args.count.value_or(0);
  request.depends = args.depends;
  request.synch_count = args.synch_count;
  request.priority = std::string(protocol::PriorityName(*priority));
  request.run_verify = args.run_verify;
  request.timeout_ms = *timeout;
  request.max_runtime_ms = *max_runtime;
  request.cleanup = *cleanup;
  request.retry = args.retry;
  request.keep_results_ms = *keep;
  request.notify = args.notify;
  request.notify_on = *notify_on;
  if (args.after_any && args.after.empty()) {
    return Status::InvalidArgument("job create: --after-any needs --after");
  }
  for (uint64_t id : args.after) {
    if (id == 0) return Status::InvalidArgument("job create: --after: job ids start at 1");
  }
  request.after = args.after;
  request.after_any = args.after_any;
  if (!args.reserve_on_failure.empty()) {
    auto reserve = ParseReservationDuration("--reserve-on-failure", args.reserve_on_failure);
    if (!reserve.ok()) return Status::InvalidArgument("job create: " + reserve.status().message());
    request.reserve_on_failure_ms = *reserve;
  }
  return request;
}

Result<int64_t> ParseReservationDuration(const std::string& flag, const std::string& text) {
  constexpr int64_t kMaxMs = 7LL * 24 * 3600 * 1000;  // coordinator/reservation_rules.hpp
  Result<int64_t> ms = ParseLongDurationMs(text);
  if (!ms.ok()) return Status::InvalidArgument(flag + ": " + ms.status().message());
  if (*ms <= 0) return Status::InvalidArgument(flag + " must be longer than 0");
  if (*ms > kMaxMs) {
    return Status::InvalidArgument(flag + " " + text +
                                   " is longer than a reservation may last (at most 7d)");
  }
  return ms;
}

std::string FormatReservation(const protocol::HostInfo& host, int64_t now_ms) {
  if (host.reserved_by.empty()) return "no";
  int64_t left = std::max<int64_t>(0, host.reserved_until_ms - now_ms);
  return host.reserved_by + " until " + protocol::FormatWallTimeIso(host.reserved_until_ms) +
         " (in " + FormatDurationMs(left) + ")" +
         (host.reserve_reason.empty() ? "" : ": " + host.reserve_reason);
}

Result<std::string> ParseNotifyOn(const std::string& text) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower.empty() || lower == "always" || lower == "failure") return lower;
  return Status::InvalidArgument("--notify-on '" + text + "': want always or failure");
}

Result<std::string> CheckNotifyTarget(const std::string& text) {
  for (const char* prefix : {"email:", "webhook:", "http://", "https://"}) {
    if (text.starts_with(prefix) && text.size() > std::string_view(prefix).size()) return text;
  }
  return Status::InvalidArgument("--notify '" + text + "': want email:ADDRESS or webhook:URL");
}

std::string FormatNotification(const protocol::NotificationInfo& n) {
  std::string attempts =
      std::to_string(n.attempts) + (n.attempts == 1 ? " attempt" : " attempts");
  std::string text = n.target + "  ";
  if (n.event == "host.reserved") text += "(host " + n.host + " reserved) ";
  text += n.state;
  if (n.state == "delivered") {
    text += " " + protocol::FormatWallTimeIso(n.delivered_us / 1000) + " (" + attempts + ")";
  } else if (n.state == "failed") {
    text += " (" + attempts + "): " + n.last_error;
  } else {
    text += " (" + attempts;
    if (!n.last_error.empty()) text += "; last error: " + n.last_error;
    text += ")";
  }
  return text;
}

EntryCounts CountEntries(const protocol::JobInfo& job) {
  using protocol::EntryStatus;
  EntryCounts counts;
  for (const auto& entry : job.entries) {
    std::optional<EntryStatus> status = protocol::ParseEntryStatus(entry.status);
    if (!status) {
      ++counts.running;
      continue;
    }
    switch (*status) {
      case EntryStatus::kQueued:
        ++counts.queued;
        break;
      case EntryStatus::kCompleted:
        ++counts.completed;
        break;
      case EntryStatus::kFailed:
        ++counts.failed;
        break;
      case EntryStatus::kAborted:
        ++counts.aborted;
        break;
      case EntryStatus::kStopped:
        ++counts.stopped;
        break;
      default:
        ++counts.running;
        break;
    }
  }
  return counts;
}

bool IsJobFinished(const protocol::JobInfo& job) {
  if (job.entries.empty()) {
    return job.status == "Completed" || job.status == "Failed" || job.status == "Aborted";
  }
  EntryCounts counts = CountEntries(job);
  return counts.done() == counts.total();
}

bool JobSucceeded(const protocol::JobInfo& job) {
  if (job.entries.empty()) return job.status == "Completed";
  EntryCounts counts = CountEntries(job);
  return counts.completed == counts.total();
}

namespace {

// "3 done (2 completed, 1 failed[, 1 aborted][, 1 stopped])"
std::string DonePart(const EntryCounts& c) {
  std::string out = std::to_string(c.done()) + " done (" + std::to_string(c.completed) +
                    " completed, " + std::to_string(c.failed) + " failed";
  if (c.aborted > 0) out += ", " + std::to_string(c.aborted) + " aborted";
  if (c.stopped > 0) out += ", " + std::to_string(c.stopped) + " stopped";
  return out + ")";
}

}  // namespace

std::string FormatProgress(const protocol::JobInfo& job) {
  EntryCounts c = CountEntries(job);
  return "job " + std::to_string(job.id) + ": " + DonePart(c) + ", " + std::to_string(c.running) +
         " running, " + std::to_string(c.queued) + " queued";
}

std::string FormatWaitResult(const protocol::JobInfo& job) {
  return "job " + std::to_string(job.id) + " " + job.status + ": " + DonePart(CountEntries(job));
}

std::string FormatEntriesColumn(const protocol::JobInfo& job) {
  EntryCounts c = CountEntries(job);
  return std::to_string(c.done()) + "/" + std::to_string(c.total()) + " done";
}

std::string FormatEntryReason(const protocol::EntryInfo& entry) {
  if (entry.fault.empty()) return entry.reason;
  if (entry.reason.empty()) return entry.fault;
  return entry.fault + ": " + entry.reason;
}

Result<std::string> ParseCleanupPolicy(const std::string& text) {
  for (const char* policy : kCleanupPolicies) {
    if (Lower(text) == policy) return std::string(policy);
  }
  return Status::InvalidArgument("unknown cleanup policy '" + text +
                                 "' (never, always, on-failure)");
}

bool AnyEntryRetried(const protocol::JobInfo& job) {
  return std::any_of(job.entries.begin(), job.entries.end(),
                     [](const protocol::EntryInfo& e) { return e.retries > 0; });
}

Result<std::string> ParseJobStatusFilter(const std::string& text) {
  for (const char* status : kJobStatuses) {
    if (Lower(text) == Lower(status)) return std::string(status);
  }
  return Status::InvalidArgument("unknown job status '" + text +
                                 "' (Waiting, Queued, Running, Completed, Failed, Aborted)");
}

}  // namespace labmesh::cli
