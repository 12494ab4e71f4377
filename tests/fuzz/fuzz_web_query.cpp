// libFuzzer target: the web server's URLs, query strings and request headers (docs/fuzzing.md),
// through the functions the handlers call, not an HTTP server: PercentDecode, SplitPath and
// ParseQuery (url.hpp); the parameters then go through every reader the routes use (numbers,
// job and host statuses, the results queries of results_api.hpp); and the Cookie and
// Authorization headers through CredentialsOf (web_auth.hpp). The input is used whole as each of
// these. Corpus: corpus/web_query (the queries and paths of tests/webui).

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "labmesh/protocol/types.hpp"
#include "labmesh/webui/results_api.hpp"
#include "labmesh/webui/url.hpp"
#include "labmesh/webui/web_auth.hpp"
#include "web_common.hpp"

namespace {

using namespace labmesh::webui;

constexpr int64_t kNowUs = 1'764'000'000'000'000;

void ReadParams(const std::map<std::string, std::string>& params) {
  (void)ResultsListRequestFromQuery(params, kNowUs);
  (void)ResultsSummaryRequestFromQuery(params, kNowUs);
  (void)ResultsSeriesRequestFromQuery(params, kNowUs);
  for (const auto& [key, value] : params) {
    (void)ParseDecimal(key, value, UINT64_MAX);
    (void)ParseDecimal(key, value, UINT32_MAX, 1);
    (void)CanonicalJobStatus(value);
    (void)labmesh::protocol::ParseHostStatus(value);
    (void)ValidateHostname(value);
    (void)Quote(value);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)PercentDecode(text, true);
  (void)PercentDecode(text, false);
  (void)SplitPath(text);
  if (auto params = ParseQuery(text); params.ok()) ReadParams(*params);
  if (auto params = ParseQuery(text, 2); params.ok()) ReadParams(*params);

  HttpRequest request;
  request.method = "GET";
  request.path = "/api/v1/whoami";
  request.remote_addr = "127.0.0.1";
  request.headers = {{"Cookie", text}, {"X-CSRF-Token", "t"}};
  (void)FindCookie(request, kSessionCookieName);
  (void)CredentialsOf(request);
  request.headers = {{"Authorization", text}, {"Content-Type", text}};
  (void)CredentialsOf(request);
  (void)HasJsonContentType(request);
  return 0;
}
