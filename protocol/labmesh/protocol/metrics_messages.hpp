#pragma once
// The coordinator's metrics over the API (docs/monitoring.md): the web server's GET /metrics
// asks with MetricsRequest and serves the text of the reply, after its own HTTP counters.
// Plain structs; the MessagePack codec lives in protocol/*.cpp.

#include <string>

#include "labmesh/protocol/types.hpp"

namespace labmesh::protocol {

// Who may scrape: the coordinator's --metrics-token when it has one, otherwise loopback
// clients only (the plain API socket; the web server's clients from 127.0.0.0/8 or ::1).
// Reply MetricsReply; a wrong or missing token is Unauthenticated, a non-loopback client
// without a configured token PermissionDenied.
struct MetricsRequest {
  static constexpr MessageType kType = MessageType::kMetricsRequest;
  std::string token;  // the scrape token (`Authorization: Bearer` on /metrics); "" = none
};

struct MetricsReply {
  static constexpr MessageType kType = MessageType::kMetricsReply;
  std::string text;  // Prometheus text exposition format 0.0.4, one family after another
};

}  // namespace labmesh::protocol
