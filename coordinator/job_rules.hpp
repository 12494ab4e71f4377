#pragma once
// Job rules as pure functions (tested alone): the shape of a JobCreateRequest and of the paths
// agents upload results to. The job service calls them before it touches anything, so a refused
// request changes nothing. Whether the job can ever run on this fleet is the job service's
// question (it needs the hosts), not these functions'.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/job_messages.hpp"

namespace labmesh::coordinator {

inline constexpr size_t kMaxJobNameBytes = 128;
// The control kind of a job made by `labmesh results import` (job_import.cpp): nothing runs.
inline constexpr const char* kImportKind = "import";
inline constexpr size_t kMaxUserNameBytes = 64;
inline constexpr size_t kMaxCommandBytes = 64 * 1024;
inline constexpr size_t kMaxJobHosts = 10'000;
// A job's --retry at most (requeues of one entry whose host was lost).
inline constexpr uint32_t kMaxJobRetry = 10;
inline constexpr size_t kMaxResultPathBytes = 1024;
// A job's --after at most (jobs it waits for).
inline constexpr size_t kMaxAfterJobs = 100;

// 1..64 characters of [A-Za-z0-9._-], not starting with '.' or '-' (it names a results
// directory: "<job_id>-<owner>").
Status ValidateUserName(std::string_view name);

// A request normalised: hosts and depends sorted without duplicates, priority parsed, the kind
// of control decided ("command", "control" or "test").
struct JobSpec {
  protocol::JobCreateRequest request;
  protocol::Priority priority = protocol::Priority::kMedium;
  std::string control_kind;
};

// Checks everything that does not depend on the fleet: a name (1..128 bytes of UTF-8, no
// control characters), a valid owner, exactly one of command/control/test, host names valid,
// meta_label and meta_count given together, at least one host wanted, label names valid,
// synch_count 1..(number of hosts), a known priority, timeouts not negative,
// reserve_on_failure_ms 0 or 1 ms..7 days.
Result<JobSpec> ValidateJobSpec(const protocol::JobCreateRequest& request);

// A results path an agent may write: relative, '/'-separated components that are neither
// empty, "." nor "..", without NUL or backslash, at most 1024 bytes.
Status ValidateResultPath(std::string_view path);

}  // namespace labmesh::coordinator
