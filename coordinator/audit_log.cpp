#include "audit_log.hpp"

#include "batch.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace labmesh::coordinator {

AuditLog::AuditLog(store::Store* store, const Clock* clock) : store_(store), clock_(clock) {}

Status AuditLog::Load() {
  auto max = store_->MaxAuditId();
  if (!max.ok()) return max.status();
  next_id_ = *max + 1;
  return Status::Ok();
}

void AuditLog::Begin(const std::string& routing_id, const protocol::Envelope& request,
                     const std::string& user, const std::string& from) {
  store::AuditRecord record;
  record.id = next_id_++;
  record.time_ms = clock_->WallMs();
  record.user = user;
  record.action = std::string(protocol::MessageTypeName(request.type));
  record.target = protocol::DescribeBody(request);
  record.from = from;
  if (open_count_ >= kMaxOpen) {
    // Never answered (cannot happen while every request gets one reply): keep what is known.
    for (auto& [connection, records] : open_) {
      for (auto& [id, stale] : records) {
        stale.error = "no reply recorded";
        done_.push_back(std::move(stale));
      }
    }
    open_.clear();
    open_count_ = 0;
  }
  auto [it, added] = open_[routing_id].insert_or_assign(request.request_id, std::move(record));
  if (added) ++open_count_;
}

void AuditLog::Record(const std::string& action, const std::string& target) {
  store::AuditRecord record;
  record.id = next_id_++;
  record.time_ms = clock_->WallMs();
  record.user = "labmesh";
  record.action = action;
  record.target = target.size() > 512 ? target.substr(0, 512) : target;
  record.from = "coordinator";
  record.ok = true;
  done_.push_back(std::move(record));
}

void AuditLog::OnReply(const std::string& routing_id, std::string_view reply_frame) {
  auto connection = open_.find(routing_id);
  if (connection == open_.end()) return;
  auto reply = protocol::DecodeEnvelope(reply_frame);
  if (!reply.ok()) return;
  auto it = connection->second.find(reply->request_id);
  if (it == connection->second.end()) return;
  store::AuditRecord record = std::move(it->second);
  connection->second.erase(it);
  if (connection->second.empty()) open_.erase(connection);
  --open_count_;
  record.ok = reply->type != protocol::MessageType::kError;
  if (!record.ok) {
    auto error = protocol::DecodeBody<protocol::ErrorReply>(*reply);
    record.error = error.ok() ? error->ToStatus().ToString() : "error";
  }
  done_.push_back(std::move(record));
}

void AuditLog::Stage(Batch& batch) {
  if (done_.empty()) return;
  std::vector<store::AuditRecord> staged;
  staged.swap(done_);
  for (const auto& record : staged) batch.writes().PutAudit(record);
  batch.MarkDurable();
  batch.OnFailure([this, staged = std::move(staged)](const Status& status) mutable {
    spdlog::error("{} audit records not written (kept for the next turn): {}", staged.size(),
                  status.ToString());
    // (A change answered after this commit is recorded as it was decided; its caller got the
    // commit's error instead, and the change itself was not stored either.)
    for (auto& record : staged) done_.push_back(std::move(record));
  });
}

Status AuditLog::Flush() {
  if (done_.empty()) return Status::Ok();
  store::WriteBatch batch;
  for (const auto& record : done_) batch.PutAudit(record);
  Status status = store_->Apply(batch);
  if (!status.ok()) {
    spdlog::error("audit records not written (kept for the next try): {}", status.ToString());
    return status;
  }
  done_.clear();
  return Status::Ok();
}

}  // namespace labmesh::coordinator
