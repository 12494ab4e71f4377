#include "labmesh/cli/auth_logic.hpp"

#include <cctype>
#include <charconv>
#include <chrono>
#include <ctime>
#include <sstream>

#include "labmesh/cli/cli_util.hpp"
#include "labmesh/cli/results_logic.hpp"
#include "labmesh/client/results_filters.hpp"
#include "labmesh/protocol/json.hpp"
#include "table.hpp"

namespace labmesh::cli {

namespace {

// Reads exactly `digits` decimal digits at `pos`; advances `pos`.
bool ReadNumber(std::string_view text, size_t& pos, size_t digits, int& out) {
  if (pos + digits > text.size()) return false;
  for (size_t i = pos; i < pos + digits; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  std::from_chars(text.data() + pos, text.data() + pos + digits, out);
  pos += digits;
  return true;
}

bool Expect(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

// "2026-11-29", "2026-11-29T10:00[:00[.123]][Z|+01:00]" -> wall-clock ms; nullopt otherwise.
std::optional<int64_t> ParseIsoMs(std::string_view text) {
  size_t pos = 0;
  int year = 0, month = 0, day = 0;
  if (!ReadNumber(text, pos, 4, year) || !Expect(text, pos, '-') ||
      !ReadNumber(text, pos, 2, month) || !Expect(text, pos, '-') ||
      !ReadNumber(text, pos, 2, day)) {
    return std::nullopt;
  }
  std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month),
                                   std::chrono::day(day)};
  if (!date.ok()) return std::nullopt;
  int hour = 0, minute = 0, second = 0, millis = 0, offset_minutes = 0;
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') return std::nullopt;
    ++pos;
    if (!ReadNumber(text, pos, 2, hour) || !Expect(text, pos, ':') ||
        !ReadNumber(text, pos, 2, minute)) {
      return std::nullopt;
    }
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
      if (!ReadNumber(text, pos, 2, second)) return std::nullopt;
      if (pos < text.size() && text[pos] == '.') {
        ++pos;
        size_t start = pos;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
          if (pos - start < 3) millis = millis * 10 + (text[pos] - '0');
          ++pos;
        }
        if (pos == start) return std::nullopt;
        for (size_t n = pos - start; n < 3; ++n) millis *= 10;
      }
    }
    if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
    if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
      ++pos;
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
      int sign = text[pos] == '-' ? -1 : 1;
      ++pos;
      int oh = 0, om = 0;
      if (!ReadNumber(text, pos, 2, oh) || !Expect(text, pos, ':') ||
          !ReadNumber(text, pos, 2, om) || oh > 23 || om > 59) {
        return std::nullopt;
      }
      offset_minutes = sign * (oh * 60 + om);
    }
  }
  if (pos != text.size()) return std::nullopt;
  int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  int64_t seconds = days * 86'400 + hour * 3'600 + minute * 60 + second - offset_minutes * 60;
  return seconds * 1000 + millis;
}

// "2026-11-29T10:00:00Z" (seconds are enough in a table), "-" for 0.
std::string TableTime(int64_t wall_ms) {
  if (wall_ms <= 0) return "-";
  std::time_t seconds = static_cast<std::time_t>(wall_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string TableDate(int64_t wall_ms) {
  if (wall_ms <= 0) return "-";
  return TableTime(wall_ms).substr(0, 10);
}

std::string YesNo(bool b) { return b ? "yes" : "no"; }

}  // namespace

Result<int64_t> ParseSinceMs(std::string_view text, int64_t now_ms) {
  if (auto ms = client::ParseLookbackMs(text); ms.ok()) {
    return *ms >= now_ms ? 0 : now_ms - *ms;
  }
  if (auto iso = ParseIsoMs(text); iso.has_value()) {
    if (*iso < 0) return Status::InvalidArgument("--since '" + std::string(text) + "' is before 1970");
    return *iso;
  }
  return Status::InvalidArgument("bad --since '" + std::string(text) +
                                 "' (how long ago, e.g. 30m, 2h, 7d; or a UTC date or time, "
                                 "e.g. 2026-11-29 or 2026-11-29T10:00:00Z)");
}

Status CheckNames(const std::vector<std::string>& names, std::string_view flag) {
  for (const auto& name : names) {
    if (name.empty()) return Status::InvalidArgument(std::string(flag) + ": empty name in the list");
  }
  return Status::Ok();
}

std::string AbbreviateList(const std::vector<std::string>& names) {
  if (names.empty()) return "-";
  if (names.size() <= kListColumnNames) return Join(names, ",");
  std::vector<std::string> shown(names.begin(), names.begin() + kListColumnNames);
  return Join(shown, ",") + " +" + std::to_string(names.size() - kListColumnNames) + " more";
}

std::string FormatUserList(const std::vector<protocol::UserInfo>& users) {
  Table table({"NAME", "ADMIN", "GROUPS", "TOKENS", "PASSWORD", "CREATED"});
  for (const auto& u : users) {
    table.Add({u.name, YesNo(u.admin), AbbreviateList(u.acl_groups), std::to_string(u.tokens),
               YesNo(u.has_password), TableDate(u.created_ms)});
  }
  std::ostringstream out;
  table.Print(out);
  return out.str();
}

std::string FormatNewToken(const protocol::UserTokenReply& reply, bool created,
                           bool revoked_others) {
  std::string out;
  out += created ? "created user " + reply.name + "\n" : "new token for " + reply.name + "\n";
  if (revoked_others) out += "every older token of " + reply.name + " is revoked\n";
  out += "token: " + reply.token + "\n";
  out += "This token will not be shown again: keep it now, e.g. as token = \"...\" in "
         "~/.config/labmesh/credentials (chmod 600).\n";
  return out;
}

std::string FormatWhoAmI(const protocol::WhoAmIReply& reply) {
  return "user    " + reply.user + "\nadmin   " + YesNo(reply.admin) + "\ngroups  " +
         (reply.acl_groups.empty() ? "-" : Join(reply.acl_groups, ",")) + "\n";
}

nlohmann::json WhoAmIJson(const protocol::WhoAmIReply& reply) {
  return {{"user", reply.user}, {"admin", reply.admin}, {"acl_groups", reply.acl_groups}};
}

std::string FormatAclList(const std::vector<protocol::AclInfo>& groups) {
  Table table({"NAME", "DESCRIPTION", "USERS", "HOSTS"});
  for (const auto& group : groups) {
    std::string description = OneLine(
        std::string_view(group.description).substr(0, group.description.find('\n')), 60);
    table.Add({group.name, description.empty() ? "-" : description, AbbreviateList(group.users),
               AbbreviateList(group.hosts)});
  }
  std::ostringstream out;
  table.Print(out);
  return out.str();
}

std::string FormatAuditList(const std::vector<protocol::AuditRecord>& records) {
  if (records.empty()) return "no audit records\n";
  Table table({"TIME", "USER", "FROM", "ACTION", "RESULT", "TARGET"});
  for (const auto& r : records) {
    std::string result = r.ok ? "ok" : (r.error.empty() ? "failed" : r.error);
    table.Add({TableTime(r.time_ms), r.user.empty() ? "-" : r.user,
               r.from.empty() ? "-" : OneLine(r.from, kAuditColumnChars), r.action,
               OneLine(result, kAuditColumnChars),
               r.target.empty() ? "-" : OneLine(r.target, kAuditColumnChars)});
  }
  std::ostringstream out;
  table.Print(out);
  return out.str();
}

}  // namespace labmesh::cli
