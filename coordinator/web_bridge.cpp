#include "web_bridge.hpp"

namespace labmesh::coordinator {

// Replaced once the webui library lands.
Result<std::unique_ptr<WebBridge>> WebBridge::Start(const std::string&, zmq::context_t&,
                                                    const std::string&) {
  return Status::Unsupported("web server not built yet");
}

}  // namespace labmesh::coordinator
