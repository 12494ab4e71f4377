#pragma once
// NotifySender: delivers the outbox's job-end notifications (docs/notifications.md) off the
// event loop. The loop writes a notification `pending` in the transaction that commits its
// job's final state and, after that commit, hands it here (Submit); at a start every pending
// one is read back from the store (Start), so a crash between the commit and the delivery loses
// nothing. The worker thread sends each (webhooks: HTTP POST of the JSON document, signed;
// email: SMTP with libcurl), and writes the outcome to the notification's record in the store
// itself: from the commit that made it, the record's only writer is this thread. A failed
// attempt is tried again after a capped, jittered backoff until the coordinator's
// notify_retry_for_ms after the job's end has passed; then it is recorded `failed` with the last
// error. A delivery that succeeded is recorded before the next one starts; only a crash in the
// moment between the receiver's answer and that commit sends it again (receivers can tell by
// the X-Labmesh-Delivery header, which stays the same).
//
// Threads: Submit is for the event-loop thread (it never blocks on the network); everything
// else runs on the worker. The destructor stops the worker after its current attempt (at most
// notify_attempt_timeout_ms).

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "labmesh/common/clock.hpp"
#include "labmesh/common/status.hpp"
#include "labmesh/coordinator/config.hpp"
#include "labmesh/store/store.hpp"

namespace labmesh::coordinator {

// The coordinator's notify key (DIR/notify.key: 32 random bytes as hex, mode 0600), made at the
// first start. Webhook secrets are derived from it (TargetSecret).
Result<std::string> LoadOrCreateNotifyKey(const std::string& keys_dir);

class NotifySender {
 public:
  NotifySender(const CoordinatorConfig& config, std::string notify_key, store::Store* store,
               const Clock* clock);
  ~NotifySender();
  NotifySender(const NotifySender&) = delete;
  NotifySender& operator=(const NotifySender&) = delete;

  // Reads the pending notifications from the store and starts the worker.
  Status Start();
  // A notification whose record has just been committed.
  void Submit(store::Notification notification);

  const std::string& notify_key() const { return notify_key_; }

 private:
  void Run();
  // One delivery attempt; the record's new state is written to the store.
  void Attempt(store::Notification& n);
  Status PostWebhook(const store::Notification& n) const;
  Status SendEmail(const store::Notification& n) const;

  const CoordinatorConfig& config_;
  const std::string notify_key_;
  store::Store* store_;
  const Clock* clock_;
  std::string from_;
  std::mt19937_64 random_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<store::Notification> queue_;  // pending, any order
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace labmesh::coordinator
