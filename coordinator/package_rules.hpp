#pragma once
// Agent self-update's decisions (docs/update.md), as pure functions: which version a host
// should run, whether an upload chunk or a desire request is acceptable, and how an Update
// task names its target version. PackageService and the UpdateScheduler act on them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/package_messages.hpp"

namespace labmesh::coordinator {

// The host's stable place in the canary order, 0..99: BLAKE2b-256(hostname)'s first 8 bytes,
// little-endian, mod 100. Stable across restarts and coordinators, so raising the canary
// percentage only ever adds hosts.
uint32_t CanaryBucket(std::string_view hostname);
// Whether a host is in a canary share of `percent` (100 = every host, 0 = none).
bool InCanary(std::string_view hostname, uint32_t percent);

// The version `hostname` should run, or "" when it is to be left alone: nothing desired, the
// host is outside the canary share, the desired version already failed to install there
// (`update_failed_version`: no retry loop until it is desired again), or there is no package.
std::string TargetVersion(const protocol::DesiredVersion& desired, std::string_view hostname,
                          std::string_view update_failed_version, bool package_exists);

// An Update task's reason names its target ("version 0.1.0 -> 0.2.0"): the store keeps no other
// field for it, and a task reloaded after a coordinator restart gets its target from here.
std::string UpdateTaskReason(std::string_view from, std::string_view to);
// The target version of an UpdateTaskReason text; nullopt when it names none.
std::optional<std::string> ParseUpdateTarget(std::string_view reason);

// Checks what a chunk can be judged on alone (version and hash spelling, sizes, the chunk
// within total_bytes). Where it must start is the upload's state: PackageService checks that.
Status ValidateUploadChunk(const protocol::PackageUploadRequest& request);

// A desire request's own fields: a valid version and a canary share of 1..100.
Status ValidateDesire(const protocol::PackageDesireRequest& request);

}  // namespace labmesh::coordinator
