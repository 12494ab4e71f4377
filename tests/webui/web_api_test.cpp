// WebApi routing, status codes and JSON, against a canned-reply stand-in for the coordinator's
// API socket on inproc.

#include "labmesh/webui/web_api.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "fake_coordinator.hpp"
#include "labmesh/protocol/json.hpp"

namespace labmesh::webui {
namespace {

using protocol::HostHistoryReply;
using protocol::HostHistoryRequest;
using protocol::HostListReply;
using protocol::HostListRequest;
using protocol::HostPendingRequest;
using protocol::HostShowReply;
using protocol::HostShowRequest;
using protocol::LabelListReply;
using protocol::LabelListRequest;
using protocol::JobListRequest;
using protocol::JobShowRequest;
using testing::FakeCoordinator;
using testing::SampleHost;
using testing::SampleJob;
using testing::SampleTask;

constexpr char kEndpoint[] = "inproc://webui-test-api";

std::string Header(const HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

HttpRequest Get(std::string path, std::string query = "") {
  return HttpRequest{"GET", std::move(path), std::move(query), ""};
}

// A JSON error body: {"error": "...", "code": "..."}.
void ExpectJsonError(const HttpResponse& response, int status) {
  EXPECT_EQ(response.status, status) << response.body;
  EXPECT_EQ(response.content_type, "application/json");
  auto body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(body.is_object()) << response.body;
  ASSERT_TRUE(body.contains("error")) << response.body;
  EXPECT_TRUE(body["error"].is_string());
  EXPECT_FALSE(body["error"].get<std::string>().empty());
}

class WebApiTest : public ::testing::Test {
 protected:
  WebApiOptions Options() {
    WebApiOptions options;
    options.api_timeout_ms = 2000;
    return options;
  }

  FakeClock clock_;
  zmq::context_t context_;
  FakeCoordinator coordinator_{context_, kEndpoint};
  WebApi api_{context_, kEndpoint, Options(), &clock_};
};

TEST_F(WebApiTest, HostListIsJsonArrayWithTheCliHostFields) {
  HostListReply reply;
  reply.hosts = {SampleHost("lab-1"), SampleHost("lab-2", "Repair Failed")};
  coordinator_.Reply<HostListRequest>(reply);

  HttpResponse response = api_.Handle(Get("/api/v1/hosts"));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(Header(response, "X-Labmesh-Now-Ms"), std::to_string(clock_.WallMs()));
  EXPECT_EQ(Header(response, "Cache-Control"), "no-store");
  auto body = nlohmann::json::parse(response.body);
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 2u);
  // Exactly what `labmesh --json host list` prints for the same hosts.
  EXPECT_EQ(body[0], protocol::ToJson(reply.hosts[0]));
  EXPECT_EQ(body[1], protocol::ToJson(reply.hosts[1]));
  for (const char* field :
       {"hostname", "status", "locked", "labels", "agent_version", "last_heartbeat"}) {
    EXPECT_TRUE(body[0].contains(field)) << field;
  }
  EXPECT_EQ(body[1]["status"], "Repair Failed");
}

TEST_F(WebApiTest, HostListCarriesProtectionAndTheLastTaskOrNull) {
  HostListReply reply;
  reply.hosts = {SampleHost("lab-1", "Repair Failed"), SampleHost("lab-2")};
  reply.hosts[0].protection = "do-not-repair";
  reply.hosts[0].last_task = SampleTask(12, "lab-1");
  reply.hosts[0].last_task.checks.clear();  // as the coordinator sends it (history has them)
  coordinator_.Reply<HostListRequest>(reply);

  HttpResponse response = api_.Handle(Get("/api/v1/hosts"));
  ASSERT_EQ(response.status, 200) << response.body;
  auto body = nlohmann::json::parse(response.body);
  ASSERT_EQ(body.size(), 2u);
  EXPECT_EQ(body[0]["protection"], "do-not-repair");
  EXPECT_EQ(body[0]["last_task"], protocol::ToJson(reply.hosts[0].last_task));
  EXPECT_EQ(body[0]["last_task"]["kind"], "Verify");
  EXPECT_EQ(body[0]["last_task"]["status"], "Failed");
  EXPECT_EQ(body[0]["last_task"]["reason"], "verify.d/disk failed: <b>exit</b> status 1");
  EXPECT_EQ(body[0]["last_task"]["finished_ms"], 1'700'000'000'000 - 3'000);
  EXPECT_EQ(body[1]["protection"], "none");
  EXPECT_TRUE(body[1]["last_task"].is_null());
  // One host alone carries the same fields, and its health history.
  coordinator_.Reply<HostShowRequest>(HostShowReply{reply.hosts[0], {}});
  response = api_.Handle(Get("/api/v1/hosts/lab-1"));
  ASSERT_EQ(response.status, 200) << response.body;
  nlohmann::json one = body[0];
  one["health_history"] = nlohmann::json::array();
  EXPECT_EQ(nlohmann::json::parse(response.body), one);
}

TEST_F(WebApiTest, HostHistoryIsJsonArrayOfHistoryItemsForTheDecodedName) {
  HostHistoryReply reply;
  reply.items.resize(2);
  reply.items[0].type = "task";
  reply.items[0].id = 12;
  reply.items[0].name = "Verify";
  reply.items[0].status = "Failed";
  reply.items[0].queued_ms = 1'700'000'000'000;
  reply.items[0].checks = SampleTask(12, "lab-1 a").checks;
  reply.items[1].type = "entry";
  reply.items[1].id = 41;
  reply.items[1].job_id = 7;
  reply.items[1].name = "boot";
  reply.items[1].status = "Completed";
  coordinator_.Reply<HostHistoryRequest>(reply);

  HttpResponse response = api_.Handle(Get("/api/v1/hosts/lab%2D1%20a/history"));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(Header(response, "X-Labmesh-Now-Ms"), std::to_string(clock_.WallMs()));
  auto body = nlohmann::json::parse(response.body);
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 2u);
  // Exactly what `labmesh --json host history` prints.
  EXPECT_EQ(body[0], protocol::ToJson(reply.items[0]));
  EXPECT_EQ(body[1], protocol::ToJson(reply.items[1]));
  EXPECT_EQ(body[0]["checks"].size(), 3u);
  auto request = coordinator_.LastRequest<HostHistoryRequest>();
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->hostname, "lab-1 a");
  EXPECT_EQ(request->limit, 0u);  // the coordinator's default

  ASSERT_EQ(api_.Handle(Get("/api/v1/hosts/lab-1/history", "limit=5")).status, 200);
  EXPECT_EQ(coordinator_.LastRequest<HostHistoryRequest>()->limit, 5u);
  coordinator_.Reply<HostHistoryRequest>(HostHistoryReply{});
  response = api_.Handle(Get("/api/v1/hosts/lab-1/history"));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.body, "[]\n");
}

TEST_F(WebApiTest, HostHistoryOfUnknownHostIs404WithCoordinatorMessage) {
  coordinator_.Fail<HostHistoryRequest>(Status::NotFound("no host named nope"));
  HttpResponse response = api_.Handle(Get("/api/v1/hosts/nope/history"));
  ExpectJsonError(response, 404);
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["error"], "no host named nope");
  EXPECT_EQ(body["code"], "NotFound");
}

TEST_F(WebApiTest, BadHostHistoryRequestsAre400AndNeverReachCoordinator) {
  for (const auto& [path, query] : std::vector<std::pair<std::string, std::string>>{
           {"/api/v1/hosts/a%0Ab/history", ""},
           {"/api/v1/hosts/a%00b/history", ""},
           {"/api/v1/hosts/" + std::string(300, 'x') + "/history", ""},
           {"/api/v1/hosts/lab-1/history", "limit=-1"},
           {"/api/v1/hosts/lab-1/history", "limit=ten"},
           {"/api/v1/hosts/lab-1/history", "limit=4294967296"},
           {"/api/v1/hosts/lab-1/history", "limit=%"}}) {
    SCOPED_TRACE(path.substr(0, 40) + "?" + query);
    ExpectJsonError(api_.Handle(Get(path, query)), 400);
  }
  EXPECT_TRUE(coordinator_.Requests().empty());
  // Nothing else lives under a host.
  ExpectJsonError(api_.Handle(Get("/api/v1/hosts/lab-1/tasks")), 404);
  ExpectJsonError(api_.Handle(Get("/api/v1/hosts/lab-1/history/1")), 404);
  HttpResponse post = api_.Handle(HttpRequest{"POST", "/api/v1/hosts/lab-1/history", "", ""});
  EXPECT_EQ(post.status, 405);
  EXPECT_TRUE(coordinator_.Requests().empty());
}

TEST_F(WebApiTest, HostListForwardsFiltersWithCanonicalStatus) {
  coordinator_.Reply<HostListRequest>(HostListReply{});
  HttpResponse response = api_.Handle(Get("/api/v1/hosts", "status=repair-failed&label=gpu%3A1"));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.body, "[]\n");
  auto request = coordinator_.LastRequest<HostListRequest>();
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->status, "Repair Failed");
  EXPECT_EQ(request->label, "gpu:1");
}

TEST_F(WebApiTest, HostListWithoutFiltersAsksForAll) {
  coordinator_.Reply<HostListRequest>(HostListReply{});
  ASSERT_EQ(api_.Handle(Get("/api/v1/hosts/")).status, 200);
  auto request = coordinator_.LastRequest<HostListRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->status, "");
  EXPECT_EQ(request->label, "");
}

TEST_F(WebApiTest, UnknownStatusFilterIs400AndNeverReachesCoordinator) {
  ExpectJsonError(api_.Handle(Get("/api/v1/hosts", "status=sleeping")), 400);
  ExpectJsonError(api_.Handle(Get("/api/v1/hosts", "status=%zz")), 400);
  EXPECT_TRUE(coordinator_.Requests().empty());
}

TEST_F(WebApiTest, HostShowReturnsOneObjectForTheDecodedName) {
  coordinator_.On(HostShowRequest::kType, [](const protocol::Envelope& envelope) {
    auto request = protocol::DecodeBody<HostShowRequest>(envelope);
    return protocol::Encode(HostShowReply{SampleHost(request->hostname), {}},
                            envelope.request_id);
  });
  HttpResponse response = api_.Handle(Get("/api/v1/hosts/lab%2D1%20a"));
  ASSERT_EQ(response.status, 200) << response.body;
  auto body = nlohmann::json::parse(response.body);
  ASSERT_TRUE(body.is_object());
  nlohmann::json expected = protocol::ToJson(SampleHost("lab-1 a"));
  expected["health_history"] = nlohmann::json::array();
  EXPECT_EQ(body, expected);
  EXPECT_EQ(coordinator_.LastRequest<HostShowRequest>()->hostname, "lab-1 a");
}

TEST_F(WebApiTest, HostShowOfUnknownHostIs404WithCoordinatorMessage) {
  coordinator_.Fail<HostShowRequest>(Status::NotFound("no host named nope"));
  HttpResponse response = api_.Handle(Get("/api/v1/hosts/nope"));
  ExpectJsonError(response, 404);
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["error"], "no host named nope");
  EXPECT_EQ(body["code"], "NotFound");
}

TEST_F(WebApiTest, CoordinatorErrorsMapToHttpStatus) {
  const std::vector<std::pair<Status, int>> cases = {
      {Status::InvalidArgument("bad"), 400},      {Status::PermissionDenied("no"), 403},
      {Status::Unauthenticated("who?"), 401},
      {Status::FailedPrecondition("state"), 409}, {Status::Unavailable("later"), 503},
      {Status::Timeout("slow"), 503},             {Status::Corruption("bytes"), 500},
  };
  for (const auto& [status, http] : cases) {
    coordinator_.Fail<HostShowRequest>(status);
    ExpectJsonError(api_.Handle(Get("/api/v1/hosts/lab-1")), http);
  }
}

TEST(HttpStatusForTest, OneMappingForEveryStatusCode) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(StatusCode::kFailedPrecondition), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kTooLarge), 413);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(StatusCode::kTimeout), 503);
  EXPECT_EQ(HttpStatusFor(StatusCode::kCorruption), 500);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnsupported), 500);
}

TEST_F(WebApiTest, LabelsAreJsonArrayOfProtocolLabels) {
  LabelListReply reply;
  reply.labels = {{"gpu", "admin", 3}, {"arch:x86_64", "auto", 5}};
  coordinator_.Reply<LabelListRequest>(reply);
  HttpResponse response = api_.Handle(Get("/api/v1/labels", "kind=admin"));
  ASSERT_EQ(response.status, 200) << response.body;
  auto body = nlohmann::json::parse(response.body);
  ASSERT_EQ(body.size(), 2u);
  EXPECT_EQ(body[0], protocol::ToJson(reply.labels[0]));
  EXPECT_EQ(coordinator_.LastRequest<LabelListRequest>()->kind, "admin");
  ExpectJsonError(api_.Handle(Get("/api/v1/labels", "kind=other")), 400);
}

TEST_F(WebApiTest, PendingAsksHostPendingAndListsHosts) {
  HostListReply reply;
  reply.hosts = {SampleHost("new-1", "Pending Approval")};
  coordinator_.Reply<HostPendingRequest>(reply);
  HttpResponse response = api_.Handle(Get("/api/v1/pending", "label=gpu"));
  ASSERT_EQ(response.status, 200) << response.body;
  auto body = nlohmann::json::parse(response.body);
  ASSERT_EQ(body.size(), 1u);
  EXPECT_EQ(body[0]["hostname"], "new-1");
  EXPECT_EQ(body[0]["status"], "Pending Approval");
  EXPECT_EQ(coordinator_.LastRequest<HostPendingRequest>()->label, "gpu");
}

TEST_F(WebApiTest, JobListIsJsonArrayOfCliJobObjectsWithoutControl) {
  coordinator_.ServeJobs({SampleJob(12), SampleJob(11, "bob", "Completed")});
  HttpResponse response = api_.Handle(Get("/api/v1/jobs"));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(Header(response, "Cache-Control"), "no-store");
  auto body = nlohmann::json::parse(response.body);
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 2u);
  // Exactly what `labmesh --json job list` prints for the same jobs.
  protocol::JobInfo listed = SampleJob(12);
  listed.control.clear();
  EXPECT_EQ(body[0], protocol::ToJson(listed, /*with_control=*/false));
  for (const char* field : {"id", "name", "owner", "priority", "synch_count", "status", "entries"}) {
    EXPECT_TRUE(body[0].contains(field)) << field;
  }
  EXPECT_FALSE(body[0].contains("control"));
  EXPECT_EQ(body[0]["id"], 12);
  EXPECT_EQ(body[1]["id"], 11);
  EXPECT_EQ(body[0]["entries"][1]["host"], "lab-2");
  EXPECT_EQ(body[0]["entries"][1]["status"], "Failed");
  auto request = coordinator_.LastRequest<JobListRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->owner, "");
  EXPECT_EQ(request->status, "");
  EXPECT_EQ(request->limit, 0u);
}

TEST_F(WebApiTest, JobListForwardsFiltersWithCanonicalStatus) {
  coordinator_.ServeJobs({SampleJob(12), SampleJob(11, "bob", "Completed"), SampleJob(10, "bob")});
  HttpResponse response = api_.Handle(Get("/api/v1/jobs", "owner=bob&status=completed&limit=5"));
  ASSERT_EQ(response.status, 200) << response.body;
  auto request = coordinator_.LastRequest<JobListRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->owner, "bob");
  EXPECT_EQ(request->status, "Completed");
  EXPECT_EQ(request->limit, 5u);
  auto body = nlohmann::json::parse(response.body);
  ASSERT_EQ(body.size(), 1u);
  EXPECT_EQ(body[0]["id"], 11);

  response = api_.Handle(Get("/api/v1/jobs", "owner=bob&limit=1"));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(nlohmann::json::parse(response.body).size(), 1u);
}

TEST_F(WebApiTest, BadJobListFiltersAre400AndNeverReachCoordinator) {
  coordinator_.ServeJobs({SampleJob(12)});
  for (const char* query : {"status=Gathering", "status=done", "limit=-1", "limit=ten",
                            "limit=4294967296", "limit=1e3", "limit=%20"}) {
    SCOPED_TRACE(query);
    ExpectJsonError(api_.Handle(Get("/api/v1/jobs", query)), 400);
  }
  EXPECT_TRUE(coordinator_.Requests().empty());
}

TEST_F(WebApiTest, JobShowIsOneObjectWithControlAndEntries) {
  coordinator_.ServeJobs({SampleJob(12), SampleJob(7)});
  HttpResponse response = api_.Handle(Get("/api/v1/jobs/12"));
  ASSERT_EQ(response.status, 200) << response.body;
  auto body = nlohmann::json::parse(response.body);
  ASSERT_TRUE(body.is_object());
  EXPECT_EQ(body, protocol::ToJson(SampleJob(12)));
  EXPECT_EQ(body["control"], "make check");
  EXPECT_EQ(body["entries"][1]["fault"], "test");
  EXPECT_EQ(body["entries"][1]["exit_code"], 3);
  EXPECT_EQ(coordinator_.LastRequest<JobShowRequest>()->id, 12u);
  // Leading zeros are still the number.
  ASSERT_EQ(api_.Handle(Get("/api/v1/jobs/007")).status, 200);
  EXPECT_EQ(coordinator_.LastRequest<JobShowRequest>()->id, 7u);
}

TEST_F(WebApiTest, JobShowOfUnknownIdIs404WithCoordinatorMessage) {
  coordinator_.ServeJobs({SampleJob(12)});
  HttpResponse response = api_.Handle(Get("/api/v1/jobs/99"));
  ExpectJsonError(response, 404);
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["error"], "no job 99");
  EXPECT_EQ(body["code"], "NotFound");
}

TEST_F(WebApiTest, JobShowOfABadIdIs400AndNeverReachesCoordinator) {
  coordinator_.ServeJobs({SampleJob(12)});
  for (const char* path : {"/api/v1/jobs/abc", "/api/v1/jobs/-1", "/api/v1/jobs/%2B12",
                           "/api/v1/jobs/12abc", "/api/v1/jobs/1.5", "/api/v1/jobs/%2012",
                           "/api/v1/jobs/18446744073709551616", "/api/v1/jobs/0x10"}) {
    SCOPED_TRACE(path);
    HttpResponse response = api_.Handle(Get(path));
    ExpectJsonError(response, 400);
    EXPECT_EQ(nlohmann::json::parse(response.body)["code"], "InvalidArgument");
  }
  EXPECT_TRUE(coordinator_.Requests().empty());
  // The largest id is a number: asked for, and unknown.
  ExpectJsonError(api_.Handle(Get("/api/v1/jobs/18446744073709551615")), 404);
}

TEST_F(WebApiTest, OneJobIsReadOnlyAndTheListAlsoTakesPost) {
  HttpResponse response = api_.Handle(HttpRequest{"POST", "/api/v1/jobs/12", "", "{}"});
  ExpectJsonError(response, 405);
  EXPECT_EQ(Header(response, "Allow"), "GET, HEAD");
  response = api_.Handle(HttpRequest{"PUT", "/api/v1/jobs", "", "{}"});
  ExpectJsonError(response, 405);
  EXPECT_EQ(Header(response, "Allow"), "GET, HEAD, POST");
  ExpectJsonError(api_.Handle(Get("/api/v1/jobs/12/entries")), 404);
  EXPECT_TRUE(coordinator_.Requests().empty());
}

TEST_F(WebApiTest, PageAssetsAndHealthz) {
  HttpResponse index = api_.Handle(Get("/"));
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("<title>labmesh"), std::string::npos);
  EXPECT_NE(index.body.find("/static/app.js"), std::string::npos);
  EXPECT_FALSE(Header(index, "Content-Security-Policy").empty());
  EXPECT_EQ(api_.Handle(Get("/index.html")).body, index.body);

  HttpResponse js = api_.Handle(Get("/static/app.js"));
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(js.body.find("import"), std::string::npos);  // the router, loading the views
  HttpResponse view = api_.Handle(Get("/static/view_hosts.js"));
  ASSERT_EQ(view.status, 200);
  EXPECT_NE(view.body.find("/api/v1/hosts"), std::string::npos);
  HttpResponse css = api_.Handle(Get("/static/style.css"));
  ASSERT_EQ(css.status, 200);
  EXPECT_EQ(css.content_type, "text/css; charset=utf-8");

  HttpResponse health = api_.Handle(Get("/healthz"));
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  // None of these needed the coordinator.
  EXPECT_TRUE(coordinator_.Requests().empty());
}

TEST_F(WebApiTest, UnknownPathsAre404Json) {
  for (const char* path : {"/nope", "/api", "/api/v1", "/api/v2/hosts", "/api/v1/hosts/a/b",
                           "/static/", "/static/missing.js", "/static/../index.html",
                           "/static/%2e%2e/%2e%2e/etc/passwd", "/healthz/x"}) {
    ExpectJsonError(api_.Handle(Get(path)), 404);
  }
}

TEST_F(WebApiTest, WrongMethodOnKnownPathIs405WithAllow) {
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    HttpResponse response = api_.Handle(HttpRequest{method, "/api/v1/hosts", "", "{}"});
    ExpectJsonError(response, 405);
    EXPECT_EQ(Header(response, "Allow"), "GET, HEAD");
  }
  EXPECT_EQ(api_.Handle(HttpRequest{"POST", "/", "", ""}).status, 405);
  // An unknown path stays 404 whatever the method.
  ExpectJsonError(api_.Handle(HttpRequest{"POST", "/nope", "", ""}), 404);
  EXPECT_TRUE(coordinator_.Requests().empty());
}

TEST_F(WebApiTest, HeadIsAnsweredLikeGet) {
  HttpResponse response = api_.Handle(HttpRequest{"HEAD", "/healthz", "", ""});
  EXPECT_EQ(response.status, 200);
}

TEST_F(WebApiTest, SilentCoordinatorIs503) {
  coordinator_.On(HostListRequest::kType, [](const protocol::Envelope&) { return std::string(); });
  WebApiOptions options;
  options.api_timeout_ms = 200;
  WebApi api(context_, kEndpoint, options, &clock_);
  HttpResponse response = api.Handle(Get("/api/v1/hosts"));
  ExpectJsonError(response, 503);
  EXPECT_EQ(Header(response, "Retry-After"), "2");
  EXPECT_EQ(nlohmann::json::parse(response.body)["code"], "Timeout");
}

TEST_F(WebApiTest, UndecodableOrUnexpectedRepliesAre500NotClientErrors) {
  coordinator_.On(HostListRequest::kType,
                  [](const protocol::Envelope&) { return std::string("not msgpack at all"); });
  ExpectJsonError(api_.Handle(Get("/api/v1/hosts")), 500);
  // A well-formed reply of the wrong type.
  coordinator_.On(HostListRequest::kType, [](const protocol::Envelope& envelope) {
    return protocol::Encode(HostShowReply{SampleHost("x")}, envelope.request_id);
  });
  ExpectJsonError(api_.Handle(Get("/api/v1/hosts")), 500);
}

TEST_F(WebApiTest, InvalidUtf8FromCoordinatorIsReplacedNotThrown) {
  HostListReply reply;
  reply.hosts = {SampleHost("lab-\xff\xfe")};
  coordinator_.Reply<HostListRequest>(reply);
  HttpResponse response = api_.Handle(Get("/api/v1/hosts"));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_TRUE(nlohmann::json::parse(response.body).is_array());
}

TEST_F(WebApiTest, BadInputGetsClearErrorsAndNeverCrashes) {
  coordinator_.Fail<HostShowRequest>(Status::NotFound("no such host"));
  coordinator_.Reply<HostListRequest>(HostListReply{});
  const std::vector<std::pair<HttpRequest, int>> cases = {
      {Get(""), 400},
      {Get("api/v1/hosts"), 400},
      {Get("/api/v1/hosts/%zz"), 400},
      {Get("/api/v1/hosts/a%00b"), 400},
      {Get("/api/v1/hosts/a%0Ab"), 400},  // control character in a hostname
      {Get("/api/v1/hosts/" + std::string(300, 'x')), 400},
      {Get("/api/v1/hosts/%2e%2e"), 404},  // asked for, and the coordinator has no ".."
      {Get("/api/v1/hosts", std::string(10000, 'a')), 414},
      {Get("/" + std::string(10000, '/')), 414},
      {Get("/api/v1/hosts", "label=%"), 400},
      {Get("/%ff%fe"), 404},
      {HttpRequest{"", "/api/v1/hosts", "", ""}, 405},
      {HttpRequest{std::string("G\0T", 3), "/", "", ""}, 405},
  };
  for (const auto& [request, status] : cases) {
    HttpResponse response = api_.Handle(request);
    SCOPED_TRACE(request.path.substr(0, 40) + "?" + request.query.substr(0, 40));
    ExpectJsonError(response, status);
  }
  // Odd but harmless queries are not errors.
  EXPECT_EQ(api_.Handle(Get("/api/v1/hosts", "&&&=&==&x")).status, 200);
}

TEST(WebApiUnreachableTest, NoCoordinatorIs503) {
  zmq::context_t context;
  WebApiOptions options;
  options.api_timeout_ms = 200;
  WebApi api(context, "inproc://nobody-binds-this", options);
  HttpResponse response = api.Handle(Get("/api/v1/hosts"));
  ExpectJsonError(response, 503);
  // The page itself still loads, so it can show the error.
  EXPECT_EQ(api.Handle(Get("/")).status, 200);
  EXPECT_EQ(api.Handle(Get("/healthz")).status, 200);
}

TEST_F(WebApiTest, ConcurrentRequestsEachGetTheirOwnAnswer) {
  coordinator_.On(HostShowRequest::kType, [](const protocol::Envelope& envelope) {
    auto request = protocol::DecodeBody<HostShowRequest>(envelope);
    return protocol::Encode(HostShowReply{SampleHost(request->hostname)}, envelope.request_id);
  });
  constexpr int kThreads = 8;
  constexpr int kRequests = 40;
  std::vector<int> wrong(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &wrong] {
      for (int i = 0; i < kRequests; ++i) {
        std::string name = "h" + std::to_string(t) + "-" + std::to_string(i);
        HttpResponse response = api_.Handle(Get("/api/v1/hosts/" + name));
        if (response.status != 200 ||
            nlohmann::json::parse(response.body)["hostname"] != name) {
          ++wrong[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(wrong[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace labmesh::webui
