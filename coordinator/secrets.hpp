#pragma once
// The coordinator's secrets, all from libsodium: random tokens (API tokens, web sessions, CSRF
// tokens), the hash an API token is stored as, and web password hashes.

#include <string>
#include <string_view>

#include "labmesh/common/status.hpp"

namespace labmesh::coordinator {

// `prefix` + 32 random bytes as URL-safe base64 without padding (43 characters).
std::string RandomToken(std::string_view prefix);
// How an API token is stored: BLAKE2b-256 of it, hex. Tokens are 256 random bits, so a fast
// hash is enough (no salt or stretching: nothing to guess).
std::string TokenHash(std::string_view token);
// Constant-time equality (for CSRF tokens).
bool SecretEquals(std::string_view a, std::string_view b);

// Argon2id (crypto_pwhash_str, interactive limits): the string to store.
Result<std::string> HashPassword(std::string_view password);
bool VerifyPassword(const std::string& stored_hash, std::string_view password);

}  // namespace labmesh::coordinator
