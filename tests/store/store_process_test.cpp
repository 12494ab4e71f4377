// A second process (store_reader, a real separate program) opened read-only sees what this
// process commits, including after this process grew the LMDB map.

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "labmesh/store/store.hpp"
#include "store_test_util.hpp"

namespace labmesh::store {
namespace {

using testing::MakeHost;
using testing::OpenOrDie;
using testing::TempDir;

// store_reader running as a child process, talked to over its stdin/stdout.
class ReaderProcess {
 public:
  explicit ReaderProcess(const std::string& db_dir) {
    int to_child[2], from_child[2];
    if (::pipe(to_child) != 0 || ::pipe(from_child) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(to_child[0], STDIN_FILENO);
      ::dup2(from_child[1], STDOUT_FILENO);
      ::close(to_child[0]);
      ::close(to_child[1]);
      ::close(from_child[0]);
      ::close(from_child[1]);
      ::execl(STORE_READER_PATH, STORE_READER_PATH, db_dir.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    in_ = to_child[1];
    out_ = from_child[0];
  }

  ~ReaderProcess() {
    if (in_ >= 0) ::close(in_);
    if (out_ >= 0) ::close(out_);
    if (pid_ > 0) {
      int status = 0;
      // Closing stdin makes the reader exit; kill it if it has not within the deadline.
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
          ::kill(pid_, SIGKILL);
          ::waitpid(pid_, &status, 0);
          break;
        }
        ::poll(nullptr, 0, 10);
      }
    }
  }

  bool started() const { return pid_ > 0; }

  // The next line the reader prints (without newline), or "<timeout>" / "<eof>".
  std::string ReadLine() {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (true) {
      size_t newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return "<timeout>";
      pollfd pfd{out_, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[512];
      ssize_t n = ::read(out_, chunk, sizeof(chunk));
      if (n <= 0) return "<eof>";
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  std::string Ask(const std::string& command) {
    std::string line = command + "\n";
    if (::write(in_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      return "<write failed>";
    }
    return ReadLine();
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  std::string buffer_;
};

TEST(StoreProcess, ReadOnlyProcessSeesCommittedData) {
  TempDir tmp;
  auto store = OpenOrDie(tmp.db());
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  batch.PutHost(MakeHost("lab-1"));
  ASSERT_TRUE(store->Apply(batch).ok());

  ReaderProcess reader(tmp.db());
  ASSERT_TRUE(reader.started());
  ASSERT_EQ(reader.ReadLine(), "ready");
  EXPECT_EQ(reader.Ask("get lab-1"), "host lab-1 key-lab-1");
  EXPECT_EQ(reader.Ask("get lab-2"), "absent");

  // Commits made while the reader is open are visible to its next read.
  WriteBatch more;
  more.PutHost(MakeHost("lab-2"));
  more.DeleteHost("lab-1");
  ASSERT_TRUE(store->Apply(more).ok());
  EXPECT_EQ(reader.Ask("get lab-2"), "host lab-2 key-lab-2");
  EXPECT_EQ(reader.Ask("get lab-1"), "absent");
  EXPECT_EQ(reader.Ask("quit"), "<eof>");
}

TEST(StoreProcess, ReaderFollowsMapGrowthOfWriter) {
  LABMESH_LMDB_ONLY();  // the LMDB map
  TempDir tmp;
  StoreOptions options;
  options.initial_map_bytes = 1ull << 20;
  auto store = OpenOrDie(tmp.db(), options);
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  batch.PutHost(MakeHost("lab-first"));
  ASSERT_TRUE(store->Apply(batch).ok());

  ReaderProcess reader(tmp.db());
  ASSERT_TRUE(reader.started());
  ASSERT_EQ(reader.ReadLine(), "ready");
  EXPECT_EQ(reader.Ask("count"), "count 1 map=1048576");

  // Grow the map well past what the reader mapped (1 MiB) while it stays open.
  for (int start = 0; start < 2000; start += 200) {
    WriteBatch big;
    for (int i = start; i < start + 200; ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "lab-%05d", i);
      big.PutHost(MakeHost(name, 4000));
    }
    ASSERT_TRUE(store->Apply(big).ok());
  }
  ASSERT_GT(store->map_size_bytes(), options.initial_map_bytes);

  EXPECT_EQ(reader.Ask("count"), "count 2001 map=" + std::to_string(store->map_size_bytes()));
  EXPECT_EQ(reader.Ask("get lab-01999"), "host lab-01999 key-lab-01999");
}

TEST(StoreProcess, ReaderRefusesMissingStore) {
  TempDir tmp;
  ReaderProcess reader(tmp.path() + "/none");
  ASSERT_TRUE(reader.started());
  std::string line = reader.ReadLine();
  EXPECT_EQ(line.rfind("error NotFound", 0), 0u) << line;
}

}  // namespace
}  // namespace labmesh::store
