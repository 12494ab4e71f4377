#pragma once
// The pure parts of `labmesh user|acl|audit` (docs/security-cli.md): reading --since and name
// lists, and the text the commands print. No flags, no sockets, no clock: "now" is passed in.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/auth_messages.hpp"

namespace labmesh::cli {

// A list column (GROUPS, USERS, HOSTS) shows at most this many names, then "+N more".
inline constexpr size_t kListColumnNames = 3;
// The RESULT and TARGET columns of `audit` are cut to this many characters.
inline constexpr size_t kAuditColumnChars = 60;

// `audit --since`: how long ago ("30m", "2h", "7d", as `results --since` reads it), or a UTC
// date ("2026-11-29", midnight) or date and time ("2026-11-29T10:00", "2026-11-29T10:00:00Z",
// "2026-11-29 10:00:00", with optional fraction and "Z" or "+HH:MM"/"-HH:MM" offset; no offset
// is UTC). Returns wall-clock ms since the epoch (0 for a lookback reaching before 1970: "all"),
// or InvalidArgument saying what is accepted.
Result<int64_t> ParseSinceMs(std::string_view text, int64_t now_ms);

// `--users a,b` / `--hosts h1,h2` as CLI11 split them: InvalidArgument naming `flag` when one
// name is empty ("a,,b").
Status CheckNames(const std::vector<std::string>& names, std::string_view flag);

// "a,b,c", or "a,b,c +4 more" past kListColumnNames names; "-" when empty.
std::string AbbreviateList(const std::vector<std::string>& names);

// `user list`: NAME, ADMIN (yes/no), GROUPS, TOKENS, PASSWORD (yes/no), CREATED (UTC date).
std::string FormatUserList(const std::vector<protocol::UserInfo>& users);
// `user create` / `user token`: the token once, and that it will not be shown again.
// `created`: the user is new ("created user NAME") rather than given a new token.
std::string FormatNewToken(const protocol::UserTokenReply& reply, bool created,
                           bool revoked_others);
// `user whoami`: "user    NAME", "admin   yes|no", "groups  A,B" lines.
std::string FormatWhoAmI(const protocol::WhoAmIReply& reply);
// `user whoami --json`: {"user","admin","acl_groups"}.
nlohmann::json WhoAmIJson(const protocol::WhoAmIReply& reply);

// `acl list` (and `acl add|remove`, which answer with the group): NAME, DESCRIPTION (first line),
// USERS, HOSTS (AbbreviateList).
std::string FormatAclList(const std::vector<protocol::AclInfo>& groups);

// `audit`: TIME (UTC, seconds), USER ("-" when it did not authenticate), FROM, ACTION, RESULT
// ("ok" or the error), TARGET; one line each, cut to kAuditColumnChars. "no audit records" when
// there are none.
std::string FormatAuditList(const std::vector<protocol::AuditRecord>& records);

}  // namespace labmesh::cli
