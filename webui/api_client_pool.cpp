#include "labmesh/webui/api_client_pool.hpp"

namespace labmesh::webui {

ApiClientPool::ApiClientPool(zmq::context_t& context, std::string endpoint, int64_t timeout_ms,
                             size_t max_idle)
    : context_(context),
      endpoint_(std::move(endpoint)),
      timeout_ms_(timeout_ms),
      max_idle_(max_idle) {}

ApiClientPool::Lease ApiClientPool::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      auto client = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(client));
    }
  }
  // Creating a client only stores the endpoint; the socket is made on its first call.
  return Lease(this, std::make_unique<client::ApiClient>(context_, endpoint_, timeout_ms_));
}

void ApiClientPool::Return(std::unique_ptr<client::ApiClient> client) {
  if (!client) return;
  std::unique_ptr<client::ApiClient> dropped;  // destroyed outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < max_idle_) {
    idle_.push_back(std::move(client));
  } else {
    dropped = std::move(client);
  }
}

}  // namespace labmesh::webui
