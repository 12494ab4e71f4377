#include "lifecycle_rules.hpp"

#include <algorithm>

namespace labmesh::coordinator {

std::vector<protocol::TaskCheck> CappedChecks(std::vector<protocol::TaskCheck> checks) {
  if (checks.size() > protocol::kMaxTaskChecks) checks.resize(protocol::kMaxTaskChecks);
  for (protocol::TaskCheck& check : checks) {
    if (check.output.size() > protocol::kMaxTaskOutputBytes) {
      check.output.erase(0, check.output.size() - protocol::kMaxTaskOutputBytes);
    }
  }
  return checks;
}

using protocol::Protection;
using protocol::TaskKind;

protocol::RunTask RunTaskFor(TaskKind kind, Protection protection) {
  protocol::RunTask run;
  run.kind = std::string(protocol::TaskKindName(kind));
  run.repair_scripts = protection != Protection::kRepairSoftwareOnly;
  run.verify_after = !SkipsVerify(protection);
  return run;
}

bool SkipsVerify(Protection protection) { return protection == Protection::kDoNotVerify; }

bool RefusesRepair(Protection protection) { return protection == Protection::kDoNotRepair; }

std::optional<TaskKind> TaskOnReturn(Protection protection) {
  if (!RefusesRepair(protection)) return TaskKind::kRepair;
  if (!SkipsVerify(protection)) return TaskKind::kVerify;
  return std::nullopt;
}

bool IsCleanupPolicy(std::string_view policy) {
  return policy == "never" || policy == "always" || policy == "on-failure";
}

bool NeedsCleanup(std::string_view policy, std::string_view outcome) {
  if (policy == "always") return true;
  if (policy == "on-failure") return outcome != "passed";
  return false;
}

bool MayRepairAgain(std::vector<int64_t>& repairs_ms, int64_t now_ms, uint32_t limit,
                    int64_t window_ms) {
  std::erase_if(repairs_ms, [&](int64_t at) { return at <= now_ms - window_ms; });
  return repairs_ms.size() < limit;
}

Result<TaskKind> ParseRequestedKind(std::string_view kind) {
  std::optional<TaskKind> parsed = protocol::ParseTaskKind(kind);
  if (!parsed || (*parsed != TaskKind::kVerify && *parsed != TaskKind::kRepair)) {
    return Status::InvalidArgument("unknown task '" + std::string(kind) +
                                   "': a person may queue verify or repair");
  }
  return *parsed;
}

}  // namespace labmesh::coordinator
