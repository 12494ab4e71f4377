#include "labmesh/protocol/envelope.hpp"

#include <exception>

#include "protocol_codec.hpp"

namespace labmesh::protocol {
namespace {

// Walks a frame without building anything and stops at the first container that cannot be
// genuine. msgpack-c allocates a container's element storage as soon as it reads the header, so
// without this walk a 5-byte array header claiming a million elements costs 16 MiB, and 32 nested
// ones in a 160-byte frame reserve a gigabyte. Every MessagePack object takes at least one byte,
// so the elements declared by all the containers of a genuine frame add up to less than its size:
// that sum is the budget. Depth is bounded here too, before the parser's own stack can grow.
class ShapeCheck : public msgpack::null_visitor {
 public:
  ShapeCheck(size_t frame_bytes, const DecodeLimits& limits)
      : budget_(frame_bytes), limits_(limits) {}

  bool start_array(uint32_t elements) { return Enter(elements, elements); }
  bool end_array() { return Leave(); }
  bool start_map(uint32_t pairs) { return Enter(pairs, 2 * static_cast<uint64_t>(pairs)); }
  bool end_map() { return Leave(); }

  // Empty when the frame's shape is within bounds (or it is malformed in another way, which the
  // real decode reports).
  const std::string& failure() const { return failure_; }

 private:
  // `size` is what the limit counts (elements or pairs), `objects` what the frame must hold.
  bool Enter(uint64_t size, uint64_t objects) {
    if (++depth_ > limits_.max_depth) {
      failure_ = "nesting deeper than " + std::to_string(limits_.max_depth);
      return false;
    }
    if (size > limits_.max_container_elements) {
      failure_ = "a container of " + std::to_string(size) + " elements exceeds the limit of " +
                 std::to_string(limits_.max_container_elements);
      return false;
    }
    if (objects > budget_) {
      failure_ = "containers declare more elements than the frame has bytes";
      return false;
    }
    budget_ -= objects;
    return true;
  }
  bool Leave() {
    --depth_;
    return true;
  }

  uint64_t budget_;
  const DecodeLimits& limits_;
  size_t depth_ = 0;
  std::string failure_;
};

// Reads the request id of an envelope - the third element of a top-level array of four or
// five elements, when it is an unsigned integer - and stops there (returning false stops
// msgpack::parse). Anything else before it (a container, a frame that is no array) means no id.
class RequestIdPeek : public msgpack::null_visitor {
 public:
  bool start_array(uint32_t elements) {
    if (depth_ != 0 || (elements != 4 && elements != 5)) return false;
    depth_ = 1;
    return true;
  }
  bool start_map(uint32_t) { return false; }
  bool start_array_item() {
    ++index_;
    return true;
  }
  bool visit_positive_integer(uint64_t value) {
    if (depth_ != 1) return false;
    if (index_ == 2) {
      id_ = value;
      return false;
    }
    return true;
  }
  // The version and type are checked by DecodeEnvelope, not here; any scalar passes.
  bool visit_nil() { return Scalar(); }
  bool visit_boolean(bool) { return Scalar(); }
  bool visit_negative_integer(int64_t) { return Scalar(); }
  bool visit_float32(float) { return Scalar(); }
  bool visit_float64(double) { return Scalar(); }
  bool visit_str(const char*, uint32_t) { return Scalar(); }
  bool visit_bin(const char*, uint32_t) { return Scalar(); }
  bool visit_ext(const char*, uint32_t) { return Scalar(); }

  uint64_t id() const { return id_; }

 private:
  bool Scalar() const { return depth_ == 1 && index_ < 2; }

  int depth_ = 0;
  int index_ = -1;
  uint64_t id_ = 0;
};

// The frame as a MessagePack object, with the size, shape and single-object checks applied.
Result<msgpack::object_handle> UnpackFrame(std::string_view frame, const DecodeLimits& limits) {
  if (frame.size() > limits.max_frame_bytes) {
    return Status::TooLarge("frame of " + std::to_string(frame.size()) +
                            " bytes exceeds the limit of " +
                            std::to_string(limits.max_frame_bytes));
  }
  if (frame.empty()) return Status::InvalidArgument("empty frame");
  try {
    ShapeCheck shape(frame.size(), limits);
    std::size_t offset = 0;
    if (!msgpack::parse(frame.data(), frame.size(), offset, shape) && !shape.failure().empty()) {
      return Status::InvalidArgument("malformed frame: " + shape.failure());
    }
    auto n = limits.max_container_elements;
    msgpack::unpack_limit unpack_limits(n, n, limits.max_frame_bytes, limits.max_frame_bytes, n,
                                        limits.max_depth);
    offset = 0;
    msgpack::object_handle handle =
        msgpack::unpack(frame.data(), frame.size(), offset, nullptr, nullptr, unpack_limits);
    if (offset != frame.size()) {
      return Status::InvalidArgument("trailing bytes after the message");
    }
    return handle;
  } catch (const msgpack::insufficient_bytes&) {
    return Status::InvalidArgument("truncated frame");
  } catch (const msgpack::unpack_error& e) {
    // msgpack-c's own words ("parse error", "str size overflow", ...), never a C++ type name.
    return Status::InvalidArgument(std::string("not MessagePack: ") + e.what());
  } catch (const std::exception&) {
    return Status::InvalidArgument("not MessagePack: the frame cannot be decoded");
  }
}

}  // namespace

Result<Envelope> DecodeEnvelope(std::string_view frame, const DecodeLimits& limits) {
  auto unpacked = UnpackFrame(frame, limits);
  if (!unpacked.ok()) return unpacked.status();
  msgpack::object_handle& handle = *unpacked;
  Envelope envelope;
  const msgpack::object& root = handle.get();
  if (root.type != msgpack::type::ARRAY ||
      (root.via.array.size != 4 && root.via.array.size != 5)) {
    return Status::InvalidArgument("envelope is not an array of four or five elements");
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
  if (root.via.array.size == 5) {
    if (items[4].type != msgpack::type::MAP) {
      return Status::InvalidArgument("envelope credentials are not a map");
    }
    try {
      items[4].convert(envelope.credentials);
    } catch (const std::exception&) {
      return Status::InvalidArgument(
          "malformed envelope credentials: a key or value that is not a string");
    }
  }
  envelope.version = static_cast<uint32_t>(items[0].via.u64);
  envelope.type = static_cast<MessageType>(items[1].via.u64);
  envelope.request_id = items[2].via.u64;
  // The body object points into the handle's zone; keep the zone alive with it.
  envelope.body = MakeBody(items[3], std::move(handle.zone()));
  return envelope;
}

uint64_t PeekRequestId(std::string_view frame, const DecodeLimits&) {
  // Only the envelope's first three elements are read, so the id is found whatever follows
  // it: a body nested too deep, a frame over the size limit, garbage after the id.
  RequestIdPeek peek;
  try {
    std::size_t offset = 0;
    (void)msgpack::parse(frame.data(), frame.size(), offset, peek);
  } catch (const std::exception&) {
  }
  return peek.id();
}

ErrorReply ErrorReply::FromStatus(const Status& status) {
  return ErrorReply{static_cast<uint32_t>(status.code()), status.message()};
}

Status ErrorReply::ToStatus() const {
  auto c = static_cast<StatusCode>(code);
  if (c == StatusCode::kOk || code > static_cast<uint32_t>(StatusCode::kUnauthenticated)) {
    c = StatusCode::kInternal;
  }
  return Status(c, message);
}

std::string ErrorFrame(uint64_t request_id, const Status& status) {
  return Encode(ErrorReply::FromStatus(status), request_id);
}

std::string OkFrame(uint64_t request_id, std::string message) {
  return Encode(OkReply{std::move(message)}, request_id);
}

}  // namespace labmesh::protocol
