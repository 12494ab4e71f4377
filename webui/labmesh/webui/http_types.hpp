#pragma once
// A plain HTTP request and response, so that web handlers can be written and tested without
// any HTTP server library. HttpServer fills an HttpRequest from civetweb and writes the
// HttpResponse back.

#include <unistd.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace labmesh::webui {

struct HttpRequest {
  std::string method;  // "GET", "POST", ... as sent
  // The path exactly as sent, without the query: still percent-encoded and not normalised
  // ("/a/../b" arrives as such), so every handler decides for itself what "..", "%2F" or a
  // backslash mean: "/api/v1/hosts/lab%2D1".
  std::string path;
  std::string query;  // raw text after '?', without it; "" when none
  std::string body;
  // Request headers as sent (names in the client's spelling); look them up with FindHeader.
  std::vector<std::pair<std::string, std::string>> headers;
  // The HTTP client's IP address ("127.0.0.1", "::1"), as the server saw the connection; ""
  // when unknown (a handler called directly). Sent to the coordinator as Credentials::from.
  std::string remote_addr;
  bool tls = false;  // the request came over HTTPS (cookies then get the Secure attribute)
};

// The value of the first header called `name` (compared case-insensitively), or nullopt.
std::optional<std::string_view> FindHeader(const HttpRequest& request, std::string_view name);

// Owns a file descriptor and closes it when destroyed. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// A response body read from an open file: `length` bytes from `offset`. The server streams it
// in pieces (it is never loaded whole), after headers that announce `length`; if the file has
// shrunk meanwhile the body ends early and the connection closes.
struct FileBody {
  UniqueFd fd;
  uint64_t offset = 0;
  uint64_t length = 0;
};

// Where a streamed body (server-sent events) goes. Both calls return false once the client has
// gone or the server is stopping; the producer must then return promptly.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual bool Write(std::string_view bytes) = 0;
  // Waits `ms` (less when the server stops).
  virtual bool Wait(int64_t ms) = 0;
};

// A body produced while it is sent, after the headers, without a Content-Length; the
// connection closes when the function returns. Runs on the server's worker thread.
using StreamBody = std::function<void(StreamSink& sink)>;

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::string body;  // ignored when `file` is set
  // Extra headers (Allow, Cache-Control, ...). Content-Type and Content-Length are written by
  // the server from the fields above.
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is these bytes of a file instead of `body`.
  std::shared_ptr<const FileBody> file;
  // When set (and `file` is not), the body is what this writes (server-sent events).
  StreamBody stream;

  // The Content-Length this response announces.
  uint64_t body_length() const { return file ? file->length : body.size(); }
};

// Something that answers HTTP requests. Called concurrently from the server's worker threads:
// implementations must be thread-safe.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual HttpResponse Handle(const HttpRequest& request) = 0;
};

}  // namespace labmesh::webui
