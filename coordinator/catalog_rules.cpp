#include "catalog_rules.hpp"

#include <cstdint>
#include <string>

namespace labmesh::coordinator {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == ':' || c == '-';
}

}  // namespace

Status ValidateTestName(std::string_view name) {
  if (name.empty() || name.size() > kMaxTestNameBytes) {
    return Status::InvalidArgument("test name must be 1 to " + std::to_string(kMaxTestNameBytes) +
                                   " characters, got " + std::to_string(name.size()));
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      return Status::InvalidArgument("test name '" + std::string(name) +
                                     "' may only use letters, digits and . _ : -");
    }
  }
  return Status::Ok();
}

bool IsUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
    uint8_t lead = byte(i);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    uint32_t code;
    if ((lead & 0xe0) == 0xc0) {
      length = 2;
      code = lead & 0x1f;
    } else if ((lead & 0xf0) == 0xe0) {
      length = 3;
      code = lead & 0x0f;
    } else if ((lead & 0xf8) == 0xf0) {
      length = 4;
      code = lead & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      if ((byte(i + k) & 0xc0) != 0x80) return false;
      code = (code << 6) | (byte(i + k) & 0x3f);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinForLength[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      return false;
    }
    i += length;
  }
  return true;
}

Status ValidateTestSpec(std::string_view name, std::string_view control,
                        std::string_view description) {
  LABMESH_RETURN_IF_ERROR(ValidateTestName(name));
  if (control.empty()) return Status::InvalidArgument("test " + std::string(name) + ": empty control");
  if (control.size() > kMaxControlBytes) {
    return Status::InvalidArgument("test " + std::string(name) + ": control of " +
                                   std::to_string(control.size()) + " bytes exceeds the limit of " +
                                   std::to_string(kMaxControlBytes));
  }
  if (control.find('\0') != std::string_view::npos || !IsUtf8(control)) {
    return Status::InvalidArgument("test " + std::string(name) +
                                   ": control is not text (NUL byte or invalid UTF-8)");
  }
  if (description.size() > kMaxTestDescriptionBytes) {
    return Status::InvalidArgument("test " + std::string(name) + ": description of " +
                                   std::to_string(description.size()) +
                                   " bytes exceeds the limit of " +
                                   std::to_string(kMaxTestDescriptionBytes));
  }
  if (!IsUtf8(description)) {
    return Status::InvalidArgument("test " + std::string(name) + ": description is not UTF-8");
  }
  return Status::Ok();
}

}  // namespace labmesh::coordinator
