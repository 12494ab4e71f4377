#pragma once
// A tiny HTTP/1.1 client over plain POSIX sockets for the webui tests: connect to 127.0.0.1,
// send one request, read until the server closes (the server does not keep connections alive).

#include <functional>
#include <map>
#include <string>

#include "labmesh/common/status.hpp"

namespace labmesh::webui::testing {

struct RawHttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string raw;
};

// Sends `request` (the full bytes, headers and body) and parses the reply.
Result<RawHttpResponse> SendRaw(int port, const std::string& request);
// The same, but stops reading (and closes) as soon as `enough` says the bytes so far suffice.
Result<RawHttpResponse> SendRawUntil(int port, const std::string& request,
                                     const std::function<bool(const std::string&)>& enough);

// GET (or another body-less method) `target` ("/api/v1/hosts?status=Ready").
Result<RawHttpResponse> Request(int port, const std::string& method, const std::string& target);
// The same with more header lines ("Authorization: Bearer lmt_...\r\n") and a body.
Result<RawHttpResponse> Request(int port, const std::string& method, const std::string& target,
                                const std::string& headers, const std::string& body = "");

// A streamed GET (server-sent events): reads until the body contains `until` (or the server
// closes, or 30 s pass), then hangs up.
Result<RawHttpResponse> ReadStream(int port, const std::string& target, const std::string& headers,
                                   const std::string& until);

}  // namespace labmesh::webui::testing
