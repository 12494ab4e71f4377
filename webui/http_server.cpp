#include "labmesh/webui/http_server.hpp"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <exception>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

namespace labmesh::webui {
namespace {

// Routes civetweb's own error log (bind failures, bad requests, ...) into spdlog instead of
// its default of writing to stderr.
int LogCivetwebMessage(const mg_connection*, const char* message) {
  spdlog::warn("webui: civetweb: {}", message ? message : "");
  return 1;
}

void InitCivetwebOnce() {
  static std::once_flag once;
  // Never undone with mg_exit_library: other servers in the process (tests start many) may
  // still be running, and the library's global state is small.
  std::call_once(once, [] { mg_init_library(0); });
}

// The piece size for file bodies: large enough for few syscalls, small enough that a big
// result file costs a worker thread only this much memory.
constexpr size_t kFileChunkBytes = 64 * 1024;

// Streams file.length bytes of file.fd from file.offset. The headers are already sent, so a
// file that shrank or a read error can only end the body early; the connection is not kept
// alive, so the client sees a short body rather than a confused next response.
void WriteFileBody(mg_connection* conn, const FileBody& file) {
  std::vector<char> buffer(static_cast<size_t>(std::min<uint64_t>(kFileChunkBytes, file.length)));
  uint64_t offset = file.offset;
  uint64_t left = file.length;
  while (left > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(left, buffer.size()));
    ssize_t n = ::pread(file.fd.get(), buffer.data(), want, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      spdlog::warn("webui: file body ended {} bytes early ({})", left,
                   n < 0 ? std::strerror(errno) : "file shrank");
      return;
    }
    if (mg_write(conn, buffer.data(), static_cast<size_t>(n)) <= 0) return;  // client gone
    offset += static_cast<uint64_t>(n);
    left -= static_cast<uint64_t>(n);
  }
}

// "Sun, 06 Dec 2026 07:45:00 GMT" (RFC 9110's IMF-fixdate) for now, with gmtime_r. civetweb adds
// a Date header itself when a response has none, but Debian's build formats it with gmtime(),
// whose one static result every worker thread writes at once (ThreadSanitizer found it: two
// answers sent together could carry each other's, or a torn, date); with ours it adds none.
std::string HttpDateNow() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  char text[64] = "";
  if (::gmtime_r(&now, &utc) != nullptr) {
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
  }
  return text;
}

// Writes the status line and headers, and the body unless it is streamed (the caller then
// runs response.stream) or the request was HEAD.
void WriteResponse(mg_connection* conn, const HttpResponse& response, bool head_only) {
  mg_response_header_start(conn, response.status);
  if (!response.content_type.empty()) {
    mg_response_header_add(conn, "Content-Type", response.content_type.c_str(), -1);
  }
  if (!response.stream || response.file) {
    std::string length = std::to_string(response.body_length());
    mg_response_header_add(conn, "Content-Length", length.c_str(), -1);
  }
  bool nosniff = false, date = false;
  for (const auto& [name, value] : response.headers) {
    mg_response_header_add(conn, name.c_str(), value.c_str(), -1);
    nosniff = nosniff || name == "X-Content-Type-Options";
    date = date || name == "Date";
  }
  if (!date) mg_response_header_add(conn, "Date", HttpDateNow().c_str(), -1);
  // Every answer, JSON and errors included: the browser takes the Content-Type as given and
  // never guesses HTML (or script) from a body that quotes someone's text.
  if (!nosniff) mg_response_header_add(conn, "X-Content-Type-Options", "nosniff", -1);
  mg_response_header_send(conn);
  if (head_only) return;
  if (response.file) {
    WriteFileBody(conn, *response.file);
  } else if (!response.body.empty()) {
    mg_write(conn, response.body.data(), response.body.size());
  }
}

HttpResponse PlainError(int status, std::string_view code, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.content_type = "application/json";
  // Messages here are our own constants: no escaping needed.
  response.body = "{\"error\": \"" + std::string(message) + "\", \"code\": \"" +
                  std::string(code) + "\"}\n";
  return response;
}

// The address to connect to in order to reach a server listening on `listen` (already valid):
// its host, or loopback for a wildcard or missing host.
std::string WakeHost(const std::string& listen) {
  if (!listen.empty() && listen.front() == '[') {
    std::string host = listen.substr(1, listen.find(']') - 1);
    return host == "::" ? "::1" : host;
  }
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return "127.0.0.1";
  std::string host = listen.substr(0, colon);
  return host == "0.0.0.0" ? "127.0.0.1" : host;
}

// Opens and closes one TCP connection to host:port, without sending anything.
void Poke(const std::string& host, int port) {
  sockaddr_storage address{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    length = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    length = sizeof *v6;
  } else {
    return;  // a name, not an address: civetweb then just stops at its own pace
  }
  int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  (void)::connect(fd, reinterpret_cast<sockaddr*>(&address), length);
  ::close(fd);
}

}  // namespace

// A streamed body's writes go straight to the connection; waits end early when the server
// stops.
class HttpServer::ConnectionSink final : public StreamSink {
 public:
  ConnectionSink(HttpServer* server, mg_connection* conn) : server_(server), conn_(conn) {}

  bool Write(std::string_view bytes) override {
    if (Stopping() || gone_) return false;
    if (!bytes.empty() && mg_write(conn_, bytes.data(), bytes.size()) <= 0) gone_ = true;
    return !gone_;
  }

  bool Wait(int64_t ms) override {
    std::unique_lock lock(server_->stop_mutex_);
    server_->stop_cv_.wait_for(lock, std::chrono::milliseconds(ms),
                               [this] { return server_->stopping_; });
    return !server_->stopping_ && !gone_;
  }

 private:
  bool Stopping() {
    std::lock_guard lock(server_->stop_mutex_);
    return server_->stopping_;
  }

  HttpServer* server_;
  mg_connection* conn_;
  bool gone_ = false;
};

Status ValidateListenAddress(const std::string& listen) {
  std::string_view text = listen;
  std::string_view port = text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find("]:");
    if (close == std::string_view::npos || close < 2) {
      return Status::InvalidArgument("listen address " + listen + " is not [ipv6]:port");
    }
    port = text.substr(close + 2);
  } else if (size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    if (colon == 0) return Status::InvalidArgument("listen address " + listen + " has no host");
    port = text.substr(colon + 1);
  }
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(std::string(port)) > 65535) {
    return Status::InvalidArgument("listen address " + listen +
                                   " needs a port 0..65535 (host:port or port)");
  }
  if (listen.find_first_of(", \t\r\n") != std::string::npos) {
    return Status::InvalidArgument("listen address " + listen + " must be a single address");
  }
  return Status::Ok();
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& listen,
                                                      HttpHandler* handler) {
  HttpServerOptions options;
  options.listen = listen;
  return Start(options, handler);
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                      HttpHandler* handler) {
  LABMESH_RETURN_IF_ERROR(ValidateListenAddress(options.listen));
  if (handler == nullptr) return Status::InvalidArgument("HttpServer needs a handler");
  if (options.num_threads < 1) return Status::InvalidArgument("num_threads must be >= 1");
  InitCivetwebOnce();

  std::unique_ptr<HttpServer> server(new HttpServer(handler, options.max_body_bytes));
  std::string threads = std::to_string(options.num_threads);
  std::string timeout = std::to_string(options.request_timeout_ms);
  // decode_url=no: the handler gets the path still percent-encoded and decodes each segment
  // itself, so "%2F" inside a hostname does not turn into a path separator (civetweb's default
  // decodes the whole path first, and cuts it at a "%00").
  const char* config[] = {"listening_ports",    options.listen.c_str(),
                          "num_threads",        threads.c_str(),
                          "request_timeout_ms", timeout.c_str(),
                          "decode_url",         "no",
                          "enable_keep_alive",  "no",
                          nullptr};
  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof callbacks);
  callbacks.log_message = &LogCivetwebMessage;
  char error_text[256] = {0};
  unsigned error_code = 0;
  mg_error_data error{&error_code, error_text, sizeof error_text};
  mg_init_data init{&callbacks, server.get(), config};
  server->context_ = mg_start2(&init, &error);
  if (server->context_ == nullptr) {
    return Status::Unavailable("cannot serve HTTP on " + options.listen + ": " +
                               (error_text[0] ? error_text : "civetweb failed to start"));
  }
  // The catch-all: civetweb matches handlers by URI prefix, and "/" prefixes every request.
  mg_set_request_handler(server->context_, "/", &HttpServer::OnRequest, server.get());

  mg_server_port ports[4];
  std::memset(ports, 0, sizeof ports);
  int count = mg_get_server_ports(server->context_, 4, ports);
  if (count < 1 || ports[0].port <= 0) {
    server->Stop();
    return Status::Internal("civetweb started on " + options.listen +
                            " but reports no listening port");
  }
  server->port_ = ports[0].port;
  server->wake_host_ = WakeHost(options.listen);
  spdlog::info("webui: serving HTTP on {} (port {})", options.listen, server->port_);
  return server;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  if (context_ == nullptr) return;
  // civetweb's master thread sees the stop flag only when poll() on the listening socket
  // returns, which an idle server does every 2 s (SOCKET_TIMEOUT_QUANTUM, compiled in). A
  // connection to ourselves wakes it at once; the poked connections carry no request and are
  // closed by civetweb without reaching the handler. Poking stops as soon as mg_stop returns.
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  std::atomic<bool> stopped{false};
  std::thread waker;
  if (port_ > 0) {
    waker = std::thread([this, &stopped] {
      while (!stopped.load()) {
        Poke(wake_host_, port_);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  mg_stop(context_);  // joins the workers: no OnRequest runs after this returns
  stopped = true;
  if (waker.joinable()) waker.join();
  context_ = nullptr;
}

int HttpServer::OnRequest(mg_connection* conn, void* self) {
  // Nothing may unwind into civetweb's C frames.
  try {
    return static_cast<HttpServer*>(self)->Serve(conn);
  } catch (const std::exception& e) {
    spdlog::error("webui: request failed: {}", e.what());
  } catch (...) {
    spdlog::error("webui: request failed with an unknown exception");
  }
  WriteResponse(conn, PlainError(500, "Internal", "internal error"), false);
  return 500;
}

int HttpServer::Serve(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  HttpRequest request;
  request.method = info->request_method ? info->request_method : "";
  bool head_only = request.method == "HEAD";
  // local_uri_raw is the path exactly as sent (decode_url=no keeps it encoded); it is null for
  // an absolute URI naming another server. Not local_uri: civetweb "cleans" that one by
  // resolving "." and ".." segments, turning backslashes into slashes and merging "//", so a
  // handler could never see (and refuse) what the client really asked for.
  if (info->local_uri_raw == nullptr) {
    WriteResponse(conn, PlainError(400, "InvalidArgument", "request target is not a local path"),
                  head_only);
    return 400;
  }
  request.path = info->local_uri_raw;
  request.query = info->query_string ? info->query_string : "";
  request.remote_addr = info->remote_addr;  // a char array, always terminated
  request.tls = info->is_ssl != 0;
  for (int i = 0; i < info->num_headers; ++i) {
    const mg_header& header = info->http_headers[i];
    request.headers.emplace_back(header.name ? header.name : "", header.value ? header.value : "");
  }

  // Refuse a body over the cap before reading it when its length is announced, otherwise
  // (chunked) as soon as it grows past the cap. The connection is not kept alive, so the unread
  // rest is never taken for a next request.
  if (info->content_length > static_cast<long long>(max_body_bytes_)) {
    WriteResponse(conn, PlainError(413, "TooLarge", "request body too large"), head_only);
    return 413;
  }
  if (info->content_length != 0) {
    char buffer[16384];
    for (;;) {
      int n = mg_read(conn, buffer, sizeof buffer);
      if (n <= 0) break;
      request.body.append(buffer, static_cast<size_t>(n));
      if (request.body.size() > max_body_bytes_) {
        WriteResponse(conn, PlainError(413, "TooLarge", "request body too large"), head_only);
        return 413;
      }
    }
  }

  HttpResponse response = handler_->Handle(request);
  WriteResponse(conn, response, head_only);
  if (response.stream && !response.file && !head_only) {
    ConnectionSink sink(this, conn);
    response.stream(sink);
  }
  return response.status;
}

}  // namespace labmesh::webui
