// What a control runs as; see control.hpp.

#include "work/control.hpp"

#include <sys/stat.h>

#include <fstream>
#include <map>

namespace labmesh::agent {

std::vector<std::string> ControlEnvironment(const protocol::StartEntry& start,
                                            const SpoolPaths& paths, const ControlContext& context,
                                            char** base) {
  std::map<std::string, std::string> env;
  for (char** e = base; e && *e; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  std::string hosts;
  for (const std::string& h : start.hosts) hosts += (hosts.empty() ? "" : ",") + h;
  env["LABMESH_JOB_ID"] = std::to_string(start.job_id);
  env["LABMESH_ENTRY_ID"] = std::to_string(start.entry_id);
  env["LABMESH_HOST"] = start.hostname.empty() ? context.hostname : start.hostname;
  env["LABMESH_HOSTS"] = hosts;
  // host=address pairs in the order of LABMESH_HOSTS; a host whose address is unknown, or one
  // that could not be parsed back (a comma in it), is left out.
  std::string peers;
  for (const std::string& h : start.hosts) {
    auto address = start.peers.find(h);
    if (address == start.peers.end() || address->second.empty() ||
        address->second.find(',') != std::string::npos) {
      continue;
    }
    peers += (peers.empty() ? "" : ",") + h + "=" + address->second;
  }
  env["LABMESH_PEERS"] = peers;
  env["LABMESH_GROUP"] = std::to_string(start.group);
  env["LABMESH_SYNCH_COUNT"] = std::to_string(start.synch_count);
  env["LABMESH_RESULTS_DIR"] = paths.results;
  env["LABMESH_SYNC"] = "ipc://" + context.work_dir + "/sync.sock";
  env["LABMESH_JOB_NAME"] = start.job_name;
  env["LABMESH_BOOT_COUNT"] = std::to_string(context.boot_count);
  auto path = env.find("PATH");
  env["PATH"] = context.helper_dir + ":" +
                (path == env.end() ? std::string("/usr/local/bin:/usr/bin:/bin") : path->second);
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

Result<SpawnSpec> ControlSpawnSpec(const protocol::StartEntry& start, const SpoolPaths& paths,
                                   const ControlContext& context, char** base_env) {
  SpawnSpec spec;
  if (start.control_kind == "command") {
    spec.argv = {"/bin/sh", "-c", start.control};
  } else if (start.control_kind == "control" || start.control_kind == "test") {
    std::ofstream out(paths.control, std::ios::binary | std::ios::trunc);
    out << start.control;
    out.close();
    if (!out || chmod(paths.control.c_str(), 0700) != 0) {
      return Status::Internal("spool unusable: cannot write " + paths.control);
    }
    if (start.control.rfind("#!", 0) == 0) {
      spec.argv = {paths.control};
    } else {
      spec.argv = {"/bin/sh", paths.control};
    }
  } else {
    return Status::InvalidArgument("unknown control kind '" + start.control_kind + "'");
  }
  spec.env = ControlEnvironment(start, paths, context, base_env);
  spec.cwd = paths.results;
  spec.log_path = paths.control_log;
  return spec;
}

}  // namespace labmesh::agent
