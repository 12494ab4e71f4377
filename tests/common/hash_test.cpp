// Content hashes: known answers (so packages hashed here match what sha256sum prints) and
// files hashed in pieces giving the same digest as the whole.

#include "labmesh/common/hash.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "process.hpp"

namespace labmesh {
namespace {

TEST(HashTest, Sha256MatchesTheStandardTestVector) {
  Sha256Hasher hasher;
  hasher.Update("ab");
  hasher.Update("c");
  EXPECT_EQ(hasher.Hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HashTest, FilesHashInPiecesLikeTheWhole) {
  labmesh::testing::TempDir tmp;
  std::string path = tmp.path() + "/f";
  std::string data(3 << 20, 'x');  // three read pieces
  std::ofstream(path) << data;
  auto sha = HashFile(path, HashKind::kSha256);
  ASSERT_TRUE(sha.ok()) << sha.status().ToString();
  Sha256Hasher whole;
  whole.Update(data);
  EXPECT_EQ(sha->hex, whole.Hex());
  EXPECT_EQ(sha->size, data.size());
  auto blake = HashFile(path);
  ASSERT_TRUE(blake.ok());
  EXPECT_EQ(blake->hex, Blake2bHex(data));
}

TEST(HashTest, HexDigestIsExactly64LowerHexDigits) {
  EXPECT_TRUE(IsHexDigest(std::string(64, 'a')));
  EXPECT_FALSE(IsHexDigest(std::string(64, 'A')));
  EXPECT_FALSE(IsHexDigest(std::string(63, 'a')));
  EXPECT_FALSE(IsHexDigest(std::string(63, 'a') + "/"));
}

}  // namespace
}  // namespace labmesh
