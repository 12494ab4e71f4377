#pragma once
// The self-update end-to-end fixture (docs/update.md), shared by update_test.cpp and
// mesh_test.cpp: packages made by scripts/package-agent.sh from a second agent build that
// reports another version (LABMESH_AGENT_V2), upload and desire, and the hosts' versions and
// Update tasks.

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "jobs_fixture.hpp"

namespace labmesh::testing {

inline constexpr char kV2[] = "9.9.9";
inline constexpr char kBroken[] = "6.6.6-broken";

class UpdateE2e : public JobsE2e {
 protected:
  // A package of `agent` (an executable) with the real helpers, made by the packaging script;
  // returns its path.
  std::string MakePackage(const std::string& name, const std::string& agent) {
    std::string staging = cluster_.root() + "/staging-" + name;
    std::filesystem::create_directories(staging + "/agent");
    std::filesystem::copy_file(agent, staging + "/agent/labmesh-agent");
    std::filesystem::copy_file(LABMESH_TEST_BIN, staging + "/agent/labmesh-test");
    std::filesystem::copy_file(LABMESH_SYNC_BIN, staging + "/agent/labmesh-sync");
    std::string output = cluster_.root() + "/" + name + ".tar.gz";
    auto made = RunCommand({"/bin/bash", LABMESH_PACKAGE_SCRIPT, "--build-dir", staging,
                            "--output", output});
    EXPECT_EQ(made.exit_code, 0) << made.out << made.err;
    return output;
  }

  // An "agent" that knows its version and exits at once whenever it is run as an agent.
  std::string BrokenAgent() {
    std::string path = cluster_.root() + "/broken-agent";
    std::ofstream(path) << "#!/bin/sh\n"
                        << "if [ \"$1\" = --version ]; then echo " << kBroken << "; exit 0; fi\n"
                        << "echo 'this agent crashes at start' >&2\nexit 3\n";
    EXPECT_EQ(chmod(path.c_str(), 0755), 0);
    return path;
  }

  void UploadAndDesire(const std::string& package, const std::string& version) {
    auto uploaded = cluster_.Cli({"package", "upload", package, "--version", version});
    ASSERT_EQ(uploaded.exit_code, 0) << uploaded.err;
    auto desired = cluster_.Cli({"package", "desire", version});
    ASSERT_EQ(desired.exit_code, 0) << desired.err;
  }

  std::string Version(const std::string& host) {
    auto shown = cluster_.Host(host);
    return shown ? shown->value("agent_version", "") : "";
  }

  bool WaitForVersion(const std::string& host, const std::string& version) {
    return WaitFor([&] {
      auto shown = cluster_.Host(host);
      return shown && shown->value("agent_version", "") == version &&
             shown->value("status", "") == "Ready";
    }, std::chrono::seconds(40));
  }

  // The host's Update tasks, newest first.
  std::vector<nlohmann::json> UpdateTasks(const std::string& host) {
    auto shown = cluster_.Cli({"--json", "host", "history", host});
    EXPECT_EQ(shown.exit_code, 0) << shown.err;
    std::vector<nlohmann::json> tasks;
    if (shown.exit_code != 0) return tasks;
    for (const auto& item : nlohmann::json::parse(shown.out)) {
      if (item["type"] == "task" && item["name"] == "Update") tasks.push_back(item);
    }
    return tasks;
  }

  bool WaitForUpdateTask(const std::string& host, const std::string& status) {
    return WaitFor([&] {
      auto tasks = UpdateTasks(host);
      return !tasks.empty() && tasks.front()["status"] == status;
    }, std::chrono::seconds(40));
  }

  std::string AgentLogs(const std::string& host) { return cluster_.agent(host).Log(); }
};

}  // namespace labmesh::testing
