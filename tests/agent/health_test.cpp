// What the agent reports about the machine it runs on: facts (uname, os-release, /proc) and a
// health sample for its work directory's file system. Checked against this machine.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
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

// Samples as Linux 6.1 writes them: the parsers, not this machine's idle load, decide the values.
constexpr char kLoadavgSample[] = "0.52 1.25 2.07 3/412 28931\n";
constexpr char kMeminfoSample[] =
    "MemTotal:        8041716 kB\n"
    "MemFree:          211064 kB\n"
    "MemAvailable:    5123084 kB\n"
    "Buffers:          250804 kB\n"
    "HugePages_Total:       0\n"
    "Hugepagesize:       2048 kB\n";

TEST(ParseLoadavg, ReadsTheThreeAverages) {
  auto load = ParseLoadavg(kLoadavgSample);
  ASSERT_TRUE(load.has_value());
  EXPECT_DOUBLE_EQ(load->load1, 0.52);
  EXPECT_DOUBLE_EQ(load->load5, 1.25);
  EXPECT_DOUBLE_EQ(load->load15, 2.07);
  EXPECT_FALSE(ParseLoadavg("").has_value());
  EXPECT_FALSE(ParseLoadavg("0.52 1.25").has_value());
  EXPECT_FALSE(ParseLoadavg("busy busy busy").has_value());
}

TEST(ParseMeminfo, ReadsAKeyInBytes) {
  EXPECT_EQ(ParseMeminfo(kMeminfoSample, "MemTotal"), 8041716ull * 1024);
  EXPECT_EQ(ParseMeminfo(kMeminfoSample, "MemAvailable"), 5123084ull * 1024);
  EXPECT_EQ(ParseMeminfo(kMeminfoSample, "MemFree"), 211064ull * 1024);
  EXPECT_EQ(ParseMeminfo(kMeminfoSample, "HugePages_Total"), 0u);  // a count: no unit
  // Whole keys only: "Mem" is no key, nor a prefix of "MemTotal".
  EXPECT_FALSE(ParseMeminfo(kMeminfoSample, "Mem").has_value());
  EXPECT_FALSE(ParseMeminfo(kMeminfoSample, "SwapTotal").has_value());
  EXPECT_FALSE(ParseMeminfo("", "MemTotal").has_value());
  EXPECT_FALSE(ParseMeminfo("MemTotal: lots kB\n", "MemTotal").has_value());
}

TEST(CollectHealth, AgreesWithProcLoadavg) {
  // The reader uses the parser on the real file: a load read as nothing (0, 0, 0) while the
  // machine says otherwise fails. Loads move, so compare with a reading on either side.
  auto read = [] {
    std::ifstream in("/proc/loadavg");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return ParseLoadavg(text);
  };
  auto before = read();
  ASSERT_TRUE(before.has_value()) << "/proc/loadavg unreadable";
  protocol::HostHealth health = CollectHealth("/");
  auto after = read();
  ASSERT_TRUE(after.has_value());
  EXPECT_GE(health.load15, std::min(before->load15, after->load15));
  EXPECT_LE(health.load15, std::max(before->load15, after->load15));
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
