// `labmesh-coordinator keys export/import` (keys_command.hpp): the lab's one key pair moved from
// one coordinator's data directory to another's, and every way it can be refused.
#include "keys_command.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "labmesh/common/curve_keys.hpp"
#include "process.hpp"

namespace labmesh::coordinator {
namespace {

using testing::ReadFile;
using testing::TempDir;

TEST(KeysCommand, ExportThenImportInstallsTheSamePair) {
  TempDir a, b, out;
  auto pair = LoadOrCreateCurveKeys(a.path() + "/keys", "coordinator");
  ASSERT_TRUE(pair.ok());
  const std::string file = out.path() + "/lab.keys";
  ASSERT_TRUE(ExportCoordinatorKeys(a.path(), file).ok());
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(ReadFile(file).find("secret_key=" + pair->secret_z85), std::string::npos);

  // Never overwritten.
  Status again = ExportCoordinatorKeys(a.path(), file);
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition) << again.ToString();

  ASSERT_TRUE(ImportCoordinatorKeys(b.path(), file, false).ok());
  auto installed = LoadCurveKeys(b.path() + "/keys", "coordinator");
  ASSERT_TRUE(installed.ok());
  EXPECT_EQ(installed->public_z85, pair->public_z85);
  EXPECT_EQ(installed->secret_z85, pair->secret_z85);
  EXPECT_TRUE(ImportCoordinatorKeys(b.path(), file, false).ok());  // the same pair: no change
}

TEST(KeysCommand, AnotherPairIsReplacedOnlyWhenAskedTo) {
  TempDir a, c, out;
  ASSERT_TRUE(LoadOrCreateCurveKeys(a.path() + "/keys", "coordinator").ok());
  auto own = LoadOrCreateCurveKeys(c.path() + "/keys", "coordinator");
  ASSERT_TRUE(own.ok());
  const std::string file = out.path() + "/lab.keys";
  ASSERT_TRUE(ExportCoordinatorKeys(a.path(), file).ok());

  Status refused = ImportCoordinatorKeys(c.path(), file, false);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << refused.ToString();
  EXPECT_EQ(LoadCurveKeys(c.path() + "/keys", "coordinator")->public_z85, own->public_z85);

  ASSERT_TRUE(ImportCoordinatorKeys(c.path(), file, true).ok());
  EXPECT_EQ(LoadCurveKeys(c.path() + "/keys", "coordinator")->public_z85,
            LoadCurveKeys(a.path() + "/keys", "coordinator")->public_z85);
}

TEST(KeysCommand, FilesThatAreNotAPairChangeNothing) {
  TempDir a, b, target, out;
  auto one = LoadOrCreateCurveKeys(a.path() + "/keys", "coordinator");
  auto two = LoadOrCreateCurveKeys(b.path() + "/keys", "coordinator");
  ASSERT_TRUE(one.ok() && two.ok());
  const std::vector<std::pair<std::string, std::string>> files = {
      {"mixed", "public_key=" + one->public_z85 + "\nsecret_key=" + two->secret_z85 + "\n"},
      {"short", "public_key=" + one->public_z85 + "\n"},
      {"junk", "hello\n"},
      {"empty", ""},
      {"bad-z85", "public_key=" + std::string(40, '~') + "\nsecret_key=" + two->secret_z85 + "\n"},
  };
  for (const auto& [name, text] : files) {
    const std::string file = out.path() + "/" + name;
    std::ofstream(file) << text;
    Status status = ImportCoordinatorKeys(target.path(), file, true);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << name << ": " << status.ToString();
    EXPECT_EQ(LoadCurveKeys(target.path() + "/keys", "coordinator").status().code(),
              StatusCode::kNotFound)
        << name;
  }
  EXPECT_EQ(ImportCoordinatorKeys(target.path(), out.path() + "/absent", false).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ExportCoordinatorKeys(target.path(), out.path() + "/x").code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace labmesh::coordinator
