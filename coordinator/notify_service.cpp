#include "notify_service.hpp"

#include <spdlog/spdlog.h>

#include "job_view.hpp"
#include "notify_rules.hpp"
#include "notify_sender.hpp"

namespace labmesh::coordinator {

NotifyService::NotifyService(const CoordinatorConfig& config, const Clock* clock, Batch* batch,
                             NotifySender* sender)
    : config_(config), clock_(clock), batch_(batch), sender_(sender) {}

std::string NotifyService::LinkTo(uint64_t job_id) const {
  std::string base = config_.public_url;
  if (base.empty()) {
    if (config_.http_listen.empty()) return "";
    base = "http://" + config_.http_listen;
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/#/jobs/" + std::to_string(job_id);
}

void NotifyService::OnJobEnd(const store::Job& job, const std::vector<store::Entry>& entries) {
  if (job.notify.empty()) return;
  std::string status = JobStatusOf(entries);
  if (!ShouldNotify(job.notify_on, status)) return;
  size_t queued = Queue(job, 0, "job.finished", "",
                        JobEndDocument(job, entries, status, LinkTo(job.id)));
  spdlog::info("job={} {}: {} notification(s) queued", job.id, status, queued);
}

uint32_t NotifyService::OnHostReserved(const store::Job& job, const store::Entry& entry,
                                       const store::Host& host, uint32_t first_index) {
  if (job.notify.empty()) return 0;
  if (first_index + job.notify.size() > kNotifyIndexLimit) {
    spdlog::warn("job={} host={} reserved for {}: not notified (the job's outbox is full)",
                 job.id, host.hostname, job.owner);
    return 0;
  }
  size_t queued = Queue(job, first_index, "host.reserved", host.hostname,
                        HostReservedDocument(job, entry, host, LinkTo(job.id)));
  spdlog::info("job={} host={} reserved for {}: {} notification(s) queued", job.id,
               host.hostname, job.owner, queued);
  return static_cast<uint32_t>(queued);
}

size_t NotifyService::Queue(const store::Job& job, uint32_t first_index, const char* event,
                            const std::string& hostname, const std::string& document) {
  const int64_t now = clock_->WallUs();
  std::vector<store::Notification> rows;
  for (size_t i = 0; i < job.notify.size(); ++i) {
    store::Notification n;
    n.job_id = job.id;
    n.index = first_index + static_cast<uint32_t>(i);
    n.target = job.notify[i];
    n.owner = job.owner;
    n.created_us = now;
    n.next_attempt_us = now;
    n.document = document;
    n.event = event;
    n.hostname = hostname;
    batch_->writes().PutNotification(n);
    rows.push_back(std::move(n));
  }
  batch_->MarkDurable();
  // Only a committed row may be sent: a failed commit reloads the job, which ends (or fails)
  // again later and queues its notifications then.
  size_t queued = rows.size();
  batch_->AfterCommit([sender = sender_, rows = std::move(rows)]() mutable {
    for (store::Notification& n : rows) sender->Submit(std::move(n));
  });
  return queued;
}

std::string NotifyService::Secret(const protocol::Envelope& e, const Principal& who) const {
  auto request = protocol::DecodeBody<protocol::NotifySecretRequest>(e);
  if (!request.ok()) return protocol::ErrorFrame(e.request_id, request.status());
  auto target = CanonicalNotifyTarget(request->target);
  if (!target.ok()) return protocol::ErrorFrame(e.request_id, target.status());
  if (!target->starts_with("webhook:")) {
    return protocol::ErrorFrame(
        e.request_id, Status::InvalidArgument("only webhook targets are signed, not " + *target));
  }
  protocol::NotifySecretReply reply;
  reply.target = *target;
  reply.owner = who.user;
  reply.secret = TargetSecret(sender_->notify_key(), who.user, *target);
  return protocol::Encode(reply, e.request_id);
}

}  // namespace labmesh::coordinator
