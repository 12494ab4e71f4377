#include "catalog_rules.hpp"

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

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
  // nlohmann-json's strict serializer validates UTF-8 (overlong forms, surrogates, truncation):
  // use it rather than a hand-written decoder.
  try {
    (void)nlohmann::json(std::string(text)).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
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
