#include "labmesh/cli/host_lifecycle.hpp"

#include <sstream>

#include "labmesh/cli/cli_util.hpp"
#include "labmesh/cli/results_logic.hpp"
#include "labmesh/protocol/json.hpp"
#include "labmesh/protocol/task_messages.hpp"
#include "table.hpp"

namespace labmesh::cli {
namespace {

constexpr protocol::Protection kProtections[] = {
    protocol::Protection::kNone, protocol::Protection::kRepairSoftwareOnly,
    protocol::Protection::kDoNotRepair, protocol::Protection::kDoNotVerify};

}  // namespace

std::string ProtectionLevelList() {
  std::string out;
  for (protocol::Protection p : kProtections) {
    if (!out.empty()) out += ", ";
    out += protocol::ProtectionName(p);
  }
  return out;
}

Result<std::string> ParseProtectionLevel(const std::string& text) {
  std::optional<protocol::Protection> level = protocol::ParseProtection(text);
  if (!level) {
    return Status::InvalidArgument("unknown protection level '" + OneLine(text, 64) + "' (" +
                                   ProtectionLevelList() + ")");
  }
  return std::string(protocol::ProtectionName(*level));
}

std::string FormatTaskQueued(const protocol::TaskInfo& task) {
  return "queued " + task.kind + " task " + std::to_string(task.id) + " on " + task.hostname +
         " (" + task.status + ")";
}

std::string FormatLastTaskColumn(const protocol::TaskInfo& task) {
  if (task.id == 0) return "-";
  return task.kind + " " + task.status;
}

std::string FormatLastTask(const protocol::TaskInfo& task, int64_t now_ms) {
  if (task.id == 0) return "none";
  std::string when;
  if (task.finished_ms > 0) {
    when = "finished " + AgeAt(task.finished_ms, now_ms);
  } else if (task.started_ms > 0) {
    when = "started " + AgeAt(task.started_ms, now_ms);
  } else if (task.queued_ms > 0) {
    when = "queued " + AgeAt(task.queued_ms, now_ms);
  }
  std::string out = task.kind + " " + task.status + " (task " + std::to_string(task.id);
  if (!when.empty()) out += ", " + when;
  out += ")";
  if (!task.reason.empty()) out += ": " + OneLine(task.reason, kReasonColumnChars);
  return out;
}

std::vector<std::string> FailedCheckNames(const std::vector<protocol::TaskCheck>& checks) {
  std::vector<std::string> names;
  for (const auto& check : checks) {
    if (!check.passed) names.push_back(OneLine(check.name, kReasonColumnChars));
  }
  return names;
}

std::string FormatHostHistory(const std::string& hostname,
                              const std::vector<protocol::HistoryItem>& items) {
  if (items.empty()) return "no history for " + hostname + "\n";
  Table table({"WHEN", "TYPE", "ID", "JOB", "NAME", "STATUS", "REASON"});
  for (const auto& item : items) {
    // OneLine on every text: the line-per-item mapping below needs single-line cells.
    table.Add({WallTimeOrDash(item.queued_ms), OneLine(item.type, 16), std::to_string(item.id),
               item.job_id == 0 ? "-" : std::to_string(item.job_id),
               OneLine(item.name, kReasonColumnChars), OneLine(item.status, 32),
               OneLine(item.reason, kReasonColumnChars)});
  }
  std::ostringstream printed;
  table.Print(printed);
  // Every cell is one line, so line i + 1 of the table is item i: the failed checks go under it.
  std::istringstream lines(printed.str());
  std::string out;
  std::string line;
  std::getline(lines, line);
  out += line + "\n";
  for (const auto& item : items) {
    std::getline(lines, line);
    out += line + "\n";
    std::vector<std::string> failed = FailedCheckNames(item.checks);
    if (!failed.empty()) out += "    failed checks: " + Join(failed, ", ") + "\n";
  }
  return out;
}

}  // namespace labmesh::cli
