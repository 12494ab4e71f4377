#include "labmesh/protocol/envelope.hpp"

#include <exception>

namespace labmesh::protocol {

Result<Envelope> DecodeEnvelope(std::string_view frame, const DecodeLimits& limits) {
  if (frame.size() > limits.max_frame_bytes) {
    return Status::TooLarge("frame of " + std::to_string(frame.size()) +
                            " bytes exceeds the limit of " +
                            std::to_string(limits.max_frame_bytes));
  }
  if (frame.empty()) return Status::InvalidArgument("empty frame");
  Envelope envelope;
  msgpack::object_handle handle;
  try {
    auto n = limits.max_container_elements;
    msgpack::unpack_limit unpack_limits(n, n, limits.max_frame_bytes, limits.max_frame_bytes, n,
                                        limits.max_depth);
    std::size_t offset = 0;
    handle = msgpack::unpack(frame.data(), frame.size(), offset, nullptr, nullptr, unpack_limits);
    if (offset != frame.size()) {
      return Status::InvalidArgument("trailing bytes after the message");
    }
  } catch (const msgpack::insufficient_bytes&) {
    return Status::InvalidArgument("truncated frame");
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("not MessagePack: ") + e.what());
  }
  const msgpack::object& root = handle.get();
  if (root.type != msgpack::type::ARRAY || root.via.array.size != 4) {
    return Status::InvalidArgument("envelope is not a four-element array");
  }
  const msgpack::object* items = root.via.array.ptr;
  for (int i = 0; i < 3; ++i) {
    if (items[i].type != msgpack::type::POSITIVE_INTEGER) {
      return Status::InvalidArgument("envelope field " + std::to_string(i) +
                                     " is not an unsigned integer");
    }
  }
  if (items[0].via.u64 != kProtocolVersion) {
    return Status::Unsupported("protocol version " + std::to_string(items[0].via.u64) +
                               " (this side speaks " + std::to_string(kProtocolVersion) + ")");
  }
  if (items[1].via.u64 > 0xffff || !IsKnownMessageType(static_cast<uint32_t>(items[1].via.u64))) {
    return Status::Unsupported("unknown message type " + std::to_string(items[1].via.u64));
  }
  if (items[3].type != msgpack::type::MAP) {
    return Status::InvalidArgument("message body is not a map");
  }
  envelope.version = static_cast<uint32_t>(items[0].via.u64);
  envelope.type = static_cast<MessageType>(items[1].via.u64);
  envelope.request_id = items[2].via.u64;
  // The body object points into the handle's zone; keep the zone alive with it.
  envelope.body = msgpack::object_handle(items[3], std::move(handle.zone()));
  return envelope;
}

namespace detail {

std::string PackEnvelope(MessageType type, uint64_t request_id, const msgpack::sbuffer& body) {
  msgpack::sbuffer out(body.size() + 16);
  msgpack::packer<msgpack::sbuffer> packer(out);
  packer.pack_array(4);
  packer.pack(kProtocolVersion);
  packer.pack(static_cast<uint32_t>(type));
  packer.pack(request_id);
  out.write(body.data(), body.size());
  return std::string(out.data(), out.size());
}

Status ConvertError(MessageType type, const char* what) {
  return Status::InvalidArgument(std::string("malformed ") + std::string(MessageTypeName(type)) +
                                 " body (" + what + ")");
}

}  // namespace detail

ErrorReply ErrorReply::FromStatus(const Status& status) {
  return ErrorReply{static_cast<uint32_t>(status.code()), status.message()};
}

Status ErrorReply::ToStatus() const {
  auto c = static_cast<StatusCode>(code);
  if (c == StatusCode::kOk || code > static_cast<uint32_t>(StatusCode::kUnsupported)) {
    c = StatusCode::kInternal;
  }
  return Status(c, message);
}

}  // namespace labmesh::protocol
