// End to end: agent self-update (docs/update.md) with the real coordinator, real agents and
// packages made by scripts/package-agent.sh from a second agent build that reports another
// version (LABMESH_AGENT_V2: tests/agent's agent_update_new_agent, built from agent/main.cpp to
// report 9.9.9).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>

#include "update_e2e.hpp"

namespace labmesh::testing {
namespace {

namespace fs = std::filesystem;

// Three agents move to the new version; the one running a job when the version was desired
// finishes the job first and updates after it.
TEST_F(UpdateE2e, AgentsUpdateAndARunningJobFinishesFirst) {
  StartCluster({"lab-1", "lab-2", "lab-3"});
  EXPECT_EQ(Version("lab-1"), LABMESH_VERSION);
  std::string flag = cluster_.root() + "/go";
  uint64_t job = Create({"--name", "long", "--hosts", "lab-1", "--command",
                         "while [ ! -f " + flag + " ]; do sleep 0.05; done"});
  ASSERT_TRUE(WaitForEntryStatus(job, "Running"));

  UploadAndDesire(MakePackage("v2", LABMESH_AGENT_V2), kV2);
  ASSERT_TRUE(WaitForVersion("lab-2", kV2)) << AgentLogs("lab-2");
  ASSERT_TRUE(WaitForVersion("lab-3", kV2)) << AgentLogs("lab-3");
  // lab-1 is still running its entry on the old version: no Update task was queued for it.
  auto lab1 = cluster_.Host("lab-1");
  ASSERT_TRUE(lab1);
  EXPECT_EQ((*lab1)["agent_version"], LABMESH_VERSION);
  EXPECT_EQ((*lab1)["status"], "Running");
  EXPECT_TRUE(UpdateTasks("lab-1").empty());

  // The wall clock when the entry is let go (the test and the coordinator share the machine).
  int64_t released_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  std::ofstream(flag) << "go";
  ASSERT_TRUE(WaitForJobStatus(job, "Completed"));
  ASSERT_TRUE(WaitForVersion("lab-1", kV2)) << AgentLogs("lab-1");
  auto tasks = UpdateTasks("lab-1");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0]["status"], "Completed");
  // The update was queued only once the entry's control had been let go. (Not after the
  // entry's finished_us: that is when its results were parsed and it became final, which may
  // come after the agent, done with the control, asked for work and was given the update.)
  EXPECT_GE(tasks[0]["queued_ms"].get<int64_t>(), released_ms);
  for (const char* host : {"lab-1", "lab-2", "lab-3"}) {
    // Same process (re-executed in place), the new version on disk, the old one kept.
    EXPECT_TRUE(cluster_.agent(host).Running()) << host;
    std::string work = cluster_.AgentWorkDir(host);
    EXPECT_TRUE(fs::exists(work + "/versions/" + kV2 + "/labmesh-agent")) << host;
    EXPECT_EQ(fs::read_symlink(work + "/current").filename(), kV2) << host;
  }
  // The last known good of lab-1 is still the old version: no entry completed on the new one.
  lab1 = cluster_.Host("lab-1");
  EXPECT_EQ((*lab1)["last_known_good"], LABMESH_VERSION);
  // Work runs on the new version, which then becomes lab-1's last known good.
  uint64_t after = Create({"--name", "after", "--hosts", "lab-1", "--command", "true"});
  ASSERT_TRUE(WaitForJobStatus(after, "Completed"));
  lab1 = cluster_.Host("lab-1");
  EXPECT_EQ((*lab1)["last_known_good"], kV2);

  auto listed = cluster_.Cli({"--json", "package", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  auto list = nlohmann::json::parse(listed.out);
  EXPECT_EQ(list["desired"]["version"], kV2);
  EXPECT_EQ(list["host_versions"][kV2], 3);
}

// A package whose bytes do not match their hash is refused by the agent, which keeps running
// its version; the coordinator does not send the same update again.
TEST_F(UpdateE2e, APackageWhoseHashDoesNotMatchIsRefused) {
  StartCluster({"lab-1"});
  std::string package = MakePackage("v2", LABMESH_AGENT_V2);
  auto uploaded = cluster_.Cli({"--json", "package", "upload", package, "--version", kV2});
  ASSERT_EQ(uploaded.exit_code, 0) << uploaded.err;
  std::string sha = nlohmann::json::parse(uploaded.out)["sha256"];
  // Damage the coordinator's copy: one byte in the middle.
  std::string stored = cluster_.data_dir() + "/packages/" + sha + ".tar.gz";
  {
    std::fstream file(stored, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(file.is_open()) << stored;
    file.seekp(static_cast<std::streamoff>(fs::file_size(stored) / 2));
    file.put('\x5a');
  }
  ASSERT_EQ(cluster_.Cli({"package", "desire", kV2}).exit_code, 0);
  ASSERT_TRUE(WaitForUpdateTask("lab-1", "Failed")) << AgentLogs("lab-1");
  auto task = UpdateTasks("lab-1").front();
  EXPECT_NE(task["reason"].get<std::string>().find("sha256"), std::string::npos) << task.dump();
  ASSERT_TRUE(cluster_.WaitForStatus("lab-1", "Ready"));
  auto host = cluster_.Host("lab-1");
  EXPECT_EQ((*host)["agent_version"], LABMESH_VERSION);
  EXPECT_EQ((*host)["update_failed_version"], kV2);
  EXPECT_FALSE(fs::exists(cluster_.AgentWorkDir("lab-1") + "/current"));
  // Work still runs there, and the failed version is not tried again.
  uint64_t job = Create({"--name", "after", "--hosts", "lab-1", "--command", "true"});
  ASSERT_TRUE(WaitForJobStatus(job, "Completed"));
  EXPECT_EQ(UpdateTasks("lab-1").size(), 1u);
}

// A version that exits at once is rolled back by the agent's watchdog: the old version comes
// back, the host is Ready on it, the failure is on the Update task, and nothing loops.
TEST_F(UpdateE2e, AnAgentThatExitsAtOnceIsRolledBack) {
  StartCluster({"lab-1"});
  UploadAndDesire(MakePackage("broken", BrokenAgent()), kBroken);
  ASSERT_TRUE(WaitForUpdateTask("lab-1", "Failed")) << AgentLogs("lab-1");
  auto task = UpdateTasks("lab-1").front();
  EXPECT_NE(task["reason"].get<std::string>().find(kBroken), std::string::npos) << task.dump();
  ASSERT_TRUE(cluster_.WaitForStatus("lab-1", "Ready"));
  auto host = cluster_.Host("lab-1");
  EXPECT_EQ((*host)["agent_version"], LABMESH_VERSION);
  EXPECT_EQ((*host)["update_failed_version"], kBroken);
  EXPECT_TRUE((*host)["connected"].get<bool>());
  uint64_t job = Create({"--name", "after", "--hosts", "lab-1", "--command", "true"});
  ASSERT_TRUE(WaitForJobStatus(job, "Completed"));
  EXPECT_EQ(UpdateTasks("lab-1").size(), 1u);
}

// The coordinator dies in the middle of a download; after its restart the agent goes on from
// the bytes it already has.
TEST_F(UpdateE2e, ADownloadResumesAfterTheCoordinatorRestarts) {
  // 256 KiB/s: the package (about 1 MiB) takes seconds, so the kill lands in the middle.
  StartCluster({"lab-1"}, {{"lab-1", {"--update-rate-limit", "256KiB"}}});
  std::string package = MakePackage("v2", LABMESH_AGENT_V2);
  auto uploaded = cluster_.Cli({"--json", "package", "upload", package, "--version", kV2});
  ASSERT_EQ(uploaded.exit_code, 0) << uploaded.err;
  auto info = nlohmann::json::parse(uploaded.out);
  std::string part = cluster_.AgentWorkDir("lab-1") + "/update/" +
                     info["sha256"].get<std::string>() + ".part";
  uint64_t total = info["bytes"];
  ASSERT_GT(total, uint64_t{512} << 10) << "the package is too small to interrupt";
  ASSERT_EQ(cluster_.Cli({"package", "desire", kV2}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] {
    std::error_code ec;
    auto size = fs::file_size(part, ec);
    return !ec && size > 0;
  })) << AgentLogs("lab-1");
  cluster_.StopCoordinator(SIGKILL);
  std::error_code ec;
  uint64_t held = fs::file_size(part, ec);
  ASSERT_FALSE(ec);
  ASSERT_LT(held, total) << "the download finished before the coordinator was killed";
  cluster_.StartCoordinator();
  ASSERT_TRUE(WaitForVersion("lab-1", kV2)) << AgentLogs("lab-1");
  EXPECT_EQ(UpdateTasks("lab-1").front()["status"], "Completed");
  // The agent said where it went on from: not from the start.
  std::string log = ReadFile(cluster_.agent("lab-1").log_path());
  std::smatch went_on;
  ASSERT_TRUE(std::regex_search(
      log, went_on, std::regex("(asking again from|resuming the download at) byte ([0-9]+)")))
      << log;
  EXPECT_GT(std::stoull(went_on[2].str()), 0u) << went_on[0];
}

// The CLI: only admins manage packages; bad input is refused with a clear message.
TEST_F(UpdateE2e, PackageCommandsRefuseBadInputAndNonAdmins) {
  StartCluster({"lab-1"});
  cluster_.AddUser("bob", /*admin=*/false);
  std::string package = MakePackage("v2", LABMESH_AGENT_V2);
  auto refused = cluster_.Cli({"--user", "bob", "package", "upload", package, "--version", kV2});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("permission denied"), std::string::npos) << refused.err;
  auto unknown = cluster_.Cli({"package", "desire", "1.2.3"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("1.2.3"), std::string::npos) << unknown.err;
  auto bad_version = cluster_.Cli({"package", "upload", package, "--version", "../x"});
  EXPECT_EQ(bad_version.exit_code, 2) << bad_version.err;
  auto missing = cluster_.Cli({"package", "upload", cluster_.root() + "/nope", "--version", "1"});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  auto canary = cluster_.Cli({"package", "desire", kV2, "--canary", "0"});
  EXPECT_EQ(canary.exit_code, 2) << canary.err;
  // Upload twice (the same file is fine), list, and nothing was desired.
  ASSERT_EQ(cluster_.Cli({"package", "upload", package, "--version", kV2}).exit_code, 0);
  ASSERT_EQ(cluster_.Cli({"package", "upload", package, "--version", kV2}).exit_code, 0);
  auto listed = cluster_.Cli({"package", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find(kV2), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("desired version: none"), std::string::npos) << listed.out;
  // A file of several chunks, twice: the second upload is answered "stored" at its first chunk.
  std::string several(2'500'000, '\0');
  for (size_t i = 0; i < several.size(); ++i) several[i] = static_cast<char>(i * 7919 % 251);
  std::string big = WriteFile("big.tar.gz", several);
  for (int i = 0; i < 2; ++i) {
    auto stored = cluster_.Cli({"--json", "package", "upload", big, "--version", "big-1"});
    ASSERT_EQ(stored.exit_code, 0) << stored.err;
    EXPECT_EQ(nlohmann::json::parse(stored.out)["bytes"], several.size());
  }
  // Another package under the same version is refused: versions do not change.
  std::string other = MakePackage("broken", BrokenAgent());
  auto clash = cluster_.Cli({"package", "upload", other, "--version", kV2});
  EXPECT_EQ(clash.exit_code, 1) << clash.err;
  EXPECT_EQ(Version("lab-1"), LABMESH_VERSION);
}

}  // namespace
}  // namespace labmesh::testing
