#pragma once
// Who may read the coordinator's metrics (MetricsRequest, GET /metrics; docs/monitoring.md):
// with a --metrics-token, whoever presents it, from anywhere; without one, loopback clients
// only. Pure functions, tested alone (tests/coordinator/metrics_test.cpp).

#include <string>
#include <string_view>

#include "labmesh/common/status.hpp"

namespace labmesh::coordinator {

// True for an IPv4 loopback address (127.0.0.0/8), ::1 and IPv4-mapped loopback
// (::ffff:127.x.x.x), as the web server reports its client's address.
bool IsLoopbackAddress(std::string_view address);

// OK when the scrape is allowed. `configured` is --metrics-token ("" = none), `given` the
// request's token, `loopback` whether the client is on this machine. A wrong or missing token
// is Unauthenticated; a remote client while no token is configured, PermissionDenied.
Status AdmitScrape(const std::string& configured, const std::string& given, bool loopback);

}  // namespace labmesh::coordinator
