#pragma once
// The envelope every labmesh message travels in, and the typed encode/decode around it.
// Pure data: no sockets, no I/O. See protocol/PROTOCOL.md for the wire format.
//
// A message is one ZeroMQ frame holding one MessagePack array of four or five elements:
//   [ protocol_version (uint), message_type (uint), request_id (uint), body (map),
//     credentials (map, optional: API requests only) ]
// Each body is a map with string keys (snake_case); decoders ignore keys they do not know and
// keep defaults for keys that are missing, so fields can be added without a version bump.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/messages.hpp"
#include "labmesh/protocol/types.hpp"

namespace labmesh::protocol {

inline constexpr uint32_t kProtocolVersion = 1;
inline constexpr size_t kDefaultMaxFrameBytes = 16 * 1024 * 1024;

// Bounds applied while decoding untrusted bytes.
struct DecodeLimits {
  size_t max_frame_bytes = kDefaultMaxFrameBytes;
  size_t max_container_elements = 1'000'000;  // per array or map
  size_t max_depth = 32;
};

// Who sends an API request (PROTOCOL.md "Credentials"). Exactly one way is used: a token (it
// names its user on its own; `user`, when given, must match), or a web session with its CSRF
// token (only the web server inside the coordinator sends these). `from` is where the web server's
// HTTP client connected from; the coordinator believes it only from its own web server.
struct Credentials {
  std::string user;
  std::string token;
  std::string session;
  std::string csrf;
  std::string from;
  bool empty() const {
    return user.empty() && token.empty() && session.empty() && csrf.empty() && from.empty();
  }
};

// A message body as DecodeEnvelope found it, not yet converted to a struct: an opaque, shared,
// read-only value (copies share it). What it holds is private to protocol/ (protocol_codec.hpp);
// callers convert it with DecodeBody<M> or describe it with DescribeBody.
class MessageBody {
 public:
  struct Impl;  // protocol_codec.hpp
  MessageBody() = default;
  explicit MessageBody(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  bool empty() const { return impl_ == nullptr; }
  const Impl* impl() const { return impl_.get(); }

 private:
  std::shared_ptr<const Impl> impl_;
};

// A decoded envelope. The body stays undecoded until DecodeBody<T> converts it.
struct Envelope {
  uint32_t version = 0;
  MessageType type = MessageType::kError;
  uint64_t request_id = 0;
  MessageBody body;
  Credentials credentials;  // empty when the frame has no fifth element
};

// Checks size, MessagePack validity, the four-element shape, the version and that the type is
// one this build knows. Never throws.
Result<Envelope> DecodeEnvelope(std::string_view frame, const DecodeLimits& limits = {});

// The request_id of a frame DecodeEnvelope refused, so that the Error reply can still echo it
// (a client matches replies by request_id): the third element when the frame begins with a
// MessagePack array of four or five elements whose first two are scalars and whose third is an
// unsigned integer, whatever follows (a body too deep, a frame too large); else 0. Reads only
// the frame's first bytes. Never throws.
uint64_t PeekRequestId(std::string_view frame, const DecodeLimits& limits = {});

// The typed encode and decode of every message struct (one with `static constexpr MessageType
// kType`). Declared here, defined and instantiated once per message type in protocol/codec.cpp,
// so that callers compile no MessagePack; a type missing from that list fails to link.

// Encodes a message struct.
template <typename M>
std::string Encode(const M& message, uint64_t request_id = 0);
// The same with credentials (a fifth element) when they are not empty.
template <typename M>
std::string Encode(const M& message, uint64_t request_id, const Credentials& credentials);

// Converts the envelope's body into M; wrong field types or a type mismatch are an error.
template <typename M>
Result<M> DecodeBody(const Envelope& envelope);

// Decodes a frame that must hold exactly an M (or an Error message, which becomes the Status).
template <typename M>
Result<M> DecodeAs(std::string_view frame, const DecodeLimits& limits = {});

// The body of a request as audit text: its fields as JSON-like text with secrets (password,
// token and anything named like them) replaced by "***" and bytes by their size, cut at
// `max_bytes` (ending in "..." when cut).
std::string DescribeBody(const Envelope& envelope, size_t max_bytes = 512);

}  // namespace labmesh::protocol
