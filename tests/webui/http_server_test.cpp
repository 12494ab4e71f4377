// HttpServer: the real civetweb on 127.0.0.1 port 0, real HTTP requests over loopback.

#include "labmesh/webui/http_server.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <regex>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "fake_coordinator.hpp"
#include "http_test_client.hpp"
#include "labmesh/webui/web_api.hpp"

namespace labmesh::webui {
namespace {

using testing::FakeCoordinator;
using testing::Request;
using testing::SampleHost;
using testing::SendRaw;

constexpr char kEndpoint[] = "inproc://webui-http-test-api";

// Remembers the last request it saw and answers 200 "seen".
class RecordingHandler : public HttpHandler {
 public:
  HttpResponse Handle(const HttpRequest& request) override {
    std::lock_guard<std::mutex> lock(mu_);
    last_ = request;
    ++count_;
    return HttpResponse{200, "text/plain", "seen", {{"X-Test", "yes"}}};
  }
  HttpRequest last() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }
  int count() {
    std::lock_guard<std::mutex> lock(mu_);
    return count_;
  }

 private:
  std::mutex mu_;
  HttpRequest last_;
  int count_ = 0;
};

std::unique_ptr<HttpServer> StartOrDie(HttpHandler* handler, HttpServerOptions options = {}) {
  options.listen = "127.0.0.1:0";
  auto server = HttpServer::Start(options, handler);
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(server).value() : nullptr;
}

class HttpServerWithApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    protocol::HostListReply reply;
    reply.hosts = {SampleHost("lab-1"), SampleHost("lab-2", "Dead")};
    coordinator_.Reply<protocol::HostListRequest>(reply);
    auto server = HttpServer::Start("127.0.0.1:0", &api_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }

  zmq::context_t context_;
  FakeCoordinator coordinator_{context_, kEndpoint};
  WebApi api_{context_, kEndpoint};
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerWithApiTest, PortZeroPicksARealPort) {
  EXPECT_GT(server_->port(), 0);
  EXPECT_LT(server_->port(), 65536);
}

TEST_F(HttpServerWithApiTest, HostsAreJsonOverHttp) {
  auto response = Request(server_->port(), "GET", "/api/v1/hosts");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200) << response->raw;
  EXPECT_EQ(response->headers["content-type"], "application/json");
  EXPECT_EQ(response->headers["content-length"], std::to_string(response->body.size()));
  EXPECT_FALSE(response->headers["x-labmesh-now-ms"].empty());
  auto body = nlohmann::json::parse(response->body);
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 2u);
  EXPECT_EQ(body[0]["hostname"], "lab-1");
  EXPECT_EQ(body[1]["status"], "Dead");
}

TEST_F(HttpServerWithApiTest, QueryAndEncodedPathReachTheApi) {
  auto response = Request(server_->port(), "GET", "/api/v1/hosts?status=dead&label=a%20b");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200) << response->raw;
  auto request = coordinator_.LastRequest<protocol::HostListRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->status, "Dead");
  EXPECT_EQ(request->label, "a b");
}

TEST_F(HttpServerWithApiTest, UnknownPathIs404Json) {
  auto response = Request(server_->port(), "GET", "/no/such/page");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->headers["content-type"], "application/json");
  EXPECT_TRUE(nlohmann::json::parse(response->body).contains("error"));
}

TEST_F(HttpServerWithApiTest, WrongMethodIs405WithAllowHeader) {
  auto response = SendRaw(server_->port(),
                          "POST /api/v1/hosts HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                          "Content-Type: application/json\r\n\r\n{}");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 405) << response->raw;
  EXPECT_EQ(response->headers["allow"], "GET, HEAD");
}

TEST_F(HttpServerWithApiTest, RootServesThePage) {
  auto response = Request(server_->port(), "GET", "/");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->headers["content-type"], "text/html; charset=utf-8");
  EXPECT_NE(response->body.find("<title>labmesh"), std::string::npos);
  auto script = Request(server_->port(), "GET", "/static/app.js");
  ASSERT_TRUE(script.ok());
  EXPECT_EQ(script->status, 200);
  EXPECT_EQ(script->headers["content-type"], "text/javascript; charset=utf-8");
}

TEST_F(HttpServerWithApiTest, HeadSendsHeadersWithoutBody) {
  auto response = Request(server_->port(), "HEAD", "/");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(response->body.empty());
  EXPECT_NE(response->headers["content-length"], "0");
}

TEST_F(HttpServerWithApiTest, DotDotAndOddTargetsNeverServeAnythingElse) {
  for (const char* target :
       {"/static/../../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd", "/%00", "/a%zz",
        "/static/..%2f..%2fetc%2fpasswd", "//etc/passwd"}) {
    auto response = Request(server_->port(), "GET", target);
    ASSERT_TRUE(response.ok()) << target;
    EXPECT_TRUE(response->status == 400 || response->status == 404)
        << target << " -> " << response->raw;
    EXPECT_EQ(response->body.find("root:"), std::string::npos) << target;
  }
}

TEST_F(HttpServerWithApiTest, HugeQueryStringIsRefused) {
  auto response =
      Request(server_->port(), "GET", "/api/v1/hosts?label=" + std::string(100000, 'x'));
  // civetweb refuses a request line beyond its buffer itself; shorter ones get our 414.
  if (response.ok()) {
    EXPECT_GE(response->status, 400) << response->raw.substr(0, 200);
  }
  auto medium = Request(server_->port(), "GET", "/api/v1/hosts?label=" + std::string(9000, 'x'));
  ASSERT_TRUE(medium.ok());
  EXPECT_EQ(medium->status, 414);
  // And the server still serves afterwards.
  auto after = Request(server_->port(), "GET", "/healthz");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, 200);
}

// Every answer, sent from several worker threads at once, carries one well-formed Date header
// (ours: civetweb's own is made with gmtime()'s shared buffer, which TSan caught racing).
TEST_F(HttpServerWithApiTest, ConcurrentClientsAllServed) {
  constexpr int kThreads = 8;
  constexpr int kRequests = 20;
  const std::regex imf_date(R"([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT)");
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRequests; ++i) {
        auto response = Request(server_->port(), "GET", "/api/v1/hosts");
        if (!response.ok() || response->status != 200) continue;
        size_t first = response->raw.find("\r\nDate: ");
        bool one_date = first != std::string::npos &&
                        response->raw.find("\r\nDate: ", first + 1) == std::string::npos;
        if (one_date && std::regex_match(response->headers["date"], imf_date)) ++ok;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), kThreads * kRequests);
}

TEST(HttpServerTest, BodyReachesHandlerWithRawPathAndQuery) {
  RecordingHandler handler;
  auto server = StartOrDie(&handler);
  ASSERT_NE(server, nullptr);
  auto response = SendRaw(server->port(),
                          "POST /a/b%2Fc?x=1%202 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
                          "hello");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "seen");
  EXPECT_EQ(response->headers["x-test"], "yes");
  HttpRequest seen = handler.last();
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.path, "/a/b%2Fc");  // still encoded: the handler decodes per segment
  EXPECT_EQ(seen.query, "x=1%202");
  EXPECT_EQ(seen.body, "hello");
}

TEST(HttpServerTest, PathReachesHandlerExactlyAsSent) {
  // civetweb's local_uri would have resolved "..", turned backslashes into "/" and merged
  // "//": the handler must see what the client sent, decoded by nobody, to refuse it itself.
  RecordingHandler handler;
  auto server = StartOrDie(&handler);
  ASSERT_NE(server, nullptr);
  for (const std::string path : {"/results/../../etc/passwd", "/a/./b/", "/a\\..\\b",
                                 "//etc/passwd", "/results/%252e%252e/%2e%2e/%00"}) {
    auto response = SendRaw(server->port(), "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(response.ok()) << path;
    EXPECT_EQ(response->status, 200) << path;
    EXPECT_EQ(handler.last().path, path);
  }
}

TEST(HttpServerTest, HeadersReachTheHandlerAndFileBodiesAreStreamed) {
  // A handler answering every request with the bytes 2..7 of a file.
  class FileHandler : public HttpHandler {
   public:
    explicit FileHandler(std::string path) : path_(std::move(path)) {}
    HttpResponse Handle(const HttpRequest& request) override {
      range_ = std::string(FindHeader(request, "range").value_or("none"));
      HttpResponse response{206, "text/plain", "ignored", {}};
      response.file = std::make_shared<FileBody>(
          FileBody{UniqueFd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC)), 2, 6});
      return response;
    }
    std::string range_;

   private:
    std::string path_;
  };
  char path[] = "/tmp/labmesh-http-file-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "0123456789", 10), 10);
  ::close(fd);
  FileHandler handler(path);
  auto server = StartOrDie(&handler);
  ASSERT_NE(server, nullptr);
  auto response = SendRaw(server->port(), "GET /f HTTP/1.1\r\nHost: x\r\nRange: bytes=2-7\r\n\r\n");
  ::unlink(path);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 206);
  EXPECT_EQ(response->headers["content-length"], "6");
  EXPECT_EQ(response->body, "234567");
  EXPECT_EQ(handler.range_, "bytes=2-7");
}

TEST(HttpServerTest, AnnouncedOversizedBodyIs413BeforeTheHandler) {
  RecordingHandler handler;
  auto server = StartOrDie(&handler);  // default cap: 1 MiB
  ASSERT_NE(server, nullptr);
  const std::string body(2 * 1024 * 1024, 'x');
  auto response = SendRaw(server->port(),
                          "POST /api/v1/hosts HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 413) << response->raw;
  EXPECT_EQ(handler.count(), 0);
}

TEST(HttpServerTest, ChunkedBodyOverTheCapIs413) {
  RecordingHandler handler;
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  auto server = StartOrDie(&handler, options);
  ASSERT_NE(server, nullptr);
  std::string chunk(4096, 'y');
  auto response = SendRaw(server->port(),
                          "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "1000\r\n" + chunk + "\r\n0\r\n\r\n");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 413) << response->raw;
  EXPECT_EQ(handler.count(), 0);
  // A body under the cap still goes through.
  auto small = SendRaw(server->port(),
                       "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\n\r\n" +
                           std::string(1024, 'z'));
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->status, 200);
  EXPECT_EQ(handler.last().body.size(), 1024u);
}

TEST(HttpServerTest, TwoServersOnPortZeroGetDifferentPorts) {
  RecordingHandler handler;
  auto a = StartOrDie(&handler);
  auto b = StartOrDie(&handler);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a->port(), b->port());
}

TEST(HttpServerTest, BusyPortIsUnavailableNotACrash) {
  RecordingHandler handler;
  auto first = StartOrDie(&handler);
  ASSERT_NE(first, nullptr);
  auto second = HttpServer::Start("127.0.0.1:" + std::to_string(first->port()), &handler);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable) << second.status().ToString();
}

TEST(HttpServerTest, MalformedListenAddressesAreRefused) {
  RecordingHandler handler;
  for (const char* listen : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:70000",
                             ":80", "[::1]", "127.0.0.1:1,127.0.0.1:2", "127.0.0.1:80s"}) {
    auto server = HttpServer::Start(listen, &handler);
    ASSERT_FALSE(server.ok()) << listen;
    EXPECT_EQ(server.status().code(), StatusCode::kInvalidArgument) << listen;
  }
  EXPECT_FALSE(HttpServer::Start("127.0.0.1:0", nullptr).ok());
}

TEST(HttpServerTest, StopClosesThePortAndIsIdempotent) {
  RecordingHandler handler;
  auto server = StartOrDie(&handler);
  ASSERT_NE(server, nullptr);
  int port = server->port();
  ASSERT_TRUE(Request(port, "GET", "/").ok());
  server->Stop();
  auto after = Request(port, "GET", "/");
  EXPECT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), StatusCode::kUnavailable);
  server->Stop();
  server.reset();  // the destructor after Stop is fine too
  EXPECT_EQ(handler.count(), 1);
}

}  // namespace
}  // namespace labmesh::webui

namespace labmesh::webui {
namespace {

// Streams "tick N" events until the sink says stop; remembers that it ended.
class StreamingHandler : public HttpHandler {
 public:
  HttpResponse Handle(const HttpRequest&) override {
    HttpResponse response{200, "text/event-stream", "", {}};
    response.stream = [this](StreamSink& sink) {
      ++started;
      for (int i = 0;; ++i) {
        if (!sink.Write("data: tick " + std::to_string(i) + "\n\n")) break;
        // An hour: a Stop() that sat it out would fail the test by its timeout.
        if (!sink.Wait(i == 0 ? 3'600'000 : 10)) break;
      }
      ++ended;
    };
    return response;
  }
  std::atomic<int> started{0};
  std::atomic<int> ended{0};
};

TEST(HttpServerTest, AStreamedBodyHasNoLengthAndEndsWhenTheServerStops) {
  StreamingHandler handler;
  auto server = StartOrDie(&handler);
  ASSERT_NE(server, nullptr);
  auto response = testing::ReadStream(server->port(), "/events", "", "tick 0\n\n");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->headers.count("content-length"), 0u) << response->raw;
  EXPECT_EQ(response->body, "data: tick 0\n\n");

  // Another stream is waiting in its 60 s Wait; stopping must not wait for it.
  // Both streams sit in their hour-long Wait (the first one's client has gone, which only a write
  // would notice); stopping must cut those waits, not sit them out.
  std::thread reader([&] { (void)testing::ReadStream(server->port(), "/events", "", "never"); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (handler.started < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(handler.started, 2);
  server->Stop();
  reader.join();
  EXPECT_EQ(handler.ended, 2);
}

}  // namespace
}  // namespace labmesh::webui
