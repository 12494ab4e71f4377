#include "job_rules.hpp"

#include <algorithm>

#include "catalog_rules.hpp"
#include "labels.hpp"
#include "lifecycle_rules.hpp"
#include "notify_rules.hpp"
#include "reservation_rules.hpp"

namespace labmesh::coordinator {
namespace {

void SortUnique(std::vector<std::string>& values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
}

bool HasControlCharacter(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

}  // namespace

Status ValidateUserName(std::string_view name) {
  if (name.empty() || name.size() > kMaxUserNameBytes) {
    return Status::InvalidArgument("user name must be 1.." + std::to_string(kMaxUserNameBytes) +
                                   " characters");
  }
  if (name.front() == '.' || name.front() == '-') {
    return Status::InvalidArgument("user name '" + std::string(name) +
                                   "' may not start with '.' or '-'");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Status::InvalidArgument("user name '" + std::string(name) +
                                     "' may only use letters, digits, '.', '_' and '-'");
    }
  }
  return Status::Ok();
}

Result<JobSpec> ValidateJobSpec(const protocol::JobCreateRequest& request) {
  JobSpec spec;
  spec.request = request;
  protocol::JobCreateRequest& r = spec.request;
  if (r.name.empty() || r.name.size() > kMaxJobNameBytes || !IsUtf8(r.name) ||
      HasControlCharacter(r.name)) {
    return Status::InvalidArgument("job name must be 1.." + std::to_string(kMaxJobNameBytes) +
                                   " bytes of printable UTF-8");
  }
  LABMESH_RETURN_IF_ERROR(ValidateUserName(r.user));

  int kinds = !r.command.empty() + !r.control.empty() + !r.test.empty();
  if (kinds != 1) {
    return Status::InvalidArgument("give exactly one of --command, --control and --test");
  }
  if (!r.command.empty()) {
    spec.control_kind = "command";
    if (r.command.size() > kMaxCommandBytes || r.command.find('\0') != std::string::npos) {
      return Status::InvalidArgument("--command must be at most 64 KiB without NUL bytes");
    }
  } else if (!r.control.empty()) {
    spec.control_kind = "control";
    if (r.control.size() > kMaxControlBytes) {
      return Status::InvalidArgument("the control is larger than 1 MiB");
    }
  } else {
    spec.control_kind = "test";
    LABMESH_RETURN_IF_ERROR(ValidateTestName(r.test));
  }

  SortUnique(r.hosts);
  SortUnique(r.depends);
  if (r.hosts.size() > kMaxJobHosts || r.meta_count > kMaxJobHosts) {
    return Status::InvalidArgument("a job may use at most " + std::to_string(kMaxJobHosts) +
                                   " hosts");
  }
  for (const std::string& host : r.hosts) LABMESH_RETURN_IF_ERROR(ValidateHostname(host));
  for (const std::string& label : r.depends) LABMESH_RETURN_IF_ERROR(ValidateLabelName(label));
  if (r.meta_label.empty() != (r.meta_count == 0)) {
    return Status::InvalidArgument("--label and --count go together");
  }
  if (!r.meta_label.empty()) LABMESH_RETURN_IF_ERROR(ValidateLabelName(r.meta_label));
  size_t total = r.hosts.size() + r.meta_count;
  if (total == 0) return Status::InvalidArgument("name hosts (--hosts) or a label (--label --count)");
  if (r.synch_count == 0) r.synch_count = 1;
  if (r.synch_count > total) {
    return Status::InvalidArgument("--synch-count " + std::to_string(r.synch_count) +
                                   " is more than the job's " + std::to_string(total) + " hosts");
  }
  if (total % r.synch_count != 0) {
    // Synchronous jobs run on whole groups of synch_count hosts.
    std::string hosts = r.meta_count > 0 && r.hosts.empty()
                            ? "--count " + std::to_string(r.meta_count)
                            : "the job's " + std::to_string(total) + " hosts";
    return Status::InvalidArgument(hosts + " must be a multiple of --synch-count " +
                                   std::to_string(r.synch_count) + " (groups of " +
                                   std::to_string(r.synch_count) + " hosts start together)");
  }
  auto priority = protocol::ParsePriority(r.priority.empty() ? "medium" : r.priority);
  if (!priority) {
    return Status::InvalidArgument("unknown priority '" + r.priority +
                                   "' (low, medium, high, urgent)");
  }
  spec.priority = *priority;
  r.priority = std::string(protocol::PriorityName(*priority));
  if (r.timeout_ms < 0 || r.max_runtime_ms < 0) {
    return Status::InvalidArgument("--timeout and --max-runtime may not be negative");
  }
  if (r.cleanup.empty()) r.cleanup = "on-failure";
  if (!IsCleanupPolicy(r.cleanup)) {
    return Status::InvalidArgument("unknown cleanup policy '" + r.cleanup +
                                   "' (never, always, on-failure)");
  }
  if (r.keep_results_ms < -1) {
    return Status::InvalidArgument(
        "keep_results_ms must be -1 (forever), 0 (the coordinator's policy) or a duration");
  }
  if (r.retry > kMaxJobRetry) {
    return Status::InvalidArgument("--retry may be at most " + std::to_string(kMaxJobRetry));
  }
  if (r.retry > 0 && r.synch_count > 1) {
    // A group that lost a host is aborted as a whole (docs/sync.md); requeueing one member
    // alone could never start it again.
    return Status::InvalidArgument("--retry works only for jobs without --synch-count");
  }
  std::sort(r.after.begin(), r.after.end());
  r.after.erase(std::unique(r.after.begin(), r.after.end()), r.after.end());
  if (!r.after.empty() && r.after.front() == 0) {
    return Status::InvalidArgument("--after: job ids start at 1");
  }
  if (r.after.size() > kMaxAfterJobs) {
    return Status::InvalidArgument("--after: at most " + std::to_string(kMaxAfterJobs) + " jobs");
  }
  if (r.after_any && r.after.empty()) {
    return Status::InvalidArgument("--after-any needs --after");
  }
  auto notify = CanonicalNotifyTargets(r.notify);
  if (!notify.ok()) return notify.status();
  r.notify = std::move(*notify);
  auto notify_on = ParseNotifyOn(r.notify_on);
  if (!notify_on.ok()) return notify_on.status();
  r.notify_on = *notify_on;
  if (r.reserve_on_failure_ms != 0) {
    LABMESH_RETURN_IF_ERROR(ValidateReservationMs(r.reserve_on_failure_ms, "--reserve-on-failure"));
  }
  return spec;
}

Status ValidateResultPath(std::string_view path) {
  if (path.empty() || path.size() > kMaxResultPathBytes) {
    return Status::InvalidArgument("results path must be 1.." +
                                   std::to_string(kMaxResultPathBytes) + " bytes");
  }
  if (path.front() == '/') {
    return Status::InvalidArgument("results path '" + std::string(path) + "' is absolute");
  }
  if (path.find('\0') != std::string_view::npos || path.find('\\') != std::string_view::npos) {
    return Status::InvalidArgument("results path contains NUL or '\\'");
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return Status::InvalidArgument("results path '" + std::string(path) +
                                     "' has an empty, '.' or '..' component");
    }
    start = end + 1;
  }
  return Status::Ok();
}

}  // namespace labmesh::coordinator
