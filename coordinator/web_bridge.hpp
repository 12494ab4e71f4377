#pragma once
// WebBridge: starts the web server (webui/) inside the coordinator, wired to the API socket's
// inproc endpoint, so the page reads and writes only through the API commands.

#include <memory>
#include <string>

#include <zmq.hpp>

#include "labmesh/common/status.hpp"

namespace labmesh::coordinator {

class WebBridge {
 public:
  static Result<std::unique_ptr<WebBridge>> Start(const std::string& http_listen,
                                                  zmq::context_t& context,
                                                  const std::string& inproc_api_endpoint);
  virtual ~WebBridge() = default;
  // "127.0.0.1:7780" with the port actually bound.
  virtual std::string listening() const = 0;
};

}  // namespace labmesh::coordinator
