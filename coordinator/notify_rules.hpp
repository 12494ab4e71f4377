#pragma once
// Notification rules as pure functions (tested alone, docs/notifications.md): what a target may
// look like, when a job's end is told, the document a webhook receives and the text of the
// email, the per-target signing secret and the signature, and the retry delays.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "labmesh/common/status.hpp"
#include "labmesh/store/store.hpp"

namespace labmesh::coordinator {

inline constexpr size_t kMaxNotifyTargets = 8;
inline constexpr size_t kMaxNotifyTargetBytes = 1024;

// "email:ADDR" (ADDR local@domain, printable ASCII without spaces, quotes, angle brackets or
// commas, so it cannot smuggle a second recipient or a header) or "webhook:URL" (an http:// or
// https:// URL with a host, as libcurl's URL parser reads it), returned canonical; a bare
// http(s) URL is read as a webhook. InvalidArgument naming the target otherwise.
Result<std::string> CanonicalNotifyTarget(std::string_view text);
// Each target canonical, duplicates dropped (first kept), at most kMaxNotifyTargets.
Result<std::vector<std::string>> CanonicalNotifyTargets(const std::vector<std::string>& targets);
// "", "always" or "failure" (case-insensitive) -> canonical; InvalidArgument otherwise.
Result<std::string> ParseNotifyOn(std::string_view text);

// Whether a job that ended `job_status` ("Completed", "Failed", "Aborted") is told under
// `notify_on` ("failure": anything but Completed; "always" or "": every end).
bool ShouldNotify(std::string_view notify_on, std::string_view job_status);

// The JSON document of a job's end: {"event":"job.finished","job","name","owner","status",
// "abort_reason","created","finished","link","counts":{"GOOD":n,...},"entries":[{"host",
// "status","reason","fault","result_counts"}]}. `link` is the job's page ("" = none).
std::string JobEndDocument(const store::Job& job, const std::vector<store::Entry>& entries,
                           const std::string& status, const std::string& link);

// The outbox index of a job's notifications ends at this (its key holds 3 digits): 0..7 are
// the job's end, kMaxNotifyTargets.. its host.reserved notifications.
inline constexpr uint32_t kNotifyIndexLimit = 1000;

// The JSON document of a host reserved to the job's owner after `entry` failed there
// (--reserve-on-failure, docs/reservations.md): {"event":"host.reserved","job","name","owner",
// "host","reserved_by","reserved_until","reason","entry":{"status","reason","fault"},"link"}.
std::string HostReservedDocument(const store::Job& job, const store::Entry& entry,
                                 const store::Host& host, const std::string& link);

// The email of a job's end (or of a host.reserved document), from its document: the subject
// line and a plain-text body with the same facts and the link.
struct EmailText {
  std::string subject;
  std::string body;
};
Result<EmailText> EmailFromDocument(const std::string& document);
// The whole message as sent by SMTP (headers, CRLF line ends, dot-stuffing left to libcurl).
std::string EmailMessage(const EmailText& text, const std::string& from, const std::string& to,
                         int64_t date_us, const std::string& message_id);

// The secret webhooks to `target` are signed with for `owner`'s jobs: HMAC-SHA256 keyed with the
// coordinator's notify key (keys/notify.key) over owner "\n" target, as 64 hex digits. So each
// (owner, target) has its own secret, and a user can read only theirs (`notify secret`).
std::string TargetSecret(std::string_view notify_key, std::string_view owner,
                         std::string_view target);
// "sha256=" + hex HMAC-SHA256 of `body` keyed with the secret's text: the value of the
// X-Labmesh-Signature header.
std::string SignBody(std::string_view secret, std::string_view body);

// How long to wait before attempt number `attempts + 1` after `attempts` failed ones: 1 s
// doubling up to 5 min, each with up to 25% jitter from `jitter01` (0..1).
int64_t RetryDelayMs(uint32_t attempts, double jitter01);

// "pending", "delivered", "failed".
std::string_view NotifyStateName(store::NotifyState state);
protocol::NotificationInfo ToNotificationInfo(const store::Notification& notification);
// "job.finished" for rows made before events had names.
std::string_view NotifyEventName(const store::Notification& notification);

}  // namespace labmesh::coordinator
