// ApiService driven request by request, without sockets: host listing and showing, enrollment
// (accept pushes a Welcome, reject and delete revoke the key), locks, the label rules, the test
// catalog, and the promise that every malformed request gets an ErrorReply and changes nothing.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
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
using Labels = std::vector<std::string>;

bool Has(const Labels& labels, const std::string& label) {
  return std::find(labels.begin(), labels.end(), label) != labels.end();
}

std::vector<std::string> Names(const std::vector<protocol::HostInfo>& hosts) {
  std::vector<std::string> names;
  for (const auto& h : hosts) names.push_back(h.hostname);
  return names;
}

class ApiServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CoordinatorConfig config;
    config.auto_accept = false;
    config.enroll_token = "tok";
    config.heartbeat_interval_ms = 500;
    services_ = std::make_unique<Services>(tmp_.path(), config);
  }

  // An agent says hello on connection `routing_id`; with_token makes it an accepted host.
  std::string Enrol(const std::string& hostname, const std::string& routing_id, bool with_token,
                    Labels labels = {"gpu"}) {
    std::string key = NewCurveKey();
    auto sent = services_->AgentFrame(
        routing_id, key,
        Encode(MakeHello(hostname, key, 1, std::move(labels), with_token ? "tok" : "")));
    EXPECT_EQ(sent.size(), 1u);
    EXPECT_EQ(TypeOf(sent.at(0).frame),
              with_token ? MessageType::kWelcome : MessageType::kPendingApproval);
    return key;
  }

  Result<std::vector<protocol::HostInfo>> List(const std::string& status = "",
                                               const std::string& label = "") {
    auto reply = services_->Call<protocol::HostListReply>(protocol::HostListRequest{status, label});
    if (!reply.ok()) return reply.status();
    return reply->hosts;
  }

  Result<std::vector<protocol::HostInfo>> Pending(const std::string& label = "") {
    auto reply = services_->Call<protocol::HostListReply>(protocol::HostPendingRequest{label});
    if (!reply.ok()) return reply.status();
    return reply->hosts;
  }

  Result<protocol::HostInfo> HostLabel(const std::string& hostname, Labels add, Labels remove = {}) {
    auto reply = services_->Call<protocol::HostShowReply>(
        protocol::HostLabelRequest{hostname, std::move(add), std::move(remove)});
    if (!reply.ok()) return reply.status();
    return reply->host;
  }

  Status LabelAction(const std::string& name, const std::string& action) {
    auto reply = services_->Call<protocol::OkReply>(protocol::LabelActionRequest{name, action, "alice"});
    return reply.ok() ? Status::Ok() : reply.status();
  }

  std::vector<protocol::LabelInfo> LabelList(const std::string& kind = "") {
    auto reply = services_->Call<protocol::LabelListReply>(protocol::LabelListRequest{kind});
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    return reply.ok() ? reply->labels : std::vector<protocol::LabelInfo>{};
  }

  Result<std::string> TestAdd(const std::string& name, const std::string& control,
                              const std::string& description = "", const std::string& user = "alice") {
    auto reply = services_->Call<protocol::OkReply>(
        protocol::TestAddRequest{name, control, description, user});
    if (!reply.ok()) return reply.status();
    return reply->message;
  }

  std::vector<protocol::TestInfo> TestList(const std::string& prefix = "") {
    auto reply = services_->Call<protocol::TestListReply>(protocol::TestListRequest{prefix});
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    return reply.ok() ? reply->tests : std::vector<protocol::TestInfo>{};
  }

  Result<protocol::TestInfo> TestShow(const std::string& name) {
    auto reply = services_->Call<protocol::TestShowReply>(protocol::TestShowRequest{name});
    if (!reply.ok()) return reply.status();
    return reply->test;
  }

  labmesh::testing::TempDir tmp_;
  std::unique_ptr<Services> services_;
};

TEST_F(ApiServiceTest, HostListShowsAcceptedHostsFilteredByStatusAndLabel) {
  EXPECT_TRUE(List()->empty());
  Enrol("lab-1", "c1", true, {"gpu"});
  Enrol("lab-2", "c2", true, {"usb"});
  Enrol("newbie", "c3", false);
  ASSERT_TRUE(testing::MoveNow(services_->registry(), "lab-2", HostStatus::kRepairing, "disk").ok());
  ASSERT_TRUE(testing::MoveNow(services_->registry(), "lab-2", HostStatus::kRepairFailed, "disk").ok());

  EXPECT_EQ(Names(*List()), (std::vector<std::string>{"lab-1", "lab-2"}));
  EXPECT_EQ(Names(*List("Ready")), (std::vector<std::string>{"lab-1"}));
  EXPECT_EQ(Names(*List("Repair Failed")), (std::vector<std::string>{"lab-2"}));
  EXPECT_EQ(Names(*List("repair-failed")), (std::vector<std::string>{"lab-2"}));
  EXPECT_TRUE(List("Dead")->empty());
  EXPECT_EQ(Names(*List("", "usb")), (std::vector<std::string>{"lab-2"}));
  EXPECT_EQ(Names(*List("", "arch:x86_64")), (std::vector<std::string>{"lab-1", "lab-2"}));
  EXPECT_TRUE(List("", "nope")->empty());
  EXPECT_EQ(List("Sleeping").status().code(), StatusCode::kInvalidArgument);

  auto lab1 = List()->at(0);
  EXPECT_EQ(lab1.status, "Ready");
  EXPECT_TRUE(lab1.connected);
  EXPECT_TRUE(Has(lab1.labels, "gpu"));
  EXPECT_EQ(lab1.acl_groups, (std::vector<std::string>{"Everyone"}));
}

TEST_F(ApiServiceTest, HostShowFindsAnyHostIncludingPendingOnes) {
  Enrol("lab-1", "c1", true);
  Enrol("newbie", "c2", false);
  auto lab1 = services_->Show("lab-1");
  ASSERT_TRUE(lab1.ok());
  EXPECT_EQ(lab1->hostname, "lab-1");
  EXPECT_EQ(lab1->facts.cpus, 4u);
  EXPECT_EQ(services_->Show("newbie")->status, "Pending Approval");
  EXPECT_EQ(services_->Show("ghost").status().code(), StatusCode::kNotFound);
}

TEST_F(ApiServiceTest, AcceptPushesAWelcomeToTheWaitingConnection) {
  Enrol("newbie", "conn-newbie", false);
  Enrol("other", "conn-other", false, {"usb"});
  EXPECT_EQ(Names(*Pending()), (std::vector<std::string>{"newbie", "other"}));
  EXPECT_EQ(Names(*Pending("usb")), (std::vector<std::string>{"other"}));
  EXPECT_TRUE(List()->empty());
  services_->TakeSent();

  ASSERT_TRUE(services_->Action("newbie", "accept").ok());
  std::vector<Sent> sent = services_->TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].routing_id, "conn-newbie");
  auto welcome = protocol::DecodeAs<protocol::Welcome>(sent[0].frame);
  ASSERT_TRUE(welcome.ok()) << welcome.status().ToString();
  EXPECT_EQ(welcome->hostname, "newbie");
  EXPECT_EQ(welcome->heartbeat_interval_ms, 500u);

  EXPECT_EQ(Names(*List("Ready")), (std::vector<std::string>{"newbie"}));
  EXPECT_EQ(Names(*Pending()), (std::vector<std::string>{"other"}));
  EXPECT_EQ((*services_->store().GetHost("newbie"))->enrollment, store::Enrollment::kAccepted);
  // The accepted agent's heartbeats are now taken.
  protocol::Heartbeat beat;
  beat.incarnation = 1;
  sent = services_->AgentFrame("conn-newbie", "", Encode(beat));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(TypeOf(sent[0].frame), MessageType::kHeartbeatAck);

  EXPECT_EQ(services_->Action("newbie", "accept").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(services_->Action("ghost", "accept").code(), StatusCode::kNotFound);
}

TEST_F(ApiServiceTest, RejectRevokesTheKeyAndTellsTheAgent) {
  std::string key = Enrol("intruder", "conn-i", false);
  services_->TakeSent();
  ASSERT_TRUE(services_->Action("intruder", "reject", "not ours").ok());
  std::vector<Sent> sent = services_->TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].routing_id, "conn-i");
  EXPECT_EQ(TypeOf(sent[0].frame), MessageType::kReject);
  EXPECT_EQ(services_->Show("intruder").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(services_->registry().IsKeyRevoked(key));
  auto revoked = services_->store().GetRevokedKey(key);
  ASSERT_TRUE(revoked.ok() && revoked->has_value());
  EXPECT_EQ((*revoked)->reason, "not ours");

  // It cannot come back, not even with the token or under another name.
  sent = services_->AgentFrame("conn-j", key, Encode(MakeHello("intruder", key, 2, {}, "tok")));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(TypeOf(sent[0].frame), MessageType::kReject);
  sent = services_->AgentFrame("conn-k", key, Encode(MakeHello("friend", key, 3, {}, "tok")));
  EXPECT_EQ(TypeOf(sent.at(0).frame), MessageType::kReject);
  EXPECT_TRUE(Pending()->empty());
  EXPECT_TRUE(List()->empty());
}

TEST_F(ApiServiceTest, RejectIsOnlyForPendingHosts) {
  Enrol("lab-1", "c1", true);
  EXPECT_EQ(services_->Action("lab-1", "reject").code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(services_->Show("lab-1").ok());
}

TEST_F(ApiServiceTest, DeleteRevokesTheKeyAndTellsTheAgent) {
  std::string key = Enrol("lab-1", "conn-1", true);
  Enrol("lab-2", "conn-2", true);
  services_->TakeSent();
  ASSERT_TRUE(services_->Action("lab-1", "delete").ok());
  std::vector<Sent> sent = services_->TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].routing_id, "conn-1");
  EXPECT_EQ(TypeOf(sent[0].frame), MessageType::kReject);
  EXPECT_EQ(Names(*List()), (std::vector<std::string>{"lab-2"}));
  EXPECT_TRUE(services_->registry().IsKeyRevoked(key));
  EXPECT_EQ((*services_->store().GetRevokedKey(key))->reason, "deleted");
  EXPECT_EQ(services_->Action("lab-1", "delete").code(), StatusCode::kNotFound);
  sent = services_->AgentFrame("conn-3", key, Encode(MakeHello("lab-1", key, 2, {}, "tok")));
  EXPECT_EQ(TypeOf(sent.at(0).frame), MessageType::kReject);
}

TEST_F(ApiServiceTest, LockingNeedsAReasonAndRecordsWhoAndWhy) {
  Enrol("lab-1", "c1", true);
  std::string before = services_->Snapshot();
  EXPECT_EQ(services_->Action("lab-1", "lock", "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(services_->Snapshot(), before);
  EXPECT_EQ(services_->Action("lab-1", "unlock").code(), StatusCode::kFailedPrecondition);

  services_->clock().AdvanceMs(500);
  ASSERT_TRUE(services_->Action("lab-1", "lock", "bad fan", "bob").ok());
  auto host = *services_->Show("lab-1");
  EXPECT_TRUE(host.locked);
  EXPECT_EQ(host.locked_by, "bob");
  EXPECT_EQ(host.lock_reason, "bad fan");
  auto stored = *services_->store().GetHost("lab-1");
  EXPECT_TRUE(stored->locked);
  EXPECT_EQ(stored->locked_ms, services_->clock().WallMs());
  EXPECT_EQ(host.status, "Ready");  // a lock is not a status
  EXPECT_EQ(services_->Action("lab-1", "lock", "again").code(), StatusCode::kFailedPrecondition);

  ASSERT_TRUE(services_->Action("lab-1", "unlock").ok());
  host = *services_->Show("lab-1");
  EXPECT_FALSE(host.locked);
  EXPECT_TRUE(host.locked_by.empty());
  EXPECT_TRUE(host.lock_reason.empty());

  // Whoever the request was admitted as is recorded (the fixture admits a nameless body as
  // alice); the coordinator no longer takes a body's word for it.
  ASSERT_TRUE(services_->Action("lab-1", "lock", "who?", "").ok());
  EXPECT_EQ(services_->Show("lab-1")->locked_by, "alice");
}

TEST_F(ApiServiceTest, UnknownHostsAndActionsAreErrors) {
  Enrol("lab-1", "c1", true);
  std::string before = services_->Snapshot();
  EXPECT_EQ(services_->Action("lab-1", "reboot").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(services_->Action("lab-1", "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(services_->Action("ghost", "lock", "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(services_->Snapshot(), before);
}

TEST_F(ApiServiceTest, AdminLabelsAreAddedAndRemovedButAgentLabelsAreNot) {
  Enrol("lab-1", "c1", true, {"gpu", "mine"});
  auto host = HostLabel("lab-1", {"rack:7", "pool:prod"});
  ASSERT_TRUE(host.ok()) << host.status().ToString();
  EXPECT_EQ(host->admin_labels, (Labels{"pool:prod", "rack:7"}));
  EXPECT_TRUE(Has(host->labels, "rack:7"));
  EXPECT_TRUE(Has(host->labels, "mine"));
  // A label an admin hands out becomes an admin label: no agent may claim it any more.
  EXPECT_EQ(services_->registry().admin_labels().count("rack:7"), 1u);
  EXPECT_TRUE((*services_->store().GetLabel("rack:7")).has_value());

  // The agent's own labels belong to its configuration.
  std::string before = services_->Snapshot();
  EXPECT_EQ(HostLabel("lab-1", {}, {"mine"}).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(HostLabel("lab-1", {}, {"arch:x86_64"}).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(HostLabel("lab-1", {}, {"absent"}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(HostLabel("lab-1", {"arch:sparc"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HostLabel("lab-1", {"bad label"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HostLabel("lab-1", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HostLabel("ghost", {"x"}).status().code(), StatusCode::kNotFound);
  // One bad label spoils the whole request: the good ones are not applied either.
  EXPECT_EQ(HostLabel("lab-1", {"fine", "os:haiku"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HostLabel("lab-1", {"fine"}, {"mine"}).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(services_->Snapshot(), before);

  host = HostLabel("lab-1", {}, {"rack:7"});
  ASSERT_TRUE(host.ok()) << host.status().ToString();
  EXPECT_EQ(host->admin_labels, (Labels{"pool:prod"}));
  EXPECT_FALSE(Has(host->labels, "rack:7"));
}

TEST_F(ApiServiceTest, AnAdminLabelTakesOverTheSameAgentLabel) {
  Enrol("lab-1", "c1", true, {"gpu"});
  auto host = HostLabel("lab-1", {"gpu"});
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->admin_labels, (Labels{"gpu"}));
  EXPECT_FALSE(Has(host->agent_labels, "gpu"));
  // Now it is the admin's to remove.
  host = HostLabel("lab-1", {}, {"gpu"});
  ASSERT_TRUE(host.ok()) << host.status().ToString();
  EXPECT_FALSE(Has(host->labels, "gpu"));
}

TEST_F(ApiServiceTest, LabelListCountsHostsPerLabelAndKind) {
  Enrol("lab-1", "c1", true, {"gpu"});
  Enrol("lab-2", "c2", true, {"gpu", "usb"});
  Enrol("newbie", "c3", false, {"gpu"});  // pending hosts are not counted
  ASSERT_TRUE(LabelAction("pool:prod", "create").ok());
  ASSERT_TRUE(HostLabel("lab-1", {"rack:7"}).ok());

  std::map<std::string, std::pair<std::string, uint32_t>> seen;
  for (const auto& label : LabelList()) seen[label.name] = {label.kind, label.hosts};
  EXPECT_EQ(seen["gpu"], (std::pair<std::string, uint32_t>{"agent", 2}));
  EXPECT_EQ(seen["usb"], (std::pair<std::string, uint32_t>{"agent", 1}));
  EXPECT_EQ(seen["pool:prod"], (std::pair<std::string, uint32_t>{"admin", 0}));
  EXPECT_EQ(seen["rack:7"], (std::pair<std::string, uint32_t>{"admin", 1}));
  EXPECT_EQ(seen["arch:x86_64"], (std::pair<std::string, uint32_t>{"auto", 2}));

  for (const auto& label : LabelList("admin")) EXPECT_EQ(label.kind, "admin") << label.name;
  EXPECT_EQ(LabelList("admin").size(), 2u);
  EXPECT_EQ(LabelList("agent").size(), 2u);
  EXPECT_TRUE(LabelList("nonsense").empty());
}

TEST_F(ApiServiceTest, LabelCreateAndDeleteFollowTheRules) {
  Enrol("lab-1", "c1", true, {"gpu"});
  std::string before = services_->Snapshot();
  EXPECT_EQ(LabelAction("arch:arm", "create").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LabelAction("bad label", "create").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LabelAction("", "create").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LabelAction("x", "rename").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LabelAction("never", "delete").code(), StatusCode::kNotFound);
  EXPECT_EQ(LabelAction("gpu", "delete").code(), StatusCode::kNotFound);  // an agent label
  EXPECT_EQ(services_->Snapshot(), before);

  // Creating a label an agent claimed takes it away from the agent.
  ASSERT_TRUE(LabelAction("gpu", "create").ok());
  EXPECT_FALSE(Has(services_->Show("lab-1")->labels, "gpu"));
  EXPECT_EQ(LabelAction("gpu", "create").code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(HostLabel("lab-1", {"gpu"}).ok());
  ASSERT_TRUE(LabelAction("gpu", "delete").ok());
  EXPECT_FALSE(Has(services_->Show("lab-1")->labels, "gpu"));
  EXPECT_FALSE((*services_->store().GetLabel("gpu")).has_value());
}

TEST_F(ApiServiceTest, TestAddListAndShowKeepTheControlByteForByte) {
  EXPECT_TRUE(TestList().empty());
  const std::string control = "#!/bin/sh\necho \"h\xc3\xa9llo\" 'x'\t$HOME\nexit 0";
  auto added = TestAdd("kernel.boot", control, "boots the kernel");
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(*added, "test kernel.boot added");
  services_->clock().AdvanceMs(1000);
  ASSERT_TRUE(TestAdd("net:iperf", "iperf3 -c $PEER\n", "", "bob").ok());

  auto shown = TestShow("kernel.boot");
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ(shown->name, "kernel.boot");
  EXPECT_EQ(shown->control, control);
  EXPECT_EQ(shown->control_bytes, control.size());
  EXPECT_EQ(shown->description, "boots the kernel");
  EXPECT_EQ(shown->created_by, "alice");
  EXPECT_EQ(shown->created_ms, 1'700'000'000'000);
  EXPECT_EQ(shown->updated_by, "alice");
  EXPECT_EQ(shown->updated_ms, shown->created_ms);

  // Listing: sorted by name, without the control text but with its size.
  auto tests = TestList();
  ASSERT_EQ(tests.size(), 2u);
  EXPECT_EQ(tests[0].name, "kernel.boot");
  EXPECT_TRUE(tests[0].control.empty());
  EXPECT_EQ(tests[0].control_bytes, control.size());
  EXPECT_EQ(tests[1].name, "net:iperf");
  EXPECT_EQ(tests[1].created_by, "bob");
  ASSERT_EQ(TestList("net:").size(), 1u);
  EXPECT_EQ(TestList("net:")[0].name, "net:iperf");
  EXPECT_TRUE(TestList("nothing").empty());

  EXPECT_EQ(TestShow("never").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(TestShow("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TestShow("bad name").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ApiServiceTest, AddingAnExistingTestReplacesItAndKeepsWhenItWasCreated) {
  ASSERT_TRUE(TestAdd("kernel.boot", "exit 0\n", "first").ok());
  services_->clock().AdvanceMs(5000);
  auto replaced = TestAdd("kernel.boot", "exit 1\n", "second", "bob");
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_EQ(*replaced, "test kernel.boot replaced");
  auto shown = TestShow("kernel.boot");
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ(shown->control, "exit 1\n");
  EXPECT_EQ(shown->description, "second");
  EXPECT_EQ(shown->created_by, "alice");
  EXPECT_EQ(shown->created_ms, 1'700'000'000'000);
  EXPECT_EQ(shown->updated_by, "bob");
  EXPECT_EQ(shown->updated_ms, 1'700'000'005'000);
  EXPECT_EQ(TestList().size(), 1u);
}

TEST_F(ApiServiceTest, ABadTestIsRefusedAndChangesNothing) {
  ASSERT_TRUE(TestAdd("kernel.boot", "exit 0\n", "kept").ok());
  std::string before = services_->Snapshot();
  int applies = services_->store().applies;
  EXPECT_EQ(TestAdd("", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TestAdd("bad name", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TestAdd(std::string(65, 'n'), "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TestAdd("kernel.boot", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TestAdd("kernel.boot", std::string(1024 * 1024 + 1, 'c')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(TestAdd("kernel.boot", std::string("a\0b", 3)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(TestAdd("kernel.boot", "\xff").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TestAdd("kernel.boot", "x", std::string(4097, 'd')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(services_->store().applies, applies);  // refused before the store was asked
  EXPECT_EQ(services_->Snapshot(), before);
  EXPECT_EQ(TestShow("kernel.boot")->description, "kept");

  // A failed commit is an error, and the catalog is as it was.
  services_->store().fail_applies = 1;
  EXPECT_EQ(TestAdd("kernel.boot", "exit 9\n").status().code(), StatusCode::kInternal);
  EXPECT_TRUE(TestAdd("fresh", "exit 9\n").ok());  // the next commit goes through
  EXPECT_EQ(TestShow("kernel.boot")->control, "exit 0\n");
}

TEST_F(ApiServiceTest, TheLargestAllowedControlFitsInOneRequest) {
  std::string control(1024 * 1024, 'c');
  control.back() = '\n';
  ASSERT_TRUE(TestAdd("big", control).ok());
  auto shown = TestShow("big");
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ(shown->control, control);
}

TEST_F(ApiServiceTest, EveryMalformedRequestGetsAnErrorReplyAndChangesNothing) {
  Enrol("lab-1", "c1", true, {"gpu"});
  Enrol("newbie", "c2", false);
  ASSERT_TRUE(LabelAction("pool:prod", "create").ok());
  ASSERT_TRUE(services_->Action("lab-1", "lock", "fan").ok());
  ASSERT_TRUE(TestAdd("kernel.boot", "exit 0\n").ok());
  services_->TakeSent();
  std::string before = services_->Snapshot();
  const uint32_t v = protocol::kProtocolVersion;
  auto type = [](MessageType t) { return static_cast<uint32_t>(t); };

  struct Case {
    const char* what;
    std::string frame;
    uint64_t request_id;
  };
  std::vector<Case> cases = {
      {"empty", "", 0},
      {"garbage", "GET / HTTP/1.1\r\n\r\n", 0},
      {"msgpack nil", std::string("\xc0", 1), 0},
      // PROTOCOL.md section 4: the id is read from the envelope's head, whatever follows it.
      {"truncated", Encode(protocol::HostActionRequest{"lab-1", "delete", "", ""}, 3).substr(0, 9),
       3},
      {"three elements",
       [&] {
         msgpack::sbuffer b;
         Packer p(b);
         p.pack_array(3);
         p.pack(v);
         p.pack(type(MessageType::kHostListRequest));
         p.pack(4);
         return std::string(b.data(), b.size());
       }(),
       0},  // no envelope (four or five elements), so no id to echo
      {"unknown type", RawFrame(v, 4242, 5, [](Packer& p) { p.pack_map(0); }), 5},
      {"retired or unused type", RawFrame(v, 99, 6, [](Packer& p) { p.pack_map(0); }), 6},
      {"future version", RawFrame(v + 1, type(MessageType::kHostActionRequest), 7,
                                  [](Packer& p) { p.pack_map(0); }),
       7},
      {"type is a string", RawFrame(v, 0, 8, [](Packer& p) { p.pack_map(0); }).replace(2, 1, "\xa1x"),
       8},
      {"body is an array", RawFrame(v, type(MessageType::kHostActionRequest), 9,
                                    [](Packer& p) { p.pack_array(2); p.pack("lab-1"); p.pack("delete"); }),
       9},
      {"body is nil",
       RawFrame(v, type(MessageType::kLabelActionRequest), 10, [](Packer& p) { p.pack_nil(); }),
       10},
      {"action hostname is a number",
       FrameWithField(MessageType::kHostActionRequest, 11, "hostname", [](Packer& p) { p.pack(1); }),
       11},
      {"action is a map",
       FrameWithField(MessageType::kHostActionRequest, 12, "action",
                      [](Packer& p) { p.pack_map(1); p.pack("delete"); p.pack(true); }),
       12},
      {"label add is a string",
       FrameWithField(MessageType::kHostLabelRequest, 13, "add", [](Packer& p) { p.pack("x"); }), 13},
      {"label remove holds numbers",
       FrameWithField(MessageType::kHostLabelRequest, 14, "remove",
                      [](Packer& p) { p.pack_array(1); p.pack(7); }),
       14},
      {"list status is an array",
       FrameWithField(MessageType::kHostListRequest, 15, "status", [](Packer& p) { p.pack_array(0); }),
       15},
      {"label action name is binary",
       FrameWithField(MessageType::kLabelActionRequest, 16, "name",
                      [](Packer& p) { p.pack_bin(2); p.pack_bin_body("\x01\x02", 2); }),
       16},
      {"a reply sent as a request: HostListReply", Encode(protocol::HostListReply{}, 17), 17},
      {"a reply sent as a request: HostShowReply", Encode(protocol::HostShowReply{}, 18), 18},
      {"a reply sent as a request: OkReply", Encode(protocol::OkReply{"ok"}, 19), 19},
      {"a reply sent as a request: LabelListReply", Encode(protocol::LabelListReply{}, 20), 20},
      {"an ErrorReply sent as a request", Encode(protocol::ErrorReply{2, "no"}, 21), 21},
      {"an agent message on the API socket",
       Encode(MakeHello("lab-1", NewCurveKey(), 9, {}, "tok"), 22), 22},
      {"a Welcome on the API socket", Encode(protocol::Welcome{"lab-1", 5, {}}, 23), 23},
      {"a heartbeat on the API socket", Encode(protocol::Heartbeat{}, 24), 24},
      {"test add control is a number",
       FrameWithField(MessageType::kTestAddRequest, 25, "control", [](Packer& p) { p.pack(7); }),
       25},
      {"test add name is an array",
       FrameWithField(MessageType::kTestAddRequest, 26, "name",
                      [](Packer& p) { p.pack_array(1); p.pack("kernel.boot"); }),
       26},
      {"test list prefix is a map",
       FrameWithField(MessageType::kTestListRequest, 27, "prefix", [](Packer& p) { p.pack_map(0); }),
       27},
      {"test show name is nil",
       FrameWithField(MessageType::kTestShowRequest, 28, "name", [](Packer& p) { p.pack_nil(); }),
       28},
      {"test add replacing with an empty control",
       Encode(protocol::TestAddRequest{"kernel.boot", "", "", "alice"}, 29), 29},
      {"a reply sent as a request: TestListReply", Encode(protocol::TestListReply{}, 30), 30},
      {"a reply sent as a request: TestShowReply", Encode(protocol::TestShowReply{}, 31), 31},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    std::string reply = services_->Frame(c.frame);
    auto error = ErrorIn(reply);
    ASSERT_TRUE(error.has_value()) << protocol::MessageTypeName(TypeOf(reply));
    EXPECT_NE(error->code, 0u);
    EXPECT_FALSE(error->message.empty());
    EXPECT_EQ(testing::RequestIdOf(reply), c.request_id);
    EXPECT_TRUE(services_->TakeSent().empty());  // no agent was told anything
    EXPECT_EQ(services_->Snapshot(), before);
  }
}

TEST_F(ApiServiceTest, AnOversizedRequestIsRefused) {
  CoordinatorConfig config;
  config.max_frame_bytes = 512;
  services_.reset();  // one store per directory
  services_ = std::make_unique<Services>(tmp_.path(), config);
  std::string reply =
      services_->Frame(Encode(protocol::LabelActionRequest{std::string(600, 'x'), "create", ""}, 3));
  auto error = ErrorIn(reply);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, static_cast<uint32_t>(StatusCode::kTooLarge));
  EXPECT_TRUE(LabelList().empty());
}

}  // namespace
}  // namespace labmesh::coordinator
