// End to end: garbage, truncated, oversized and misdirected messages sent to a real coordinator's
// sockets. Each gets an error back or is dropped; the coordinator keeps serving good agents.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <zmq.hpp>

#include "cluster.hpp"
#include "labmesh/protocol/envelope.hpp"

namespace labmesh::testing {
namespace {

constexpr size_t kMaxFrame = 64 * 1024;

// Sends one frame and waits for one reply frame (nullopt when none comes in time).
std::optional<std::string> Exchange(zmq::socket_t& socket, const std::string& frame,
                                    std::chrono::milliseconds wait = std::chrono::seconds(5)) {
  socket.send(zmq::buffer(frame), zmq::send_flags::none);
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, wait);
  if (!(item.revents & ZMQ_POLLIN)) return std::nullopt;
  zmq::message_t reply;
  (void)socket.recv(reply);
  return reply.to_string();
}

StatusCode ErrorCodeOf(const std::string& reply) {
  auto envelope = protocol::DecodeEnvelope(reply);
  if (!envelope.ok() || envelope->type != protocol::MessageType::kError) return StatusCode::kOk;
  return protocol::DecodeBody<protocol::ErrorReply>(*envelope)->ToStatus().code();
}

std::vector<std::string> GarbageFrames() {
  protocol::HostListRequest request;
  std::string valid = protocol::Encode(request, 7);
  std::string wrong_version = valid;
  wrong_version[1] = 0x09;  // [fixarray(4), version, ...]: version 9
  return {
      "garbage",
      std::string(1, '\0'),
      valid.substr(0, valid.size() / 2),                       // truncated
      valid + "trailing",                                      // trailing bytes
      wrong_version,                                           // wrong protocol version
      protocol::Encode(protocol::HostListReply{}, 8),          // a reply sent as a request
      std::string("\x94\x01\xcd\x7f\xff\x05\x80", 7),          // unknown type 32767
      std::string("\x94\x01\x64\x01\x81\xa6status\x05", 12),   // status is an int, not a string
      std::string("\xdf\xff\xff\xff\xff", 5),                  // a map claiming 4G entries
  };
}

// A plain TCP connection to `endpoint` (tcp://127.0.0.1:PORT); -1 when it fails.
int ConnectRaw(const std::string& endpoint) {
  int port = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.coordinator_flags().push_back("--max-frame-bytes");
    cluster_.coordinator_flags().push_back(std::to_string(kMaxFrame));
    cluster_.StartCoordinator();
    cluster_.StartAgent("good-1");
    cluster_.StartAgent("good-2");
    ASSERT_TRUE(cluster_.WaitForStatus("good-1", "Ready"));
    ASSERT_TRUE(cluster_.WaitForStatus("good-2", "Ready"));
  }

  // The coordinator still answers and its agents still heartbeat.
  void ExpectStillServing() {
    ASSERT_TRUE(cluster_.coordinator().Running()) << cluster_.coordinator().Log();
    int64_t before = (*cluster_.Host("good-1"))["last_heartbeat_ms"];
    ASSERT_TRUE(WaitFor([&] {
      auto host = cluster_.Host("good-1");
      return host && (*host)["last_heartbeat_ms"] > before && (*host)["status"] == "Ready";
    }));
    EXPECT_EQ((*cluster_.Host("good-2"))["status"], "Ready");
    EXPECT_EQ(cluster_.Hosts().size(), 2u);
  }

  E2eCluster cluster_;
  zmq::context_t context_;
};

TEST_F(BadInput, TheApiSocketAnswersEveryMalformedRequestWithAnError) {
  zmq::socket_t api(context_, zmq::socket_type::dealer);
  api.set(zmq::sockopt::linger, 0);
  api.connect(cluster_.api_endpoint());
  for (const std::string& frame : GarbageFrames()) {
    auto reply = Exchange(api, frame);
    ASSERT_TRUE(reply.has_value()) << "no answer to a malformed request";
    EXPECT_NE(ErrorCodeOf(*reply), StatusCode::kOk);
  }
  // The request id of a refused but readable envelope is echoed, so clients can match it.
  std::string unknown_type("\x94\x01\xcd\x7f\xff\x2a\x80", 7);
  auto reply = Exchange(api, unknown_type);
  ASSERT_TRUE(reply);
  EXPECT_EQ(protocol::DecodeEnvelope(*reply)->request_id, 42u);
  EXPECT_EQ(ErrorCodeOf(*reply), StatusCode::kUnsupported);

  // Two frames where one is expected.
  api.send(zmq::str_buffer("a"), zmq::send_flags::sndmore);
  api.send(zmq::str_buffer("b"), zmq::send_flags::none);
  zmq::pollitem_t item{api.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, std::chrono::seconds(5));
  ASSERT_TRUE(item.revents & ZMQ_POLLIN);
  zmq::message_t multi;
  (void)api.recv(multi);
  EXPECT_EQ(ErrorCodeOf(multi.to_string()), StatusCode::kInvalidArgument);

  // Over the limit: answered TooLarge (PROTOCOL.md section 4), the connection kept.
  reply = Exchange(api, std::string(kMaxFrame + 1, 'x'));
  ASSERT_TRUE(reply);
  EXPECT_EQ(ErrorCodeOf(*reply), StatusCode::kTooLarge);
  // Over twice the limit: the connection is dropped by ZeroMQ (ZMQ_MAXMSGSIZE), unanswered.
  EXPECT_FALSE(Exchange(api, std::string(kMaxFrame * 2 + 1, 'x'), std::chrono::milliseconds(500)));
  // Nothing was changed by any of it.
  ExpectStillServing();
}

TEST_F(BadInput, TheAgentSocketRefusesGarbageFromAnAuthenticatedPeerAndLogsRateLimited) {
  zmq::socket_t peer(context_, zmq::socket_type::dealer);
  peer.set(zmq::sockopt::linger, 0);
  char pub[41], sec[41];
  ASSERT_EQ(zmq_curve_keypair(pub, sec), 0);
  peer.set(zmq::sockopt::curve_serverkey, cluster_.public_key());
  peer.set(zmq::sockopt::curve_publickey, std::string(pub));
  peer.set(zmq::sockopt::curve_secretkey, std::string(sec));
  peer.connect(cluster_.agent_endpoint());

  int sent = 0;
  for (int round = 0; round < 5; ++round) {
    for (const std::string& frame : GarbageFrames()) {
      auto reply = Exchange(peer, frame);
      ASSERT_TRUE(reply.has_value());
      ++sent;
    }
  }
  // A heartbeat from a connection that never registered: asked to register.
  protocol::Heartbeat heartbeat;
  auto reply = Exchange(peer, protocol::Encode(heartbeat, 3));
  ASSERT_TRUE(reply);
  EXPECT_EQ(protocol::DecodeEnvelope(*reply)->type, protocol::MessageType::kReregister);
  // A hello whose hostname is not a hostname, or whose key is not this connection's.
  protocol::AgentHello hello;
  hello.hostname = "../../etc";
  reply = Exchange(peer, protocol::Encode(hello, 4));
  ASSERT_TRUE(reply);
  EXPECT_EQ(protocol::DecodeEnvelope(*reply)->type, protocol::MessageType::kReject);
  hello.hostname = "good-1";
  hello.public_key = cluster_.public_key();
  reply = Exchange(peer, protocol::Encode(hello, 5));
  ASSERT_TRUE(reply);
  EXPECT_EQ(protocol::DecodeEnvelope(*reply)->type, protocol::MessageType::kReject);

  ExpectStillServing();
  std::string log = cluster_.coordinator().Log();
  int lines = 0;
  for (size_t at = log.find("refused a message"); at != std::string::npos;
       at = log.find("refused a message", at + 1)) {
    ++lines;
  }
  EXPECT_GE(lines, 1);
  EXPECT_LT(lines, sent);  // rate-limited, not one line per bad frame
}

TEST_F(BadInput, RawBytesWithoutACurveHandshakeGetNothingAndHarmNothing) {
  const std::string& endpoint = cluster_.agent_endpoint();  // tcp://127.0.0.1:PORT
  for (int i = 0; i < 20; ++i) {
    int fd = ConnectRaw(endpoint);
    ASSERT_GE(fd, 0);
    std::string junk(1000 + i * 100, static_cast<char>(0xff - i));
    (void)!write(fd, junk.data(), junk.size());
    close(fd);
  }
  // A Curve client that does not know the coordinator's key never completes a handshake.
  zmq::socket_t wrong(context_, zmq::socket_type::dealer);
  wrong.set(zmq::sockopt::linger, 0);
  char pub[41], sec[41], other_pub[41], other_sec[41];
  ASSERT_EQ(zmq_curve_keypair(pub, sec), 0);
  ASSERT_EQ(zmq_curve_keypair(other_pub, other_sec), 0);
  wrong.set(zmq::sockopt::curve_serverkey, std::string(other_pub));
  wrong.set(zmq::sockopt::curve_publickey, std::string(pub));
  wrong.set(zmq::sockopt::curve_secretkey, std::string(sec));
  wrong.connect(endpoint);
  EXPECT_FALSE(Exchange(wrong, protocol::Encode(protocol::Heartbeat{}, 1),
                        std::chrono::milliseconds(1500)));
  ExpectStillServing();
}

// --handshake-timeout: a connection that never starts its handshake is dropped, so silent
// connections cannot pile up and hold the coordinator's descriptors.
TEST(HandshakeTimeout, AConnectionThatSaysNothingIsDropped) {
  E2eCluster cluster;
  cluster.coordinator_flags().push_back("--handshake-timeout");
  cluster.coordinator_flags().push_back("300ms");
  cluster.StartCoordinator();
  int fd = ConnectRaw(cluster.agent_endpoint());
  ASSERT_GE(fd, 0);
  timeval wait{1, 0};  // each read waits at most a second; the loop's deadline is the test's
  ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait), 0);
  // The coordinator's greeting comes first, then the end of the connection.
  bool closed = WaitFor([&] {
    char buffer[256];
    ssize_t n = read(fd, buffer, sizeof buffer);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  });
  close(fd);
  EXPECT_TRUE(closed) << "the silent connection was still open";
  cluster.StartAgent("after-silence");
  EXPECT_TRUE(cluster.WaitForStatus("after-silence", "Ready"));
}

}  // namespace
}  // namespace labmesh::testing
