// The labmesh-test helper binary: `run` records START/GOOD|FAIL/END in status.log, tees the
// command's output to RESULTS/NAME/output.log and its stdout, and exits with the command's
// status; `keyval` appends KEY=VALUE lines; usage errors exit 2.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "process.hpp"

namespace labmesh::testing {
namespace {

namespace fs = std::filesystem;

CommandResult Helper(const TempDir& tmp, std::vector<std::string> args) {
  args.insert(args.begin(), LABMESH_TEST_BIN);
  return RunCommand(args, std::chrono::seconds(30), {{"LABMESH_RESULTS_DIR", tmp.path()}});
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(LabmeshTest, RunRecordsAGoodTest) {
  TempDir tmp;
  CommandResult r = Helper(tmp, {"run", "unit.one", "--", "sh", "-c", "echo out; echo err >&2; pwd"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string expected = "out\nerr\n" + tmp.path() + "/unit.one\n";
  EXPECT_EQ(r.out, expected);  // what the agent's control.log stream sees
  EXPECT_EQ(ReadFile(tmp.path() + "/unit.one/output.log"), expected);
  std::vector<std::string> lines = Lines(ReadFile(tmp.path() + "/status.log"));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("START\t----\tunit.one\ttimestamp=", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("\tlocaltime="), std::string::npos);
  EXPECT_EQ(lines[1].rfind("\tGOOD\t----\tunit.one\ttimestamp=", 0), 0u) << lines[1];
  EXPECT_NE(lines[1].find("\tcompleted successfully"), std::string::npos);
  EXPECT_EQ(lines[2].rfind("END GOOD\t----\tunit.one\ttimestamp=", 0), 0u) << lines[2];
}

TEST(LabmeshTest, RunRecordsFailuresAndPassesTheExitStatusOn) {
  TempDir tmp;
  EXPECT_EQ(Helper(tmp, {"run", "exits", "--", "sh", "-c", "exit 3"}).exit_code, 3);
  EXPECT_EQ(Helper(tmp, {"run", "killed", "--", "sh", "-c", "kill -9 $$"}).exit_code, 128 + 9);
  EXPECT_EQ(Helper(tmp, {"run", "missing", "--", "no-such-command-here"}).exit_code, 127);
  std::vector<std::string> lines = Lines(ReadFile(tmp.path() + "/status.log"));
  ASSERT_EQ(lines.size(), 9u);
  EXPECT_EQ(lines[1].rfind("\tFAIL\t----\texits\t", 0), 0u);
  EXPECT_NE(lines[1].find("\texit status 3"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[2].rfind("END FAIL\t----\texits\t", 0), 0u);
  EXPECT_NE(lines[4].find("\tkilled by signal 9"), std::string::npos) << lines[4];
  EXPECT_EQ(lines[7].rfind("\tFAIL\t----\tmissing\t", 0), 0u) << lines[7];
}

// The command after -- reaches exec word for word: brackets and quotes are the shell's, not
// the option parser's (CLI11 read `[ ! -e "f" ]` as a list and dropped its first words).
TEST(LabmeshTest, RunPassesTheCommandAfterDashesVerbatim) {
  TempDir tmp;
  std::string file = tmp.path() + "/flag";
  std::string check = "[ ! -e \"" + file + "\" ] || [ \"$X\" != 1 ]";
  EXPECT_EQ(Helper(tmp, {"run", "absent", "--", "sh", "-c", check}).exit_code, 0);
  std::ofstream(file) << "";
  CommandResult r = Helper(tmp, {"run", "present", "--", "sh", "-c", "X=1; " + check});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.err.find("not found"), std::string::npos) << r.err;
  EXPECT_EQ(Helper(tmp, {"run", "words", "--", "echo", "[a,", "b]", "--", "-x"}).out, "[a, b] -- -x\n");
  EXPECT_EQ(Helper(tmp, {"run", "nothing", "--"}).exit_code, 2);
}

TEST(LabmeshTest, RunNeedsTheResultsDirAndAGoodName) {
  TempDir tmp;
  CommandResult outside = RunCommand({LABMESH_TEST_BIN, "run", "x", "--", "true"});
  EXPECT_EQ(outside.exit_code, 2);
  EXPECT_NE(outside.err.find("LABMESH_RESULTS_DIR"), std::string::npos) << outside.err;
  for (const std::string& name : {std::string(".hidden"), std::string("a/b"), std::string("sp ace"),
                                  std::string(101, 'n'), std::string("..")}) {
    EXPECT_EQ(Helper(tmp, {"run", name, "--", "true"}).exit_code, 2) << name;
  }
  EXPECT_EQ(Helper(tmp, {"run", std::string(100, 'n'), "--", "true"}).exit_code, 0);
  EXPECT_FALSE(fs::exists(tmp.path() + "/.hidden"));
}

TEST(LabmeshTest, KeyvalAppendsLines) {
  TempDir tmp;
  EXPECT_EQ(Helper(tmp, {"keyval", "perf", "mb_per_s=412.5", "runs=3"}).exit_code, 0);
  EXPECT_EQ(Helper(tmp, {"keyval", "perf", "note=a=b"}).exit_code, 0);
  EXPECT_EQ(ReadFile(tmp.path() + "/perf/keyval"), "mb_per_s=412.5\nruns=3\nnote=a=b\n");
  EXPECT_EQ(Helper(tmp, {"keyval", "perf", "novalue"}).exit_code, 2);
  EXPECT_EQ(Helper(tmp, {"keyval", "perf", "=1"}).exit_code, 2);
  EXPECT_EQ(Helper(tmp, {"keyval", "perf", "bad key=1"}).exit_code, 2);
  EXPECT_EQ(ReadFile(tmp.path() + "/perf/keyval"), "mb_per_s=412.5\nruns=3\nnote=a=b\n");
}

}  // namespace
}  // namespace labmesh::testing
