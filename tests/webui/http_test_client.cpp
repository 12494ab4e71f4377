#include "http_test_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

namespace labmesh::webui::testing {
namespace {

Result<RawHttpResponse> Parse(std::string raw) {
  RawHttpResponse response;
  size_t header_end = raw.find("\r\n\r\n");
  if (header_end == std::string::npos) {
    return Status::Corruption("no end of headers in: " + raw.substr(0, 200));
  }
  std::string head = raw.substr(0, header_end);
  response.body = raw.substr(header_end + 4);
  size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) {
    return Status::Corruption("bad status line: " + status_line);
  }
  response.status = std::stoi(status_line.substr(9, 3));
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(pos, end - pos);
    pos = end + 2;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t value_start = line.find_first_not_of(' ', colon + 1);
    response.headers[name] = value_start == std::string::npos ? "" : line.substr(value_start);
  }
  response.raw = std::move(raw);
  return response;
}

}  // namespace

Result<RawHttpResponse> SendRaw(int port, const std::string& request) {
  return SendRawUntil(port, request, {});
}

Result<RawHttpResponse> SendRawUntil(int port, const std::string& request,
                                     const std::function<bool(const std::string&)>& enough) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Status::Internal(std::string("socket: ") + std::strerror(errno));
  // A deadline, so that a broken server fails the test instead of hanging it.
  timeval timeout{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    int err = errno;
    ::close(fd);
    return Status::Unavailable(std::string("connect: ") + std::strerror(err));
  }
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may answer (413) and close before taking everything
    sent += static_cast<size_t>(n);
  }
  // Everything is sent: say so, so that a server draining an unread body sees the end of it.
  ::shutdown(fd, SHUT_WR);
  std::string raw;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      raw.append(buffer, static_cast<size_t>(n));
      if (enough && enough(raw)) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && raw.empty()) {
      int err = errno;
      ::close(fd);
      return Status::Unavailable(std::string("recv: ") + std::strerror(err));
    }
    break;  // closed (or reset after a complete answer)
  }
  ::close(fd);
  return Parse(std::move(raw));
}

Result<RawHttpResponse> Request(int port, const std::string& method, const std::string& target) {
  return Request(port, method, target, "");
}

Result<RawHttpResponse> Request(int port, const std::string& method, const std::string& target,
                                const std::string& headers, const std::string& body) {
  std::string length =
      body.empty() ? "" : "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return SendRaw(port, method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers +
                           length + "Connection: close\r\n\r\n" + body);
}

Result<RawHttpResponse> ReadStream(int port, const std::string& target, const std::string& headers,
                                   const std::string& until) {
  return SendRawUntil(
      port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "\r\n",
      [&](const std::string& raw) {
        size_t body = raw.find("\r\n\r\n");
        return body != std::string::npos && raw.find(until, body) != std::string::npos;
      });
}

}  // namespace labmesh::webui::testing
