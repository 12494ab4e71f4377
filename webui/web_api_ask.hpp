#pragma once
// WebApi::Ask, the one way the web server asks the coordinator, for each file of WebApi
// (web_api.cpp, web_actions.cpp, live_events.cpp). Internal to webui.

#include "labmesh/protocol/envelope.hpp"
#include "labmesh/protocol/messages.hpp"
#include "labmesh/webui/web_api.hpp"

namespace labmesh::webui {

template <typename Reply, typename Request>
Result<Reply> WebApi::Ask(const Request& request, const Who& who) {
  uint64_t id = next_request_id_.fetch_add(1);
  std::string raw;
  {
    auto client = clients_.Acquire(who);
    auto reply = client->CallRaw(protocol::Encode(request, id, client->credentials()), id);
    if (!reply.ok()) return reply.status();
    raw = std::move(reply).value();
  }
  auto envelope = protocol::DecodeEnvelope(raw);
  if (!envelope.ok()) {
    return Status::Internal("undecodable reply from the coordinator: " +
                            envelope.status().message());
  }
  if (envelope->type == protocol::MessageType::kError) {
    auto error = protocol::DecodeBody<protocol::ErrorReply>(*envelope);
    if (!error.ok()) {
      return Status::Internal("malformed error reply from the coordinator: " +
                              error.status().message());
    }
    return error->ToStatus();
  }
  auto reply = protocol::DecodeBody<Reply>(*envelope);
  if (!reply.ok()) {
    return Status::Internal("unexpected reply from the coordinator: " + reply.status().message());
  }
  return reply;
}

}  // namespace labmesh::webui
