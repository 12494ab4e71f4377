// The daemons' logging set-up (docs/monitoring.md "Logs"): --log-format json writes one valid
// JSON object a line whatever the message holds, a --log-file rotates at its size keeping
// --log-max-files old files, and bad options are refused. Each test logs through the process's
// default logger into a file of its own; the daemons' end-to-end check is
// tests/e2e/metrics_test.cpp.

#include "labmesh/common/logging.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "process.hpp"

namespace labmesh {
namespace {

using labmesh::testing::TempDir;

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(Logging, JsonFormatWritesOneValidObjectALineWhateverTheMessage) {
  TempDir tmp;
  LogOptions options;
  options.format = "json";
  options.file = tmp.path() + "/daemon.log";
  ASSERT_TRUE(SetupLogging("coordinator", options).ok());
  const std::string hostile = "quote \" backslash \\ newline \n tab \t bell \x07 bad utf-8 \xff\xfe end";
  spdlog::info("host={} said {}", "lab-1", hostile);
  spdlog::warn("plain");
  spdlog::debug("below the level: not written");
  spdlog::default_logger()->flush();

  std::vector<std::string> lines = Lines(options.file);
  ASSERT_EQ(lines.size(), 2u);  // the newline inside the message is escaped, not a line break
  for (const std::string& line : lines) {
    auto object = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(object.is_object()) << line;
    for (const char* key : {"time", "level", "daemon", "logger", "pid", "message"}) {
      EXPECT_TRUE(object.contains(key)) << key << " in " << line;
    }
    EXPECT_EQ(object["daemon"], "coordinator");
    // RFC 3339 in UTC with milliseconds: 2026-01-02T03:04:05.678Z.
    std::string time = object["time"];
    EXPECT_EQ(time.size(), 24u) << time;
    EXPECT_EQ(time.back(), 'Z') << time;
  }
  auto first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first["level"], "info");
  std::string message = first["message"];
  EXPECT_NE(message.find("host=lab-1 said quote \" backslash \\ newline \n tab \t bell \x07"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("\xEF\xBF\xBD"), std::string::npos) << "invalid UTF-8 becomes U+FFFD";
  EXPECT_EQ(nlohmann::json::parse(lines[1])["level"], "warning");
}

TEST(Logging, TheLogFileRotatesAtItsSizeKeepingMaxFiles) {
  TempDir tmp;
  LogOptions options;
  options.file = tmp.path() + "/coordinator.log";
  options.max_file_bytes = 4096;
  options.max_files = 2;
  ASSERT_TRUE(SetupLogging("coordinator", options).ok());
  const std::string filler(100, 'x');
  for (int i = 0; i < 400; ++i) spdlog::info("line {} {}", i, filler);  // ~56 KB in all
  spdlog::default_logger()->flush();

  namespace fs = std::filesystem;
  ASSERT_TRUE(fs::exists(options.file));
  ASSERT_TRUE(fs::exists(tmp.path() + "/coordinator.1.log"));
  ASSERT_TRUE(fs::exists(tmp.path() + "/coordinator.2.log"));
  EXPECT_FALSE(fs::exists(tmp.path() + "/coordinator.3.log"));
  for (const char* name : {"/coordinator.log", "/coordinator.1.log", "/coordinator.2.log"}) {
    EXPECT_LE(fs::file_size(tmp.path() + name), 4096u) << name;
  }
  // The newest lines are in the file itself, the ones before in .1.
  std::vector<std::string> current = Lines(options.file);
  ASSERT_FALSE(current.empty());
  EXPECT_NE(current.back().find("line 399 "), std::string::npos) << current.back();
  // Logging goes on to stderr for the tests that follow in this process.
  ASSERT_TRUE(SetupLogging("test", LogOptions{}).ok());
}

TEST(Logging, BadOptionsAreRefused) {
  LogOptions options;
  options.format = "xml";
  EXPECT_EQ(SetupLogging("agent", options).code(), StatusCode::kInvalidArgument);
  options = LogOptions{};
  options.level = "loud";
  EXPECT_EQ(SetupLogging("agent", options).code(), StatusCode::kInvalidArgument);
  // A file where its directory should be: spdlog cannot create the directory.
  TempDir tmp;
  std::ofstream(tmp.path() + "/not-a-dir") << "x";
  options = LogOptions{};
  options.file = tmp.path() + "/not-a-dir/agent.log";
  EXPECT_EQ(SetupLogging("agent", options).code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace labmesh
