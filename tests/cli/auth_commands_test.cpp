// `labmesh user|acl|audit` and the credentials every command sends, as a script sees them: the
// request each command sends (body and envelope credentials), what it prints (text and --json)
// and its exit code, against a canned-reply stand-in for the coordinator's API socket on
// inproc. Command lines run through GlobalFlags as in main, with a map for the environment and
// HOME in a temp directory. Curve is checked against a small Curve server on tcp.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli_run.hpp"
#include "fake_coordinator.hpp"
#include "labmesh/cli/acl_commands.hpp"
#include "labmesh/cli/audit_commands.hpp"
#include "labmesh/cli/global_flags.hpp"
#include "labmesh/cli/host_lifecycle_commands.hpp"
#include "labmesh/cli/user_commands.hpp"
#include "labmesh/protocol/json.hpp"
#include "process.hpp"

namespace labmesh::cli {
namespace {

using testing::CliRun;
using testing::FakeEnvironment;
using webui::testing::FakeCoordinator;

constexpr char kEndpoint[] = "inproc://cli-auth-commands-test";
constexpr char kNotAuthenticatedHint[] =
    " (give --token, LABMESH_TOKEN or ~/.config/labmesh/credentials)\n";

protocol::AclInfo Group(const std::string& name) {
  return protocol::AclInfo{name, "the " + name + " team", 1'700'000'000'000, {"alice", "bob"},
                           {"lab-1"}};
}

class AuthCommandsTest : public ::testing::Test {
 protected:
  // Runs `labmesh ARGS` with the environment `env` plus HOME (the temp directory) and
  // LABMESH_API (the fake coordinator) unless `env` sets them.
  CliRun Run(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    env.emplace("HOME", home_.path());
    env.emplace("LABMESH_API", kEndpoint);
    CLI::App app{"labmesh"};
    Globals g;
    Action action;
    GlobalFlags global_flags(app, g);
    UserCommands users(app, g, action, [this](const std::string& prompt) -> Result<std::string> {
      prompts_.push_back(prompt);
      return password_;
    });
    AclCommands acl(app, g, action);
    AuditCommands audit(app, g, action);
    CLI::App* host = app.add_subcommand("host")->require_subcommand(1);
    HostLifecycleCommands host_commands(*host, g, action);
    return testing::ParseAndRunAsMain(app, global_flags, action, std::move(args), context_,
                                      FakeEnvironment(std::move(env)));
  }

  // HOME/.config/labmesh/credentials with `text`, mode `mode`.
  std::string WriteCredentials(const std::string& text, mode_t mode = 0600) {
    std::string dir = home_.path() + "/.config/labmesh";
    std::filesystem::create_directories(dir);
    std::string path = dir + "/credentials";
    std::ofstream(path) << text;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  // The credentials in the envelope of the last request the coordinator received.
  protocol::Credentials LastCredentials() {
    auto frames = coordinator_.Requests();
    if (frames.empty()) {
      ADD_FAILURE() << "no request received";
      return {};
    }
    auto envelope = protocol::DecodeEnvelope(frames.back());
    EXPECT_TRUE(envelope.ok()) << envelope.status().ToString();
    return envelope.ok() ? envelope->credentials : protocol::Credentials{};
  }

  void ReplyWhoAmI(const std::string& user) {
    protocol::WhoAmIReply me;
    me.user = user;
    me.admin = true;
    me.acl_groups = {"Everyone", "kernel"};
    coordinator_.Reply<protocol::WhoAmIRequest>(me);
  }

  labmesh::testing::TempDir home_;
  zmq::context_t context_;
  FakeCoordinator coordinator_{context_, kEndpoint};
  std::string password_ = "s3cret pass";
  std::vector<std::string> prompts_;
};

// ---- credentials on every request ----

TEST_F(AuthCommandsTest, CredentialsComeFromFlagThenEnvironmentThenFile) {
  ReplyWhoAmI("alice");
  WriteCredentials("user = \"file-user\"\ntoken = \"lmt_file\"\n");

  ASSERT_EQ(Run({"user", "whoami"}).exit_code, 0);
  EXPECT_EQ(LastCredentials().user, "file-user");
  EXPECT_EQ(LastCredentials().token, "lmt_file");

  std::map<std::string, std::string> env{{"LABMESH_USER", "env-user"},
                                         {"LABMESH_TOKEN", "lmt_env"}};
  ASSERT_EQ(Run({"user", "whoami"}, env).exit_code, 0);
  EXPECT_EQ(LastCredentials().user, "env-user");
  EXPECT_EQ(LastCredentials().token, "lmt_env");

  ASSERT_EQ(Run({"--user", "flag-user", "--token", "lmt_flag", "user", "whoami"}, env).exit_code,
            0);
  EXPECT_EQ(LastCredentials().user, "flag-user");
  EXPECT_EQ(LastCredentials().token, "lmt_flag");

  // Each field on its own: a flag token with the environment's user.
  ASSERT_EQ(Run({"--token", "lmt_flag", "user", "whoami"}, env).exit_code, 0);
  EXPECT_EQ(LastCredentials().user, "env-user");
  EXPECT_EQ(LastCredentials().token, "lmt_flag");
}

TEST_F(AuthCommandsTest, EveryCommandCarriesTheCredentials) {
  coordinator_.Reply<protocol::AclListRequest>(protocol::AclListReply{});
  coordinator_.Reply<protocol::AuditListRequest>(protocol::AuditListReply{});
  coordinator_.Reply<protocol::HostHistoryRequest>(protocol::HostHistoryReply{});
  std::map<std::string, std::string> env{{"LABMESH_TOKEN", "lmt_env"}};
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"acl", "list"}, {"audit"}, {"host", "history", "lab-1"}}) {
    ASSERT_EQ(Run(args, env).exit_code, 0) << ::testing::PrintToString(args);
    EXPECT_EQ(LastCredentials().token, "lmt_env") << ::testing::PrintToString(args);
  }
  EXPECT_EQ(coordinator_.Requests().size(), 3u);
}

TEST_F(AuthCommandsTest, NoCredentialsAnywhereSendsNone) {
  coordinator_.Reply<protocol::AclListRequest>(protocol::AclListReply{});
  ASSERT_EQ(Run({"acl", "list"}).exit_code, 0);
  EXPECT_TRUE(LastCredentials().empty());
}

TEST_F(AuthCommandsTest, ApiEndpointMayComeFromTheCredentialsFile) {
  coordinator_.Reply<protocol::AclListRequest>(protocol::AclListReply{});
  WriteCredentials("api = \"" + std::string(kEndpoint) + "\"\ntoken = \"lmt_file\"\n");
  // An empty LABMESH_API counts as unset, so the file's api is used.
  CliRun run = Run({"acl", "list"}, {{"LABMESH_API", ""}});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(LastCredentials().token, "lmt_file");
}

TEST_F(AuthCommandsTest, CredentialsFlagAndEnvironmentNameTheFile) {
  ReplyWhoAmI("alice");
  WriteCredentials("token = \"lmt_default\"\n");
  std::string other = home_.path() + "/other-credentials";
  std::ofstream(other) << "token = \"lmt_other\"\n";
  ASSERT_EQ(::chmod(other.c_str(), 0600), 0);
  ASSERT_EQ(Run({"user", "whoami"}, {{"LABMESH_CREDENTIALS", other}}).exit_code, 0);
  EXPECT_EQ(LastCredentials().token, "lmt_other");
  ASSERT_EQ(Run({"--credentials", other, "user", "whoami"}).exit_code, 0);
  EXPECT_EQ(LastCredentials().token, "lmt_other");
}

TEST_F(AuthCommandsTest, BadCredentialsFilesAreUsageErrorsAndNothingIsSent) {
  ReplyWhoAmI("alice");
  std::string path = WriteCredentials("token = \"lmt_file\"\n", 0644);
  CliRun world = Run({"user", "whoami"});
  EXPECT_EQ(world.exit_code, 2);
  EXPECT_EQ(world.err, "labmesh: credentials file " + path +
                           " holds a token but is readable by others (mode 0644); run: chmod "
                           "600 " + path + "\n");
  EXPECT_EQ(world.out, "");

  CliRun missing = Run({"--credentials", home_.path() + "/nope", "user", "whoami"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, "labmesh: credentials file " + home_.path() + "/nope does not exist\n");

  WriteCredentials("tokn = \"lmt_file\"\n");
  CliRun typo = Run({"user", "whoami"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("unknown key 'tokn'"), std::string::npos) << typo.err;

  EXPECT_TRUE(coordinator_.Requests().empty());
}

TEST_F(AuthCommandsTest, BadServerKeyIsAUsageErrorAndNothingIsSent) {
  ReplyWhoAmI("alice");
  CliRun flag = Run({"--server-key", "short", "user", "whoami"});
  EXPECT_EQ(flag.exit_code, 2);
  EXPECT_EQ(flag.err.rfind("labmesh: server key: ", 0), 0u) << flag.err;
  CliRun env = Run({"user", "whoami"}, {{"LABMESH_SERVER_KEY", std::string(40, ' ')}});
  EXPECT_EQ(env.exit_code, 2);
  EXPECT_TRUE(coordinator_.Requests().empty());
}

// A ROUTER speaking CurveZMQ as the server on tcp://127.0.0.1:*, answering every WhoAmIRequest
// with the user its credentials named.
class CurveWhoAmIServer {
 public:
  explicit CurveWhoAmIServer(zmq::context_t& context)
      : socket_(context, zmq::socket_type::router) {
    char public_key[41], secret_key[41];
    EXPECT_EQ(zmq_curve_keypair(public_key, secret_key), 0);
    public_key_ = public_key;
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::curve_server, 1);
    socket_.set(zmq::sockopt::curve_secretkey, std::string(secret_key));
    socket_.bind("tcp://127.0.0.1:*");
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
    thread_ = std::thread([this] { Run(); });
  }
  ~CurveWhoAmIServer() {
    stop_ = true;
    thread_.join();
  }
  const std::string& endpoint() const { return endpoint_; }
  const std::string& public_key() const { return public_key_; }
  int requests() const { return requests_; }

 private:
  void Run() {
    while (!stop_) {
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(20));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      zmq::message_t identity, payload;
      if (!socket_.recv(identity) || !socket_.recv(payload)) continue;
      ++requests_;
      auto envelope = protocol::DecodeEnvelope(payload.to_string());
      if (!envelope.ok()) continue;
      protocol::WhoAmIReply reply;
      reply.user = envelope->credentials.user;
      socket_.send(identity, zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(protocol::Encode(reply, envelope->request_id)));
    }
  }

  zmq::socket_t socket_;
  std::string endpoint_;
  std::string public_key_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

TEST_F(AuthCommandsTest, ServerKeySpeaksCurveToTheApiSocket) {
  CurveWhoAmIServer server(context_);
  std::map<std::string, std::string> env{{"LABMESH_API", server.endpoint()}};
  CliRun run = Run({"--user", "alice", "--server-key", server.public_key(), "user", "whoami"},
                   env);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.rfind("user    alice\n", 0), 0u) << run.out;

  // The key from the credentials file, as the coordinator writes it in keys/coordinator.pub.
  std::string pub = home_.path() + "/coordinator.pub";
  std::ofstream(pub) << server.public_key() << "\n";
  WriteCredentials("server_key = \"" + pub + "\"\nuser = \"bob\"\n");
  run = Run({"user", "whoami"}, env);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.rfind("user    bob\n", 0), 0u) << run.out;

  // Plain text, or the wrong key, does not get through the handshake: unreachable.
  char other_public[41], other_secret[41];
  ASSERT_EQ(zmq_curve_keypair(other_public, other_secret), 0);
  int before = server.requests();
  run = Run({"--timeout", "300ms", "--server-key", other_public, "user", "whoami"}, env);
  EXPECT_EQ(run.exit_code, 3) << run.err;
  WriteCredentials("user = \"bob\"\n");
  run = Run({"--timeout", "300ms", "user", "whoami"}, env);
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_EQ(server.requests(), before);
}

// ---- refusals ----

TEST_F(AuthCommandsTest, UnauthenticatedSaysHowToGiveCredentials) {
  coordinator_.Fail<protocol::AclListRequest>(Status::Unauthenticated("no token given"));
  CliRun run = Run({"acl", "list"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "labmesh: not authenticated: no token given" +
                         std::string(kNotAuthenticatedHint));
  EXPECT_EQ(run.out, "");
  coordinator_.Fail<protocol::HostHistoryRequest>(Status::Unauthenticated("unknown token"));
  run = Run({"host", "history", "lab-1"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err,
            "labmesh: not authenticated: unknown token" + std::string(kNotAuthenticatedHint));
}

TEST_F(AuthCommandsTest, PermissionDeniedIsExitOneWithTheMessage) {
  coordinator_.Fail<protocol::UserCreateRequest>(
      Status::PermissionDenied("only admins may create users"));
  CliRun run = Run({"user", "create", "carol"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "labmesh: permission denied: only admins may create users\n");
  EXPECT_EQ(run.out, "");
}

TEST_F(AuthCommandsTest, BadFlagsAreUsageErrorsAndNothingIsSent) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"user"},
           {"user", "create"},
           {"user", "delete"},
           {"user", "create", "carol", "--root"},
           {"acl", "create"},
           {"acl", "add", "kernel"},
           {"acl", "remove", "kernel"},
           {"acl", "add", "kernel", "--users", ""},
           {"acl", "remove", "kernel", "--hosts", ","},
           {"audit", "--since", "yesterday"},
           {"audit", "--limit", "0"},
           {"audit", "--limit", "many"},
           {"--timeout", "soon", "acl", "list"}}) {
    CliRun run = Run(args);
    EXPECT_EQ(run.exit_code, 2) << ::testing::PrintToString(args);
    EXPECT_FALSE(run.err.empty()) << ::testing::PrintToString(args);
  }
  EXPECT_TRUE(coordinator_.Requests().empty());
}

// ---- user ----

TEST_F(AuthCommandsTest, UserListSendsTheNameAndPrintsTableOrJson) {
  protocol::UserInfo alice{"alice", true, {"Everyone"}, 1'795'910'400'000, 1, false};
  coordinator_.Reply<protocol::UserListRequest>(protocol::UserListReply{{alice}});
  CliRun run = Run({"user", "list"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "NAME   ADMIN  GROUPS    TOKENS  PASSWORD  CREATED\n"
            "alice  yes    Everyone  1       no        2026-11-29\n");
  EXPECT_EQ(coordinator_.LastRequest<protocol::UserListRequest>()->name, "");
  run = Run({"--json", "user", "list", "alice"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out), nlohmann::json::array({protocol::ToJson(alice)}));
  EXPECT_EQ(coordinator_.LastRequest<protocol::UserListRequest>()->name, "alice");
}

TEST_F(AuthCommandsTest, UserCreatePrintsTheTokenOnce) {
  coordinator_.Reply<protocol::UserCreateRequest>(protocol::UserTokenReply{"carol", "lmt_c4r0l"});
  CliRun run = Run({"user", "create", "carol", "--admin"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.rfind("created user carol\ntoken: lmt_c4r0l\n", 0), 0u) << run.out;
  EXPECT_NE(run.out.find("will not be shown again"), std::string::npos);
  auto request = coordinator_.LastRequest<protocol::UserCreateRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->name, "carol");
  EXPECT_TRUE(request->admin);

  run = Run({"--json", "user", "create", "dave"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out),
            (nlohmann::json{{"name", "carol"}, {"token", "lmt_c4r0l"}}));
  EXPECT_FALSE(coordinator_.LastRequest<protocol::UserCreateRequest>()->admin);
}

TEST_F(AuthCommandsTest, UserDeleteSendsTheNameAndPrintsTheAnswer) {
  coordinator_.Reply<protocol::UserDeleteRequest>(protocol::OkReply{"deleted user carol"});
  CliRun run = Run({"user", "delete", "carol"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "deleted user carol\n");
  EXPECT_EQ(coordinator_.LastRequest<protocol::UserDeleteRequest>()->name, "carol");
  run = Run({"--json", "user", "delete", "carol"});
  EXPECT_EQ(nlohmann::json::parse(run.out),
            (nlohmann::json{{"ok", true}, {"message", "deleted user carol"}}));
}

TEST_F(AuthCommandsTest, UserTokenWithoutANameIsForWhoeverTheCredentialsName) {
  ReplyWhoAmI("alice");
  coordinator_.Reply<protocol::UserTokenRequest>(protocol::UserTokenReply{"alice", "lmt_new"});
  CliRun run = Run({"--token", "lmt_old", "user", "token", "--revoke-others"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.rfind("new token for alice\nevery older token of alice is revoked\n"
                          "token: lmt_new\n",
                          0),
            0u)
      << run.out;
  auto frames = coordinator_.Requests();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(protocol::DecodeAs<protocol::WhoAmIRequest>(frames[0]).ok());
  auto request = protocol::DecodeAs<protocol::UserTokenRequest>(frames[1]);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->name, "alice");
  EXPECT_TRUE(request->revoke_others);
}

TEST_F(AuthCommandsTest, UserTokenForANamedUserAsksNobodyFirst) {
  coordinator_.Reply<protocol::UserTokenRequest>(protocol::UserTokenReply{"bob", "lmt_b0b"});
  CliRun run = Run({"--json", "user", "token", "bob"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out),
            (nlohmann::json{{"name", "bob"}, {"token", "lmt_b0b"}}));
  ASSERT_EQ(coordinator_.Requests().size(), 1u);
  auto request = coordinator_.LastRequest<protocol::UserTokenRequest>();
  EXPECT_EQ(request->name, "bob");
  EXPECT_FALSE(request->revoke_others);
}

TEST_F(AuthCommandsTest, UserPasswdSendsThePasswordReadForTheUser) {
  ReplyWhoAmI("alice");
  coordinator_.Reply<protocol::UserPasswdRequest>(protocol::OkReply{"password set for alice"});
  CliRun run = Run({"user", "passwd"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "password set for alice\n");
  EXPECT_EQ(prompts_, std::vector<std::string>{"New password: "});
  auto request = coordinator_.LastRequest<protocol::UserPasswdRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->name, "alice");
  EXPECT_EQ(request->password, "s3cret pass");

  run = Run({"user", "passwd", "bob"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(prompts_.back(), "New password for bob: ");
  EXPECT_EQ(coordinator_.LastRequest<protocol::UserPasswdRequest>()->name, "bob");
}

TEST_F(AuthCommandsTest, UserPasswdRefusesAnEmptyPasswordUnlessClear) {
  ReplyWhoAmI("alice");
  coordinator_.Reply<protocol::UserPasswdRequest>(protocol::OkReply{"password removed"});
  password_ = "";
  CliRun run = Run({"user", "passwd", "bob"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err,
            "labmesh: user passwd: empty password (use --clear to remove the password)\n");
  EXPECT_TRUE(coordinator_.Requests().empty());

  prompts_.clear();
  run = Run({"user", "passwd", "bob", "--clear"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(prompts_.empty());  // nothing is read
  auto request = coordinator_.LastRequest<protocol::UserPasswdRequest>();
  EXPECT_EQ(request->name, "bob");
  EXPECT_EQ(request->password, "");
}

TEST_F(AuthCommandsTest, UserWhoAmIPrintsUserAdminGroups) {
  ReplyWhoAmI("alice");
  CliRun run = Run({"user", "whoami"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "user    alice\nadmin   yes\ngroups  Everyone,kernel\n");
  EXPECT_TRUE(coordinator_.LastRequest<protocol::WhoAmIRequest>()->with_groups);
  run = Run({"--json", "user", "whoami"});
  EXPECT_EQ(nlohmann::json::parse(run.out),
            (nlohmann::json{
                {"user", "alice"}, {"admin", true}, {"acl_groups", {"Everyone", "kernel"}}}));
}

TEST(ReadPasswordLine, OneLineWithoutItsEnd) {
  std::istringstream crlf("pa ss\r\nnext\n");
  EXPECT_EQ(*ReadPasswordLine(crlf), "pa ss");
  std::istringstream last("no newline");
  EXPECT_EQ(*ReadPasswordLine(last), "no newline");
  std::istringstream empty("");
  EXPECT_EQ(ReadPasswordLine(empty).status().code(), StatusCode::kInvalidArgument);
}

// ---- acl ----

TEST_F(AuthCommandsTest, AclListPrintsTableOrJson) {
  coordinator_.Reply<protocol::AclListRequest>(
      protocol::AclListReply{{Group("Everyone"), Group("kernel")}});
  CliRun run = Run({"acl", "list"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "NAME      DESCRIPTION        USERS      HOSTS\n"
            "Everyone  the Everyone team  alice,bob  lab-1\n"
            "kernel    the kernel team    alice,bob  lab-1\n");
  EXPECT_EQ(coordinator_.LastRequest<protocol::AclListRequest>()->name, "");
  run = Run({"--json", "acl", "list", "kernel"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out),
            nlohmann::json::array({protocol::ToJson(Group("Everyone")),
                                   protocol::ToJson(Group("kernel"))}));
  EXPECT_EQ(coordinator_.LastRequest<protocol::AclListRequest>()->name, "kernel");
}

TEST_F(AuthCommandsTest, AclCreateAndDeleteSendTheGroup) {
  coordinator_.Reply<protocol::AclCreateRequest>(protocol::OkReply{"created group kernel"});
  coordinator_.Reply<protocol::AclDeleteRequest>(protocol::OkReply{"deleted group kernel"});
  CliRun run = Run({"acl", "create", "kernel", "--description", "kernel team"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "created group kernel\n");
  auto create = coordinator_.LastRequest<protocol::AclCreateRequest>();
  EXPECT_EQ(create->name, "kernel");
  EXPECT_EQ(create->description, "kernel team");
  run = Run({"--json", "acl", "delete", "kernel"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out)["message"], "deleted group kernel");
  EXPECT_EQ(coordinator_.LastRequest<protocol::AclDeleteRequest>()->name, "kernel");
}

TEST_F(AuthCommandsTest, AclAddAndRemoveSendMembersAndPrintTheGroup) {
  coordinator_.Reply<protocol::AclMemberRequest>(protocol::AclListReply{{Group("kernel")}});
  CliRun run = Run({"acl", "add", "kernel", "--users", "alice,bob", "--hosts", "lab-1"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "NAME    DESCRIPTION      USERS      HOSTS\n"
            "kernel  the kernel team  alice,bob  lab-1\n");
  auto add = coordinator_.LastRequest<protocol::AclMemberRequest>();
  ASSERT_TRUE(add.ok());
  EXPECT_EQ(add->name, "kernel");
  EXPECT_FALSE(add->remove);
  EXPECT_EQ(add->users, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(add->hosts, std::vector<std::string>{"lab-1"});

  run = Run({"--json", "acl", "remove", "kernel", "--hosts", "lab-1,lab-2"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out), protocol::ToJson(Group("kernel")));
  auto remove = coordinator_.LastRequest<protocol::AclMemberRequest>();
  EXPECT_TRUE(remove->remove);
  EXPECT_TRUE(remove->users.empty());
  EXPECT_EQ(remove->hosts, (std::vector<std::string>{"lab-1", "lab-2"}));
}

TEST_F(AuthCommandsTest, AclAddWithoutMembersSaysWhatToGive) {
  CliRun run = Run({"acl", "add", "kernel"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err, "labmesh: acl add: give --users and/or --hosts\n");
  run = Run({"acl", "remove", "kernel", "--users", ""});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err, "labmesh: acl remove: --users: empty name in the list\n");
  EXPECT_TRUE(coordinator_.Requests().empty());
}

// ---- audit ----

TEST_F(AuthCommandsTest, AuditSendsFiltersAndPrintsTableOrJson) {
  protocol::AuditRecord record{7, 1'795'946'400'000, "alice", "JobAbortRequest",
                               "{\"job_id\":7}", "tcp://10.0.0.5:41234", false,
                               "PermissionDenied: not your job"};
  coordinator_.Reply<protocol::AuditListRequest>(protocol::AuditListReply{{record}});
  CliRun run = Run({"audit", "--user", "alice", "--since", "2026-11-29T10:00:00Z",
                    "--limit", "5"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "TIME                  USER   FROM                  ACTION           RESULT        "
            "                  TARGET\n"
            "2026-11-29T10:00:00Z  alice  tcp://10.0.0.5:41234  JobAbortRequest  "
            "PermissionDenied: not your job  {\"job_id\":7}\n");
  auto request = coordinator_.LastRequest<protocol::AuditListRequest>();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->user, "alice");
  EXPECT_EQ(request->since_ms, 1'795'946'400'000);
  EXPECT_EQ(request->limit, 5u);

  // The global --user is who runs the command; audit's own --user filters.
  int64_t before = NowMs();
  run = Run({"--user", "bob", "--json", "audit", "--since", "2h"});
  int64_t after = NowMs();
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out), nlohmann::json::array({protocol::ToJson(record)}));
  request = coordinator_.LastRequest<protocol::AuditListRequest>();
  EXPECT_EQ(request->user, "");
  EXPECT_EQ(LastCredentials().user, "bob");
  EXPECT_GE(request->since_ms, before - 2 * 3'600'000);
  EXPECT_LE(request->since_ms, after - 2 * 3'600'000);
  EXPECT_EQ(request->limit, 0u);  // the coordinator's default
}

TEST_F(AuthCommandsTest, AuditWithABadSinceSaysWhatIsAccepted) {
  CliRun run = Run({"audit", "--since", "last week"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err.rfind("labmesh: audit: bad --since 'last week' (how long ago", 0), 0u)
      << run.err;
  EXPECT_TRUE(coordinator_.Requests().empty());
}

}  // namespace
}  // namespace labmesh::cli
