#pragma once
// The query parameters of GET /api/v1/results, /api/v1/results/summary and
// /api/v1/results/series turned into the coordinator's requests. Pure functions: the handlers
// in web_api.cpp call them first, answer 400 with their message when they refuse, and send
// nothing then. webui/README.md documents the parameters.
//
// Times: `since`/`until` are lookbacks ("7d", "2h", "30m", "90s": that long before now, as the
// CLI's --since/--until), `since_us`/`until_us` absolute instants in µs since the epoch (as the
// JSON's `*_us` fields, so a page can ask again from a time it was given). One of each pair at
// most. An empty value is the same as a missing parameter; unknown parameters are ignored, as
// on every other route.

#include <cstdint>
#include <map>
#include <string>

#include "labmesh/common/status.hpp"
#include "labmesh/protocol/messages.hpp"

namespace labmesh::webui {

using QueryParams = std::map<std::string, std::string>;

// job, host, label, test, status (GOOD FAIL ERROR ABORT WARN TEST_NA, any case), the times,
// limit (1..1000; none = the coordinator's 100), cursor.
Result<protocol::ResultsListRequest> ResultsListRequestFromQuery(const QueryParams& params,
                                                                 int64_t now_us);

// by (host|label; none = label when label is given, else host), test, test_prefix, host, label,
// the times; without since/since_us the window starts 7 days before now (as the CLI's).
Result<protocol::ResultsSummaryRequest> ResultsSummaryRequestFromQuery(const QueryParams& params,
                                                                       int64_t now_us);

// test and key (required), host, label, the times, limit (1..100000; none = the coordinator's
// 1000).
Result<protocol::ResultsSeriesRequest> ResultsSeriesRequestFromQuery(const QueryParams& params,
                                                                     int64_t now_us);

}  // namespace labmesh::webui
