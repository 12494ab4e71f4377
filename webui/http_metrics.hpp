#pragma once
// HttpMetrics: the web server's own figure for GET /metrics (docs/monitoring.md),
// labmesh_http_requests_total{route, code}: every request WebApi answers, by its route's name
// (web_routes.hpp: never the raw path, so the series stay few) and HTTP status. The web server
// counts it itself: it is the web server's state, not the coordinator's. Internal to webui.
//
// Thread-safe: civetweb's workers count concurrently (prometheus-cpp locks its family).

#include <memory>
#include <string>
#include <string_view>

namespace labmesh::webui {

class HttpMetrics {
 public:
  HttpMetrics();
  ~HttpMetrics();
  HttpMetrics(const HttpMetrics&) = delete;
  HttpMetrics& operator=(const HttpMetrics&) = delete;

  void Count(std::string_view route, int status);
  // The family in the Prometheus text format ("" before the first request).
  std::string Text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace labmesh::webui
