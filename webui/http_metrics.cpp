#include "http_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace labmesh::webui {

struct HttpMetrics::Impl {
  prometheus::Registry registry;
  prometheus::Family<prometheus::Counter>& requests =
      prometheus::BuildCounter()
          .Name("labmesh_http_requests_total")
          .Help("HTTP requests answered by the web server, by route and status code")
          .Register(registry);
};

HttpMetrics::HttpMetrics() : impl_(std::make_unique<Impl>()) {}
HttpMetrics::~HttpMetrics() = default;

void HttpMetrics::Count(std::string_view route, int status) {
  impl_->requests.Add({{"route", std::string(route)}, {"code", std::to_string(status)}})
      .Increment();
}

std::string HttpMetrics::Text() const {
  return prometheus::TextSerializer().Serialize(impl_->registry.Collect());
}

}  // namespace labmesh::webui
