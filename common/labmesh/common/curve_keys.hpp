#pragma once
// CurveZMQ key pairs on disk: DIR/NAME.pub (Z85, one line, 0644) and DIR/NAME.key (Z85 secret,
// one line, 0600). Shared by the coordinator (its server key) and the agent (its client key).

#include <string>
#include <string_view>

#include "labmesh/common/status.hpp"

namespace labmesh {

struct CurveKeyPair {
  std::string public_z85;  // 40 characters
  std::string secret_z85;  // 40 characters
};

// Loads DIR/NAME.{pub,key}; NotFound when neither exists.
Result<CurveKeyPair> LoadCurveKeys(const std::string& dir, const std::string& name);
// Loads DIR/NAME.{pub,key}, or creates the pair (and DIR, mode 0700) when neither exists.
Result<CurveKeyPair> LoadOrCreateCurveKeys(const std::string& dir, const std::string& name);

// Writes DIR/NAME.key (0600) and DIR/NAME.pub (0644), creating DIR (0700), replacing what is
// there.
Status SaveCurveKeys(const std::string& dir, const std::string& name, const CurveKeyPair& pair);

// Whether both keys are Z85 keys and `pair.secret_z85` is the secret of `pair.public_z85`.
bool IsCurveKeyPair(const CurveKeyPair& pair);

// A key given on the command line: either the 40-character Z85 key itself or the path of a
// file whose first line is that key.
Result<std::string> ResolveCurveKey(std::string_view key_or_file);

bool IsZ85Key(std::string_view text);

}  // namespace labmesh
