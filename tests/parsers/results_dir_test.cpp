// ParseResultsDir on a results tree: which files are read, keyval attachment, determinism,
// symbolic links, size cap.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "labmesh/parsers/parsers.hpp"
#include "process.hpp"
#include "samples.hpp"

namespace labmesh::parsers {
namespace {

namespace fs = std::filesystem;
using samples::Dump;
using samples::Find;
using samples::Names;

void Write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

bool HasWarning(const ParseOutput& out, std::string_view text) {
  for (const std::string& w : out.warnings) {
    if (w.find(text) != std::string::npos) return true;
  }
  return false;
}

// What an entry of `labmesh-test run build`, `run bench` and `keyval bench ...` leaves, plus
// reports from other runners and files that must be left alone.
class ResultsDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path() + "/results";
    Write(root_ + "/status.log",
          "START\t----\tbuild\ttimestamp=1764400000\tlocaltime=Nov 29 10:00:00\n"
          "\tGOOD\t----\tbuild\ttimestamp=1764400010\tlocaltime=Nov 29 10:00:10\t"
          "completed successfully\n"
          "END GOOD\t----\tbuild\ttimestamp=1764400010\tlocaltime=Nov 29 10:00:10\n"
          "START\t----\tbench\ttimestamp=1764400020\tlocaltime=Nov 29 10:00:20\n"
          "\tGOOD\t----\tbench\ttimestamp=1764400080\tlocaltime=Nov 29 10:01:20\t"
          "completed successfully\n"
          "END GOOD\t----\tbench\ttimestamp=1764400080\tlocaltime=Nov 29 10:01:20\n");
    Write(root_ + "/build/output.log", "make: done\n");
    Write(root_ + "/bench/keyval", "mb_per_s{perf}=812.5\nblock_size=4096\n");
    Write(root_ + "/bench/output.log", "ok\n");
    Write(root_ + "/orphan/keyval", "seen=1\n");
    Write(root_ + "/keyval", "job_started=1764400000\n");  // the entry's own: not a test's
    Write(root_ + "/reports/unit.xml", samples::kJUnitGoogleTest);
    Write(root_ + "/reports/pom.xml", "<project><modelVersion>4.0.0</modelVersion></project>");
    Write(root_ + "/reports/broken.xml", samples::kJUnitPytest.substr(0, 300));
    Write(root_ + "/tap/basic.tap", samples::kTapBasic);
    Write(root_ + "/notes.txt", "ok 1 - not a tap file\n");
  }

  labmesh::testing::TempDir tmp_;
  std::string root_;
};

TEST_F(ResultsDirTest, ReadsEveryRecognisedFileInPathOrder) {
  ParseOutput out = ParseResultsDir(root_);
  std::vector<std::string> files;
  for (const TestResult& r : out.results) {
    if (files.empty() || files.back() != r.file) files.push_back(r.file);
  }
  EXPECT_EQ(files, (std::vector<std::string>{"orphan/keyval", "reports/unit.xml", "status.log",
                                             "tap/basic.tap"}))
      << Dump(out);
  EXPECT_EQ(out.results.size(), 1u + 5u + 2u + 6u) << Dump(out);
  EXPECT_EQ(Find(out, "build").status, "GOOD");
  EXPECT_EQ(Find(out, "MathTest.Divides").file, "reports/unit.xml");
  EXPECT_EQ(Find(out, "tap/basic.tap/2 reads config").status, "FAIL");
  // Only the truncated JUnit file warns; pom.xml, notes.txt and the top keyval are ignored.
  ASSERT_EQ(out.warnings.size(), 1u) << Dump(out);
  EXPECT_TRUE(HasWarning(out, "reports/broken.xml: line 1: malformed JUnit XML")) << Dump(out);
}

TEST_F(ResultsDirTest, KeyvalAttachesToTheTestOfItsDirectory) {
  ParseOutput out = ParseResultsDir(root_);
  const TestResult& bench = Find(out, "bench");
  EXPECT_EQ(bench.perf, (std::map<std::string, double>{{"mb_per_s", 812.5}}));
  EXPECT_EQ(bench.keyvals, (std::map<std::string, std::string>{{"block_size", "4096"}}));
  EXPECT_EQ(bench.file, "status.log");
  EXPECT_TRUE(Find(out, "build").keyvals.empty());
}

TEST_F(ResultsDirTest, KeyvalWithoutItsTestBecomesAKeyvalOnlyResult) {
  ParseOutput out = ParseResultsDir(root_);
  const TestResult& orphan = Find(out, "orphan");
  EXPECT_EQ(orphan.status, "TEST_NA");
  EXPECT_EQ(orphan.reason, "keyvals only: no test result named orphan");
  EXPECT_EQ(orphan.file, "orphan/keyval");
  EXPECT_EQ(orphan.keyvals, (std::map<std::string, std::string>{{"seen", "1"}}));
}

TEST_F(ResultsDirTest, KeyvalFindsAutotestSubdirAndNestedStatusLogs) {
  Write(root_ + "/client/status.log",
        "START\tkernbench.small\tkernbench\ttimestamp=1\n"
        "END GOOD\tkernbench.small\tkernbench\ttimestamp=2\n");
  Write(root_ + "/client/kernbench.small/keyval", "elapsed{perf}=12\n");
  ParseOutput out = ParseResultsDir(root_);
  const TestResult& kernbench = Find(out, "kernbench");
  EXPECT_EQ(kernbench.file, "client/status.log");
  EXPECT_EQ(kernbench.perf, (std::map<std::string, double>{{"elapsed", 12}}));
}

TEST_F(ResultsDirTest, TwoParsesAreIdentical) {
  ParseOutput a = ParseResultsDir(root_);
  ParseOutput b = ParseResultsDir(root_);
  EXPECT_EQ(Dump(a), Dump(b));
  EXPECT_FALSE(a.results.empty());
}

TEST_F(ResultsDirTest, SymlinksAreNeverFollowed) {
  std::string outside = tmp_.path() + "/outside";
  Write(outside + "/status.log", "GOOD\t----\tfrom_outside\ttimestamp=1\tread through a link\n");
  Write(outside + "/x.tap", "1..1\nok 1 - from_outside\n");
  fs::create_directory_symlink(outside, root_ + "/escape");
  fs::create_symlink(outside + "/x.tap", root_ + "/link.tap");
  fs::create_symlink(outside + "/status.log", root_ + "/build/status.log");
  fs::create_directory_symlink(root_ + "/tap", root_ + "/inside");  // even within the tree
  ParseOutput out = ParseResultsDir(root_);
  for (const TestResult& r : out.results) {
    EXPECT_EQ(r.test.find("from_outside"), std::string::npos) << Dump(r);
    EXPECT_NE(r.file.rfind("inside/", 0), 0u) << Dump(r);
  }
  EXPECT_TRUE(HasWarning(out, "escape: symbolic link not followed")) << Dump(out);
  EXPECT_TRUE(HasWarning(out, "link.tap: symbolic link not followed")) << Dump(out);
  EXPECT_TRUE(HasWarning(out, "build/status.log: symbolic link not followed")) << Dump(out);
  EXPECT_TRUE(HasWarning(out, "inside: symbolic link not followed")) << Dump(out);
}

TEST_F(ResultsDirTest, OversizedFileIsSkippedWithAWarning) {
  std::string big = root_ + "/big/status.log";
  Write(big, "");
  ASSERT_EQ(truncate(big.c_str(), static_cast<off_t>(kMaxFileBytes) + 1), 0);  // sparse
  ParseOutput out = ParseResultsDir(root_);
  EXPECT_TRUE(HasWarning(out, "big/status.log: skipped: 67108865 bytes is more than 64 MiB"))
      << Dump(out);
  EXPECT_EQ(Find(out, "build").status, "GOOD");
}

TEST(ResultsDir, MissingDirectoryWarns) {
  ParseOutput out = ParseResultsDir("/nonexistent/labmesh/results");
  EXPECT_TRUE(out.results.empty());
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_EQ(out.warnings[0],
            "/nonexistent/labmesh/results: cannot open: No such file or directory");
}

// Runs `parse` on a thread without the capabilities that let root open any file
// (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so a file of mode 0 is unreadable to it as to any
// other user and the suite, which CI runs as root, checks the unreadable case too. On Linux
// capabilities belong to a thread and the raw capset changes only the calling one, so the rest of
// the process keeps them. For other users, who hold neither, nothing changes. `error` is set
// (and nothing parsed) when the capabilities could not be dropped.
ParseOutput ParseWithoutRootsFileAccess(const std::string& dir, std::string* error) {
  ParseOutput out;
  std::thread thread([&] {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    if (syscall(SYS_capget, &header, data) != 0) {
      *error = std::string("capget: ") + std::strerror(errno);
      return;
    }
    data[0].effective &= ~(CAP_TO_MASK(CAP_DAC_OVERRIDE) | CAP_TO_MASK(CAP_DAC_READ_SEARCH));
    if (syscall(SYS_capset, &header, data) != 0) {
      *error = std::string("capset: ") + std::strerror(errno);
      return;
    }
    out = ParseResultsDir(dir);
  });
  thread.join();
  return out;
}

TEST(ResultsDir, UnreadableFileWarnsAndTheRestIsRead) {
  labmesh::testing::TempDir tmp;
  Write(tmp.path() + "/a.tap", "1..1\nok 1\n");
  Write(tmp.path() + "/b.tap", "1..1\nok 1\n");
  ASSERT_EQ(chmod((tmp.path() + "/a.tap").c_str(), 0), 0);
  std::string error;
  ParseOutput out = ParseWithoutRootsFileAccess(tmp.path(), &error);
  ASSERT_EQ(error, "");
  EXPECT_EQ(Names(out), (std::vector<std::string>{"b.tap/1"}));
  EXPECT_TRUE(HasWarning(out, "a.tap: cannot open: Permission denied")) << Dump(out);
}

}  // namespace
}  // namespace labmesh::parsers
