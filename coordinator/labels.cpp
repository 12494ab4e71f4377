#include "labels.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace labmesh::coordinator {
namespace {

constexpr std::array<std::string_view, 4> kAutomaticPrefixes = {"arch:", "os:", "cpus:",
                                                                 "kernel:"};

bool IsLabelChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' ||
         c == '=' || c == '/' || c == '+' || c == '-';
}

// Lower-cases and replaces characters a label may not hold, for labels made from facts.
std::string LabelSafe(std::string_view text) {
  std::string out;
  for (char c : text) {
    char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out += IsLabelChar(lower) ? lower : '_';
  }
  return out.substr(0, 48);
}

void SortUnique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

Status ValidateLabelName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return Status::InvalidArgument("label '" + std::string(name.substr(0, 80)) +
                                   "' must be 1 to 64 characters");
  }
  if (name.front() == '-') {
    return Status::InvalidArgument("label '" + std::string(name) + "' may not start with '-'");
  }
  for (char c : name) {
    if (!IsLabelChar(c)) {
      return Status::InvalidArgument("label '" + std::string(name) +
                                     "' may hold only letters, digits and . _ : = / + -");
    }
  }
  return Status::Ok();
}

Status ValidateHostname(std::string_view name) {
  if (name.empty() || name.size() > 253) {
    return Status::InvalidArgument("hostname must be 1 to 253 characters");
  }
  if (name.front() == '-' || name.front() == '.') {
    return Status::InvalidArgument("hostname '" + std::string(name) +
                                   "' may not start with '-' or '.'");
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
      return Status::InvalidArgument("hostname '" + std::string(name.substr(0, 80)) +
                                     "' may hold only letters, digits and . - _");
    }
  }
  return Status::Ok();
}

bool HasAutomaticPrefix(std::string_view label) {
  return std::any_of(kAutomaticPrefixes.begin(), kAutomaticPrefixes.end(),
                     [&](std::string_view p) { return label.substr(0, p.size()) == p; });
}

std::vector<std::string> AutomaticLabels(const protocol::HostFacts& facts) {
  std::vector<std::string> labels;
  if (!facts.arch.empty()) labels.push_back("arch:" + LabelSafe(facts.arch));
  if (!facts.os.empty()) {
    std::string os = LabelSafe(facts.os);
    if (!facts.os_version.empty()) os += "-" + LabelSafe(facts.os_version);
    labels.push_back("os:" + os);
  }
  if (facts.cpus > 0) labels.push_back("cpus:" + std::to_string(facts.cpus));
  if (!facts.kernel.empty()) labels.push_back("kernel:" + LabelSafe(facts.kernel));
  SortUnique(labels);
  return labels;
}

AgentLabelResult ComputeAgentLabels(const protocol::HostFacts& facts,
                                    const std::vector<std::string>& asked,
                                    const std::set<std::string>& admin_label_names) {
  AgentLabelResult result;
  result.labels = AutomaticLabels(facts);
  for (const auto& label : asked) {
    Status valid = ValidateLabelName(label);
    if (!valid.ok()) {
      result.dropped.push_back(label);
      result.reasons.push_back(valid.message());
    } else if (HasAutomaticPrefix(label)) {
      result.dropped.push_back(label);
      result.reasons.push_back("'" + label + "' uses a prefix reserved for automatic labels");
    } else if (admin_label_names.count(label) > 0) {
      result.dropped.push_back(label);
      result.reasons.push_back("'" + label + "' is an admin label; only admins set it");
    } else {
      result.labels.push_back(label);
    }
  }
  SortUnique(result.labels);
  return result;
}

std::vector<std::string> EffectiveLabels(const std::vector<std::string>& agent_labels,
                                         const std::vector<std::string>& admin_labels) {
  std::vector<std::string> all(agent_labels);
  all.insert(all.end(), admin_labels.begin(), admin_labels.end());
  SortUnique(all);
  return all;
}

}  // namespace labmesh::coordinator
