// libFuzzer target: the envelope and every message body decoder (docs/fuzzing.md).
// What a receiver does with an untrusted frame: DecodeEnvelope, then the body as the message
// type its header names (DecodeBody<M>, DecodeAs<M>) and the audit's DescribeBody; a refused
// frame gets PeekRequestId (the Error reply's id). Every decoder is reached through the type
// number, which the fuzzer mutates like any other byte; the corpus holds a frame of every type.
// (tests/protocol/decode_fuzz_test.cpp, in the unit tests, converts each mutant as every type
// instead: a hundred times slower per input, which is fine for 200,000 of them but not for the
// millions of a fuzzing run.) Small decode limits are used for frames whose length is odd, so
// the limit checks meet mutated input too.
// Any crash, sanitizer report or escaping exception is a bug in protocol/.
// Corpus: corpus/decode (every sample of tests/protocol/sample_messages.hpp, by make_corpus).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sample_messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace labmesh::protocol;
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  DecodeLimits limits;
  if (size % 2 == 1) {
    limits.max_frame_bytes = 4096;
    limits.max_container_elements = 8;
    limits.max_depth = 4;
  }
  auto envelope = DecodeEnvelope(frame, limits);
  if (!envelope.ok()) {
    (void)PeekRequestId(frame, limits);
    return 0;
  }
  (void)DescribeBody(*envelope);
  testing::ForEachMessageType([&](auto m) {
    using M = decltype(m);
    if (M::kType != envelope->type) return;
    (void)DecodeBody<M>(*envelope);
    (void)DecodeAs<M>(frame, limits);
  });
  return 0;
}
