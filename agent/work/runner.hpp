#pragma once
// The agent's controls run through the common Runner (labmesh/common/runner.hpp), which the
// coordinator's power and console commands share.

#include "labmesh/common/runner.hpp"

namespace labmesh::agent {

using labmesh::Runner;
using labmesh::SpawnSpec;

}  // namespace labmesh::agent
