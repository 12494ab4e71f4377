#pragma once
// Label rules, as pure functions (tested alone).
//
// A host carries three kinds of labels:
//   auto  - derived from the facts the agent reports (arch:x86_64, os:debian-12, cpus:2, ...)
//   agent - asked for by the agent (--labels); may not use an automatic prefix nor the name of
//           an admin label, so a lab machine cannot move itself into an admin-managed pool
//   admin - set with `labmesh host label`; the agent can neither remove nor fake them
// A job's dependencies match the effective set: agent + admin labels.

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/messages.hpp"

namespace labmesh::coordinator {

// 1..64 characters of [A-Za-z0-9._:=/+-], not starting with '-'.
Status ValidateLabelName(std::string_view name);
// 1..253 characters of [A-Za-z0-9._-], not starting with '-' or '.'.
Status ValidateHostname(std::string_view name);

// The labels the facts imply: arch:, os:, cpus:, kernel: (empty facts give no label).
std::vector<std::string> AutomaticLabels(const protocol::HostFacts& facts);
bool HasAutomaticPrefix(std::string_view label);

struct AgentLabelResult {
  std::vector<std::string> labels;   // automatic + accepted asked-for labels, sorted, unique
  std::vector<std::string> dropped;  // asked-for labels refused, with why in `reasons`
  std::vector<std::string> reasons;
};

// Combines the automatic labels with the asked-for ones, dropping asked-for labels that are
// invalid, use an automatic prefix or name an admin label.
AgentLabelResult ComputeAgentLabels(const protocol::HostFacts& facts,
                                    const std::vector<std::string>& asked,
                                    const std::set<std::string>& admin_label_names);

// Sorted union without duplicates.
std::vector<std::string> EffectiveLabels(const std::vector<std::string>& agent_labels,
                                         const std::vector<std::string>& admin_labels);

}  // namespace labmesh::coordinator
