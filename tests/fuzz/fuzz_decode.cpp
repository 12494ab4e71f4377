// libFuzzer target for the protocol decoders, built only with -DLABMESH_FUZZ=ON under clang
// (with AddressSanitizer and UBSan): `fuzz_decode -max_total_time=60 CORPUS_DIR`.
// Any crash, sanitizer report or escaping exception is a bug in protocol/.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sample_messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  labmesh::protocol::testing::DecodeWithEveryType(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
