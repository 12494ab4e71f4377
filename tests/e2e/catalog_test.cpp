// End to end: the test catalog through the real `labmesh` client and coordinator (CLI.md
// `test add / list / show`): control text round-trips byte for byte, bad input is refused with
// exit 1 and changes nothing, an unreadable control file is a usage error (exit 2) that sends
// nothing, and the catalog is in the store, so it survives a coordinator restart.

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

#include "cluster.hpp"

namespace labmesh::testing {
namespace {

// Quotes of both kinds, a backslash, a tab, CRLF, non-ASCII UTF-8 (é, €, an emoji) and no final
// newline: everything a shell script may hold that a careless path would mangle.
const std::string kTrickyControl =
    "#!/bin/sh\n"
    "# h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\n"
    "echo \"double \\\"quoted\\\"\" 'single' `backtick` $HOME\t\\n\r\n"
    "printf '%s\\n' \"caf\xc3\xa9\"\n"
    "exit 0";

class Catalog : public ::testing::Test {
 protected:
  void SetUp() override { cluster_.StartCoordinator(); }

  // Writes `bytes` to a file under the cluster's temporary root; returns its path.
  std::string WriteFile(const std::string& name, const std::string& bytes) {
    std::string path = cluster_.root() + "/" + name;
    std::ofstream out(path, std::ios::binary);
    out << bytes;
    out.close();
    EXPECT_TRUE(out.good()) << path;
    return path;
  }

  // `labmesh --json test list`, parsed.
  nlohmann::json List() {
    auto list = cluster_.Cli({"--json", "test", "list"});
    EXPECT_EQ(list.exit_code, 0) << list.err;
    return list.exit_code == 0 ? nlohmann::json::parse(list.out) : nlohmann::json::array();
  }

  // `labmesh --json test show NAME`, parsed; null when it failed.
  nlohmann::json Show(const std::string& name) {
    auto show = cluster_.Cli({"--json", "test", "show", name});
    return show.exit_code == 0 ? nlohmann::json::parse(show.out) : nlohmann::json();
  }

  // Everything a client can see of the catalog: equal before and after means nothing changed.
  std::string Everything() {
    std::string out = List().dump();
    for (const auto& t : List()) out += Show(t["name"].get<std::string>()).dump();
    return out;
  }

  E2eCluster cluster_;
};

TEST_F(Catalog, AddListAndShowKeepTheControlByteForByte) {
  std::string path = WriteFile("boot.sh", kTrickyControl);
  auto add = cluster_.Cli({"--user", "alice", "test", "add", "kernel.boot", "--control", path,
                           "--description", "boots the kernel"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_NE(add.out.find("kernel.boot added"), std::string::npos) << add.out;
  ASSERT_EQ(cluster_.Cli({"test", "add", "net:iperf", "--control", WriteFile("i.sh", "iperf3\n")})
                .exit_code,
            0);

  // The table for people.
  auto table = cluster_.Cli({"test", "list"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.out.rfind("NAME", 0), 0u) << table.out;
  for (const char* column : {"DESCRIPTION", "BYTES", "CREATED BY"}) {
    EXPECT_NE(table.out.find(column), std::string::npos) << column;
  }
  EXPECT_NE(table.out.find("kernel.boot"), std::string::npos);
  EXPECT_NE(table.out.find("boots the kernel"), std::string::npos);
  EXPECT_NE(table.out.find(std::to_string(kTrickyControl.size())), std::string::npos);
  EXPECT_NE(table.out.find("alice"), std::string::npos);

  // The JSON array: every test, sorted, without the control text but with its size.
  nlohmann::json tests = List();
  ASSERT_TRUE(tests.is_array());
  ASSERT_EQ(tests.size(), 2u);
  EXPECT_EQ(tests[0]["name"], "kernel.boot");
  EXPECT_EQ(tests[1]["name"], "net:iperf");
  EXPECT_FALSE(tests[0].contains("control"));
  EXPECT_EQ(tests[0]["control_bytes"], kTrickyControl.size());
  EXPECT_EQ(tests[0]["created_by"], "alice");
  EXPECT_EQ(tests[0]["description"], "boots the kernel");
  auto filtered = cluster_.Cli({"--json", "test", "list", "--prefix", "net:"});
  ASSERT_EQ(filtered.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(filtered.out).size(), 1u);

  // show --json: one object whose control is the file's bytes exactly.
  nlohmann::json shown = Show("kernel.boot");
  ASSERT_TRUE(shown.is_object());
  EXPECT_EQ(shown["name"], "kernel.boot");
  EXPECT_EQ(shown["control"].get<std::string>(), kTrickyControl);
  EXPECT_EQ(shown["control_bytes"], kTrickyControl.size());
  EXPECT_EQ(shown["created_by"], "alice");
  EXPECT_FALSE(shown["created"].get<std::string>().empty());

  // show as text: the fields, then the control as it is.
  auto text = cluster_.Cli({"test", "show", "kernel.boot"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("boots the kernel"), std::string::npos);
  EXPECT_NE(text.out.find("control:\n" + kTrickyControl + "\n"), std::string::npos) << text.out;

  auto missing = cluster_.Cli({"test", "show", "nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("not found"), std::string::npos) << missing.err;
}

TEST_F(Catalog, AddingAnExistingNameReplacesItAndKeepsItsCreation) {
  ASSERT_EQ(cluster_.Cli({"--user", "alice", "test", "add", "t1", "--control",
                          WriteFile("a.sh", "exit 0\n"), "--description", "first"})
                .exit_code,
            0);
  nlohmann::json first = Show("t1");
  auto again = cluster_.Cli({"--user", "bob", "test", "add", "t1", "--control",
                             WriteFile("b.sh", "exit 1\n"), "--description", "second"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("t1 replaced"), std::string::npos) << again.out;
  nlohmann::json second = Show("t1");
  EXPECT_EQ(second["control"], "exit 1\n");
  EXPECT_EQ(second["description"], "second");
  EXPECT_EQ(second["created_by"], "alice");
  EXPECT_EQ(second["created_ms"], first["created_ms"]);
  EXPECT_EQ(second["updated_by"], "bob");
  EXPECT_GE(second["updated_ms"].get<int64_t>(), first["updated_ms"].get<int64_t>());
  EXPECT_EQ(List().size(), 1u);
}

TEST_F(Catalog, BadNamesAndControlsAreRefusedWithExitOneAndChangeNothing) {
  ASSERT_EQ(cluster_.Cli({"test", "add", "kept", "--control", WriteFile("k.sh", "exit 0\n"),
                          "--description", "stays"})
                .exit_code,
            0);
  const std::string before = Everything();
  std::string good = WriteFile("good.sh", "exit 0\n");
  std::string empty = WriteFile("empty.sh", "");
  std::string oversized = WriteFile("big.sh", std::string(1024 * 1024 + 1, '#'));
  std::string binary = WriteFile("bin.sh", std::string("\x7f" "ELF\x00\xff\xfe", 7));
  struct Case {
    const char* what;
    std::vector<std::string> args;
  };
  const Case cases[] = {
      {"space in name", {"test", "add", "bad name", "--control", good}},
      {"slash in name", {"test", "add", "a/b", "--control", good}},
      {"65-character name", {"test", "add", std::string(65, 'n'), "--control", good}},
      {"non-ASCII name", {"test", "add", "t\xc3\xa9st", "--control", good}},
      {"empty control", {"test", "add", "new", "--control", empty}},
      {"empty control replacing", {"test", "add", "kept", "--control", empty}},
      {"control over 1 MiB", {"test", "add", "new", "--control", oversized}},
      {"binary control", {"test", "add", "kept", "--control", binary}},
      {"description over 4 KiB",
       {"test", "add", "kept", "--control", good, "--description", std::string(4097, 'd')}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto result = cluster_.Cli(c.args);
    EXPECT_EQ(result.exit_code, 1) << result.err;
    EXPECT_FALSE(result.err.empty());
  }
  EXPECT_EQ(Everything(), before);
  EXPECT_EQ(Show("kept")["description"], "stays");
}

TEST_F(Catalog, AnUnreadableControlFileIsAUsageErrorAndSendsNothing) {
  const std::string before = Everything();
  auto missing = cluster_.Cli({"test", "add", "t1", "--control", cluster_.root() + "/nope.sh"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nope.sh"), std::string::npos) << missing.err;
  auto directory = cluster_.Cli({"test", "add", "t1", "--control", cluster_.root()});
  EXPECT_EQ(directory.exit_code, 2);
  EXPECT_NE(directory.err.find("not a regular file"), std::string::npos) << directory.err;
  EXPECT_EQ(cluster_.Cli({"test", "add", "t1"}).exit_code, 2);  // --control is required
  EXPECT_EQ(cluster_.Cli({"test", "show"}).exit_code, 2);       // NAME missing
  EXPECT_EQ(Everything(), before);

  // Nothing is sent: against an address where no coordinator listens the answer is still the
  // usage error (2), not "unreachable" (3).
  std::string api = cluster_.api_endpoint();
  cluster_.StopCoordinator(SIGTERM);
  auto offline = RunCommand({CliBinary(), "--api", api, "--timeout", "30s", "test", "add", "t1",
                             "--control", cluster_.root() + "/nope.sh"});
  EXPECT_EQ(offline.exit_code, 2) << offline.err;
}

TEST_F(Catalog, TheCatalogSurvivesACoordinatorRestart) {
  ASSERT_EQ(cluster_.Cli({"--user", "alice", "test", "add", "kernel.boot", "--control",
                          WriteFile("boot.sh", kTrickyControl), "--description", "boots"})
                .exit_code,
            0);
  nlohmann::json before = Show("kernel.boot");
  ASSERT_TRUE(before.is_object());
  ASSERT_EQ(cluster_.StopCoordinator(SIGTERM), std::optional<int>(0));
  cluster_.StartCoordinator();
  nlohmann::json after = Show("kernel.boot");
  EXPECT_EQ(after, before);
  EXPECT_EQ(after["control"].get<std::string>(), kTrickyControl);
  EXPECT_EQ(List().size(), 1u);
}

}  // namespace
}  // namespace labmesh::testing
