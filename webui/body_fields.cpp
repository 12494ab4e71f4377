#include "body_fields.hpp"

namespace labmesh::webui {

Result<BodyFields> BodyFields::Parse(const std::string& body,
                                     std::initializer_list<std::string_view> known) {
  BodyFields fields;
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return fields;
  fields.json_ = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!fields.json_.is_object()) {
    return Status::InvalidArgument("the body must be a JSON object");
  }
  for (const auto& item : fields.json_.items()) {
    bool ok = false;
    for (std::string_view key : known) ok = ok || item.key() == key;
    if (!ok) {
      std::string names;
      for (std::string_view key : known) names += (names.empty() ? "" : ", ") + std::string(key);
      return Status::InvalidArgument("unknown field '" + item.key().substr(0, 60) +
                                     "' (known: " + names + ")");
    }
  }
  return fields;
}

Status BodyFields::String(const char* key, std::string* out) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return Status::Ok();
  if (!value->is_string()) return Wrong(key, "a string");
  *out = value->get<std::string>();
  return Status::Ok();
}

Status BodyFields::Strings(const char* key, std::vector<std::string>* out) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return Status::Ok();
  if (!value->is_array()) return Wrong(key, "an array of strings");
  out->clear();
  for (const auto& item : *value) {
    if (!item.is_string()) return Wrong(key, "an array of strings");
    out->push_back(item.get<std::string>());
  }
  return Status::Ok();
}

Status BodyFields::Integers(const char* key, std::vector<uint64_t>* out) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return Status::Ok();
  if (!value->is_array()) return Wrong(key, "an array of whole numbers");
  std::vector<uint64_t> numbers;
  for (const auto& item : *value) {
    if (!item.is_number_unsigned()) return Wrong(key, "an array of whole numbers");
    numbers.push_back(item.get<uint64_t>());
  }
  *out = std::move(numbers);
  return Status::Ok();
}

Status BodyFields::Bool(const char* key, bool* out) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return Status::Ok();
  if (!value->is_boolean()) return Wrong(key, "true or false");
  *out = value->get<bool>();
  return Status::Ok();
}

const nlohmann::json* BodyFields::Find(const char* key) const {
  if (!json_.is_object()) return nullptr;
  auto it = json_.find(key);
  return it == json_.end() || it->is_null() ? nullptr : &*it;
}

Status BodyFields::Wrong(const char* key, const std::string& what) {
  return Status::InvalidArgument(std::string(key) + " must be " + what);
}

}  // namespace labmesh::webui
