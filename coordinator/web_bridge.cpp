#include "web_bridge.hpp"

#include "labmesh/webui/http_server.hpp"
#include "labmesh/webui/web_api.hpp"

namespace labmesh::coordinator {
namespace {

class WebBridgeImpl final : public WebBridge {
 public:
  WebBridgeImpl(zmq::context_t& context, const std::string& inproc, const Files& files)
      : api_(context, inproc, Options(files)), host_() {}

  Status Start(const std::string& listen) {
    auto server = webui::HttpServer::Start(listen, &api_);
    if (!server.ok()) return server.status();
    server_ = std::move(*server);
    host_ = listen.substr(0, listen.rfind(':'));
    return Status::Ok();
  }

  ~WebBridgeImpl() override {
    if (server_) server_->Stop();  // before api_ goes: workers may be inside it
  }

  std::string listening() const override {
    return host_ + ":" + std::to_string(server_->port());
  }

 private:
  static webui::WebApiOptions Options(const Files& files) {
    webui::WebApiOptions options;
    options.results_root = files.results_root;
    options.static_dir = files.static_dir;
    if (!files.chartjs_file.empty()) options.chartjs_file = files.chartjs_file;
    return options;
  }

  webui::WebApi api_;
  std::string host_;
  std::unique_ptr<webui::HttpServer> server_;
};

}  // namespace

Result<std::unique_ptr<WebBridge>> WebBridge::Start(const std::string& http_listen,
                                                    zmq::context_t& context,
                                                    const std::string& inproc_api_endpoint,
                                                    const Files& files) {
  auto bridge = std::make_unique<WebBridgeImpl>(context, inproc_api_endpoint, files);
  LABMESH_RETURN_IF_ERROR(bridge->Start(http_listen));
  return std::unique_ptr<WebBridge>(std::move(bridge));
}

}  // namespace labmesh::coordinator
