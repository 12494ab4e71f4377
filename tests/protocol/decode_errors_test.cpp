// Bad input never crashes the decoder or escapes as an exception: every case below comes back as
// a typed Status (InvalidArgument for malformed bytes, Unsupported for a version or type this
// build does not speak, TooLarge for an oversized frame).

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "labmesh/protocol/envelope.hpp"
#include "labmesh/protocol/messages.hpp"
#include "protocol_codec.hpp"
#include "sample_messages.hpp"

namespace labmesh::protocol {
namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

template <typename Writer>
std::string Pack(Writer write) {
  msgpack::sbuffer buffer;
  Packer packer(buffer);
  write(packer);
  return std::string(buffer.data(), buffer.size());
}

// [version, type, request_id, body] with a hand-written body.
template <typename BodyWriter>
std::string Frame(uint64_t version, uint64_t type, uint64_t request_id, BodyWriter write_body) {
  return Pack([&](Packer& p) {
    p.pack_array(4);
    p.pack(version);
    p.pack(type);
    p.pack(request_id);
    write_body(p);
  });
}

std::string Frame(uint64_t version, uint64_t type, uint64_t request_id) {
  return Frame(version, type, request_id, [](Packer& p) { p.pack_map(0); });
}

// A body map with one key.
template <typename ValueWriter>
std::string OneField(MessageType type, const std::string& key, ValueWriter write_value) {
  return Frame(1, static_cast<uint32_t>(type), 1, [&](Packer& p) {
    p.pack_map(1);
    p.pack(key);
    write_value(p);
  });
}

std::string Bytes(std::initializer_list<unsigned> bytes) {
  std::string s;
  for (unsigned b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

StatusCode EnvelopeCode(std::string_view frame, const DecodeLimits& limits = {}) {
  Result<Envelope> envelope = Status::Internal("threw");
  EXPECT_NO_THROW(envelope = DecodeEnvelope(frame, limits));
  return envelope.status().code();
}

// Decodes a frame whose envelope is fine as M and returns the body's Status code.
template <typename M>
StatusCode BodyCode(const std::string& frame) {
  auto envelope = DecodeEnvelope(frame);
  EXPECT_TRUE(envelope.ok()) << envelope.status().ToString();
  if (!envelope.ok()) return StatusCode::kOk;
  Result<M> body = Status::Internal("threw");
  EXPECT_NO_THROW(body = DecodeBody<M>(*envelope));
  return body.status().code();
}

TEST(DecodeErrors, ValidFrameDecodes) {
  EXPECT_EQ(EnvelopeCode(Frame(1, 100, 7)), StatusCode::kOk);
}

TEST(DecodeErrors, WrongVersionIsUnsupported) {
  EXPECT_EQ(EnvelopeCode(Frame(0, 100, 7)), StatusCode::kUnsupported);
  EXPECT_EQ(EnvelopeCode(Frame(2, 100, 7)), StatusCode::kUnsupported);
  EXPECT_EQ(EnvelopeCode(Frame(UINT64_MAX, 100, 7)), StatusCode::kUnsupported);
}

TEST(DecodeErrors, UnknownTypeIsUnsupported) {
  for (uint64_t type : {0, 2, 9, 17, 38, 99, 118, 185, 195, 65535}) {
    EXPECT_EQ(EnvelopeCode(Frame(1, type, 7)), StatusCode::kUnsupported) << type;
  }
}

TEST(DecodeErrors, TypeAbove65535IsUnsupportedNotTruncated) {
  // 65536 + 100 would read as HostListRequest (100) if cut to 16 bits.
  EXPECT_EQ(EnvelopeCode(Frame(1, 65536 + 100, 7)), StatusCode::kUnsupported);
  EXPECT_EQ(EnvelopeCode(Frame(1, (uint64_t{1} << 32) + 100, 7)), StatusCode::kUnsupported);
  EXPECT_EQ(EnvelopeCode(Frame(1, UINT64_MAX, 7)), StatusCode::kUnsupported);
}

TEST(DecodeErrors, EveryPrefixOfEveryValidFrameIsInvalidArgument) {
  for (const std::string& frame : testing::AllSampleFrames()) {
    ASSERT_EQ(EnvelopeCode(frame), StatusCode::kOk);
    for (size_t n = 0; n < frame.size(); ++n) {
      ASSERT_EQ(EnvelopeCode(frame.substr(0, n)), StatusCode::kInvalidArgument)
          << "prefix of " << n << " of " << frame.size() << " bytes";
    }
  }
}

TEST(DecodeErrors, OversizedFrameIsTooLarge) {
  std::string frame = Encode(testing::Sample<HostListReply>(), 1);
  DecodeLimits limits;
  limits.max_frame_bytes = frame.size() - 1;
  EXPECT_EQ(EnvelopeCode(frame, limits), StatusCode::kTooLarge);
  limits.max_frame_bytes = frame.size();
  EXPECT_EQ(EnvelopeCode(frame, limits), StatusCode::kOk);
  limits.max_frame_bytes = 16;
  EXPECT_EQ(EnvelopeCode(frame, limits), StatusCode::kTooLarge);
  auto as = DecodeAs<HostListReply>(frame, limits);
  EXPECT_EQ(as.status().code(), StatusCode::kTooLarge);
}

TEST(DecodeErrors, DefaultLimitIs16MiB) {
  EXPECT_EQ(DecodeLimits{}.max_frame_bytes, size_t{16} << 20);
  // Refused on its size alone, before any parsing.
  std::string huge((size_t{16} << 20) + 1, '\x94');
  EXPECT_EQ(EnvelopeCode(huge), StatusCode::kTooLarge);
}

TEST(DecodeErrors, StringLongerThanTheFrameLimitIsRejected) {
  DecodeLimits limits;
  limits.max_frame_bytes = 64;
  // A str 32 header claiming 1000 bytes in a small frame.
  std::string frame = Frame(1, 102, 1, [](Packer& p) {
    p.pack_map(1);
    p.pack(std::string("hostname"));
    p.pack_str(1000);
  });
  EXPECT_EQ(EnvelopeCode(frame, limits), StatusCode::kInvalidArgument);
}

TEST(DecodeErrors, TrailingBytesAreInvalidArgument) {
  std::string frame = Encode(HostShowRequest{"lab-17"}, 1);
  EXPECT_EQ(EnvelopeCode(frame + '\0'), StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(frame + frame), StatusCode::kInvalidArgument);
}

TEST(DecodeErrors, NonArrayRootIsInvalidArgument) {
  EXPECT_EQ(EnvelopeCode(Pack([](Packer& p) { p.pack_map(0); })), StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(Pack([](Packer& p) { p.pack(1); })), StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(Pack([](Packer& p) { p.pack(std::string("[1,100,7,{}]")); })),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(Pack([](Packer& p) { p.pack_nil(); })), StatusCode::kInvalidArgument);
}

TEST(DecodeErrors, WrongArraySizeIsInvalidArgument) {
  EXPECT_EQ(EnvelopeCode(Pack([](Packer& p) { p.pack_array(0); })), StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(Pack([](Packer& p) {
              p.pack_array(3);
              p.pack(1);
              p.pack(100);
              p.pack(7);
            })),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(Pack([](Packer& p) {
              p.pack_array(6);
              p.pack(1);
              p.pack(100);
              p.pack(7);
              p.pack_map(0);
              p.pack_map(0);
              p.pack_map(0);
            })),
            StatusCode::kInvalidArgument);
}

TEST(DecodeErrors, CredentialsThatAreNotACredentialsMapAreInvalidArgument) {
  auto with_fifth = [](auto write) {
    return Pack([&](Packer& p) {
      p.pack_array(5);
      p.pack(1);
      p.pack(100);
      p.pack(7);
      p.pack_map(0);
      write(p);
    });
  };
  EXPECT_EQ(EnvelopeCode(with_fifth([](Packer& p) { p.pack("lmt_token"); })),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(with_fifth([](Packer& p) { p.pack_nil(); })),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(with_fifth([](Packer& p) {
              p.pack_map(1);
              p.pack("token");
              p.pack(7);
            })),
            StatusCode::kInvalidArgument);
  // An empty map is fine: no credentials.
  EXPECT_EQ(EnvelopeCode(with_fifth([](Packer& p) { p.pack_map(0); })), StatusCode::kOk);
}

TEST(DecodeErrors, NonIntegerHeaderFieldsAreInvalidArgument) {
  auto header = [](auto write_version, auto write_type, auto write_id) {
    return Pack([&](Packer& p) {
      p.pack_array(4);
      write_version(p);
      write_type(p);
      write_id(p);
      p.pack_map(0);
    });
  };
  auto one = [](Packer& p) { p.pack(1); };
  auto hundred = [](Packer& p) { p.pack(100); };
  auto seven = [](Packer& p) { p.pack(7); };
  auto text = [](Packer& p) { p.pack(std::string("1")); };
  // msgpack-c packs an integral double as an integer, so write float 64 (0xcb) by hand.
  auto real = [](Packer& p) {
    const std::string float64_one = Bytes({0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0});
    p.pack_str_body(float64_one.data(), static_cast<uint32_t>(float64_one.size()));
  };
  auto negative = [](Packer& p) { p.pack(-1); };
  auto nil = [](Packer& p) { p.pack_nil(); };
  auto boolean = [](Packer& p) { p.pack_true(); };
  EXPECT_EQ(EnvelopeCode(header(one, hundred, seven)), StatusCode::kOk);
  EXPECT_EQ(EnvelopeCode(header(text, hundred, seven)), StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(header(real, hundred, seven)), StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(header(boolean, hundred, seven)), StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(header(one, text, seven)), StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(header(one, real, seven)), StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(header(one, negative, seven)), StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(header(one, hundred, negative)), StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(header(one, hundred, nil)), StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(header(one, hundred, text)), StatusCode::kInvalidArgument);
}

TEST(DecodeErrors, BodyThatIsNotAMapIsInvalidArgument) {
  EXPECT_EQ(EnvelopeCode(Frame(1, 100, 7, [](Packer& p) { p.pack_array(0); })),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(Frame(1, 100, 7, [](Packer& p) { p.pack_nil(); })),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(Frame(1, 100, 7, [](Packer& p) { p.pack(std::string("{}")); })),
            StatusCode::kInvalidArgument);
}

TEST(DecodeErrors, StringWhereIntegerExpectedIsInvalidArgument) {
  EXPECT_EQ(BodyCode<Welcome>(OneField(MessageType::kWelcome, "heartbeat_interval_ms",
                                       [](Packer& p) { p.pack(std::string("5000")); })),
            StatusCode::kInvalidArgument);
}

TEST(DecodeErrors, IntegerWhereStringExpectedIsInvalidArgument) {
  EXPECT_EQ(BodyCode<HostShowRequest>(
                OneField(MessageType::kHostShowRequest, "hostname", [](Packer& p) { p.pack(42); })),
            StatusCode::kInvalidArgument);
}

TEST(DecodeErrors, IntegerOutOfTheFieldsRangeIsInvalidArgument) {
  // heartbeat_interval_ms is uint32: 2^32 does not fit; sequence is uint64: -1 does not fit.
  EXPECT_EQ(BodyCode<Welcome>(OneField(MessageType::kWelcome, "heartbeat_interval_ms",
                                       [](Packer& p) { p.pack(uint64_t{1} << 32); })),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BodyCode<HeartbeatAck>(
                OneField(MessageType::kHeartbeatAck, "sequence", [](Packer& p) { p.pack(-1); })),
            StatusCode::kInvalidArgument);
}

TEST(DecodeErrors, NilIsNotADefaultAndIsInvalidArgument) {
  EXPECT_EQ(
      BodyCode<Reject>(OneField(MessageType::kReject, "reason", [](Packer& p) { p.pack_nil(); })),
      StatusCode::kInvalidArgument);
}

TEST(DecodeErrors, WrongContainerTypesAreInvalidArgument) {
  // A string where an array of strings is expected, an array holding integers, a string where
  // a nested map is expected, an integer where a bool is expected, a string where a float is.
  EXPECT_EQ(BodyCode<AgentHello>(OneField(MessageType::kAgentHello, "labels",
                                          [](Packer& p) { p.pack(std::string("gpu")); })),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BodyCode<AgentHello>(OneField(MessageType::kAgentHello, "labels",
                                          [](Packer& p) {
                                            p.pack_array(2);
                                            p.pack(1);
                                            p.pack(2);
                                          })),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BodyCode<AgentHello>(OneField(MessageType::kAgentHello, "facts",
                                          [](Packer& p) { p.pack(std::string("x86_64")); })),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BodyCode<HostShowReply>(OneField(MessageType::kHostShowReply, "host",
                                             [](Packer& p) {
                                               p.pack_map(1);
                                               p.pack(std::string("locked"));
                                               p.pack(1);
                                             })),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BodyCode<Heartbeat>(OneField(MessageType::kHeartbeat, "health",
                                         [](Packer& p) {
                                           p.pack_map(1);
                                           p.pack(std::string("load1"));
                                           p.pack(std::string("high"));
                                         })),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BodyCode<HostListReply>(OneField(MessageType::kHostListReply, "hosts",
                                             [](Packer& p) {
                                               p.pack_array(1);
                                               p.pack(std::string("lab-17"));
                                             })),
            StatusCode::kInvalidArgument);
}

TEST(DecodeErrors, NonStringKeyInABodyIsInvalidArgument) {
  std::string frame = Frame(1, 102, 1, [](Packer& p) {
    p.pack_map(1);
    p.pack(1);
    p.pack(std::string("lab-17"));
  });
  EXPECT_EQ(BodyCode<HostShowRequest>(frame), StatusCode::kInvalidArgument);
}

TEST(DecodeErrors, MalformedBodyErrorNamesTheMessageType) {
  auto envelope = DecodeEnvelope(
      OneField(MessageType::kHostShowRequest, "hostname", [](Packer& p) { p.pack(42); }));
  ASSERT_TRUE(envelope.ok());
  auto body = DecodeBody<HostShowRequest>(*envelope);
  ASSERT_FALSE(body.ok());
  EXPECT_NE(body.status().message().find("HostShowRequest"), std::string::npos)
      << body.status().message();
}

// Issue 20: the text names the field in the document's words, never a C++ exception.
TEST(DecodeErrors, MalformedBodyErrorNamesTheFieldAndNoExceptionType) {
  auto text = [](const std::string& frame) {
    auto envelope = DecodeEnvelope(frame);
    EXPECT_TRUE(envelope.ok());
    return envelope.ok() ? DecodeBody<EntryReport>(*envelope).status().message() : "";
  };
  std::string wrong = text(Frame(1, 22, 1, [](Packer& p) {
    p.pack_map(2);
    p.pack(std::string("phase"));
    p.pack(std::string("exited"));
    p.pack(std::string("sequence"));
    p.pack(-1);
  }));
  EXPECT_EQ(wrong, "malformed EntryReport body: field 'sequence' holds a value of the wrong "
                   "type or out of range");
  std::string key = text(Frame(1, 22, 1, [](Packer& p) {
    p.pack_map(1);
    p.pack(7);
    p.pack(1);
  }));
  EXPECT_EQ(key, "malformed EntryReport body: a key that is not a string");
  for (const std::string& t : {wrong, key}) {
    EXPECT_EQ(t.find("std::"), std::string::npos) << t;
    EXPECT_EQ(t.find("bad_cast"), std::string::npos) << t;
  }
}

TEST(DecodeErrors, MapClaiming2To32EntriesInATinyFrameIsInvalidArgument) {
  // map 32 with 0xffffffff pairs, as the body and as the root.
  std::string body = Bytes({0x94, 0x01, 0x64, 0x07, 0xdf, 0xff, 0xff, 0xff, 0xff});
  EXPECT_EQ(EnvelopeCode(body), StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(Bytes({0xdf, 0xff, 0xff, 0xff, 0xff})), StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(Bytes({0xdd, 0xff, 0xff, 0xff, 0xff})), StatusCode::kInvalidArgument);
  // str 32 and bin 32 claiming 4 GiB.
  EXPECT_EQ(EnvelopeCode(Bytes({0x94, 0x01, 0x64, 0x07, 0xdb, 0xff, 0xff, 0xff, 0xff})),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(Bytes({0x94, 0x01, 0x64, 0x07, 0xc6, 0xff, 0xff, 0xff, 0xff})),
            StatusCode::kInvalidArgument);
}

TEST(DecodeErrors, ContainersClaimingMoreElementsThanTheFrameHasBytesAreRejectedUpFront) {
  // Under the element limit, but impossible in the frame: refused before msgpack-c would
  // allocate storage for the claimed elements (16 bytes each, per level of nesting).
  std::string frame;
  for (int i = 0; i < 32; ++i) frame += Bytes({0xdd, 0x00, 0x0f, 0x42, 0x3f});  // 999,999
  auto envelope = DecodeEnvelope(frame);
  ASSERT_FALSE(envelope.ok());
  EXPECT_EQ(envelope.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(envelope.status().message().find("more elements than the frame"), std::string::npos)
      << envelope.status().message();
}

TEST(DecodeErrors, ContainerElementLimitIsApplied) {
  DecodeLimits limits;
  limits.max_container_elements = 4;
  auto labels = [](int n) {
    HostLabelRequest request;
    request.hostname = "lab-17";
    for (int i = 0; i < n; ++i) request.add.push_back("l" + std::to_string(i));
    return Encode(request, 1);
  };
  EXPECT_EQ(EnvelopeCode(labels(4), limits), StatusCode::kOk);
  EXPECT_EQ(EnvelopeCode(labels(5), limits), StatusCode::kInvalidArgument);
  // A map counts its pairs.
  EXPECT_EQ(EnvelopeCode(Encode(HostActionRequest{"a", "lock", "r", "u"}), limits),
            StatusCode::kOk);
}

// [1, 100, 7, {"status": [[[...]]]}] with `arrays` nested arrays as the value.
std::string NestedFrame(int arrays) {
  return Frame(1, 100, 7, [&](Packer& p) {
    p.pack_map(1);
    p.pack(std::string("status"));
    for (int i = 0; i < arrays; ++i) p.pack_array(i + 1 < arrays ? 1 : 0);
  });
}

TEST(DecodeErrors, NestingBeyondTheDepthLimitIsInvalidArgument) {
  // The envelope array and the body map are two levels; the limit counts containers.
  DecodeLimits limits;
  ASSERT_EQ(limits.max_depth, 32u);
  EXPECT_EQ(EnvelopeCode(NestedFrame(30), limits), StatusCode::kOk);
  EXPECT_EQ(EnvelopeCode(NestedFrame(31), limits), StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(NestedFrame(5000), limits), StatusCode::kInvalidArgument);
  limits.max_depth = 4;
  EXPECT_EQ(EnvelopeCode(NestedFrame(2), limits), StatusCode::kOk);
  EXPECT_EQ(EnvelopeCode(NestedFrame(3), limits), StatusCode::kInvalidArgument);
  // The deepest real message (HostListReply: envelope, body, hosts, host, last_task, checks,
  // check) fits in 7.
  limits.max_depth = 7;
  EXPECT_EQ(EnvelopeCode(Encode(testing::Sample<HostListReply>()), limits), StatusCode::kOk);
}

TEST(DecodeErrors, BodyDecodedAsTheWrongTypeIsInvalidArgument) {
  std::string frame = Encode(HostShowRequest{"lab-17"}, 1);
  auto envelope = DecodeEnvelope(frame);
  ASSERT_TRUE(envelope.ok());
  EXPECT_EQ(DecodeBody<HostListRequest>(*envelope).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeAs<Welcome>(Encode(Reject{"no"})).status().code(), StatusCode::kInvalidArgument);
}

TEST(DecodeErrors, InvalidMessagePackIsInvalidArgument) {
  EXPECT_EQ(EnvelopeCode(Bytes({0xc1})), StatusCode::kInvalidArgument);  // never used
  EXPECT_EQ(EnvelopeCode(Bytes({0x94, 0x01, 0x64, 0x07, 0xc1})), StatusCode::kInvalidArgument);
  EXPECT_EQ(EnvelopeCode(""), StatusCode::kInvalidArgument);
}

TEST(PeekRequestId, FindsTheIdOfAFrameTheDecoderRefuses) {
  EXPECT_EQ(PeekRequestId(Frame(1, 9999, 41)), 41u);  // unknown type
  EXPECT_EQ(PeekRequestId(Frame(7, 100, 42)), 42u);   // wrong version
  EXPECT_EQ(PeekRequestId(Frame(1, 100, 43, [](Packer& p) { p.pack_nil(); })), 43u);
  EXPECT_EQ(PeekRequestId(Encode(HostShowRequest{"lab-17"}, 44)), 44u);
  // PROTOCOL.md §4: the id is read from the envelope's head, whatever follows it - a truncated
  // body, a frame over the size limit, a body nested deeper than the limit.
  std::string frame = Encode(HostShowRequest{"lab-17"}, 45);
  EXPECT_EQ(PeekRequestId(frame.substr(0, frame.size() - 1)), 45u);
  DecodeLimits limits;
  limits.max_frame_bytes = 4;
  EXPECT_EQ(PeekRequestId(frame, limits), 45u);
  std::string deep = Frame(1, 100, 930, [](Packer& p) {
    for (int i = 0; i < 40; ++i) {
      p.pack_map(1);
      p.pack(std::string("k"));
    }
    p.pack_nil();
  });
  EXPECT_EQ(EnvelopeCode(deep), StatusCode::kInvalidArgument);
  EXPECT_EQ(PeekRequestId(deep), 930u);
}

TEST(PeekRequestId, IsZeroWhenThereIsNoIdToRead) {
  EXPECT_EQ(PeekRequestId(""), 0u);
  EXPECT_EQ(PeekRequestId(Bytes({0xc1})), 0u);
  EXPECT_EQ(PeekRequestId(Bytes({0x94, 0x01, 0x64})), 0u);  // cut before the id
  EXPECT_EQ(PeekRequestId(Bytes({0x94, 0x01, 0x64, 0xa1, 0x37, 0x80})), 0u);  // id is a string
  EXPECT_EQ(PeekRequestId(Bytes({0x93, 0x01, 0x64, 0x07})), 0u);  // three elements
  EXPECT_EQ(PeekRequestId(Bytes({0x94, 0x91, 0x01, 0x64, 0x07, 0x80})), 0u);  // version nested
  EXPECT_EQ(PeekRequestId(Pack([](Packer& p) { p.pack_map(0); })), 0u);
}

}  // namespace
}  // namespace labmesh::protocol
