// Where `labmesh` finds its endpoint, user, token and server key (docs/security-cli.md): the
// credentials file's format and mode rule, the default path, and the order flag > environment >
// file. The environment is a map here; files live in a temp directory.

#include "labmesh/cli/credentials.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "cli_run.hpp"
#include "process.hpp"

namespace labmesh::cli {
namespace {

using testing::FakeEnvironment;

// 40 Z85 characters, with a '#' (a comment character for CLI11 by default) in the middle.
constexpr char kKeyWithHash[] = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf#";
constexpr char kOtherKey[] = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";

void WriteFile(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

Result<CredentialsFile> Parse(const std::string& text) {
  std::istringstream in(text);
  return ParseCredentialsFile(in, "creds");
}

TEST(ParseCredentialsFile, ReadsQuotedAndBareValuesAndSkipsComments) {
  auto file = Parse(
      "# labmesh credentials\n"
      "; also a comment\n"
      "user = \"alice\"\n"
      "token = lmt_abc123\n"
      "api = \"tcp://lab-master:7711\"  ; where the coordinator is\n"
      "server_key = \"" + std::string(kKeyWithHash) + "\"\n");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->user, "alice");
  EXPECT_EQ(file->token, "lmt_abc123");
  EXPECT_EQ(file->api, "tcp://lab-master:7711");
  // A '#' inside a Z85 key is part of the key, not a comment.
  EXPECT_EQ(file->server_key, kKeyWithHash);
}

TEST(ParseCredentialsFile, AcceptsServerKeyWithADash) {
  auto file = Parse("server-key = '" + std::string(kOtherKey) + "'\n");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->server_key, kOtherKey);
}

TEST(ParseCredentialsFile, EmptyFileHoldsNothing) {
  auto file = Parse("");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->user, "");
  EXPECT_EQ(file->token, "");
}

TEST(ParseCredentialsFile, RefusesUnknownKeysSectionsAndLists) {
  auto typo = Parse("user = \"alice\"\ntokne = \"lmt_x\"\n");
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(typo.status().message().find("unknown key 'tokne'"), std::string::npos)
      << typo.status().message();
  EXPECT_NE(typo.status().message().find("creds"), std::string::npos);

  auto section = Parse("[lab2]\ntoken = \"lmt_x\"\n");
  ASSERT_FALSE(section.ok());
  EXPECT_NE(section.status().message().find("'lab2.token'"), std::string::npos)
      << section.status().message();

  auto list = Parse("token = [\"a\", \"b\"]\n");
  ASSERT_FALSE(list.ok());
  EXPECT_NE(list.status().message().find("'token' must be one quoted value"), std::string::npos)
      << list.status().message();
}

TEST(ReadCredentialsFile, MissingFileIsNotFound) {
  labmesh::testing::TempDir dir;
  auto file = ReadCredentialsFile(dir.path() + "/nope");
  EXPECT_EQ(file.status().code(), StatusCode::kNotFound);
}

TEST(ReadCredentialsFile, DirectoryIsRefused) {
  labmesh::testing::TempDir dir;
  auto file = ReadCredentialsFile(dir.path());
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(file.status().message().find("not a regular file"), std::string::npos);
}

TEST(ReadCredentialsFile, TokenInAFileOthersCanReadIsRefusedLikeSsh) {
  labmesh::testing::TempDir dir;
  std::string path = dir.path() + "/credentials";
  WriteFile(path, "user = \"alice\"\ntoken = \"lmt_secret\"\n", 0644);
  auto world = ReadCredentialsFile(path);
  ASSERT_FALSE(world.ok());
  EXPECT_EQ(world.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(world.status().message(), "credentials file " + path +
                                          " holds a token but is readable by others (mode "
                                          "0644); run: chmod 600 " + path);

  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  auto group = ReadCredentialsFile(path);
  ASSERT_FALSE(group.ok());
  EXPECT_NE(group.status().message().find("readable by its group (mode 0640)"),
            std::string::npos)
      << group.status().message();

  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  auto own = ReadCredentialsFile(path);
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  EXPECT_EQ(own->token, "lmt_secret");
}

TEST(ReadCredentialsFile, FileWithoutATokenMayBeReadableByOthers) {
  labmesh::testing::TempDir dir;
  std::string path = dir.path() + "/credentials";
  WriteFile(path, "api = \"tcp://lab-master:7711\"\nuser = \"alice\"\n", 0644);
  auto file = ReadCredentialsFile(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->api, "tcp://lab-master:7711");
}

TEST(DefaultCredentialsPath, XdgConfigHomeThenHome) {
  EXPECT_EQ(DefaultCredentialsPath(FakeEnvironment({{"HOME", "/home/alice"}})),
            "/home/alice/.config/labmesh/credentials");
  EXPECT_EQ(DefaultCredentialsPath(
                FakeEnvironment({{"HOME", "/home/alice"}, {"XDG_CONFIG_HOME", "/cfg"}})),
            "/cfg/labmesh/credentials");
  // The XDG spec: a relative $XDG_CONFIG_HOME is ignored.
  EXPECT_EQ(DefaultCredentialsPath(
                FakeEnvironment({{"HOME", "/home/alice"}, {"XDG_CONFIG_HOME", "rel/cfg"}})),
            "/home/alice/.config/labmesh/credentials");
  EXPECT_EQ(DefaultCredentialsPath(FakeEnvironment({})), "");
}

class ResolveConnectionTest : public ::testing::Test {
 protected:
  // Writes HOME/.config/labmesh/credentials (mode 0600).
  void WriteDefaultFile(const std::string& text) {
    std::string dir = home_.path() + "/.config/labmesh";
    std::filesystem::create_directories(dir);
    WriteFile(dir + "/credentials", text, 0600);
  }
  std::map<std::string, std::string> Env(std::map<std::string, std::string> more = {}) {
    more.emplace("HOME", home_.path());
    return more;
  }

  labmesh::testing::TempDir home_;
};

TEST_F(ResolveConnectionTest, NothingAnywhereIsTheDefaultEndpointWithoutCredentials) {
  auto c = ResolveConnection({}, FakeEnvironment(Env()));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->api, "tcp://127.0.0.1:7711");
  EXPECT_TRUE(c->credentials.empty());
  EXPECT_EQ(c->server_key, "");
  EXPECT_EQ(c->credentials_file, "");
}

TEST_F(ResolveConnectionTest, FlagBeatsEnvironmentBeatsFile) {
  WriteDefaultFile("user = \"file-user\"\ntoken = \"file-token\"\napi = \"tcp://file:1\"\n"
                   "server_key = \"" + std::string(kKeyWithHash) + "\"\n");
  auto file_only = ResolveConnection({}, FakeEnvironment(Env()));
  ASSERT_TRUE(file_only.ok()) << file_only.status().ToString();
  EXPECT_EQ(file_only->api, "tcp://file:1");
  EXPECT_EQ(file_only->credentials.user, "file-user");
  EXPECT_EQ(file_only->credentials.token, "file-token");
  EXPECT_EQ(file_only->server_key, kKeyWithHash);
  EXPECT_EQ(file_only->credentials_file, home_.path() + "/.config/labmesh/credentials");

  auto env = FakeEnvironment(Env({{"LABMESH_USER", "env-user"},
                                  {"LABMESH_TOKEN", "env-token"},
                                  {"LABMESH_API", "tcp://env:1"},
                                  {"LABMESH_SERVER_KEY", kOtherKey}}));
  auto from_env = ResolveConnection({}, env);
  ASSERT_TRUE(from_env.ok()) << from_env.status().ToString();
  EXPECT_EQ(from_env->api, "tcp://env:1");
  EXPECT_EQ(from_env->credentials.user, "env-user");
  EXPECT_EQ(from_env->credentials.token, "env-token");
  EXPECT_EQ(from_env->server_key, kOtherKey);

  ConnectionFlags flags{"tcp://flag:1", "flag-user", "flag-token", "", kKeyWithHash};
  auto from_flags = ResolveConnection(flags, env);
  ASSERT_TRUE(from_flags.ok()) << from_flags.status().ToString();
  EXPECT_EQ(from_flags->api, "tcp://flag:1");
  EXPECT_EQ(from_flags->credentials.user, "flag-user");
  EXPECT_EQ(from_flags->credentials.token, "flag-token");
  EXPECT_EQ(from_flags->server_key, kKeyWithHash);
}

TEST_F(ResolveConnectionTest, FileUserIsNotPairedWithATokenFromElsewhere) {
  WriteDefaultFile("user = \"alice\"\ntoken = \"alice-token\"\n");
  // A token from the environment names its own user: alice's name must not go with it.
  auto c = ResolveConnection({}, FakeEnvironment(Env({{"LABMESH_TOKEN", "bob-token"}})));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->credentials.token, "bob-token");
  EXPECT_EQ(c->credentials.user, "");
  // A user from a flag with the file's token: both are sent (the coordinator checks they match).
  ConnectionFlags flags;
  flags.user = "alice";
  auto d = ResolveConnection(flags, FakeEnvironment(Env()));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->credentials.user, "alice");
  EXPECT_EQ(d->credentials.token, "alice-token");
}

TEST_F(ResolveConnectionTest, XdgConfigHomeIsWhereTheDefaultFileIs) {
  labmesh::testing::TempDir xdg;
  std::filesystem::create_directories(xdg.path() + "/labmesh");
  WriteFile(xdg.path() + "/labmesh/credentials", "token = \"xdg-token\"\n", 0600);
  WriteDefaultFile("token = \"home-token\"\n");
  auto c = ResolveConnection({}, FakeEnvironment(Env({{"XDG_CONFIG_HOME", xdg.path()}})));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->credentials.token, "xdg-token");
}

TEST_F(ResolveConnectionTest, NamedFileWinsAndMustExist) {
  WriteDefaultFile("token = \"home-token\"\n");
  std::string named = home_.path() + "/other";
  WriteFile(named, "token = \"named-token\"\n", 0600);
  auto env_named = ResolveConnection({}, FakeEnvironment(Env({{"LABMESH_CREDENTIALS", named}})));
  ASSERT_TRUE(env_named.ok()) << env_named.status().ToString();
  EXPECT_EQ(env_named->credentials.token, "named-token");

  ConnectionFlags flags;
  flags.credentials_file = home_.path() + "/missing";
  auto missing =
      ResolveConnection(flags, FakeEnvironment(Env({{"LABMESH_CREDENTIALS", named}})));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.status().message(),
            "credentials file " + home_.path() + "/missing does not exist");
}

TEST_F(ResolveConnectionTest, NoneReadsNoFile) {
  WriteDefaultFile("token = \"home-token\"\napi = \"tcp://file:1\"\n");
  ConnectionFlags flags;
  flags.credentials_file = "none";
  auto c = ResolveConnection(flags, FakeEnvironment(Env()));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->credentials.empty());
  EXPECT_EQ(c->api, "tcp://127.0.0.1:7711");
  EXPECT_EQ(c->credentials_file, "");
  auto e = ResolveConnection({}, FakeEnvironment(Env({{"LABMESH_CREDENTIALS", "none"}})));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(e->credentials.empty());
}

TEST_F(ResolveConnectionTest, WorldReadableDefaultFileWithATokenIsAnError) {
  WriteDefaultFile("token = \"home-token\"\n");
  ASSERT_EQ(::chmod((home_.path() + "/.config/labmesh/credentials").c_str(), 0604), 0);
  auto c = ResolveConnection({}, FakeEnvironment(Env()));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("chmod 600"), std::string::npos);
}

TEST_F(ResolveConnectionTest, ServerKeyIsAZ85KeyOrAFileHoldingOne) {
  ConnectionFlags flags;
  flags.server_key = "not-a-key";
  auto bad = ResolveConnection(flags, FakeEnvironment(Env()));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("server key: "), std::string::npos);

  // 39 characters: one short.
  flags.server_key = std::string(kOtherKey).substr(0, 39);
  EXPECT_FALSE(ResolveConnection(flags, FakeEnvironment(Env())).ok());

  // DATA_DIR/keys/coordinator.pub as the coordinator writes it.
  std::string pub = home_.path() + "/coordinator.pub";
  WriteFile(pub, std::string(kOtherKey) + "\n", 0644);
  flags.server_key = pub;
  auto from_file = ResolveConnection(flags, FakeEnvironment(Env()));
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  EXPECT_EQ(from_file->server_key, kOtherKey);
}

}  // namespace
}  // namespace labmesh::cli
