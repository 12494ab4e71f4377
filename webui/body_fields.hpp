#pragma once
// The JSON object of a POST body (web_actions.cpp's handlers), each field read once with its
// type checked. Pure: no civetweb, no sockets, any thread; internal to webui, and kept apart
// from the handlers so the body rules are tested and fuzzed alone (tests/fuzz/fuzz_web_json).

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "labmesh/common/status.hpp"

namespace labmesh::webui {

class BodyFields {
 public:
  // The body must be a JSON object (an empty or all-blank body is {}) whose keys are all in
  // `known`; InvalidArgument otherwise (not JSON, not an object, an unknown key).
  static Result<BodyFields> Parse(const std::string& body,
                                  std::initializer_list<std::string_view> known);

  // Each reader leaves *out alone when the field is missing or null, and is InvalidArgument
  // naming the field when its value has another type.
  Status String(const char* key, std::string* out) const;
  Status Strings(const char* key, std::vector<std::string>* out) const;  // an array of strings
  Status Bool(const char* key, bool* out) const;
  // An array of whole numbers from 0 to 2^64-1 (job ids).
  Status Integers(const char* key, std::vector<uint64_t>* out) const;

  // A whole number from 0 to Int's largest value.
  template <typename Int>
  Status Integer(const char* key, Int* out) const {
    const nlohmann::json* value = Find(key);
    if (value == nullptr) return Status::Ok();
    constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<Int>::max());
    if (!value->is_number_unsigned() || value->get<uint64_t>() > kMax) {
      return Wrong(key, "a whole number from 0 to " + std::to_string(kMax));
    }
    *out = static_cast<Int>(value->get<uint64_t>());
    return Status::Ok();
  }

 private:
  // The value of `key`, or nullptr when it is missing or null.
  const nlohmann::json* Find(const char* key) const;
  static Status Wrong(const char* key, const std::string& what);

  nlohmann::json json_;
};

}  // namespace labmesh::webui
