#pragma once
// A pool of ApiClients for the web server's worker threads. ZeroMQ sockets must not be used by
// two threads at once, so each request leases a client for its duration; the mutex hand-over
// gives the memory barrier ZeroMQ asks for when a socket moves between threads. A client that
// timed out has already replaced its socket (ApiClient's promise), so it is safe to reuse.
// Each lease carries one HTTP request's credentials; they are cleared when the client comes
// back, so no request is ever sent as whoever used the client before.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "labmesh/client/api_client.hpp"

namespace labmesh::webui {

class ApiClientPool {
 public:
  // `context` must outlive the pool. At most `max_idle` clients are kept between requests; more
  // are created when more threads ask at once and dropped when returned.
  ApiClientPool(zmq::context_t& context, std::string endpoint, int64_t timeout_ms,
                size_t max_idle);
  ApiClientPool(const ApiClientPool&) = delete;
  ApiClientPool& operator=(const ApiClientPool&) = delete;

  // Gives the client back to the pool when it goes out of scope.
  class Lease {
   public:
    Lease(ApiClientPool* pool, std::unique_ptr<client::ApiClient> client)
        : pool_(pool), client_(std::move(client)) {}
    ~Lease() { pool_->Return(std::move(client_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    client::ApiClient* operator->() { return client_.get(); }
    client::ApiClient& operator*() { return *client_; }

   private:
    ApiClientPool* pool_;
    std::unique_ptr<client::ApiClient> client_;
  };

  // Thread-safe. The client sends `credentials` with every call of this lease.
  Lease Acquire(protocol::Credentials credentials = {});

  const std::string& endpoint() const { return endpoint_; }

 private:
  void Return(std::unique_ptr<client::ApiClient> client);

  zmq::context_t& context_;
  const std::string endpoint_;
  const int64_t timeout_ms_;
  const size_t max_idle_;
  std::mutex mu_;
  std::vector<std::unique_ptr<client::ApiClient>> idle_;  // guarded by mu_
};

}  // namespace labmesh::webui
