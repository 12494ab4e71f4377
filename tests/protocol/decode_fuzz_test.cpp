// Mutation fuzzing of the decoders: valid encodings of every message, with bytes flipped,
// overwritten, inserted, deleted and chunks duplicated, must never crash the decoder or make it
// throw. Deterministic (fixed seed) and bounded, so it runs with the unit tests.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "labmesh/protocol/envelope.hpp"
#include "sample_messages.hpp"

namespace labmesh::protocol {
namespace {

constexpr uint64_t kSeed = 0x1ab3e5;
constexpr int kIterations = 200'000;

// Bytes that change MessagePack's structure: headers of every container, string and integer
// width, the never-used 0xc1, and boundary values.
constexpr unsigned char kInteresting[] = {0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
                                          0xc0, 0xc1, 0xc2, 0xc4, 0xc6, 0xca, 0xcb, 0xcc, 0xcf,
                                          0xd3, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff};

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  std::string Mutate(std::string frame) {
    int mutations = static_cast<int>(Below(4)) + 1;
    for (int i = 0; i < mutations; ++i) MutateOnce(frame);
    return frame;
  }

  size_t Below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

 private:
  unsigned char RandomByte() {
    if (Below(2) == 0) return kInteresting[Below(sizeof kInteresting)];
    return static_cast<unsigned char>(Below(256));
  }

  void MutateOnce(std::string& frame) {
    size_t pos = frame.empty() ? 0 : Below(frame.size());
    switch (Below(6)) {
      case 0:  // flip one bit
        if (!frame.empty()) frame[pos] = static_cast<char>(frame[pos] ^ (1u << Below(8)));
        break;
      case 1:  // overwrite a byte
        if (!frame.empty()) frame[pos] = static_cast<char>(RandomByte());
        break;
      case 2:  // insert bytes
        frame.insert(frame.begin() + static_cast<std::ptrdiff_t>(Below(frame.size() + 1)),
                     Below(3) + 1, static_cast<char>(RandomByte()));
        break;
      case 3:  // delete bytes
        if (!frame.empty()) frame.erase(pos, Below(4) + 1);
        break;
      case 4:  // duplicate a chunk somewhere else
        if (!frame.empty()) {
          std::string chunk = frame.substr(pos, Below(16) + 1);
          frame.insert(Below(frame.size() + 1), chunk);
        }
        break;
      case 5:  // truncate
        frame.resize(Below(frame.size() + 1));
        break;
    }
  }

  std::mt19937_64 rng_;
};

TEST(DecodeFuzz, MutatedFramesNeverCrashOrThrow) {
  const std::vector<std::string> seeds = testing::AllSampleFrames();
  Mutator mutator(kSeed);
  // Small limits some of the time, so the limit checks see mutated input too.
  DecodeLimits small;
  small.max_frame_bytes = 256;
  small.max_container_elements = 8;
  small.max_depth = 4;

  int envelopes_ok = 0;
  int bodies_ok = 0;
  for (int i = 0; i < kIterations; ++i) {
    std::string frame = mutator.Mutate(seeds[mutator.Below(seeds.size())]);
    const DecodeLimits limits = (i % 8 == 0) ? small : DecodeLimits{};
    try {
      // What a receiver does: the envelope, then the body (here: as every type); the request id
      // of a refused frame; and the one-call form for the type a client waits for.
      auto envelope = DecodeEnvelope(frame, limits);
      if (envelope.ok()) {
        ++envelopes_ok;
        bodies_ok += testing::DecodeBodyAsEveryType(*envelope);
      } else {
        (void)PeekRequestId(frame, limits);
      }
      int which = 0;
      const int wanted = i % static_cast<int>(std::tuple_size_v<testing::AllMessages>);
      testing::ForEachMessageType([&](auto m) {
        if (which++ == wanted) (void)DecodeAs<decltype(m)>(frame, limits);
      });
    } catch (...) {
      std::string hex;
      for (unsigned char c : frame) {
        static constexpr char kDigits[] = "0123456789abcdef";
        hex += kDigits[c >> 4];
        hex += kDigits[c & 15];
      }
      FAIL() << "iteration " << i << " threw on frame " << hex;
    }
  }
  // The mutants must reach the body decoders, or this test proves nothing about them.
  EXPECT_GT(envelopes_ok, kIterations / 20);
  EXPECT_GT(bodies_ok, kIterations / 20);
  std::printf("%d of %d mutants had a valid envelope; %d body conversions succeeded\n",
              envelopes_ok, kIterations, bodies_ok);
}

TEST(DecodeFuzz, RandomBytesNeverCrashOrThrow) {
  Mutator mutator(kSeed + 1);
  for (int i = 0; i < 20'000; ++i) {
    std::string frame(mutator.Below(64), '\0');
    for (char& c : frame) c = static_cast<char>(mutator.Below(256));
    // Most random frames fail at the envelope; lead some with a plausible header.
    if (i % 2 == 0) frame = std::string("\x94\x01", 2) + frame;
    EXPECT_NO_THROW(testing::DecodeWithEveryType(frame)) << "iteration " << i;
  }
}

}  // namespace
}  // namespace labmesh::protocol
