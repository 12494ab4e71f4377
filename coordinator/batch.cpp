#include "batch.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "labmesh/protocol/envelope.hpp"

namespace labmesh::coordinator {

void Batch::ToAgent(std::string hostname, std::string frame) {
  frames_.push_back({To::kAgentHost, std::move(hostname), std::move(frame), 0});
}

void Batch::ToConnection(std::string routing_id, std::string frame) {
  frames_.push_back({To::kAgentConnection, std::move(routing_id), std::move(frame), 0});
}

void Batch::ToApi(std::string routing_id, std::string frame, uint64_t request_id) {
  if (on_api_) on_api_(routing_id, frame);
  frames_.push_back({To::kApi, std::move(routing_id), std::move(frame), request_id});
}

Status Batch::Commit(store::Store* store, const Senders& senders,
                     const std::function<void()>& adopt, const std::function<void()>& discard) {
  // Taken first: callbacks may stage into the next turn's batch.
  store::WriteBatch writes;
  writes.Clear();
  std::swap(writes, writes_);
  std::vector<Frame> frames;
  frames.swap(frames_);
  std::vector<std::function<void()>> after_commit;
  after_commit.swap(after_commit_);
  std::vector<std::function<void(const Status&)>> on_failure;
  on_failure.swap(on_failure_);
  bool durable = durable_;
  durable_ = false;

  Status committed = Status::Ok();
  if (!writes.empty()) {
    committed = store->Apply(writes, durable ? store::Store::Durability::kSync
                                             : store::Store::Durability::kLazy);
  }
  if (!committed.ok()) {
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
    if (committed.ToString() != last_failure_ || now_ms - last_failure_log_ms_ >= 10'000) {
      spdlog::error("the loop turn's changes ({} records) not stored: {}{}", writes.size(),
                    committed.ToString(),
                    failures_unlogged_ == 0
                        ? std::string()
                        : " (and " + std::to_string(failures_unlogged_) + " failed turns before)");
      last_failure_ = committed.ToString();
      last_failure_log_ms_ = now_ms;
      failures_unlogged_ = 0;
    } else {
      ++failures_unlogged_;
    }
    if (discard) discard();
    for (auto& fn : on_failure) fn(committed);
    for (Frame& f : frames) {
      if (f.to == To::kApi) senders.api(f.target, protocol::ErrorFrame(f.request_id, committed));
    }
    return committed;
  }
  if (adopt) adopt();
  for (auto& fn : after_commit) fn();
  for (Frame& f : frames) {
    switch (f.to) {
      case To::kAgentHost: senders.agent_by_host(f.target, std::move(f.frame)); break;
      case To::kAgentConnection: senders.agent_connection(f.target, std::move(f.frame)); break;
      case To::kApi: senders.api(f.target, std::move(f.frame)); break;
    }
  }
  return committed;
}

}  // namespace labmesh::coordinator
