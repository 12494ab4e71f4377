#pragma once
// Logging set-up shared by the daemons: spdlog to stderr with the component's name, level from
// the --log-level flag ("trace".."off").

#include <string>

#include "labmesh/common/status.hpp"

namespace labmesh {

Status SetupLogging(const std::string& component, const std::string& level);

}  // namespace labmesh
