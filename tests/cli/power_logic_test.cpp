// The pure parts of `host power-config`, `host power` and their output (power_logic.hpp).

#include "labmesh/cli/power_logic.hpp"

#include <gtest/gtest.h>

namespace labmesh::cli {
namespace {

TEST(PowerLogic, AssignmentsAreKeyEqualsValueAndTheLaterWins) {
  auto parsed = ParseAssignments({"bmc=10.1.0.3", "user=admin", "bmc=10.1.0.4", "empty="}, "--attr");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->at("bmc"), "10.1.0.4");
  EXPECT_EQ(parsed->at("user"), "admin");
  EXPECT_EQ(parsed->at("empty"), "");
  EXPECT_EQ(ParseAssignments({"a=b=c"}, "--attr")->at("a"), "b=c");
  for (const char* bad : {"novalue", "=value"}) {
    auto refused = ParseAssignments({bad}, "--secret");
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_NE(refused.status().message().find("--secret"), std::string::npos);
  }
}

TEST(PowerLogic, TheConfigShowsSecretsMaskedAndSaysWhenPatternsAreTheDefaults) {
  protocol::PowerConfigInfo config;
  config.hostname = "lab-3";
  config.cycle = "ipmitool -H {bmc} chassis power cycle";
  config.console = "ipmitool -H {bmc} sol activate";
  config.console_reading = true;
  config.console_bytes = 42;
  config.panic_patterns = {"Kernel panic", "BUG:"};
  config.attributes = {{"bmc", "10.1.0.3"}, {"password", "***"}};
  config.power_cycles_ms = {1'000'000};
  std::string text = FormatPowerConfig(config, 1'000'000 + 90'000);
  EXPECT_NE(text.find("power cycle     ipmitool -H {bmc} chassis power cycle"), std::string::npos)
      << text;
  EXPECT_NE(text.find("power on        -"), std::string::npos) << text;
  EXPECT_NE(text.find("reading, 42 bytes read"), std::string::npos) << text;
  EXPECT_NE(text.find("Kernel panic | BUG:  (defaults)"), std::string::npos) << text;
  EXPECT_NE(text.find("password=***"), std::string::npos) << text;
  EXPECT_NE(text.find("1m30s ago"), std::string::npos) << text;
}

TEST(PowerLogic, TheReplySaysWhatRanHowItEndedAndItsOutput) {
  protocol::HostPowerReply passed{"lab-3", "cycle", true, "", 0, "Chassis Power Control: Cycle\n",
                                  1'200, 17};
  EXPECT_EQ(FormatPowerReply(passed),
            "host lab-3: power cycle passed in 1.2s (task 17)\nChassis Power Control: Cycle\n");
  protocol::HostPowerReply failed{"lab-3", "on", false, "exit status 1", 1, "no route", 30, 18};
  EXPECT_EQ(FormatPowerReply(failed),
            "host lab-3: power on failed: exit status 1 in 30ms (task 18)\nno route\n");
}

}  // namespace
}  // namespace labmesh::cli
