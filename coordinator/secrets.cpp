#include "secrets.hpp"

#include <sodium.h>

#include <vector>

#include "labmesh/common/hash.hpp"

namespace labmesh::coordinator {
namespace {
[[maybe_unused]] const int kSodiumReady = sodium_init();
}  // namespace

std::string RandomToken(std::string_view prefix) {
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::vector<char> text(sodium_base64_ENCODED_LEN(sizeof bytes, kVariant));
  sodium_bin2base64(text.data(), text.size(), bytes, sizeof bytes, kVariant);
  sodium_memzero(bytes, sizeof bytes);
  return std::string(prefix) + text.data();
}

std::string TokenHash(std::string_view token) { return Blake2bHex(token); }

bool SecretEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<std::string> HashPassword(std::string_view password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Status::Internal("out of memory while hashing the password");
  }
  return std::string(out);
}

bool VerifyPassword(const std::string& stored_hash, std::string_view password) {
  if (stored_hash.empty()) return false;
  return crypto_pwhash_str_verify(stored_hash.c_str(), password.data(), password.size()) == 0;
}

}  // namespace labmesh::coordinator
