#pragma once
// What the agent reports about its machine, read from /proc, uname, os-release and statvfs
// (never by spawning shell tools).

#include <string>

#include "labmesh/protocol/messages.hpp"

namespace labmesh::agent {

protocol::HostFacts CollectFacts();
// Health of the machine; disk figures are for the file system holding `work_dir`.
protocol::HostHealth CollectHealth(const std::string& work_dir);

}  // namespace labmesh::agent
