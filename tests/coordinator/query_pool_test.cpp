// QueryPool: queries run on the reader threads and come back on the caller's thread through
// fd() and Deliver; a query that blocks holds up neither the caller nor the other readers; a
// full queue refuses.
#include "query_pool.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace labmesh::coordinator {
namespace {

// Waits for the pool's fd to turn readable and delivers, until `done` holds or the deadline.
template <typename Pred>
bool DeliverUntil(QueryPool& pool, Pred done, std::chrono::milliseconds deadline =
                                                  std::chrono::seconds(10)) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{pool.fd(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) > 0) pool.DeliverDone();
  }
  return true;
}

// A gate a query can wait on.
class Gate {
 public:
  void Open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

TEST(QueryPool, AnswersComeBackOnTheCallersThread) {
  QueryPool pool(2);
  ASSERT_TRUE(pool.Start().ok());
  const auto caller = std::this_thread::get_id();
  std::vector<std::string> answers;
  std::vector<std::thread::id> ran_on;
  std::mutex ran_mu;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(pool.Submit(
        [i, &ran_on, &ran_mu] {
          std::lock_guard lock(ran_mu);
          ran_on.push_back(std::this_thread::get_id());
          return "answer " + std::to_string(i);
        },
        [&, caller](std::string frame) {
          EXPECT_EQ(std::this_thread::get_id(), caller);
          answers.push_back(std::move(frame));
        }));
  }
  ASSERT_TRUE(DeliverUntil(pool, [&] { return answers.size() == 20; }));
  std::sort(answers.begin(), answers.end());
  EXPECT_EQ(answers.front(), "answer 0");
  std::lock_guard lock(ran_mu);
  for (const auto& id : ran_on) EXPECT_NE(id, caller);
}

TEST(QueryPool, ASlowQueryHoldsUpNeitherTheCallerNorTheOtherReader) {
  QueryPool pool(2);
  ASSERT_TRUE(pool.Start().ok());
  Gate gate;
  bool slow_done = false, quick_done = false;
  ASSERT_TRUE(pool.Submit(
      [&] {
        gate.Wait();  // a summary over a million results, say
        return std::string("slow");
      },
      [&](std::string frame) {
        EXPECT_EQ(frame, "slow");
        slow_done = true;
      }));
  // Submit returned at once; the other reader answers the next query while the first waits.
  ASSERT_TRUE(pool.Submit([] { return std::string("quick"); },
                          [&](std::string frame) {
                            EXPECT_EQ(frame, "quick");
                            quick_done = true;
                          }));
  ASSERT_TRUE(DeliverUntil(pool, [&] { return quick_done; }));
  EXPECT_FALSE(slow_done);
  gate.Open();
  ASSERT_TRUE(DeliverUntil(pool, [&] { return slow_done; }));
}

TEST(QueryPool, AFullQueueRefusesAndTakesWorkAgainOnceItDrains) {
  QueryPool pool(1);
  ASSERT_TRUE(pool.Start().ok());
  Gate gate;
  size_t delivered = 0;
  auto count = [&](std::string) { ++delivered; };
  std::mutex started_mu;
  std::condition_variable started_cv;
  bool started = false;
  // The one reader blocks in the first query, so every later one waits in the queue.
  ASSERT_TRUE(pool.Submit(
      [&] {
        {
          std::lock_guard lock(started_mu);
          started = true;
        }
        started_cv.notify_all();
        gate.Wait();
        return std::string();
      },
      count));
  {
    std::unique_lock lock(started_mu);
    started_cv.wait(lock, [&] { return started; });
  }
  for (size_t i = 0; i < QueryPool::kMaxQueued; ++i) {
    ASSERT_TRUE(pool.Submit([] { return std::string(); }, count)) << i;
  }
  EXPECT_EQ(pool.waiting(), QueryPool::kMaxQueued);
  EXPECT_FALSE(pool.Submit([] { return std::string(); }, count));
  gate.Open();
  ASSERT_TRUE(DeliverUntil(pool, [&] { return delivered == QueryPool::kMaxQueued + 1; }));
  EXPECT_TRUE(pool.Submit([] { return std::string(); }, count));
  ASSERT_TRUE(DeliverUntil(pool, [&] { return delivered == QueryPool::kMaxQueued + 2; }));
}

TEST(QueryPool, StopsWithQueriesStillWaiting) {
  auto pool = std::make_unique<QueryPool>(1);
  ASSERT_TRUE(pool->Start().ok());
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(pool->Submit([] { return std::string(1000, 'x'); }, [](std::string) {}));
  }
  pool.reset();  // joins the reader; the waiting queries are dropped, undelivered
}

}  // namespace
}  // namespace labmesh::coordinator
