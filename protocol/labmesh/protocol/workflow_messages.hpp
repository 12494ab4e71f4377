#pragma once
// Lab workflow (issue 22): job-end notifications - the delivery state `job show` carries, a
// user's default targets (`user mod --notify`) and the per-target webhook secret
// (`notify secret`) - and host reservations (`host reserve`, `host release`).
// docs/notifications.md and docs/reservations.md tell the flows; PROTOCOL.md the wire format.
// Templates and schedules: schedule_messages.hpp.

#include <cstdint>
#include <string>
#include <vector>

#include "labmesh/protocol/types.hpp"

namespace labmesh::protocol {

// One notification of a job's end: a target and how its delivery went. Made in the same
// commit as the job's final state (the outbox), delivered by the coordinator's sender thread.
struct NotificationInfo {
  std::string target;  // "email:alice@example.org" or "webhook:http://host:9000/hook"
  // "pending" (not delivered yet: waiting for its next attempt), "delivered", "failed" (gave
  // up after the coordinator's --notify-retry-for, or the target was refused for good).
  std::string state;
  uint32_t attempts = 0;
  std::string last_error;  // the last failed attempt's error; "" = none
  int64_t created_us = 0;
  int64_t last_attempt_us = 0;  // 0 = not tried yet
  int64_t delivered_us = 0;     // 0 = not delivered
  // What it tells: "job.finished" (the job ended) or "host.reserved" (an entry of the job
  // failed and its host was reserved to the owner: --reserve-on-failure).
  std::string event;
  std::string host;  // host.reserved: the host reserved; "" otherwise
};

// Sets a user's default notification targets: jobs they create without --notify get these
// (copied into the job at its creation). The user themself or an admin. Reply: OkReply.
struct UserModRequest {
  static constexpr MessageType kType = MessageType::kUserModRequest;
  std::string name;
  std::vector<std::string> notify;  // replaces the defaults; empty with clear_notify = none
  std::string notify_on;            // "always" or "failure"; "" = keep
  bool clear_notify = false;        // remove every default target
};

// The secret the coordinator signs webhooks to `target` for the asking user's jobs with
// (HMAC-SHA256 of the body, header X-Labmesh-Signature: sha256=<hex>). The receiver keeps it.
struct NotifySecretRequest {
  static constexpr MessageType kType = MessageType::kNotifySecretRequest;
  std::string target;  // "webhook:URL" (or the bare URL)
};

struct NotifySecretReply {
  static constexpr MessageType kType = MessageType::kNotifySecretReply;
  std::string target;  // canonical "webhook:URL"
  std::string owner;   // whose jobs are signed with it
  std::string secret;  // 64 hex digits
};

// Reserves a host for the asking user: until it expires or is released, only jobs the user
// owns get the host. The user must share an ACL group with the host (admins: any host); a host
// reserved by someone else is refused (naming who and until when); the same user's reservation
// is replaced (extended or shortened) with the new duration, counted from now.
// Reply: HostShowReply (the host with its reservation).
struct HostReserveRequest {
  static constexpr MessageType kType = MessageType::kHostReserveRequest;
  std::string hostname;
  int64_t duration_ms = 0;  // 1 ms .. 7 days
  std::string reason;       // optional, at most 256 bytes of text
};

// Ends a host's reservation now: its reserver or an admin. Reply: HostShowReply.
struct HostReleaseRequest {
  static constexpr MessageType kType = MessageType::kHostReleaseRequest;
  std::string hostname;
};

}  // namespace labmesh::protocol
