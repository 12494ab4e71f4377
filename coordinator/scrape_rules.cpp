#include "scrape_rules.hpp"

#include <arpa/inet.h>

#include "secrets.hpp"

namespace labmesh::coordinator {

bool IsLoopbackAddress(std::string_view address) {
  std::string text(address);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

Status AdmitScrape(const std::string& configured, const std::string& given, bool loopback) {
  if (!configured.empty()) {
    if (given.empty()) {
      return Status::Unauthenticated(
          "the metrics need the scrape token (--metrics-token): send `Authorization: Bearer "
          "TOKEN`");
    }
    if (!SecretEquals(given, configured)) {
      return Status::Unauthenticated("the scrape token is not this coordinator's --metrics-token");
    }
    return Status::Ok();
  }
  if (!loopback) {
    return Status::PermissionDenied(
        "without --metrics-token the metrics are served to loopback clients only; start the "
        "coordinator with --metrics-token to scrape it from elsewhere");
  }
  return Status::Ok();
}

}  // namespace labmesh::coordinator
