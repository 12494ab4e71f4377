// AgentService driven frame by frame, without sockets: the enrollment policy, the key and
// hostname checks of a hello, heartbeats (and when they are refused), and Dead detection with a
// fake clock. What would go out on the agent socket is captured by the outbox.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "coordinator_test_util.hpp"

namespace labmesh::coordinator {
namespace {

using protocol::Encode;
using protocol::HostStatus;
using protocol::MessageType;
using testing::ErrorIn;
using testing::FrameWithField;
using testing::MakeHello;
using testing::NewCurveKey;
using testing::Packer;
using testing::RawFrame;
using testing::Sent;
using testing::Services;
using testing::TypeOf;

constexpr int64_t kDeadAfterMs = 10'000;
constexpr const char* kToken = "s3cret-token";

CoordinatorConfig Config(bool auto_accept, std::string token = "") {
  CoordinatorConfig config;
  config.auto_accept = auto_accept;
  config.enroll_token = std::move(token);
  config.heartbeat_interval_ms = 500;
  config.dead_after_ms = kDeadAfterMs;
  return config;
}

// The one frame sent, to `routing_id`, decoded as M.
template <typename M>
M Only(const std::vector<Sent>& sent, const std::string& routing_id) {
  EXPECT_EQ(sent.size(), 1u);
  if (sent.size() != 1) return M{};
  EXPECT_EQ(sent[0].routing_id, routing_id);
  auto decoded = protocol::DecodeAs<M>(sent[0].frame);
  EXPECT_TRUE(decoded.ok()) << "sent " << protocol::MessageTypeName(TypeOf(sent[0].frame))
                            << ": " << decoded.status().ToString();
  return decoded.ok() ? *decoded : M{};
}

class AgentServiceTest : public ::testing::Test {
 protected:
  void Make(CoordinatorConfig config) { services_ = std::make_unique<Services>(tmp_.path(), config); }

  std::vector<Sent> Hello(const std::string& routing_id, const std::string& key,
                          const protocol::AgentHello& hello, uint64_t request_id = 7) {
    return services_->AgentFrame(routing_id, key, Encode(hello, request_id));
  }

  std::vector<Sent> Beat(const std::string& routing_id, uint64_t incarnation,
                         uint64_t sequence = 1, uint64_t uptime_s = 100) {
    protocol::Heartbeat heartbeat;
    heartbeat.incarnation = incarnation;
    heartbeat.sequence = sequence;
    heartbeat.health.uptime_s = uptime_s;
    heartbeat.health.mem_total_bytes = 8ull << 30;
    return services_->AgentFrame(routing_id, "", Encode(heartbeat, 100 + sequence));
  }

  // Registers `hostname` (auto-accept configs) and checks it was welcomed.
  std::string Register(const std::string& hostname, const std::string& routing_id,
                       uint64_t incarnation = 1) {
    std::string key = NewCurveKey();
    auto sent = Hello(routing_id, key, MakeHello(hostname, key, incarnation));
    EXPECT_EQ(TypeOf(sent.at(0).frame), MessageType::kWelcome);
    return key;
  }

  const HostState* Find(const std::string& hostname) {
    return services_->registry().Find(hostname);
  }

  labmesh::testing::TempDir tmp_;
  std::unique_ptr<Services> services_;
};

TEST_F(AgentServiceTest, AutoAcceptWelcomesANewHostWithItsLabels) {
  Make(Config(/*auto_accept=*/true));
  std::string key = NewCurveKey();
  auto sent = Hello("conn-1", key, MakeHello("lab-1", key, 42, {"gpu", "arch:sparc"}), 7);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(testing::RequestIdOf(sent[0].frame), 7u);  // the agent matches its hello's answer
  auto welcome = Only<protocol::Welcome>(sent, "conn-1");
  EXPECT_EQ(welcome.hostname, "lab-1");
  EXPECT_EQ(welcome.heartbeat_interval_ms, 500u);
  EXPECT_EQ(welcome.labels,
            (std::vector<std::string>{"arch:x86_64", "cpus:4", "gpu", "kernel:6.1.0-18-amd64",
                                      "os:debian-12"}));  // "arch:sparc" is not the agent's to claim

  const HostState* host = Find("lab-1");
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(host->record.enrollment, store::Enrollment::kAccepted);
  EXPECT_EQ(host->record.status, HostStatus::kReady);
  EXPECT_EQ(host->record.public_key, key);
  EXPECT_EQ(host->record.incarnation, 42u);
  EXPECT_EQ(host->record.registered_ms, services_->clock().WallMs());
  EXPECT_EQ(host->routing_id, "conn-1");
  // Committed, not only in memory.
  auto stored = services_->store().GetHost("lab-1");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->incarnation, 42u);
}

TEST_F(AgentServiceTest, AKnownHostsHelloAgainIsCommittedWithoutAnFsyncANewHostsWithOne) {
  Make(Config(/*auto_accept=*/true));
  std::string key = Register("lab-1", "conn-1", /*incarnation=*/1);
  int synced = services_->store().synced_applies;
  int applies = services_->store().applies;

  // The agent restarted: the same host and key, a new incarnation, on a new connection.
  auto sent = Hello("conn-2", key, MakeHello("lab-1", key, 2));
  EXPECT_EQ(TypeOf(sent.at(0).frame), MessageType::kWelcome);
  EXPECT_EQ(services_->store().applies, applies + 1);   // written ...
  EXPECT_EQ(services_->store().synced_applies, synced);  // ... without an fsync
  auto stored = services_->store().GetHost("lab-1");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->incarnation, 2u);

  Register("lab-2", "conn-3");  // a new host is durable before its Welcome
  EXPECT_EQ(services_->store().synced_applies, synced + 1);
}

TEST_F(AgentServiceTest, WithoutTokenANewHostWaitsForApproval) {
  Make(Config(/*auto_accept=*/false, kToken));
  std::string key = NewCurveKey();
  auto sent = Hello("conn-1", key, MakeHello("newbie", key));
  auto pending = Only<protocol::PendingApproval>(sent, "conn-1");
  EXPECT_NE(pending.message.find("labmesh host accept newbie"), std::string::npos);
  ASSERT_NE(Find("newbie"), nullptr);
  EXPECT_EQ(Find("newbie")->record.enrollment, store::Enrollment::kPending);

  // A wrong token is no token; asking again changes nothing.
  sent = Hello("conn-1", key, MakeHello("newbie", key, 1, {}, "guess"));
  Only<protocol::PendingApproval>(sent, "conn-1");
  EXPECT_EQ(Find("newbie")->record.enrollment, store::Enrollment::kPending);

  // A pending host is not part of the fleet: its heartbeats are not taken.
  sent = Beat("conn-1", 1);
  Only<protocol::Reregister>(sent, "conn-1");
  EXPECT_EQ(services_->agents().heartbeats_received(), 0u);
  // Nor is it ever declared Dead.
  services_->clock().AdvanceMs(10 * kDeadAfterMs);
  services_->agents().CheckDeadHosts();
  (void)services_->EndOfTurn();  // as the loop does after its timer
  EXPECT_EQ(Find("newbie")->record.status, HostStatus::kReady);
  EXPECT_EQ(Find("newbie")->record.enrollment, store::Enrollment::kPending);
}

TEST_F(AgentServiceTest, TheEnrollTokenAdmitsANewHostAndAPendingOne) {
  Make(Config(/*auto_accept=*/false, kToken));
  std::string key1 = NewCurveKey();
  auto sent = Hello("conn-1", key1, MakeHello("good", key1, 1, {}, kToken));
  Only<protocol::Welcome>(sent, "conn-1");
  EXPECT_EQ(Find("good")->record.enrollment, store::Enrollment::kAccepted);

  std::string key2 = NewCurveKey();
  Only<protocol::PendingApproval>(Hello("conn-2", key2, MakeHello("late", key2)), "conn-2");
  // The same agent restarted with the token is accepted without an admin.
  sent = Hello("conn-3", key2, MakeHello("late", key2, 2, {}, kToken));
  Only<protocol::Welcome>(sent, "conn-3");
  EXPECT_EQ(Find("late")->record.enrollment, store::Enrollment::kAccepted);
  EXPECT_EQ(Find("late")->record.status, HostStatus::kReady);
}

TEST_F(AgentServiceTest, AnEmptyConfiguredTokenAdmitsNobody) {
  Make(Config(/*auto_accept=*/false, ""));
  std::string key = NewCurveKey();
  Only<protocol::PendingApproval>(Hello("conn-1", key, MakeHello("lab-1", key, 1, {}, "")),
                                  "conn-1");
}

TEST_F(AgentServiceTest, RefusedHellosGetARejectAndChangeNothing) {
  Make(Config(/*auto_accept=*/true));
  std::string owner_key = Register("lab-1", "conn-1");
  std::string revoked_key = Register("lab-2", "conn-2");
  ASSERT_TRUE(testing::Committed(services_->registry(), services_->registry().DeleteAndRevoke("lab-2", "stolen")).ok());
  services_->TakeSent();
  std::string before = services_->Snapshot();

  struct Case {
    const char* what;
    std::string key;
    protocol::AgentHello hello;
    const char* reason;
  };
  std::string stranger = NewCurveKey();
  std::vector<Case> cases = {
      {"hostname taken by another key", stranger, MakeHello("lab-1", stranger),
       "registered with another key"},
      {"revoked key", revoked_key, MakeHello("lab-2", revoked_key), "revoked"},
      {"revoked key under a new name", revoked_key, MakeHello("lab-9", revoked_key), "revoked"},
      {"hello key is not the connection's", stranger, MakeHello("lab-7", NewCurveKey()),
       "not the key this connection authenticated"},
      {"no authenticated key", "", MakeHello("lab-7", ""), "no authenticated Curve key"},
      {"bad hostname", stranger, MakeHello("-lab", stranger), "may not start"},
      {"empty hostname", stranger, MakeHello("", stranger), "hostname"},
      {"hostname with a slash", stranger, MakeHello("lab/1", stranger), "hostname"},
      {"known key, other hostname", owner_key, MakeHello("lab-3", owner_key),
       "already registered as host lab-1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto sent = Hello("conn-x", c.key, c.hello, 55);
    auto reject = Only<protocol::Reject>(sent, "conn-x");
    EXPECT_NE(reject.reason.find(c.reason), std::string::npos) << reject.reason;
    EXPECT_EQ(testing::RequestIdOf(sent.at(0).frame), 55u);
    EXPECT_EQ(services_->Snapshot(), before);
  }
  EXPECT_EQ(Find("lab-1")->routing_id, "conn-1");
}

TEST_F(AgentServiceTest, HeartbeatsAreAcknowledgedAndRecordedInMemory) {
  Make(Config(/*auto_accept=*/true));
  Register("lab-1", "conn-1", /*incarnation=*/5);
  services_->clock().AdvanceMs(700);
  auto sent = Beat("conn-1", 5, /*sequence=*/3, /*uptime_s=*/1234);
  auto ack = Only<protocol::HeartbeatAck>(sent, "conn-1");
  EXPECT_EQ(ack.sequence, 3u);
  EXPECT_EQ(testing::RequestIdOf(sent[0].frame), 103u);
  EXPECT_EQ(services_->agents().heartbeats_received(), 1u);
  const HostState* host = Find("lab-1");
  EXPECT_EQ(host->record.health.uptime_s, 1234u);
  EXPECT_EQ(host->record.last_heartbeat_ms, services_->clock().WallMs());
  EXPECT_TRUE(host->heartbeat_dirty);
  EXPECT_EQ((*services_->store().GetHost("lab-1"))->health.uptime_s, 0u);  // until the flush
}

TEST_F(AgentServiceTest, AHeartbeatFromAnUnknownConnectionAsksForAHello) {
  Make(Config(/*auto_accept=*/true));
  Register("lab-1", "conn-1");
  services_->TakeSent();
  std::string before = services_->Snapshot();
  auto sent = Beat("conn-unknown", 1);
  Only<protocol::Reregister>(sent, "conn-unknown");
  EXPECT_EQ(services_->agents().heartbeats_received(), 0u);
  EXPECT_EQ(services_->Snapshot(), before);
  EXPECT_FALSE(Find("lab-1")->heartbeat_dirty);
}

TEST_F(AgentServiceTest, AHeartbeatWithAnotherIncarnationAsksForAHello) {
  Make(Config(/*auto_accept=*/true));
  Register("lab-1", "conn-1", /*incarnation=*/5);
  auto sent = Beat("conn-1", /*incarnation=*/6);
  Only<protocol::Reregister>(sent, "conn-1");
  EXPECT_EQ(services_->agents().heartbeats_received(), 0u);
  EXPECT_FALSE(Find("lab-1")->heartbeat_dirty);
  EXPECT_EQ(Find("lab-1")->record.incarnation, 5u);
}

TEST_F(AgentServiceTest, ARestartedAgentRegistersAgainAndItsOldConnectionIsForgotten) {
  Make(Config(/*auto_accept=*/true));
  std::string key = Register("lab-1", "conn-1", /*incarnation=*/5);
  auto sent = Hello("conn-2", key, MakeHello("lab-1", key, /*incarnation=*/6));
  Only<protocol::Welcome>(sent, "conn-2");
  EXPECT_EQ(Find("lab-1")->record.incarnation, 6u);
  EXPECT_EQ(Find("lab-1")->routing_id, "conn-2");
  Only<protocol::Reregister>(Beat("conn-1", 5), "conn-1");
  Only<protocol::HeartbeatAck>(Beat("conn-2", 6), "conn-2");
}

TEST_F(AgentServiceTest, SilentHostsTurnDeadAndAHelloBringsThemBackReady) {
  Make(Config(/*auto_accept=*/true));
  std::string key = Register("lab-1", "conn-1");
  Register("lab-2", "conn-2");

  services_->clock().AdvanceMs(kDeadAfterMs);
  Only<protocol::HeartbeatAck>(Beat("conn-2", 1), "conn-2");
  services_->agents().CheckDeadHosts();
  (void)services_->EndOfTurn();  // as the loop does after its timer
  EXPECT_EQ(Find("lab-1")->record.status, HostStatus::kReady);  // exactly dead_after: not yet

  services_->clock().AdvanceMs(1);
  services_->agents().CheckDeadHosts();
  (void)services_->EndOfTurn();  // as the loop does after its timer
  const HostState* lab1 = Find("lab-1");
  EXPECT_EQ(lab1->record.status, HostStatus::kDead);
  EXPECT_NE(lab1->record.status_reason.find("no heartbeat"), std::string::npos);
  EXPECT_TRUE(lab1->routing_id.empty());
  EXPECT_EQ((*services_->store().GetHost("lab-1"))->status, HostStatus::kDead);  // committed
  EXPECT_EQ(Find("lab-2")->record.status, HostStatus::kReady);
  EXPECT_TRUE(services_->TakeSent().empty());  // nobody to tell

  // A late heartbeat on the dropped connection is not taken as a registration.
  Only<protocol::Reregister>(Beat("conn-1", 1), "conn-1");
  EXPECT_EQ(Find("lab-1")->record.status, HostStatus::kDead);

  // Checking again does not move a Dead host (Dead -> Dead is no move).
  services_->clock().AdvanceMs(kDeadAfterMs + 1);
  services_->agents().CheckDeadHosts();
  (void)services_->EndOfTurn();  // as the loop does after its timer
  EXPECT_EQ(Find("lab-1")->record.status, HostStatus::kDead);

  auto sent = Hello("conn-3", key, MakeHello("lab-1", key, 2));
  Only<protocol::Welcome>(sent, "conn-3");
  EXPECT_EQ(Find("lab-1")->record.status, HostStatus::kReady);
  EXPECT_EQ(Find("lab-1")->record.status_reason, "agent registered again");
  EXPECT_EQ((*services_->store().GetHost("lab-1"))->status, HostStatus::kReady);
  Only<protocol::HeartbeatAck>(Beat("conn-3", 2), "conn-3");
}

TEST_F(AgentServiceTest, AHelloKeepsAdminLabelsAndDropsAgentClaimsOnThem) {
  Make(Config(/*auto_accept=*/true));
  ASSERT_TRUE(testing::Committed(services_->registry(), services_->registry().CreateAdminLabel("pool:prod", "admin")).ok());
  std::string key = NewCurveKey();
  auto sent = Hello("conn-1", key, MakeHello("lab-1", key, 1, {"pool:prod", "mine"}));
  auto welcome = Only<protocol::Welcome>(sent, "conn-1");
  EXPECT_EQ(std::count(welcome.labels.begin(), welcome.labels.end(), "pool:prod"), 0);
  EXPECT_EQ(std::count(welcome.labels.begin(), welcome.labels.end(), "mine"), 1);

  store::Host host = Find("lab-1")->record;
  host.admin_labels = {"pool:prod"};
  ASSERT_TRUE(testing::PutNow(services_->registry(), host).ok());
  // After a restart with other asked-for labels, the admin label is still there.
  sent = Hello("conn-2", key, MakeHello("lab-1", key, 2, {"other"}));
  welcome = Only<protocol::Welcome>(sent, "conn-2");
  EXPECT_EQ(std::count(welcome.labels.begin(), welcome.labels.end(), "pool:prod"), 1);
  EXPECT_EQ(std::count(welcome.labels.begin(), welcome.labels.end(), "mine"), 0);
  EXPECT_EQ(std::count(welcome.labels.begin(), welcome.labels.end(), "other"), 1);
  EXPECT_EQ(Find("lab-1")->record.admin_labels, (std::vector<std::string>{"pool:prod"}));
}

TEST_F(AgentServiceTest, AHelloThatCannotBeStoredGetsAnErrorAndChangesNothing) {
  Make(Config(/*auto_accept=*/true));
  std::string before = services_->Snapshot();
  services_->store().fail_applies = 1;
  std::string key = NewCurveKey();
  auto sent = Hello("conn-1", key, MakeHello("lab-1", key), 9);
  ASSERT_EQ(sent.size(), 1u);
  auto error = ErrorIn(sent[0].frame);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(testing::RequestIdOf(sent[0].frame), 9u);
  EXPECT_EQ(services_->Snapshot(), before);
}

TEST_F(AgentServiceTest, MalformedFramesGetAnErrorReplyAndChangeNothing) {
  Make(Config(/*auto_accept=*/true));
  std::string key = Register("lab-1", "conn-1");
  services_->TakeSent();
  std::string before = services_->Snapshot();
  const uint32_t v = protocol::kProtocolVersion;

  struct Case {
    const char* what;
    std::string frame;
    uint64_t request_id;  // what the Error must echo
  };
  std::vector<Case> cases = {
      {"empty", "", 0},
      {"garbage", "\xc1\xff not msgpack", 0},
      {"not an array", RawFrame(v, 10, 3, [](Packer&) {}).substr(1), 0},
      {"unknown type", RawFrame(v, 999, 4, [](Packer& p) { p.pack_map(0); }), 4},
      {"wrong version", RawFrame(v + 1, 10, 5, [](Packer& p) { p.pack_map(0); }), 5},
      {"body is not a map", RawFrame(v, 10, 6, [](Packer& p) { p.pack_array(0); }), 6},
      {"hello hostname is a number",
       FrameWithField(MessageType::kAgentHello, 7, "hostname", [](Packer& p) { p.pack(42); }), 7},
      {"hello labels is a string",
       FrameWithField(MessageType::kAgentHello, 8, "labels", [](Packer& p) { p.pack("gpu"); }), 8},
      {"heartbeat incarnation is negative",
       FrameWithField(MessageType::kHeartbeat, 9, "incarnation", [](Packer& p) { p.pack(-1); }), 9},
      {"heartbeat health is an array",
       FrameWithField(MessageType::kHeartbeat, 10, "health", [](Packer& p) { p.pack_array(0); }),
       10},
      {"a Welcome sent to the coordinator", Encode(protocol::Welcome{"lab-1", 1, {}}, 11), 11},
      {"an API request on the agent socket", Encode(protocol::HostListRequest{}, 12), 12},
      {"an ErrorReply", Encode(protocol::ErrorReply{1, "x"}, 13), 13},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto sent = services_->AgentFrame("conn-1", key, c.frame);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].routing_id, "conn-1");
    auto error = ErrorIn(sent[0].frame);
    ASSERT_TRUE(error.has_value()) << protocol::MessageTypeName(TypeOf(sent[0].frame));
    EXPECT_NE(error->code, 0u);
    EXPECT_EQ(testing::RequestIdOf(sent[0].frame), c.request_id);
    EXPECT_EQ(services_->Snapshot(), before);
  }
  EXPECT_EQ(services_->agents().heartbeats_received(), 0u);
  EXPECT_FALSE(Find("lab-1")->heartbeat_dirty);
}

TEST_F(AgentServiceTest, AFrameOverTheSizeLimitIsRefused) {
  CoordinatorConfig config = Config(/*auto_accept=*/true);
  config.max_frame_bytes = 1024;
  Make(config);
  std::string key = NewCurveKey();
  protocol::AgentHello hello = MakeHello("lab-1", key, 1, {std::string(60, 'l')});
  hello.agent_version = std::string(2000, 'v');
  auto sent = Hello("conn-1", key, hello);
  ASSERT_EQ(sent.size(), 1u);
  auto error = ErrorIn(sent[0].frame);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, static_cast<uint32_t>(StatusCode::kTooLarge));
  EXPECT_EQ(Find("lab-1"), nullptr);
}

}  // namespace
}  // namespace labmesh::coordinator
