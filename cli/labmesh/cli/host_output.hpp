#pragma once
// What `host list` and `host show` print (also `host mod`, which answers with the changed host):
// the table / the field lines as text, and the --json form (protocol::ToJson(HostInfo), which
// carries "protection" and "last_task"). "now" is passed in so that the texts are tested.

#include <cstdint>
#include <string>
#include <vector>

#include "labmesh/protocol/messages.hpp"

namespace labmesh::cli {

// The table of `host list`: HOSTNAME, STATUS, LOCKED, LABELS, VERSION, HEARTBEAT, LAST TASK
// ("Verify Failed", "-" when none).
std::string FormatHostList(const std::vector<protocol::HostInfo>& hosts, int64_t now_ms);

// `host show`: one "key            value" line per field, among them "protection" and
// "last task" (FormatLastTask).
std::string FormatHost(const protocol::HostInfo& host, int64_t now_ms);

// To std::cout: the text above at the current time, or with `json` a JSON array / object.
void PrintHosts(const std::vector<protocol::HostInfo>& hosts, bool json);
void PrintHost(const protocol::HostInfo& host, bool json);

}  // namespace labmesh::cli
