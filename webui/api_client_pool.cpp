#include "labmesh/webui/api_client_pool.hpp"

namespace labmesh::webui {

ApiClientPool::ApiClientPool(zmq::context_t& context, std::string endpoint, int64_t timeout_ms,
                             size_t max_idle)
    : context_(context),
      endpoint_(std::move(endpoint)),
      timeout_ms_(timeout_ms),
      max_idle_(max_idle) {}

ApiClientPool::Lease ApiClientPool::Acquire(protocol::Credentials credentials) {
  std::unique_ptr<client::ApiClient> client;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      client = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  // Creating a client only stores the endpoint; the socket is made on its first call.
  if (!client) client = std::make_unique<client::ApiClient>(context_, endpoint_, timeout_ms_);
  client->set_credentials(std::move(credentials));
  return Lease(this, std::move(client));
}

void ApiClientPool::Return(std::unique_ptr<client::ApiClient> client) {
  if (!client) return;
  client->set_credentials({});  // the next lease must not be sent as this one's user
  std::unique_ptr<client::ApiClient> dropped;  // destroyed outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < max_idle_) {
    idle_.push_back(std::move(client));
  } else {
    dropped = std::move(client);
  }
}

}  // namespace labmesh::webui
