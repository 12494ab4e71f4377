// Curve key files: created once with the secret readable only by its owner, reloaded unchanged,
// and refused when half a pair or garbage is on disk; keys given on a command line are checked.

#include "labmesh/common/curve_keys.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace labmesh {
namespace {

constexpr const char* kValidKey = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";

using labmesh::testing::TempDir;

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

void WriteText(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(IsZ85Key, AcceptsFortyZ85Characters) {
  EXPECT_TRUE(IsZ85Key(kValidKey));
  EXPECT_TRUE(IsZ85Key(std::string(40, '0')));
  EXPECT_TRUE(IsZ85Key(".-:+=^!/*?&<>()[]{}@%$#abcdefghijABCDEFG"));
}

TEST(IsZ85Key, RejectsWrongLengthOrCharacters) {
  std::string key = kValidKey;
  EXPECT_FALSE(IsZ85Key(""));
  EXPECT_FALSE(IsZ85Key(key.substr(0, 39)));
  EXPECT_FALSE(IsZ85Key(key + "0"));
  for (char bad : {' ', '"', '\'', ',', ';', '\\', '_', '`', '|', '~', '\n', '\0'}) {
    std::string with_bad = key;
    with_bad[17] = bad;
    EXPECT_FALSE(IsZ85Key(with_bad)) << "character " << static_cast<int>(bad);
  }
}

TEST(LoadOrCreateCurveKeys, CreatesAPairThenReloadsTheSamePair) {
  TempDir tmp;
  std::string dir = tmp.path() + "/keys";
  auto created = LoadOrCreateCurveKeys(dir, "agent");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(IsZ85Key(created->public_z85));
  EXPECT_TRUE(IsZ85Key(created->secret_z85));
  EXPECT_NE(created->public_z85, created->secret_z85);

  auto reloaded = LoadOrCreateCurveKeys(dir, "agent");
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  EXPECT_EQ(reloaded->public_z85, created->public_z85);
  EXPECT_EQ(reloaded->secret_z85, created->secret_z85);

  // The public key file is the one line other processes read (coordinator.pub in DATA_DIR/keys).
  std::ifstream pub(dir + "/agent.pub");
  std::string line;
  std::getline(pub, line);
  EXPECT_EQ(line, created->public_z85);
}

TEST(LoadOrCreateCurveKeys, SecretIsReadableOnlyByItsOwner) {
  TempDir tmp;
  std::string dir = tmp.path() + "/keys";
  ASSERT_TRUE(LoadOrCreateCurveKeys(dir, "coordinator").ok());
  EXPECT_EQ(ModeOf(dir + "/coordinator.key"), 0600u);
  EXPECT_EQ(ModeOf(dir + "/coordinator.pub"), 0644u);
  EXPECT_EQ(ModeOf(dir), 0700u);
}

TEST(LoadOrCreateCurveKeys, DifferentDirectoriesGetDifferentPairs) {
  TempDir a, b;
  auto first = LoadOrCreateCurveKeys(a.path(), "agent");
  auto second = LoadOrCreateCurveKeys(b.path(), "agent");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first->public_z85, second->public_z85);
}

TEST(LoadOrCreateCurveKeys, HalfAPairIsAFailedPrecondition) {
  TempDir tmp;
  WriteText(tmp.path() + "/agent.pub", std::string(kValidKey) + "\n");
  auto keys = LoadOrCreateCurveKeys(tmp.path(), "agent");
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.status().code(), StatusCode::kFailedPrecondition);
}

TEST(LoadOrCreateCurveKeys, GarbageKeyFilesAreCorruption) {
  TempDir tmp;
  WriteText(tmp.path() + "/agent.pub", std::string(kValidKey) + "\n");
  WriteText(tmp.path() + "/agent.key", "not a key\n");
  auto keys = LoadOrCreateCurveKeys(tmp.path(), "agent");
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.status().code(), StatusCode::kCorruption);
}

TEST(ResolveCurveKey, TakesTheKeyItselfOrAFileHoldingIt) {
  auto direct = ResolveCurveKey(kValidKey);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(*direct, kValidKey);

  TempDir tmp;
  std::string file = tmp.path() + "/keys-coordinator.pub";
  WriteText(file, std::string(kValidKey) + "\r\n");
  auto from_file = ResolveCurveKey(file);
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  EXPECT_EQ(*from_file, kValidKey);
}

// A path of exactly 40 characters, all of them in the Z85 alphabet (letters, digits, '/', '.',
// '-' ...), looks like a key, e.g. "/tmp/labmesh-keys-O6mXOb/coordinator.pub": an existing
// file wins.
TEST(ResolveCurveKey, FortyCharacterPathIsReadAsAFile) {
  TempDir tmp;
  std::string file = tmp.path() + "/";
  if (file.size() + 5 > 40) GTEST_SKIP() << "temporary directory path too long";
  file += std::string(40 - file.size() - 4, 'k') + ".pub";
  ASSERT_EQ(file.size(), 40u);
  ASSERT_TRUE(IsZ85Key(file));
  WriteText(file, std::string(kValidKey) + "\n");
  auto key = ResolveCurveKey(file);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, kValidKey);
}

TEST(ResolveCurveKey, RejectsMissingFilesAndFilesWithoutAKey) {
  TempDir tmp;
  EXPECT_EQ(ResolveCurveKey(tmp.path() + "/missing.pub").status().code(),
            StatusCode::kInvalidArgument);
  std::string file = tmp.path() + "/bad.pub";
  WriteText(file, "hello\n");
  EXPECT_EQ(ResolveCurveKey(file).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace labmesh
