#pragma once
// WebBridge: starts the web server (webui/) inside the coordinator, wired to the API socket's
// inproc endpoint, so the page reads and writes only through the API commands. The results
// repository is served read-only under /results/ straight from disk (no API call: the files
// are the truth, and the civetweb threads only read them).

#include <memory>
#include <string>

#include <zmq.hpp>

#include "labmesh/common/status.hpp"

namespace labmesh::coordinator {

class WebBridge {
 public:
  // What the page is served with besides the API.
  struct Files {
    std::string results_root;  // DATA_DIR/results; empty = /results/ is not served (404)
    std::string static_dir;    // --web-static-dir: the page from disk; empty = built in
    std::string chartjs_file;  // --chartjs-file; empty = the Debian package's path
  };
  static Result<std::unique_ptr<WebBridge>> Start(const std::string& http_listen,
                                                  zmq::context_t& context,
                                                  const std::string& inproc_api_endpoint,
                                                  const Files& files);
  virtual ~WebBridge() = default;
  // "127.0.0.1:7780" with the port actually bound.
  virtual std::string listening() const = 0;
};

}  // namespace labmesh::coordinator
