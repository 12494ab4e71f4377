// End to end: resources run out (issue 20). One process per directory (a second coordinator on
// a data directory, a second agent on a work directory, refuse to start), and a coordinator
// whose data directory's file system fills up (a size-limited tmpfs this test mounts) or whose
// store reaches --store-map-size: new jobs and uploads are refused with
// `Unavailable: disk full: ...` (the CLI prints the message and exits 3), reads and heartbeats go on, nothing committed is lost, and the
// work resumes by itself when there is room again.

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

#include "jobs_fixture.hpp"

namespace labmesh::testing {
namespace {

namespace fs = std::filesystem;

// The pid a refusal names ("... (pid 123) ..."), or -1.
long PidIn(const std::string& text) {
  std::smatch match;
  if (!std::regex_search(text, match, std::regex(R"(\(pid (\d+)\))"))) return -1;
  return std::stol(match[1]);
}

TEST(OneProcessPerDirectory, SecondCoordinatorOnTheDataDirRefusesToStart) {
  E2eCluster cluster;
  cluster.StartCoordinator();
  Process second({CoordinatorBinary(), "--data-dir", cluster.data_dir(), "--agent-listen",
                  "tcp://127.0.0.1:*", "--api-listen", "tcp://127.0.0.1:*", "--http-listen", ""},
                 cluster.root() + "/second-coordinator.log");
  auto code = second.Wait(std::chrono::seconds(15));
  ASSERT_TRUE(code.has_value()) << "the second coordinator kept running:\n" << second.Log();
  EXPECT_EQ(*code, 1) << second.Log();
  EXPECT_NE(second.Log().find("is in use by another coordinator"), std::string::npos)
      << second.Log();
  EXPECT_EQ(PidIn(second.Log()), cluster.coordinator().pid()) << second.Log();
  // The first one still serves, and its endpoints file is its own.
  EXPECT_TRUE(cluster.coordinator().Running());
  auto listed = cluster.Cli({"host", "list"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  // Once it is gone the directory is free again (the kernel drops the lock with the process).
  cluster.StopCoordinator(SIGKILL);
  cluster.StartCoordinator();
  EXPECT_EQ(cluster.Cli({"host", "list"}).exit_code, 0);
}

class ResourcesE2e : public JobsE2e {};

TEST_F(ResourcesE2e, SecondAgentOnTheWorkDirRefusesToStart) {
  StartCluster({"a1"});
  Process second({AgentBinary(), "--coordinator", cluster_.agent_endpoint(), "--coordinator-key",
                  cluster_.key_path(), "--hostname", "a1", "--work-dir",
                  cluster_.AgentWorkDir("a1"), "--peer-listen", ""},
                 cluster_.root() + "/second-agent.log");
  auto code = second.Wait(std::chrono::seconds(15));
  ASSERT_TRUE(code.has_value()) << "the second agent kept running:\n" << second.Log();
  EXPECT_EQ(*code, 1) << second.Log();
  EXPECT_NE(second.Log().find("is in use by another agent"), std::string::npos) << second.Log();
  EXPECT_EQ(PidIn(second.Log()), cluster_.agent("a1").pid()) << second.Log();
  // The first agent still works: it runs a job.
  uint64_t id = Create({"--name", "after", "--command", "echo still here", "--hosts", "a1"});
  ASSERT_NE(id, 0u);
  EXPECT_TRUE(WaitForJobStatus(id, "Completed"));
  EXPECT_TRUE(cluster_.agent("a1").Running());
}

// A tmpfs of `size` mounted on `dir` (created) for the test's life; unmounted (lazily, so a
// process still holding a file cannot keep it) by Unmount or the destructor.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& dir, const std::string& size) : dir_(dir) {
    fs::create_directories(dir);
    std::string options = "size=" + size + ",mode=0755";
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::string("mount -t tmpfs -o ") + options + " " + dir + ": " +
               std::strerror(errno);
    }
  }
  ~TmpfsMount() { Unmount(); }
  void Unmount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    mounted_ = false;
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

// Writes `path` until the file system says ENOSPC; true when it did.
bool FillUp(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return false;
  std::string block(1 << 20, 'x');
  bool full = false;
  for (int i = 0; i < 100'000 && !full; ++i) {
    if (std::fwrite(block.data(), 1, block.size(), file) != block.size()) full = errno == ENOSPC;
    if (!full && std::fflush(file) != 0) full = errno == ENOSPC;
  }
  std::fclose(file);
  return full;
}

class DiskFullE2e : public JobsE2e {
 protected:
  void TearDown() override {
    // The processes first: then nothing holds the tmpfs and it goes before the temp directory.
    for (const std::string& host : hosts_) cluster_.KillAgent(host, SIGKILL);
    cluster_.StopCoordinator(SIGKILL);
    if (mount_) mount_->Unmount();
  }

  // Mounts a tmpfs of `size` on the coordinator's data directory (skips the test when the
  // kernel does not let us) and starts the cluster with `flags` added.
  void StartOnTmpfs(const std::string& size, std::vector<std::string> flags) {
    mount_ = std::make_unique<TmpfsMount>(cluster_.data_dir(), size);
    if (!mount_->mounted()) GTEST_SKIP() << "cannot mount a tmpfs: " << mount_->error();
    for (const std::string& flag : flags) cluster_.coordinator_flags().push_back(flag);
    hosts_ = {"d1"};
    StartCluster(hosts_);
  }

  // `labmesh job create` that is expected to be refused; its stderr.
  std::string Refused(std::vector<std::string> args) {
    std::vector<std::string> argv = {"--user", "alice", "job", "create"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto created = cluster_.Cli(argv);
    EXPECT_NE(created.exit_code, 0) << created.out;
    return created.err;
  }

  // Whether `job create` is refused because the disk is full.
  bool CreateRefusedForDisk() {
    auto created = cluster_.Cli({"--user", "alice", "job", "create", "--name", "probe",
                                 "--command", "true", "--hosts", "d1"});
    return created.exit_code == 3 && created.err.find("disk full: ") != std::string::npos;
  }

  int64_t LastHeartbeatMs(const std::string& host) {
    auto shown = cluster_.Host(host);
    return shown ? shown->value("last_heartbeat_ms", int64_t{0}) : 0;
  }

  std::unique_ptr<TmpfsMount> mount_;
  std::vector<std::string> hosts_;
};

TEST_F(DiskFullE2e, FullDataDirRefusesNewWorkKeepsServingAndResumes) {
  StartOnTmpfs("48m", {"--min-free-space", "4MiB"});
  if (IsSkipped()) return;
  uint64_t before = Create({"--name", "before", "--command", "echo committed", "--hosts", "d1"});
  ASSERT_NE(before, 0u);
  ASSERT_TRUE(WaitForJobStatus(before, "Completed"));
  // A job whose control waits for a marker and then leaves a result file: its upload will
  // meet the full disk.
  std::string marker = cluster_.root() + "/go";
  uint64_t uploading = Create(
      {"--name", "uploading", "--hosts", "d1", "--command",
       "while [ ! -e " + marker + " ]; do sleep 0.05; done; "
       "head -c 3000000 /dev/urandom > \"$LABMESH_RESULTS_DIR/big.bin\"; echo done"});
  ASSERT_NE(uploading, 0u);
  ASSERT_TRUE(WaitForEntryStatus(uploading, "Running"));

  std::string filler = cluster_.data_dir() + "/filler";
  ASSERT_TRUE(FillUp(filler));
  ASSERT_TRUE(WaitFor([&] { return CreateRefusedForDisk(); }))
      << "job create was not refused on a full disk";
  std::string refused =
      Refused({"--name", "refused", "--command", "true", "--hosts", "d1"});
  // The CLI prints the Error's message (`disk full: ...`) and exits 3 (Unavailable).
  EXPECT_NE(refused.find("disk full: "), std::string::npos) << refused;

  // The upload meets the full disk: refused, sent again later, the entry waits.
  std::ofstream(marker) << "go";
  const int64_t full_since = LastHeartbeatMs("d1");
  // Reads go on, and heartbeats keep the host alive well past --dead-after (2 s).
  ASSERT_TRUE(WaitFor([&] { return LastHeartbeatMs("d1") > full_since + 4'000; },
                      std::chrono::seconds(20)));
  EXPECT_EQ(cluster_.Host("d1").value_or(nlohmann::json::object()).value("status", ""),
            "Running");
  EXPECT_EQ(Show(before).value("status", ""), "Completed");
  EXPECT_EQ(Show(uploading).value("status", ""), "Running");
  EXPECT_TRUE(CreateRefusedForDisk());
  EXPECT_TRUE(cluster_.coordinator().Running());
  EXPECT_NE(cluster_.agent("d1").Log().find("disk full"), std::string::npos)
      << "the agent was never told its upload met a full disk";

  // Room again: the upload finishes by itself, whole, and new jobs are taken.
  fs::remove(filler);
  ASSERT_TRUE(WaitForJobStatus(uploading, "Completed", std::chrono::seconds(40)))
      << Show(uploading).dump();
  auto entry = Show(uploading)["entries"][0];
  EXPECT_EQ(fs::file_size(ResultsDir(entry) + "/big.bin"), 3'000'000u);
  uint64_t after = 0;
  ASSERT_TRUE(WaitFor([&] {
    auto created = cluster_.Cli({"--json", "--user", "alice", "job", "create", "--name", "after",
                                 "--command", "echo resumed", "--hosts", "d1"});
    if (created.exit_code == 0) after = nlohmann::json::parse(created.out)["id"].get<uint64_t>();
    return created.exit_code == 0;
  }, std::chrono::seconds(20)));
  EXPECT_TRUE(WaitForJobStatus(after, "Completed"));
  EXPECT_EQ(Show(before).value("status", ""), "Completed");
}

TEST_F(DiskFullE2e, StoreAtItsMapSizeRefusesNewJobsAndLosesNothing) {
  // A roomy tmpfs: the store's map cap is what runs out.
  StartOnTmpfs("256m", {"--min-free-space", "1MiB", "--store-map-size", "2MiB"});
  if (IsSkipped()) return;
  // Jobs with 300 KB controls until the 2 MiB map is full.
  std::string control = WriteFile("big.sh", "#!/bin/sh\ntrue\n" + std::string(300'000, '#'));
  std::vector<uint64_t> stored;
  std::string refusal;
  for (int i = 0; i < 40 && refusal.empty(); ++i) {
    auto created = cluster_.Cli({"--json", "--user", "alice", "job", "create", "--name",
                                 "j" + std::to_string(i), "--control", control, "--hosts", "d1"});
    if (created.exit_code == 0) {
      stored.push_back(nlohmann::json::parse(created.out)["id"].get<uint64_t>());
    } else {
      refusal = created.err;
    }
  }
  ASSERT_FALSE(refusal.empty()) << "the store never filled up";
  EXPECT_NE(refusal.find("disk full: "), std::string::npos) << refusal;
  EXPECT_NE(refusal.find("LMDB map"), std::string::npos) << refusal;
  ASSERT_FALSE(stored.empty());
  // Reads and heartbeats go on past --dead-after.
  const int64_t full_since = LastHeartbeatMs("d1");
  ASSERT_TRUE(WaitFor([&] { return LastHeartbeatMs("d1") > full_since + 4'000; },
                      std::chrono::seconds(20)));
  EXPECT_NE(cluster_.Host("d1").value_or(nlohmann::json::object()).value("status", ""), "Dead");
  EXPECT_TRUE(CreateRefusedForDisk());
  EXPECT_TRUE(cluster_.coordinator().Running());

  // A restart with a larger map: every stored job is there and new ones are taken.
  cluster_.StopCoordinator(SIGTERM);
  auto& flags = cluster_.coordinator_flags();
  flags.erase(std::find(flags.begin(), flags.end(), "--store-map-size"), flags.end());
  cluster_.StartCoordinator();
  for (uint64_t id : stored) EXPECT_EQ(Show(id).value("id", uint64_t{0}), id);
  uint64_t after = Create({"--name", "after", "--command", "echo room", "--hosts", "d1"});
  ASSERT_NE(after, 0u);
  EXPECT_TRUE(WaitForJobStatus(after, "Completed", std::chrono::seconds(60)))
      << Show(after).dump() << "\n"
      << cluster_.Host("d1").value_or(nlohmann::json::object()).dump() << "\n"
      << cluster_.Cli({"job", "list"}).out << cluster_.coordinator().Log().substr(0, 20000);
}

TEST_F(DiskFullE2e, FullAgentWorkDirFailsTheEntryAsInfrastructure) {
  const std::string work_dir = cluster_.AgentWorkDir("w1");
  mount_ = std::make_unique<TmpfsMount>(work_dir, "16m");
  if (!mount_->mounted()) GTEST_SKIP() << "cannot mount a tmpfs: " << mount_->error();
  hosts_ = {"w1"};
  StartCluster(hosts_);
  std::string filler = work_dir + "/filler";
  ASSERT_TRUE(FillUp(filler));
  uint64_t id = Create({"--name", "cramped", "--command", "echo hi", "--hosts", "w1"});
  ASSERT_NE(id, 0u);
  ASSERT_TRUE(WaitForJobStatus(id, "Failed"));
  auto entry = Show(id)["entries"][0];
  EXPECT_EQ(entry.value("fault", ""), "infrastructure") << entry.dump();
  EXPECT_NE(entry.value("reason", "").find("disk full"), std::string::npos) << entry.dump();

  // Room again: the host runs work, also after a restart from its spool.
  fs::remove(filler);
  uint64_t next = Create({"--name", "roomy", "--command", "echo fine", "--hosts", "w1"});
  ASSERT_NE(next, 0u);
  EXPECT_TRUE(WaitForJobStatus(next, "Completed"));
  cluster_.KillAgent("w1", SIGKILL);
  cluster_.StartAgent("w1");
  ASSERT_TRUE(cluster_.WaitForStatus("w1", "Ready"));
  uint64_t last = Create({"--name", "restarted", "--command", "echo again", "--hosts", "w1"});
  ASSERT_NE(last, 0u);
  EXPECT_TRUE(WaitForJobStatus(last, "Completed"));
}

}  // namespace
}  // namespace labmesh::testing
