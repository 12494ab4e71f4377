#pragma once
// The coordinator's HTTP server: civetweb listening on one address, every request handed to an
// HttpHandler (WebApi) as a plain HttpRequest. This is the only file that knows civetweb.
//
// Threads: civetweb runs `num_threads` workers that call the handler concurrently; Start, port
// and Stop may be called from any one owning thread.

#include <cstddef>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "labmesh/common/status.hpp"
#include "labmesh/webui/http_types.hpp"

struct mg_context;
struct mg_connection;

namespace labmesh::webui {

struct HttpServerOptions {
  // "127.0.0.1:7780", "[::1]:7780" or a bare port (all interfaces). Port 0 picks a free port;
  // read it back with port().
  std::string listen = "127.0.0.1:7780";
  // Each open live-events stream holds one (WebApiOptions::max_live_streams caps them).
  int num_threads = 40;
  int request_timeout_ms = 10000;       // a client slower than this is cut off
  size_t max_body_bytes = 1024 * 1024;  // a larger request body gets 413
};

class HttpServer {
 public:
  // Binds and starts serving. `handler` (not owned) must outlive the server.
  // InvalidArgument for a malformed listen address, Unavailable when it cannot bind.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   HttpHandler* handler);
  static Result<std::unique_ptr<HttpServer>> Start(const std::string& listen,
                                                   HttpHandler* handler);

  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port actually bound (the chosen one when started with port 0).
  int port() const { return port_; }

  // Stops accepting, waits for requests in progress to finish, frees the port. Idempotent.
  void Stop();

 private:
  HttpServer(HttpHandler* handler, size_t max_body_bytes)
      : handler_(handler), max_body_bytes_(max_body_bytes) {}
  static int OnRequest(mg_connection* conn, void* self);
  int Serve(mg_connection* conn);

  class ConnectionSink;

  HttpHandler* handler_;
  const size_t max_body_bytes_;
  // Set by Stop() before mg_stop so that streamed bodies (which would otherwise keep their
  // worker, and so mg_stop, waiting) end at once.
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  mg_context* context_ = nullptr;
  int port_ = 0;
  std::string wake_host_;  // where Stop() connects to wake civetweb's accept loop
};

// Checks a listen address ("host:port", "[v6]:port" or "port", port 0..65535).
Status ValidateListenAddress(const std::string& listen);

}  // namespace labmesh::webui
