#pragma once
// The pure parts of the power and console commands (power_commands.hpp): reading
// `--attr KEY=VALUE`, and the texts `host power-show` and `host power` print.

#include <map>
#include <string>
#include <vector>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/power_messages.hpp"

namespace labmesh::cli {

// "KEY=VALUE" items into a map; `flag` names the option in the error. A later KEY wins.
Result<std::map<std::string, std::string>> ParseAssignments(const std::vector<std::string>& items,
                                                            const std::string& flag);
// `host power-show` (and power-config's answer): the commands, console, patterns, attributes.
std::string FormatPowerConfig(const protocol::PowerConfigInfo& config, int64_t now_ms);
// `host power`: "host lab-3: power cycle passed in 1.2s (task 17)" and the output.
std::string FormatPowerReply(const protocol::HostPowerReply& reply);

}  // namespace labmesh::cli
