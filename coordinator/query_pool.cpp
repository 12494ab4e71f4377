#include "query_pool.hpp"

#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

namespace labmesh::coordinator {

QueryPool::QueryPool(size_t threads) : threads_(std::max<size_t>(1, threads)) {}

QueryPool::~QueryPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& reader : readers_) reader.join();
  if (event_fd_ >= 0) close(event_fd_);
}

Status QueryPool::Start() {
  event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (event_fd_ < 0) return Status::Internal("eventfd failed");
  for (size_t i = 0; i < threads_; ++i) readers_.emplace_back([this] { Run(); });
  return Status::Ok();
}

bool QueryPool::Submit(Work work, Deliver deliver) {
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= kMaxQueued) return false;
    queue_.push_back(Query{std::move(work), std::move(deliver), {}});
  }
  wake_.notify_one();
  return true;
}

size_t QueryPool::waiting() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void QueryPool::DeliverDone() {
  uint64_t ignored;
  (void)!read(event_fd_, &ignored, sizeof ignored);  // clears the eventfd
  std::vector<Query> done;
  {
    std::lock_guard lock(mu_);
    done.swap(done_);
  }
  for (Query& query : done) query.deliver(std::move(query.frame));
}

void QueryPool::Run() {
  // Queries yield the CPU to the event loop and the ZeroMQ I/O threads: on a busy machine a
  // summary waits, a heartbeat does not. Linux nices threads one by one.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kReaderNice);
  for (;;) {
    Query query;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      query = std::move(queue_.front());
      queue_.pop_front();
    }
    query.frame = query.work();
    query.work = nullptr;  // its captures (snapshots) go with the reader, not the loop
    {
      std::lock_guard lock(mu_);
      done_.push_back(std::move(query));
    }
    uint64_t one = 1;
    (void)!write(event_fd_, &one, sizeof one);
  }
}

}  // namespace labmesh::coordinator
