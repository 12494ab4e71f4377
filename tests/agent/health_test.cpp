// What the agent reports about the machine it runs on: facts (uname, os-release, /proc) and a
// health sample for its work directory's file system. Checked against this machine.

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <string>

#include "health.hpp"
#include "process.hpp"

namespace labmesh::agent {
namespace {

// The value of KEY in /etc/os-release, unquoted; nullopt when the file or key is missing.
std::optional<std::string> OsRelease(const std::string& key) {
  std::ifstream in("/etc/os-release");
  if (!in) return std::nullopt;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + "=", 0) != 0) continue;
    std::string value = line.substr(key.size() + 1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'')) {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return std::nullopt;
}

TEST(CollectFacts, DescribesThisMachine) {
  protocol::HostFacts facts = CollectFacts();
  EXPECT_FALSE(facts.arch.empty());
  EXPECT_FALSE(facts.kernel.empty());
  EXPECT_GT(facts.cpus, 0u);
  EXPECT_EQ(facts.cpus, static_cast<uint32_t>(sysconf(_SC_NPROCESSORS_ONLN)));
  EXPECT_GT(facts.memory_bytes, 0u);
  EXPECT_FALSE(facts.address.empty());
}

TEST(CollectFacts, TakesTheOsFromOsRelease) {
  auto id = OsRelease("ID");
  if (!id) GTEST_SKIP() << "no /etc/os-release ID on this machine";
  protocol::HostFacts facts = CollectFacts();
  EXPECT_EQ(facts.os, *id);
  EXPECT_EQ(facts.os_version, OsRelease("VERSION_ID").value_or(""));
  EXPECT_EQ(facts.os.find('"'), std::string::npos);  // quotes are stripped
}

TEST(CollectHealth, SamplesMemoryDiskAndUptime) {
  labmesh::testing::TempDir work;
  protocol::HostHealth health = CollectHealth(work.path());
  EXPECT_GT(health.mem_total_bytes, 0u);
  EXPECT_LE(health.mem_available_bytes, health.mem_total_bytes);
  EXPECT_GT(health.disk_total_bytes, 0u);
  EXPECT_LE(health.disk_free_bytes, health.disk_total_bytes);
  EXPECT_GT(health.uptime_s, 0u);
  EXPECT_GE(health.load1, 0.0);
  EXPECT_GE(health.load5, 0.0);
  EXPECT_GE(health.load15, 0.0);
  EXPECT_EQ(health.mem_total_bytes, CollectFacts().memory_bytes);
}

TEST(CollectHealth, AMissingWorkDirGivesNoDiskFiguresButTheRest) {
  protocol::HostHealth health = CollectHealth("/nonexistent/labmesh/work");
  EXPECT_EQ(health.disk_total_bytes, 0u);
  EXPECT_EQ(health.disk_free_bytes, 0u);
  EXPECT_GT(health.mem_total_bytes, 0u);
  EXPECT_GT(health.uptime_s, 0u);
}

}  // namespace
}  // namespace labmesh::agent
