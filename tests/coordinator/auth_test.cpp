// AuthService on a real store with a fake clock: the first start's admin and token file, the
// admission of requests (tokens, web sessions, CSRF, admin-only requests), users, passwords,
// ACL groups; AuditLog's records and their redaction; the ZAP handler's rate limit.

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <zmq.hpp>

#include "audit_log.hpp"
#include "auth_service.hpp"
#include "coordinator_test_util.hpp"
#include "host_registry.hpp"
#include "zap_handler.hpp"

namespace labmesh::coordinator {
namespace {

using protocol::Encode;
using protocol::MessageType;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.data_dir = tmp_.path();
    std::filesystem::create_directories(tmp_.path() + "/keys");
    Open();
  }

  void Open() {
    auth_.reset();
    registry_.reset();
    store_.reset();
    store_ = testing::OpenStore(tmp_.path());
    ASSERT_NE(store_, nullptr);
    registry_ = std::make_unique<HostRegistry>(store_.get(), &clock_);
    ASSERT_TRUE(registry_->Load().ok());
    auth_ = std::make_unique<AuthService>(config_, &clock_, store_.get(), registry_.get());
    ASSERT_TRUE(auth_->Load().ok());
  }

  std::string AdminToken() {
    std::string text = ReadFile(tmp_.path() + "/keys/admin.token");
    if (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  }

  // Admits and handles one request as the coordinator's dispatcher does.
  template <typename Reply, typename Request>
  Result<Reply> Call(const Request& request, protocol::Credentials credentials,
                     ApiOrigin origin = ApiOrigin::kLocal) {
    auto envelope = protocol::DecodeEnvelope(Encode(request, 5, credentials));
    EXPECT_TRUE(envelope.ok());
    auto who = auth_->Admit(*envelope, origin);
    if (!who.ok()) return who.status();
    return protocol::DecodeAs<Reply>(auth_->Handle(*envelope, *who, "test"));
  }
  template <typename Request>
  Result<Principal> Admit(const Request& request, protocol::Credentials credentials,
                          ApiOrigin origin = ApiOrigin::kLocal) {
    auto envelope = protocol::DecodeEnvelope(Encode(request, 5, credentials));
    EXPECT_TRUE(envelope.ok());
    return auth_->Admit(*envelope, origin);
  }
  protocol::Credentials Token(const std::string& token) { return {"", token, "", "", ""}; }

  std::string NewUser(const std::string& name, bool admin = false) {
    auto made = Call<protocol::UserTokenReply>(protocol::UserCreateRequest{name, admin},
                                               Token(AdminToken()));
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    return made.ok() ? made->token : "";
  }

  labmesh::testing::TempDir tmp_;
  CoordinatorConfig config_;
  FakeClock clock_;
  std::unique_ptr<testing::FaultyStore> store_;
  std::unique_ptr<HostRegistry> registry_;
  std::unique_ptr<AuthService> auth_;
};

TEST_F(AuthTest, FirstStartMakesAnAdminWhoseTokenIsOnlyInTheTokenFile) {
  std::string path = tmp_.path() + "/keys/admin.token";
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string token = AdminToken();
  EXPECT_EQ(token.rfind("lmt_", 0), 0u);
  EXPECT_GE(token.size(), 40u);

  auto who = Admit(protocol::UserListRequest{}, Token(token));
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->user, "admin");
  EXPECT_TRUE(who->admin);

  // Stored hashed: neither the record nor the store's file holds the token.
  auto admin = store_->GetUser("admin");
  ASSERT_TRUE(admin.ok() && admin->has_value());
  ASSERT_EQ((*admin)->tokens.size(), 1u);
  EXPECT_NE((*admin)->tokens[0].hash, token);
  EXPECT_EQ((*admin)->tokens[0].hash.size(), 64u);
  EXPECT_EQ(ReadFile(tmp_.path() + "/db/data.mdb").find(token), std::string::npos);

  // A restart keeps the admin and does not make another token.
  Open();
  EXPECT_EQ(AdminToken(), token);
  EXPECT_TRUE(Admit(protocol::UserListRequest{}, Token(token)).ok());
}

TEST_F(AuthTest, CredentialsThatNameNobodyAreRefused) {
  auto none = Admit(protocol::HostListRequest{}, {});
  EXPECT_EQ(none.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(none.status().message().find("API token"), std::string::npos);
  auto wrong = Admit(protocol::HostListRequest{}, Token("lmt_not-a-token"));
  EXPECT_EQ(wrong.status().code(), StatusCode::kUnauthenticated);
  auto mismatch = Admit(protocol::HostListRequest{}, {"bob", AdminToken(), "", "", ""});
  EXPECT_EQ(mismatch.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(mismatch.status().message().find("bob"), std::string::npos);
  // A session from a socket other than the web server's is not believed.
  auto session = Admit(protocol::HostListRequest{}, {"", "", "some-session", "", ""});
  EXPECT_EQ(session.status().code(), StatusCode::kUnauthenticated);
  // Login needs nothing.
  EXPECT_TRUE(Admit(protocol::LoginRequest{}, {}).ok());
}

TEST_F(AuthTest, AdminRequestsNeedAnAdmin) {
  std::string alice = NewUser("alice");
  for (MessageType type :
       {MessageType::kHostActionRequest, MessageType::kHostLabelRequest,
        MessageType::kLabelActionRequest, MessageType::kHostTaskRequest,
        MessageType::kHostModRequest, MessageType::kUserCreateRequest,
        MessageType::kUserDeleteRequest, MessageType::kAclCreateRequest,
        MessageType::kAclDeleteRequest, MessageType::kAclMemberRequest}) {
    ASSERT_NE(FindApiRoute(type), nullptr) << protocol::MessageTypeName(type);
    EXPECT_TRUE(FindApiRoute(type)->admin_only) << protocol::MessageTypeName(type);
  }
  auto create = Call<protocol::UserTokenReply>(protocol::UserCreateRequest{"mallory", true},
                                               Token(alice));
  EXPECT_EQ(create.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(create.status().message().find("alice is not one"), std::string::npos);
  auto lock = Admit(protocol::HostActionRequest{"lab-1", "lock", "mine", ""}, Token(alice));
  EXPECT_EQ(lock.status().code(), StatusCode::kPermissionDenied);
  auto users = store_->ListUsers();
  ASSERT_TRUE(users.ok());
  EXPECT_EQ(users->size(), 2u);  // admin, alice: no mallory
  // Reading is for everyone.
  auto list = Call<protocol::UserListReply>(protocol::UserListRequest{}, Token(alice));
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->users.size(), 2u);
  EXPECT_EQ(list->users[1].name, "alice");
  EXPECT_EQ(list->users[1].acl_groups, std::vector<std::string>{"Everyone"});
  EXPECT_EQ(list->users[1].tokens, 1u);
}

TEST_F(AuthTest, TokensCanBeAddedRevokedAndDieWithTheirUser) {
  std::string alice = NewUser("alice");
  std::string bob = NewUser("bob");
  // A user makes tokens for themself only.
  auto second = Call<protocol::UserTokenReply>(protocol::UserTokenRequest{"", false}, Token(alice));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->name, "alice");
  EXPECT_TRUE(Admit(protocol::HostListRequest{}, Token(alice)).ok());
  EXPECT_TRUE(Admit(protocol::HostListRequest{}, Token(second->token)).ok());
  auto others = Call<protocol::UserTokenReply>(protocol::UserTokenRequest{"bob", false},
                                               Token(alice));
  EXPECT_EQ(others.status().code(), StatusCode::kPermissionDenied);

  auto rotated = Call<protocol::UserTokenReply>(protocol::UserTokenRequest{"alice", true},
                                                Token(second->token));
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ(Admit(protocol::HostListRequest{}, Token(alice)).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_TRUE(Admit(protocol::HostListRequest{}, Token(rotated->token)).ok());

  auto deleted = Call<protocol::OkReply>(protocol::UserDeleteRequest{"bob"}, Token(AdminToken()));
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(Admit(protocol::HostListRequest{}, Token(bob)).status().code(),
            StatusCode::kUnauthenticated);
  // The last admin stays.
  auto last = Call<protocol::OkReply>(protocol::UserDeleteRequest{"admin"}, Token(AdminToken()));
  EXPECT_EQ(last.status().code(), StatusCode::kFailedPrecondition);
  // Survives a restart.
  Open();
  EXPECT_TRUE(Admit(protocol::HostListRequest{}, Token(rotated->token)).ok());
  EXPECT_FALSE(Admit(protocol::HostListRequest{}, Token(bob)).ok());
}

TEST_F(AuthTest, WebSessionsNeedTheirCsrfTokenToChangeThingsAndExpire) {
  config_.session_ttl_ms = 60'000;
  std::string alice = NewUser("alice");
  auto login = Call<protocol::LoginReply>(protocol::LoginRequest{"alice", alice, ""}, {});
  ASSERT_TRUE(login.ok()) << login.status().ToString();
  EXPECT_EQ(login->user, "alice");
  EXPECT_FALSE(login->session.empty());
  EXPECT_FALSE(login->csrf.empty());
  EXPECT_EQ(login->expires_ms, clock_.WallMs() + 60'000);

  protocol::Credentials session{"", "", login->session, "", "1.2.3.4"};
  auto who = Admit(protocol::HostListRequest{}, session, ApiOrigin::kWeb);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->user, "alice");
  // Reading needs no CSRF token; changing does.
  auto abort = Admit(protocol::JobAbortRequest{}, session, ApiOrigin::kWeb);
  EXPECT_EQ(abort.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(abort.status().message().find("CSRF"), std::string::npos);
  session.csrf = "wrong";
  EXPECT_EQ(Admit(protocol::JobAbortRequest{}, session, ApiOrigin::kWeb).status().code(),
            StatusCode::kPermissionDenied);
  session.csrf = login->csrf;
  EXPECT_TRUE(Admit(protocol::JobAbortRequest{}, session, ApiOrigin::kWeb).ok());
  auto me = Call<protocol::WhoAmIReply>(protocol::WhoAmIRequest{}, session, ApiOrigin::kWeb);
  ASSERT_TRUE(me.ok());
  EXPECT_EQ(me->csrf, login->csrf);

  clock_.AdvanceMs(60'001);
  auto expired = Admit(protocol::HostListRequest{}, session, ApiOrigin::kWeb);
  EXPECT_EQ(expired.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(expired.status().message().find("expired"), std::string::npos);

  // Wrong logins say nothing about which part was wrong.
  auto bad = Call<protocol::LoginReply>(protocol::LoginRequest{"alice", "lmt_nope", ""}, {});
  EXPECT_EQ(bad.status().code(), StatusCode::kUnauthenticated);
  auto nobody = Call<protocol::LoginReply>(protocol::LoginRequest{"nobody", alice, ""}, {});
  EXPECT_EQ(nobody.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(bad.status().message(), nobody.status().message());
  auto someone_elses = Call<protocol::LoginReply>(protocol::LoginRequest{"admin", alice, ""}, {});
  EXPECT_EQ(someone_elses.status().code(), StatusCode::kUnauthenticated);
}

TEST_F(AuthTest, RepeatedFailedLoginsFromOneAddressAreRefusedUntilTheWindowEnds) {
  std::string alice = NewUser("alice");
  auto login = [&](const std::string& token, const std::string& from) {
    auto envelope = protocol::DecodeEnvelope(
        Encode(protocol::LoginRequest{"alice", token, ""}, 5, {"", "", "", "", ""}));
    return protocol::DecodeAs<protocol::LoginReply>(auth_->Handle(*envelope, {}, from));
  };
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(login("lmt_guess" + std::to_string(i), "web 10.0.0.66").status().code(),
              StatusCode::kUnauthenticated);
  }
  // Even the right token is refused from there now; other addresses are not affected.
  auto blocked = login(alice, "web 10.0.0.66");
  EXPECT_EQ(blocked.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(blocked.status().message().find("too many failed logins"), std::string::npos);
  EXPECT_TRUE(login(alice, "web 10.0.0.67").ok());
  clock_.AdvanceMs(60'000);
  EXPECT_TRUE(login(alice, "web 10.0.0.66").ok());
}

TEST_F(AuthTest, PasswordsAreHashedAndLogIn) {
  std::string alice = NewUser("alice");
  auto short_one = Call<protocol::OkReply>(protocol::UserPasswdRequest{"", "short"}, Token(alice));
  EXPECT_EQ(short_one.status().code(), StatusCode::kInvalidArgument);
  auto set = Call<protocol::OkReply>(protocol::UserPasswdRequest{"", "correct horse"},
                                     Token(alice));
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  auto stored = store_->GetUser("alice");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->password_hash.rfind("$argon2id$", 0), 0u);
  EXPECT_EQ((*stored)->password_hash.find("correct horse"), std::string::npos);

  EXPECT_TRUE(Call<protocol::LoginReply>(protocol::LoginRequest{"alice", "", "correct horse"}, {})
                  .ok());
  EXPECT_EQ(Call<protocol::LoginReply>(protocol::LoginRequest{"alice", "", "wrong horse!"}, {})
                .status()
                .code(),
            StatusCode::kUnauthenticated);
  // Not for someone else.
  auto others = Call<protocol::OkReply>(protocol::UserPasswdRequest{"admin", "hijacked!"},
                                        Token(alice));
  EXPECT_EQ(others.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(AuthTest, AclGroupsHoldUsersAndHosts) {
  for (const char* name : {"lab-1", "lab-2"}) {
    store::Host host = testing::SampleHost(name, testing::NewCurveKey());
    host.acl_groups = {"Everyone"};  // as registration makes them
    ASSERT_TRUE(testing::PutNow(*registry_, host).ok());
  }
  NewUser("alice");
  protocol::Credentials admin = Token(AdminToken());
  ASSERT_TRUE(Call<protocol::OkReply>(protocol::AclCreateRequest{"team-net", "network"}, admin).ok());
  EXPECT_EQ(Call<protocol::OkReply>(protocol::AclCreateRequest{"team-net", ""}, admin)
                .status()
                .code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(Call<protocol::OkReply>(protocol::AclCreateRequest{"bad name", ""}, admin)
                .status()
                .code(),
            StatusCode::kInvalidArgument);

  auto added = Call<protocol::AclListReply>(
      protocol::AclMemberRequest{"team-net", false, {"alice"}, {"lab-2"}}, admin);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  ASSERT_EQ(added->groups.size(), 1u);
  EXPECT_EQ(added->groups[0].users, std::vector<std::string>{"alice"});
  EXPECT_EQ(added->groups[0].hosts, std::vector<std::string>{"lab-2"});
  EXPECT_EQ(registry_->Find("lab-2")->record.acl_groups,
            (std::vector<std::string>{"Everyone", "team-net"}));
  // The store has it too (the job service reads users' groups from there).
  auto alice = store_->GetUser("alice");
  EXPECT_EQ((*alice)->acl_groups, (std::vector<std::string>{"Everyone", "team-net"}));

  // An unknown name changes nothing at all.
  auto unknown = Call<protocol::AclListReply>(
      protocol::AclMemberRequest{"team-net", true, {"alice"}, {"lab-9"}}, admin);
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_EQ((*store_->GetUser("alice"))->acl_groups,
            (std::vector<std::string>{"Everyone", "team-net"}));

  // Everyone can lose members but not be deleted.
  ASSERT_TRUE(Call<protocol::AclListReply>(
                  protocol::AclMemberRequest{"Everyone", true, {}, {"lab-2"}}, admin)
                  .ok());
  EXPECT_EQ(registry_->Find("lab-2")->record.acl_groups, std::vector<std::string>{"team-net"});
  EXPECT_EQ(Call<protocol::OkReply>(protocol::AclDeleteRequest{"Everyone"}, admin).status().code(),
            StatusCode::kFailedPrecondition);

  // Deleting a group takes it from every member in the same commit.
  ASSERT_TRUE(Call<protocol::OkReply>(protocol::AclDeleteRequest{"team-net"}, admin).ok());
  EXPECT_TRUE(registry_->Find("lab-2")->record.acl_groups.empty());
  EXPECT_EQ((*store_->GetUser("alice"))->acl_groups, std::vector<std::string>{"Everyone"});
  auto groups = Call<protocol::AclListReply>(protocol::AclListRequest{}, admin);
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->groups.size(), 1u);
  EXPECT_EQ(groups->groups[0].hosts, std::vector<std::string>{"lab-1"});
}

TEST(AuditLogTest, RecordsCarryTheResultTheClientWasToldWithSecretsLeftOut) {
  labmesh::testing::TempDir tmp;
  auto store = testing::OpenStore(tmp.path());
  ASSERT_NE(store, nullptr);
  FakeClock clock;
  AuditLog audit(store.get(), &clock);
  ASSERT_TRUE(audit.Load().ok());

  auto passwd = protocol::DecodeEnvelope(
      Encode(protocol::UserPasswdRequest{"alice", "hunter2-hunter2"}, 41));
  auto abort = protocol::DecodeEnvelope(Encode(protocol::JobAbortRequest{}, 42));
  ASSERT_TRUE(passwd.ok() && abort.ok());
  audit.Begin("pA", *passwd, "alice", "127.0.0.1");
  audit.Begin("pB", *abort, "bob", "web 10.0.0.5");
  EXPECT_EQ(audit.pending(), 2u);
  // A reply to someone else's request id completes nothing.
  audit.OnReply("pA", Encode(protocol::OkReply{"x"}, 99));
  audit.OnReply("pB", Encode(protocol::ErrorReply::FromStatus(
                                 Status::PermissionDenied("job 1 belongs to alice")),
                             42));
  audit.OnReply("pA", Encode(protocol::OkReply{"set"}, 41));
  EXPECT_EQ(audit.pending(), 0u);
  ASSERT_TRUE(audit.Flush().ok());

  auto records = store->ListAudit("", 0, 10);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 2u);
  // Newest (highest id, in arrival order) first.
  const auto& aborted = (*records)[0];
  const auto& passwd_set = (*records)[1];
  EXPECT_EQ(aborted.id, 2u);
  EXPECT_EQ(aborted.user, "bob");
  EXPECT_FALSE(aborted.ok);
  EXPECT_EQ(aborted.error, "PermissionDenied: job 1 belongs to alice");
  EXPECT_EQ(aborted.from, "web 10.0.0.5");
  EXPECT_EQ(aborted.time_ms, clock.WallMs());
  EXPECT_EQ(passwd_set.user, "alice");
  EXPECT_EQ(passwd_set.action, "UserPasswdRequest");
  EXPECT_TRUE(passwd_set.ok);
  EXPECT_EQ(passwd_set.target.find("hunter2"), std::string::npos);
  EXPECT_NE(passwd_set.target.find("\"***\""), std::string::npos);
  EXPECT_NE(passwd_set.target.find("alice"), std::string::npos);
  // Ids continue after a restart.
  AuditLog again(store.get(), &clock);
  ASSERT_TRUE(again.Load().ok());
  again.Begin("pC", *abort, "carol", "local");
  again.OnReply("pC", Encode(protocol::OkReply{"ok"}, 42));
  ASSERT_TRUE(again.Flush().ok());
  EXPECT_EQ((*store->ListAudit("carol", 0, 1))[0].id, 3u);
}

TEST(AuditLogTest, LongBodiesAreCut) {
  auto envelope = protocol::DecodeEnvelope(
      Encode(protocol::TestAddRequest{"t", std::string(5000, 'x'), "", "alice"}, 1));
  ASSERT_TRUE(envelope.ok());
  std::string text = protocol::DescribeBody(*envelope);
  EXPECT_LE(text.size(), 512u);
  EXPECT_EQ(text.substr(text.size() - 3), "...");
}

// A ZAP request as libzmq sends it for a CURVE handshake.
void ZapAsk(zmq::socket_t& req, const std::string& domain, const std::string& address,
                   const std::string& z85_key) {
  uint8_t key[32] = {};
  EXPECT_NE(zmq_z85_decode(key, z85_key.c_str()), nullptr);
  req.send(zmq::str_buffer("1.0"), zmq::send_flags::sndmore);
  req.send(zmq::str_buffer("7"), zmq::send_flags::sndmore);
  req.send(zmq::buffer(domain), zmq::send_flags::sndmore);
  req.send(zmq::buffer(address), zmq::send_flags::sndmore);
  req.send(zmq::str_buffer(""), zmq::send_flags::sndmore);
  req.send(zmq::str_buffer("CURVE"), zmq::send_flags::sndmore);
  req.send(zmq::buffer(key, 32), zmq::send_flags::none);
}

TEST(ZapHandlerTest, RepeatedBadHandshakesFromOneAddressAreRefusedOutrightAndLoggedOnce) {
  zmq::context_t context;
  FakeClock clock;
  std::string revoked = testing::NewCurveKey();
  ZapHandler zap(context, [&](const std::string& key) { return key != revoked; }, &clock,
                 ZapHandler::Limits{3, 60'000});
  std::ostringstream log;
  auto log_sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("zap-test", log_sink));

  zmq::socket_t req(context, zmq::socket_type::req);
  req.connect("inproc://zeromq.zap.01");
  auto ask = [&](const std::string& domain, const std::string& address, const std::string& key) {
    ZapAsk(req, domain, address, key);
    zmq::pollitem_t item{zap.socket().handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::seconds(5));
    zap.HandleReady();
    std::vector<std::string> frames;
    for (;;) {
      zmq::message_t frame;
      EXPECT_TRUE(req.recv(frame, zmq::recv_flags::none));
      frames.push_back(frame.to_string());
      if (!frame.more()) break;
    }
    EXPECT_EQ(frames.size(), 6u);
    return frames.size() > 3 ? frames[2] + " " + frames[3] : std::string();
  };
  std::string good = testing::NewCurveKey();
  EXPECT_EQ(ask(kAgentZapDomain, "10.0.0.9", good), "200 OK");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ask(kAgentZapDomain, "10.0.0.9", revoked), "400 key revoked");
  }
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(ask(kAgentZapDomain, "10.0.0.9", revoked),
              "400 too many refused handshakes from this address");
  }
  // Even a good key from that address waits for the window to end; other addresses do not.
  EXPECT_NE(ask(kAgentZapDomain, "10.0.0.9", good), "200 OK");
  EXPECT_EQ(ask(kAgentZapDomain, "10.0.0.10", good), "200 OK");
  // The Curve API socket takes any key (its requests carry tokens).
  EXPECT_EQ(ask(kApiZapDomain, "10.0.0.9", revoked), "200 OK");
  clock.AdvanceMs(60'000);
  EXPECT_EQ(ask(kAgentZapDomain, "10.0.0.9", good), "200 OK");

  spdlog::default_logger()->flush();
  std::string text = log.str();
  spdlog::set_default_logger(previous);
  auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  // 54 refusals, three lines: the first refusal, the block, the summary at the window's end.
  EXPECT_EQ(count("refused at the Curve handshake"), 1u) << text;
  EXPECT_EQ(count("refusing it outright"), 1u) << text;
  EXPECT_EQ(count("51 more handshakes refused outright"), 1u) << text;
}

}  // namespace
}  // namespace labmesh::coordinator
