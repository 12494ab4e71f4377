// The web page's changes (POST jobs, aborts, host actions), the job log, the test catalog, the
// host's health history, Chart.js and the live events stream, against the canned-reply
// stand-in for the coordinator's API socket on inproc. The real coordinator behind them is
// driven end to end by tests/e2e/web_test.cpp.

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "fake_coordinator.hpp"
#include "labmesh/protocol/json.hpp"
#include "labmesh/webui/web_api.hpp"
#include "process.hpp"

namespace labmesh::webui {
namespace {

using testing::FakeCoordinator;
using testing::SampleHost;
using testing::SampleJob;
using testing::SampleTask;
using JsonHeaders = std::vector<std::pair<std::string, std::string>>;

constexpr char kEndpoint[] = "inproc://webui-actions-test-api";

HttpRequest Post(std::string path, std::string body,
                 JsonHeaders headers = {{"Content-Type", "application/json"}}) {
  HttpRequest request{"POST", std::move(path), "", std::move(body)};
  request.headers = std::move(headers);
  return request;
}

HttpRequest Get(std::string path, std::string query = "") {
  return HttpRequest{"GET", std::move(path), std::move(query), ""};
}

nlohmann::json Body(const HttpResponse& response) {
  return nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
}

// An error response with a message, and its code.
void ExpectError(const HttpResponse& response, int status, const std::string& message_part = "") {
  EXPECT_EQ(response.status, status) << response.body;
  auto body = Body(response);
  ASSERT_TRUE(body.is_object() && body.contains("error")) << response.body;
  EXPECT_NE(body["error"].get<std::string>().find(message_part), std::string::npos)
      << response.body;
}

// Collects a stream's writes; Wait lets `waits` polls happen, running `between` before each.
class RecordingSink final : public StreamSink {
 public:
  bool Write(std::string_view bytes) override {
    text += bytes;
    return true;
  }
  bool Wait(int64_t ms) override {
    if (waits-- <= 0) return false;
    if (between) between();
    clock->AdvanceMs(ms);
    return true;
  }

  std::string text;
  int waits = 0;
  std::function<void()> between;
  FakeClock* clock = nullptr;
};

class WebActionsTest : public ::testing::Test {
 protected:
  WebApiOptions Options() {
    WebApiOptions options;
    options.api_timeout_ms = 2000;
    options.max_live_streams = 2;
    options.chartjs_file = dir_.path() + "/chart.min.js";
    return options;
  }

  // Runs the response's stream with `waits` polls after the first.
  std::string RunStream(HttpResponse& response, int waits, std::function<void()> between = {}) {
    EXPECT_TRUE(response.stream) << response.status << " " << response.body;
    if (!response.stream) return "";
    RecordingSink sink;
    sink.waits = waits;
    sink.between = std::move(between);
    sink.clock = &clock_;
    response.stream(sink);
    return sink.text;
  }

  labmesh::testing::TempDir dir_;
  FakeClock clock_;
  zmq::context_t context_;
  FakeCoordinator coordinator_{context_, kEndpoint};
  WebApi api_{context_, kEndpoint, Options(), &clock_};
};

TEST_F(WebActionsTest, CreateJobSendsEveryFieldAndAnswers201WithTheId) {
  coordinator_.Reply<protocol::JobCreateRequest>(protocol::JobCreateReply{42});
  HttpResponse response = api_.Handle(Post("/api/v1/jobs", R"({
      "name": "boot", "user": "mallory", "control": "labmesh-test run boot -- true",
      "hosts": ["lab-1", "lab-2"], "meta_label": "gpu", "meta_count": 2, "depends": ["x86"],
      "synch_count": 2, "priority": "high", "run_verify": true, "timeout_ms": 60000,
      "max_runtime_ms": 30000, "cleanup": "always", "retry": 1,
      "notify": ["email:a@b.org", "webhook:http://h/x"], "notify_on": "failure",
      "reserve_on_failure_ms": 7200000})"));
  ASSERT_EQ(response.status, 201) << response.body;
  EXPECT_EQ(Body(response)["id"], 42);
  auto sent = coordinator_.LastRequest<protocol::JobCreateRequest>();
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(sent->name, "boot");
  EXPECT_EQ(sent->user, "");  // never the body's: the coordinator takes the logged-in user
  EXPECT_EQ(sent->control, "labmesh-test run boot -- true");
  EXPECT_EQ(sent->hosts, (std::vector<std::string>{"lab-1", "lab-2"}));
  EXPECT_EQ(sent->meta_label, "gpu");
  EXPECT_EQ(sent->meta_count, 2u);
  EXPECT_EQ(sent->depends, (std::vector<std::string>{"x86"}));
  EXPECT_EQ(sent->synch_count, 2u);
  EXPECT_EQ(sent->priority, "high");
  EXPECT_TRUE(sent->run_verify);
  EXPECT_EQ(sent->timeout_ms, 60000);
  EXPECT_EQ(sent->max_runtime_ms, 30000);
  EXPECT_EQ(sent->cleanup, "always");
  EXPECT_EQ(sent->retry, 1u);
  EXPECT_EQ(sent->notify, (std::vector<std::string>{"email:a@b.org", "webhook:http://h/x"}));
  EXPECT_EQ(sent->notify_on, "failure");
  EXPECT_EQ(sent->reserve_on_failure_ms, 7'200'000);
}

TEST_F(WebActionsTest, BadJobBodiesAreRefusedBeforeTheCoordinator) {
  ExpectError(api_.Handle(Post("/api/v1/jobs", "{\"name\": \"x\"}", {})), 415, "JSON");
  ExpectError(api_.Handle(Post("/api/v1/jobs", "{\"name\": \"x\"}",
                               {{"Content-Type", "text/plain"}})),
              415, "JSON");
  ExpectError(api_.Handle(Post("/api/v1/jobs", "[1, 2]")), 400, "JSON object");
  ExpectError(api_.Handle(Post("/api/v1/jobs", "{\"name\": ")), 400, "JSON object");
  ExpectError(api_.Handle(Post("/api/v1/jobs", R"({"nmae": "typo"})")), 400, "unknown field");
  ExpectError(api_.Handle(Post("/api/v1/jobs", R"({"hosts": "lab-1"})")), 400, "hosts");
  ExpectError(api_.Handle(Post("/api/v1/jobs", R"({"hosts": [1]})")), 400, "hosts");
  ExpectError(api_.Handle(Post("/api/v1/jobs", R"({"synch_count": -1})")), 400, "synch_count");
  ExpectError(api_.Handle(Post("/api/v1/jobs", R"({"synch_count": 1.5})")), 400, "synch_count");
  ExpectError(api_.Handle(Post("/api/v1/jobs", R"({"synch_count": 4294967296})")), 400,
              "synch_count");
  ExpectError(api_.Handle(Post("/api/v1/jobs", R"({"run_verify": "yes"})")), 400, "run_verify");
  EXPECT_TRUE(coordinator_.Requests().empty());
}

TEST_F(WebActionsTest, TheCoordinatorsRefusalsKeepTheirMeaning) {
  coordinator_.Fail<protocol::JobCreateRequest>(
      Status::InvalidArgument("host lab-9 shares no ACL group with alice"));
  ExpectError(api_.Handle(Post("/api/v1/jobs", R"({"command": "true", "hosts": ["lab-9"]})")),
              400, "shares no ACL group");
  coordinator_.Fail<protocol::JobAbortRequest>(
      Status::PermissionDenied("only the job's owner or an admin may abort it"));
  ExpectError(api_.Handle(Post("/api/v1/jobs/7/abort", "{}")), 403, "owner");
  coordinator_.Fail<protocol::HostActionRequest>(Status::PermissionDenied("admins only"));
  ExpectError(api_.Handle(Post("/api/v1/hosts/lab-1/lock", R"({"reason": "x"})")), 403,
              "admins only");
  coordinator_.Fail<protocol::HostTaskRequest>(Status::NotFound("host nope not found"));
  ExpectError(api_.Handle(Post("/api/v1/hosts/nope/verify", "")), 404, "not found");
}

TEST_F(WebActionsTest, AMutatingRequestWithACookieButNoCsrfTokenIsRefused) {
  coordinator_.ServeAuth(testing::FakeUser{});
  coordinator_.Reply<protocol::JobCreateRequest>(protocol::JobCreateReply{1});
  coordinator_.Reply<protocol::HostActionRequest>(protocol::OkReply{});
  ASSERT_EQ(api_.Handle(Post("/api/v1/login", R"({"user": "alice", "token": "tok-alice"})"))
                .status,
            200);
  JsonHeaders cookie = {{"Content-Type", "application/json"},
                        {"Cookie", "labmesh_session=sess-alice-1"}};
  ExpectError(api_.Handle(Post("/api/v1/jobs", R"({"command": "true"})", cookie)), 403);
  ExpectError(api_.Handle(Post("/api/v1/hosts/lab-1/unlock", "{}", cookie)), 403);
  cookie.emplace_back("X-CSRF-Token", "csrf-alice-1");
  EXPECT_EQ(api_.Handle(Post("/api/v1/jobs", R"({"command": "true"})", cookie)).status, 201);
  EXPECT_EQ(api_.Handle(Post("/api/v1/hosts/lab-1/unlock", "{}", cookie)).status, 200);
}

TEST_F(WebActionsTest, AbortTheJobOrOneEntry) {
  coordinator_.Reply<protocol::JobAbortRequest>(protocol::OkReply{});
  HttpResponse whole = api_.Handle(Post("/api/v1/jobs/7/abort", ""));
  ASSERT_EQ(whole.status, 200) << whole.body;
  EXPECT_EQ(Body(whole)["aborted"], true);
  EXPECT_EQ(coordinator_.LastRequest<protocol::JobAbortRequest>()->id, 7u);
  EXPECT_EQ(coordinator_.LastRequest<protocol::JobAbortRequest>()->host, "");
  ASSERT_EQ(api_.Handle(Post("/api/v1/jobs/7/abort", R"({"host": "lab-2"})")).status, 200);
  EXPECT_EQ(coordinator_.LastRequest<protocol::JobAbortRequest>()->host, "lab-2");

  ExpectError(api_.Handle(Post("/api/v1/jobs/x/abort", "{}")), 400, "job id");
  ExpectError(api_.Handle(Post("/api/v1/jobs/7/abort", R"({"host": 3})")), 400, "host");
  ExpectError(api_.Handle(Get("/api/v1/jobs/7/abort")), 405);
  EXPECT_EQ(coordinator_.Count(protocol::MessageType::kJobAbortRequest), 2u);
}

TEST_F(WebActionsTest, TheLogIsTextFromAnOffset) {
  protocol::JobLogReply log;
  std::string text = "boot ok\n\xff\n";
  log.data.assign(text.begin(), text.end());
  log.next_offset = 110;
  log.complete = true;
  log.status = "Completed";
  coordinator_.Reply<protocol::JobLogRequest>(log);
  HttpResponse response = api_.Handle(Get("/api/v1/jobs/7/log", "host=lab-1&offset=100"));
  ASSERT_EQ(response.status, 200) << response.body;
  auto body = Body(response);
  ASSERT_TRUE(body.is_object()) << response.body;  // the invalid byte was replaced
  EXPECT_EQ(body["host"], "lab-1");
  EXPECT_EQ(body["offset"], 100);
  EXPECT_EQ(body["next_offset"], 110);
  EXPECT_EQ(body["complete"], true);
  EXPECT_EQ(body["status"], "Completed");
  EXPECT_EQ(body["data"].get<std::string>().substr(0, 8), "boot ok\n");
  auto sent = coordinator_.LastRequest<protocol::JobLogRequest>();
  EXPECT_EQ(sent->id, 7u);
  EXPECT_EQ(sent->offset, 100u);
  EXPECT_EQ(sent->max_bytes, 65536u);

  ExpectError(api_.Handle(Get("/api/v1/jobs/7/log", "")), 400, "host=");
  ExpectError(api_.Handle(Get("/api/v1/jobs/7/log", "host=a&offset=-1")), 400, "offset");
  ExpectError(api_.Handle(Get("/api/v1/jobs/7/log", "host=a&max_bytes=0")), 400, "max_bytes");
  ExpectError(api_.Handle(Get("/api/v1/jobs/7/log", "host=a&max_bytes=1048577")), 400,
              "max_bytes");
  EXPECT_EQ(coordinator_.Count(protocol::MessageType::kJobLogRequest), 1u);
}

TEST_F(WebActionsTest, TheTestCatalogForTheCreateForm) {
  protocol::TestListReply tests;
  tests.tests.push_back(protocol::TestInfo{"boot", "boots", "", 10, "admin", 1, "admin", 1});
  coordinator_.Reply<protocol::TestListRequest>(tests);
  HttpResponse response = api_.Handle(Get("/api/v1/tests"));
  ASSERT_EQ(response.status, 200) << response.body;
  auto body = Body(response);
  ASSERT_EQ(body.size(), 1u);
  EXPECT_EQ(body[0]["name"], "boot");
  EXPECT_EQ(body[0]["description"], "boots");
}

TEST_F(WebActionsTest, HostActions) {
  coordinator_.Reply<protocol::HostActionRequest>(protocol::OkReply{});
  for (const char* action : {"lock", "unlock", "accept", "reject"}) {
    HttpResponse response = api_.Handle(
        Post(std::string("/api/v1/hosts/lab%2D1/") + action, R"({"reason": "bench work"})"));
    ASSERT_EQ(response.status, 200) << action << ": " << response.body;
    EXPECT_EQ(Body(response)["ok"], true);
    auto sent = coordinator_.LastRequest<protocol::HostActionRequest>();
    EXPECT_EQ(sent->hostname, "lab-1");
    EXPECT_EQ(sent->action, action);
    EXPECT_EQ(sent->reason, "bench work");
  }
  ExpectError(api_.Handle(Post("/api/v1/hosts/lab-1/lock", "{}")), 400, "reason");
  ExpectError(api_.Handle(Post("/api/v1/hosts/lab-1/delete", "{}")), 404);
  ExpectError(api_.Handle(Post("/api/v1/hosts/lab-1/unlock", R"({"force": true})")), 400,
              "unknown field");
  ExpectError(api_.Handle(Get("/api/v1/hosts/lab-1/lock")), 405);
  EXPECT_EQ(coordinator_.Count(protocol::MessageType::kHostActionRequest), 4u);

  coordinator_.Reply<protocol::HostTaskRequest>(protocol::HostTaskReply{SampleTask(9, "lab-1")});
  for (const char* kind : {"verify", "repair"}) {
    HttpResponse task = api_.Handle(Post(std::string("/api/v1/hosts/lab-1/") + kind, ""));
    ASSERT_EQ(task.status, 200) << task.body;
    EXPECT_EQ(Body(task)["id"], 9);
    EXPECT_EQ(coordinator_.LastRequest<protocol::HostTaskRequest>()->kind, kind);
  }
}

TEST_F(WebActionsTest, LabelsAndProtectionAnswerTheChangedHost) {
  protocol::HostShowReply changed{SampleHost("lab-1"), {}};
  coordinator_.Reply<protocol::HostLabelRequest>(changed);
  coordinator_.Reply<protocol::HostModRequest>(changed);
  HttpResponse labels =
      api_.Handle(Post("/api/v1/hosts/lab-1/labels", R"({"add": ["gpu"], "remove": ["old"]})"));
  ASSERT_EQ(labels.status, 200) << labels.body;
  EXPECT_EQ(Body(labels)["hostname"], "lab-1");
  auto sent = coordinator_.LastRequest<protocol::HostLabelRequest>();
  EXPECT_EQ(sent->add, std::vector<std::string>{"gpu"});
  EXPECT_EQ(sent->remove, std::vector<std::string>{"old"});
  ExpectError(api_.Handle(Post("/api/v1/hosts/lab-1/labels", "{}")), 400, "labels");

  HttpResponse mod =
      api_.Handle(Post("/api/v1/hosts/lab-1/protection", R"({"protection": "do-not-repair"})"));
  ASSERT_EQ(mod.status, 200) << mod.body;
  EXPECT_EQ(coordinator_.LastRequest<protocol::HostModRequest>()->protection, "do-not-repair");
  ExpectError(api_.Handle(Post("/api/v1/hosts/lab-1/protection", "{}")), 400, "protection");
  ExpectError(api_.Handle(Post("/api/v1/hosts/%01/labels", R"({"add": ["a"]})")), 400);
}

TEST_F(WebActionsTest, QuarantineAndReleaseAnswerTheHostAndHealthTheScores) {
  protocol::HostShowReply quarantined{SampleHost("lab-1"), {}};
  quarantined.host.status = "Quarantined";
  quarantined.host.quarantine_reason = "bad NIC";
  quarantined.host.quarantined_by = "admin";
  quarantined.host.quarantined_ms = 1'700'000'000'000;
  quarantined.host.health_score = 6.5;
  quarantined.host.suspect = true;
  coordinator_.Reply<protocol::HostQuarantineRequest>(quarantined);
  HttpResponse reply =
      api_.Handle(Post("/api/v1/hosts/lab-1/quarantine", R"({"reason": "bad NIC"})"));
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto body = Body(reply);
  EXPECT_EQ(body["quarantine"]["reason"], "bad NIC");
  EXPECT_EQ(body["quarantine"]["by"], "admin");
  EXPECT_EQ(body["health_score"], 6.5);
  EXPECT_EQ(body["suspect"], true);
  auto sent = coordinator_.LastRequest<protocol::HostQuarantineRequest>();
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(sent->hostname, "lab-1");
  EXPECT_FALSE(sent->release);
  EXPECT_EQ(sent->reason, "bad NIC");
  ASSERT_EQ(api_.Handle(Post("/api/v1/hosts/lab-1/unquarantine", "{}")).status, 200);
  sent = coordinator_.LastRequest<protocol::HostQuarantineRequest>();
  ASSERT_TRUE(sent.ok());
  EXPECT_TRUE(sent->release);
  // Bad bodies and methods never reach the coordinator.
  ExpectError(api_.Handle(Post("/api/v1/hosts/lab-1/quarantine", R"({"why": "x"})")), 400,
              "unknown field");
  ExpectError(api_.Handle(Get("/api/v1/hosts/lab-1/quarantine")), 405);
  EXPECT_EQ(coordinator_.Count(protocol::MessageType::kHostQuarantineRequest), 2u);

  protocol::HostFlakyReply scores;
  scores.computed_ms = 1'700'000'000'000;
  scores.mode = "auto";
  scores.threshold = 6;
  protocol::HostHealthInfo host;
  host.hostname = "lab-1";
  host.score = 6.5;
  host.suspect = true;
  scores.hosts = {host};
  scores.flaky_tests = {{"racy", {"lab-2"}, "b1", 3, 2}};
  coordinator_.Reply<protocol::HostFlakyRequest>(scores);
  HttpResponse health = api_.Handle(Get("/api/v1/health", "label=pool%3Aa&limit=5"));
  ASSERT_EQ(health.status, 200) << health.body;
  auto json = Body(health);
  EXPECT_EQ(json["hosts"][0]["hostname"], "lab-1");
  EXPECT_EQ(json["flaky_tests"][0]["test"], "racy");
  auto asked = coordinator_.LastRequest<protocol::HostFlakyRequest>();
  ASSERT_TRUE(asked.ok());
  EXPECT_EQ(asked->label, "pool:a");
  EXPECT_EQ(asked->limit, 5u);
  ExpectError(api_.Handle(Get("/api/v1/health", "limit=many")), 400, "limit");
}

TEST_F(WebActionsTest, ReserveAndReleaseAnswerTheHost) {
  protocol::HostShowReply reserved{SampleHost("lab-1"), {}};
  reserved.host.reserved_by = "alice";
  reserved.host.reserve_reason = "bisect";
  reserved.host.reserved_ms = 1'700'000'000'000;
  reserved.host.reserved_until_ms = 1'700'014'400'000;
  coordinator_.Reply<protocol::HostReserveRequest>(reserved);
  HttpResponse reply = api_.Handle(
      Post("/api/v1/hosts/lab-1/reserve", R"({"duration_ms": 14400000, "reason": "bisect"})"));
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto body = Body(reply);
  EXPECT_EQ(body["reservation"]["by"], "alice");
  EXPECT_EQ(body["reservation"]["until_ms"], 1'700'014'400'000);
  EXPECT_EQ(body["reservation"]["until"], "2023-11-15T02:13:20.000Z");
  auto sent = coordinator_.LastRequest<protocol::HostReserveRequest>();
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(sent->hostname, "lab-1");
  EXPECT_EQ(sent->duration_ms, 14'400'000);
  EXPECT_EQ(sent->reason, "bisect");
  // Bad bodies never reach the coordinator.
  ExpectError(api_.Handle(Post("/api/v1/hosts/lab-1/reserve", "{}")), 400, "duration_ms");
  ExpectError(api_.Handle(Post("/api/v1/hosts/lab-1/reserve", R"({"for": "4h"})")), 400,
              "unknown field");
  ExpectError(api_.Handle(Post("/api/v1/hosts/lab-1/reserve", R"({"duration_ms": "4h"})")), 400);
  ExpectError(api_.Handle(Get("/api/v1/hosts/lab-1/reserve")), 405);
  EXPECT_EQ(coordinator_.Count(protocol::MessageType::kHostReserveRequest), 1u);

  coordinator_.Reply<protocol::HostReleaseRequest>(
      protocol::HostShowReply{SampleHost("lab-1"), {}});
  HttpResponse released = api_.Handle(Post("/api/v1/hosts/lab-1/release", "{}"));
  ASSERT_EQ(released.status, 200) << released.body;
  EXPECT_TRUE(Body(released)["reservation"].is_null());
  EXPECT_EQ(coordinator_.LastRequest<protocol::HostReleaseRequest>()->hostname, "lab-1");
}

TEST_F(WebActionsTest, HostShowCarriesTheHealthHistory) {
  protocol::HostShowReply reply{SampleHost("lab-1"), {}};
  protocol::HealthSample sample;
  sample.time_ms = 1'700'000'000'000;
  sample.health.load1 = 1.5;
  sample.health.mem_available_bytes = 1024;
  reply.health_history = {sample, sample};
  reply.health_history[1].time_ms += 30'000;
  coordinator_.Reply<protocol::HostShowRequest>(reply);
  auto body = Body(api_.Handle(Get("/api/v1/hosts/lab-1")));
  ASSERT_EQ(body["health_history"].size(), 2u);
  EXPECT_EQ(body["health_history"][0]["time_ms"], 1'700'000'000'000);
  EXPECT_EQ(body["health_history"][1]["time_ms"], 1'700'000'030'000);
  EXPECT_EQ(body["health_history"][0]["load1"], 1.5);
  EXPECT_EQ(body["health_history"][0]["mem_available_bytes"], 1024);
}

TEST_F(WebActionsTest, JobListPagesAndFiltersByName) {
  coordinator_.Reply<protocol::JobListRequest>(protocol::JobListReply{});
  ASSERT_EQ(api_.Handle(Get("/api/v1/jobs", "name=Boot&before_id=40&limit=20&"
                                            "finished_since_us=1700000000000000"))
                .status,
            200);
  auto sent = coordinator_.LastRequest<protocol::JobListRequest>();
  EXPECT_EQ(sent->name, "Boot");
  EXPECT_EQ(sent->before_id, 40u);
  EXPECT_EQ(sent->limit, 20u);
  EXPECT_EQ(sent->finished_since_us, 1'700'000'000'000'000);
  ExpectError(api_.Handle(Get("/api/v1/jobs", "before_id=x")), 400, "before_id");
  ExpectError(api_.Handle(Get("/api/v1/jobs", "finished_since_us=-5")), 400, "finished_since_us");
}

TEST_F(WebActionsTest, ChartJsIsServedFromTheDebianPackagesFile) {
  ExpectError(api_.Handle(Get("/static/chart.js")), 404, "libjs-chart.js");
  std::ofstream(dir_.path() + "/chart.min.js") << "/* Chart.js */";
  HttpResponse chart = api_.Handle(Get("/static/chart.js"));
  ASSERT_EQ(chart.status, 200);
  EXPECT_EQ(chart.content_type, "text/javascript; charset=utf-8");
  ASSERT_TRUE(chart.file);
  EXPECT_EQ(chart.body_length(), 14u);
}

TEST_F(WebActionsTest, ThePageCanBeServedFromADirectoryForDevelopers) {
  WebApiOptions options = Options();
  options.static_dir = dir_.path();
  WebApi api(context_, kEndpoint, options, &clock_);
  std::ofstream(dir_.path() + "/index.html") << "<title>dev copy</title>";
  std::ofstream(dir_.path() + "/new-view.js") << "export {};";
  EXPECT_EQ(api.Handle(Get("/")).body, "<title>dev copy</title>");
  HttpResponse js = api.Handle(Get("/static/new-view.js"));
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  for (const char* path : {"/static/..%2Fsecret.js", "/static/.hidden.js", "/static/noext",
                           "/static/missing.js"}) {
    EXPECT_EQ(api.Handle(Get(path)).status, 404) << path;
  }
}

TEST_F(WebActionsTest, EventsSendWhatChangedAndNothingElse) {
  protocol::HostListReply hosts;
  hosts.hosts.push_back(SampleHost("lab-1"));
  coordinator_.Reply<protocol::HostListRequest>(hosts);
  coordinator_.Reply<protocol::WhoAmIRequest>(protocol::WhoAmIReply{});
  HttpResponse response = api_.Handle(Get("/api/v1/events", "hosts=1"));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.content_type, "text/event-stream; charset=utf-8");
  int polls = 0;
  std::string text = RunStream(response, 3, [&] {
    if (++polls == 2) {  // the host changes between the second and third poll
      hosts.hosts[0].status = "Running";
      coordinator_.Reply<protocol::HostListRequest>(hosts);
    }
  });
  EXPECT_EQ(text.rfind("retry: 1000\n\n", 0), 0u) << text;
  size_t first = text.find("event: hosts\n");
  ASSERT_NE(first, std::string::npos) << text;
  size_t second = text.find("event: hosts\n", first + 1);
  ASSERT_NE(second, std::string::npos) << text;
  EXPECT_EQ(text.find("event: hosts\n", second + 1), std::string::npos) << text;
  EXPECT_NE(text.find("\"Running\"", second), std::string::npos);
  // Every data line is prefixed; the event ends with a blank line.
  EXPECT_NE(text.find("data: [\n"), std::string::npos) << text;
  EXPECT_EQ(coordinator_.Count(protocol::MessageType::kHostListRequest), 4u);
}

TEST_F(WebActionsTest, TheLogEventCarriesOnlyNewBytesAndItsOffsetAsTheId) {
  coordinator_.Reply<protocol::WhoAmIRequest>(protocol::WhoAmIReply{});
  coordinator_.Reply<protocol::JobShowRequest>(protocol::JobShowReply{SampleJob(7)});
  uint64_t served = 0;
  coordinator_.On(protocol::MessageType::kJobLogRequest, [&](const protocol::Envelope& e) {
    auto request = protocol::DecodeBody<protocol::JobLogRequest>(e);
    protocol::JobLogReply reply;
    // Bytes 0..9 exist from the start, 10..14 come later and the entry ends.
    uint64_t end = served >= 2 ? 15 : 10;
    ++served;
    for (uint64_t i = request->offset; i < end; ++i) reply.data.push_back('a' + (i % 26));
    reply.next_offset = std::max<uint64_t>(end, request->offset);
    reply.complete = end == 15;
    reply.status = reply.complete ? "Completed" : "Running";
    return protocol::Encode(reply, e.request_id);
  });
  HttpRequest request = Get("/api/v1/events", "job=7&log=lab-1&log_offset=3");
  HttpResponse response = api_.Handle(request);
  std::string text = RunStream(response, 4);
  EXPECT_NE(text.find("event: job\n"), std::string::npos) << text;
  size_t first = text.find("event: log\nid: 10\n");
  ASSERT_NE(first, std::string::npos) << text;
  EXPECT_NE(text.find("\"data\":\"defghij\"", first), std::string::npos) << text;
  size_t second = text.find("event: log\nid: 15\n");
  ASSERT_NE(second, std::string::npos) << text;
  EXPECT_NE(text.find("\"data\":\"klmno\"", second), std::string::npos) << text;
  EXPECT_NE(text.find("\"complete\":true", second), std::string::npos) << text;
  EXPECT_EQ(text.find("event: log", second + 1), std::string::npos) << "nothing after the end";

  // A reconnect continues from Last-Event-ID.
  request.headers.emplace_back("Last-Event-ID", "15");
  HttpResponse again = api_.Handle(request);
  text = RunStream(again, 0);
  EXPECT_NE(text.find("event: log\nid: 15\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\"data\":\"\""), std::string::npos) << text;
}

TEST_F(WebActionsTest, EventsEndWithAnErrorEventWhenTheCoordinatorRefuses) {
  coordinator_.Reply<protocol::WhoAmIRequest>(protocol::WhoAmIReply{});
  coordinator_.Fail<protocol::JobShowRequest>(Status::NotFound("job 9 not found"));
  HttpResponse response = api_.Handle(Get("/api/v1/events", "job=9"));
  std::string text = RunStream(response, 5);
  EXPECT_NE(text.find("event: error\ndata: {\"code\":\"NotFound\",\"error\":\"job 9 not found\"}"),
            std::string::npos)
      << text;
  EXPECT_EQ(coordinator_.Count(protocol::MessageType::kJobShowRequest), 1u);
}

TEST_F(WebActionsTest, BadEventQueriesAndTooManyStreamsAreRefused) {
  coordinator_.Reply<protocol::WhoAmIRequest>(protocol::WhoAmIReply{});
  for (const char* query : {"", "hosts=yes", "job=x", "log=lab-1", "job=1&log=%01",
                            "job=1&log=a&log_offset=z", "host=%01"}) {
    ExpectError(api_.Handle(Get("/api/v1/events", query)), 400);
  }
  coordinator_.Fail<protocol::WhoAmIRequest>(Status::Unauthenticated("no session"));
  ExpectError(api_.Handle(Get("/api/v1/events", "hosts=1")), 401);
  coordinator_.Reply<protocol::WhoAmIRequest>(protocol::WhoAmIReply{});
  HttpResponse one = api_.Handle(Get("/api/v1/events", "pending=1"));
  HttpResponse two = api_.Handle(Get("/api/v1/events", "pending=1"));
  ASSERT_TRUE(one.stream && two.stream);
  {
    HttpResponse unused = api_.Handle(Get("/api/v1/events", "pending=1"));
    EXPECT_EQ(unused.status, 503);
  }
  ExpectError(api_.Handle(Get("/api/v1/events", "pending=1")), 503, "too many");
  coordinator_.Reply<protocol::HostPendingRequest>(protocol::HostListReply{});
  RunStream(one, 0);
  one = HttpResponse{};  // a stream that is over (or never ran) frees its place
  EXPECT_TRUE(api_.Handle(Get("/api/v1/events", "pending=1")).stream);
}

TEST_F(WebActionsTest, AStreamEndsAfterItsMaximumAndSendsKeepalives) {
  coordinator_.Reply<protocol::WhoAmIRequest>(protocol::WhoAmIReply{});
  coordinator_.Reply<protocol::HostPendingRequest>(protocol::HostListReply{});
  HttpResponse response = api_.Handle(Get("/api/v1/events", "pending=1"));
  // 5 minutes at 500 ms polls: 600 polls, then the stream returns by itself.
  std::string text = RunStream(response, 100000);
  EXPECT_NE(text.find(": keepalive\n\n"), std::string::npos);
  EXPECT_LE(coordinator_.Count(protocol::MessageType::kHostPendingRequest), 602u);
  EXPECT_GE(coordinator_.Count(protocol::MessageType::kHostPendingRequest), 600u);
}

// Templates and schedules (issue 22): the lists and one of each as the CLI's JSON, a job saved
// as a template, a schedule made, paused and deleted; bad bodies and methods refused before the
// coordinator is asked; the job form's template and --after fields sent on.
TEST_F(WebActionsTest, TemplatesAndSchedulesTravelBothWays) {
  protocol::ScheduleInfo schedule;
  schedule.name = "nightly";
  schedule.owner = "alice";
  schedule.template_name = "boot";
  schedule.cron = "0 2 * * *";
  schedule.timezone = "Europe/Berlin";
  schedule.next_run_us = 1'764'000'000'000'000;
  coordinator_.Reply<protocol::ScheduleListRequest>(protocol::ScheduleListReply{{schedule}});
  HttpResponse list = api_.Handle(Get("/api/v1/schedules", "owner=alice"));
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(Body(list)[0]["template"], "boot");
  EXPECT_EQ(Body(list)[0]["next_run"], "2025-11-24T16:00:00.000Z");
  EXPECT_EQ(coordinator_.LastRequest<protocol::ScheduleListRequest>()->owner, "alice");

  coordinator_.Reply<protocol::ScheduleCreateRequest>(
      protocol::ScheduleShowReply{schedule, {schedule.next_run_us}});
  HttpResponse made = api_.Handle(Post("/api/v1/schedules", R"({"name": "nightly",
      "template": "boot", "cron": "0 2 * * *", "timezone": "Europe/Berlin"})"));
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(Body(made)["upcoming"], nlohmann::json::array({"2025-11-24T16:00:00.000Z"}));
  auto create = coordinator_.LastRequest<protocol::ScheduleCreateRequest>();
  ASSERT_TRUE(create.ok());
  EXPECT_EQ(create->template_name, "boot");
  EXPECT_EQ(create->timezone, "Europe/Berlin");

  coordinator_.Reply<protocol::ScheduleActionRequest>(protocol::OkReply{"schedule paused"});
  HttpResponse paused = api_.Handle(Post("/api/v1/schedules/nightly/pause", ""));
  ASSERT_EQ(paused.status, 200) << paused.body;
  EXPECT_EQ(coordinator_.LastRequest<protocol::ScheduleActionRequest>()->action, "pause");

  coordinator_.Reply<protocol::TemplateSaveRequest>(protocol::OkReply{"template saved"});
  HttpResponse saved =
      api_.Handle(Post("/api/v1/templates", R"({"name": "boot", "from_job": 12})"));
  ASSERT_EQ(saved.status, 201) << saved.body;
  EXPECT_EQ(coordinator_.LastRequest<protocol::TemplateSaveRequest>()->from_job, 12u);

  coordinator_.Reply<protocol::JobCreateRequest>(protocol::JobCreateReply{43});
  HttpResponse job = api_.Handle(Post("/api/v1/jobs", R"({"name": "x", "command": "true",
      "hosts": ["lab-1"], "template": "boot", "after": [12, 13], "after_any": true})"));
  ASSERT_EQ(job.status, 201) << job.body;
  auto sent = coordinator_.LastRequest<protocol::JobCreateRequest>();
  EXPECT_EQ(sent->template_name, "boot");
  EXPECT_EQ(sent->after, (std::vector<uint64_t>{12, 13}));
  EXPECT_TRUE(sent->after_any);

  size_t asked = coordinator_.Requests().size();
  ExpectError(api_.Handle(Post("/api/v1/schedules", R"({"name": "x", "cron": 5})")), 400, "cron");
  ExpectError(api_.Handle(Post("/api/v1/schedules", R"({"nmae": "x"})")), 400, "unknown field");
  ExpectError(api_.Handle(Post("/api/v1/templates", R"({"name": "x"})")), 400, "from_job");
  ExpectError(api_.Handle(Post("/api/v1/jobs", R"({"after": [-1]})")), 400, "after");
  ExpectError(api_.Handle(Post("/api/v1/jobs", R"({"after": "12"})")), 400, "after");
  EXPECT_EQ(api_.Handle(Post("/api/v1/schedules/nightly/explode", "")).status, 404);
  EXPECT_EQ(api_.Handle(HttpRequest{"PUT", "/api/v1/schedules", "", ""}).status, 405);
  EXPECT_EQ(api_.Handle(Get("/api/v1/schedules/nightly/pause")).status, 405);
  EXPECT_EQ(coordinator_.Requests().size(), asked);

  coordinator_.Fail<protocol::ScheduleShowRequest>(Status::NotFound("schedule x does not exist"));
  ExpectError(api_.Handle(Get("/api/v1/schedules/x")), 404, "does not exist");
}

}  // namespace
}  // namespace labmesh::webui
