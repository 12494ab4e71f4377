#pragma once
// The fixture of the end-to-end job tests: a cluster of real processes and helpers that drive
// jobs through the real `labmesh` client. Shared by jobs_test.cpp and sync_test.cpp.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "cluster.hpp"

namespace labmesh::testing {

// True when no process `pid` runs any more (gone, or a zombie nobody has reaped yet).
inline bool ProcessGone(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return true;
  size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

class JobsE2e : public ::testing::Test {
 protected:
  void StartCluster(std::vector<std::string> hosts,
                    std::map<std::string, std::vector<std::string>> flags = {}) {
    cluster_.StartCoordinator();
    for (const std::string& host : hosts) {
      cluster_.StartAgent(host, flags.count(host) ? flags[host] : std::vector<std::string>{});
    }
    for (const std::string& host : hosts) ASSERT_TRUE(cluster_.WaitForStatus(host, "Ready"));
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    std::string path = cluster_.root() + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // `labmesh --json job create ARGS`; the new job's id (0 when refused).
  uint64_t Create(std::vector<std::string> args) {
    std::vector<std::string> argv = {"--json", "--user", "alice", "job", "create"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto created = cluster_.Cli(argv);
    EXPECT_EQ(created.exit_code, 0) << created.err;
    if (created.exit_code != 0) return 0;
    return nlohmann::json::parse(created.out)["id"].get<uint64_t>();
  }

  nlohmann::json Show(uint64_t id) {
    auto shown = cluster_.Cli({"--json", "job", "show", std::to_string(id)});
    EXPECT_EQ(shown.exit_code, 0) << shown.err;
    return shown.exit_code == 0 ? nlohmann::json::parse(shown.out) : nlohmann::json::object();
  }

  bool WaitForJobStatus(uint64_t id, const std::string& status,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return WaitFor([&] { return Show(id).value("status", "") == status; }, timeout);
  }

  bool WaitForEntryStatus(uint64_t id, const std::string& status) {
    return WaitFor([&] {
      auto job = Show(id);
      return job.contains("entries") && !job["entries"].empty() &&
             job["entries"][0].value("status", "") == status;
    });
  }

  // `job wait ID --timeout T`, with T in seconds multiplied like every deadline of the tests
  // (Scaled: the sanitizer runs' code is slower).
  CommandResult Wait(uint64_t id, int timeout_s = 25) {
    auto scaled = Scaled(std::chrono::seconds(timeout_s));
    return cluster_.Cli({"job", "wait", std::to_string(id), "--timeout",
                         std::to_string(scaled.count()) + "ms"});
  }

  std::string ResultsDir(const nlohmann::json& entry) {
    return cluster_.data_dir() + "/results/" + entry["results_path"].get<std::string>();
  }

  E2eCluster cluster_;
};

}  // namespace labmesh::testing
