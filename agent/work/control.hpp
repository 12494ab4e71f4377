#pragma once
// What a control runs as (docs/jobs.md "Agent side of one entry", step 2): its argv by kind,
// its environment and its working directory. Pure except for writing the script file. Called
// by the WorkManager on the agent's event loop thread.

#include <string>
#include <vector>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/job_messages.hpp"
#include "work/runner.hpp"
#include "work/spool.hpp"

namespace labmesh::agent {

struct ControlContext {
  std::string hostname;    // LABMESH_HOST when the StartEntry names none
  std::string work_dir;    // absolute; LABMESH_SYNC is ipc://WORK_DIR/sync.sock
  std::string helper_dir;  // first on PATH
  uint32_t boot_count = 0;  // LABMESH_BOOT_COUNT: reboots the control asked for so far
};

// The environment: `base` ("KEY=VALUE" strings, normally environ) plus the LABMESH_* variables
// and PATH with the helper directory first. Sorted by name. LABMESH_HOSTS is `hosts` joined
// by commas; LABMESH_PEERS is "host=address" for each of them whose address is known, in the
// same order, joined by commas; LABMESH_GROUP and LABMESH_SYNCH_COUNT are decimal.
std::vector<std::string> ControlEnvironment(const protocol::StartEntry& start,
                                            const SpoolPaths& paths, const ControlContext& context,
                                            char** base);

// The spawn of one control: kind "command" runs `/bin/sh -c CONTROL`; "control" and "test"
// write spool/<id>/control (0700) and execute it, through /bin/sh when it has no "#!" line.
// Fails when the script cannot be written or the kind is unknown.
Result<SpawnSpec> ControlSpawnSpec(const protocol::StartEntry& start, const SpoolPaths& paths,
                                   const ControlContext& context, char** base_env);

}  // namespace labmesh::agent
