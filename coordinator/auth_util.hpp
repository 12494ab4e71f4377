#pragma once
// Small helpers AuthService's files share (auth_service.cpp: the gate, sessions, users;
// auth_acl.cpp: ACL groups and the audit list).

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "labmesh/common/status.hpp"

namespace labmesh::coordinator::auth_detail {

// Every item of `all` (by name), or just the one called `name` when it is not empty: NotFound
// "`what` NAME does not exist" when there is none.
template <typename Item, typename ToInfo>
auto OneOrAll(const std::map<std::string, Item>& all, const std::string& name,
              const std::string& what, ToInfo to_info)
    -> Result<std::vector<decltype(to_info(std::declval<const Item&>()))>> {
  std::vector<decltype(to_info(std::declval<const Item&>()))> out;
  if (name.empty()) {
    for (const auto& [key, item] : all) out.push_back(to_info(item));
    return out;
  }
  auto it = all.find(name);
  if (it == all.end()) return Status::NotFound(what + " " + name + " does not exist");
  out.push_back(to_info(it->second));
  return out;
}

}  // namespace labmesh::coordinator::auth_detail
