#pragma once
// Who sends an API request, once AuthService admitted it (docs/security.md), and the rules on
// it that the services apply: the single place where "may this user do that" is decided, for
// the CLI's socket and the web page alike.

#include <string>

#include "labmesh/common/status.hpp"

namespace labmesh::coordinator {

struct Principal {
  std::string user;
  bool admin = false;
  std::string session;  // the web session the request came with; "" = an API token

  // Admins may change any job; a user only their own (abort, reparse).
  Status MayChangeJob(const std::string& owner, uint64_t job_id) const {
    if (admin || owner == user) return Status::Ok();
    return Status::PermissionDenied("job " + std::to_string(job_id) + " belongs to " + owner +
                                    "; only its owner or an admin may change it");
  }
  // Admins may act for anyone; a user only for themself (tokens, password).
  Status MayActFor(const std::string& name) const {
    if (admin || name == user) return Status::Ok();
    return Status::PermissionDenied("only " + name + " or an admin may do that");
  }
};

}  // namespace labmesh::coordinator
