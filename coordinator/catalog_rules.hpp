#pragma once
// Test catalog rules, as pure functions (tested alone). Every handler that writes the catalog
// calls ValidateTestSpec first, so a refused request changes nothing.

#include <cstddef>
#include <string_view>

#include "labmesh/common/status.hpp"

namespace labmesh::coordinator {

inline constexpr size_t kMaxTestNameBytes = 64;
inline constexpr size_t kMaxControlBytes = 1024 * 1024;  // 1 MiB
inline constexpr size_t kMaxTestDescriptionBytes = 4 * 1024;

// 1..64 characters of [A-Za-z0-9._:-].
Status ValidateTestName(std::string_view name);

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points above
// U+10FFFF).
bool IsUtf8(std::string_view text);

// A test the catalog may store: a valid name; a control that is non-empty, at most 1 MiB,
// UTF-8 text without NUL bytes (it is shown by `test show` and travels in JSON); a description
// of at most 4 KiB of UTF-8. InvalidArgument naming the first problem otherwise.
Status ValidateTestSpec(std::string_view name, std::string_view control,
                        std::string_view description);

}  // namespace labmesh::coordinator
