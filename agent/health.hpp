#pragma once
// What the agent reports about its machine, read from /proc, uname, os-release and statvfs
// (never by spawning shell tools).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "labmesh/protocol/messages.hpp"

namespace labmesh::agent {

protocol::HostFacts CollectFacts();
// Health of the machine; disk figures are for the file system holding `work_dir`.
protocol::HostHealth CollectHealth(const std::string& work_dir);

// The pure parsers under CollectFacts and CollectHealth, given the files' text (tested on
// samples, so a misread shows as a wrong number rather than a zero that looks like an idle
// machine).
struct LoadAverages {
  double load1 = 0, load5 = 0, load15 = 0;
};
// The 1, 5 and 15 minute load averages, the first three fields of /proc/loadavg; nullopt when
// the text does not start with three numbers.
std::optional<LoadAverages> ParseLoadavg(std::string_view text);
// The value of `key` (e.g. "MemTotal") in /proc/meminfo's text, in bytes: values in kB are
// multiplied by 1024, values without a unit (page counts) are returned as they are. nullopt when
// the key is missing or its value is not a number.
std::optional<uint64_t> ParseMeminfo(std::string_view text, std::string_view key);

}  // namespace labmesh::agent
