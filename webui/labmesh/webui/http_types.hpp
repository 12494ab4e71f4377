#pragma once
// A plain HTTP request and response, so that web handlers can be written and tested without
// any HTTP server library. HttpServer fills an HttpRequest from civetweb and writes the
// HttpResponse back.

#include <string>
#include <utility>
#include <vector>

namespace labmesh::webui {

struct HttpRequest {
  std::string method;  // "GET", "POST", ... as sent
  std::string path;    // still percent-encoded, without the query: "/api/v1/hosts/lab%2D1"
  std::string query;   // raw text after '?', without it; "" when none
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  // Extra headers (Allow, Cache-Control, ...). Content-Type and Content-Length are written by
  // the server from the fields above.
  std::vector<std::pair<std::string, std::string>> headers;
};

// Something that answers HTTP requests. Called concurrently from the server's worker threads:
// implementations must be thread-safe.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual HttpResponse Handle(const HttpRequest& request) = 0;
};

}  // namespace labmesh::webui
