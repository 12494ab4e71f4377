// The fault filter's rules (agent/fault_filter.hpp): what each rule does to which message, and
// the clear error a bad rule gets.

#include "fault_filter.hpp"

#include <gtest/gtest.h>

namespace labmesh::agent {
namespace {

using Action = FaultVerdict::Action;

FaultFilter Rules(std::string_view text) {
  auto filter = FaultFilter::Parse(text);
  EXPECT_TRUE(filter.ok()) << filter.status().ToString();
  return filter.ok() ? *filter : FaultFilter{};
}

TEST(FaultFilter, EmptyRulesAreInert) {
  FaultFilter filter = Rules("");
  EXPECT_FALSE(filter.active());
  EXPECT_EQ(filter.Judge(FaultDirection::kOut, "EntryReport", 0).action, Action::kPass);
}

TEST(FaultFilter, DropCountsItsMatchesInItsDirectionOnly) {
  FaultFilter filter = Rules("drop out EntryReport 2");
  EXPECT_EQ(filter.Judge(FaultDirection::kIn, "EntryReport", 0).action, Action::kPass);
  EXPECT_EQ(filter.Judge(FaultDirection::kOut, "ResultChunk", 0).action, Action::kPass);
  EXPECT_EQ(filter.Judge(FaultDirection::kOut, "EntryReport", 0).action, Action::kDrop);
  EXPECT_EQ(filter.Judge(FaultDirection::kOut, "EntryReport", 0).action, Action::kDrop);
  EXPECT_EQ(filter.Judge(FaultDirection::kOut, "EntryReport", 0).action, Action::kPass);
}

TEST(FaultFilter, SkipLetsTheFirstMatchesThrough) {
  FaultFilter filter = Rules("dup in ResultAck 1 skip 2");
  EXPECT_EQ(filter.Judge(FaultDirection::kIn, "ResultAck", 0).action, Action::kPass);
  EXPECT_EQ(filter.Judge(FaultDirection::kIn, "ResultAck", 0).action, Action::kPass);
  EXPECT_EQ(filter.Judge(FaultDirection::kIn, "ResultAck", 0).action, Action::kDuplicate);
  EXPECT_EQ(filter.Judge(FaultDirection::kIn, "ResultAck", 0).action, Action::kPass);
}

TEST(FaultFilter, DelayAndEveryMatch) {
  FaultFilter filter = Rules("delay out * 1500ms *");
  for (int i = 0; i < 5; ++i) {
    FaultVerdict v = filter.Judge(FaultDirection::kOut, "Heartbeat", 0);
    EXPECT_EQ(v.action, Action::kDelay);
    EXPECT_EQ(v.delay_ms, 1500);
  }
}

TEST(FaultFilter, PartitionDropsEverythingForItsDuration) {
  FaultFilter filter = Rules("partition 5s after out ResultChunk skip 1");
  EXPECT_EQ(filter.Judge(FaultDirection::kOut, "ResultChunk", 100).action, Action::kPass);
  EXPECT_EQ(filter.Judge(FaultDirection::kOut, "ResultChunk", 200).action, Action::kPass);
  EXPECT_EQ(filter.Judge(FaultDirection::kIn, "ResultAck", 300).action, Action::kDrop);
  EXPECT_EQ(filter.Judge(FaultDirection::kOut, "Heartbeat", 5199).action, Action::kDrop);
  EXPECT_EQ(filter.Judge(FaultDirection::kOut, "Heartbeat", 5200).action, Action::kPass);
  EXPECT_EQ(filter.Judge(FaultDirection::kOut, "ResultChunk", 5300).action, Action::kPass);
}

TEST(FaultFilter, FirstRuleThatActsDecides) {
  FaultFilter filter = Rules("drop out EntryReport 1; dup out EntryReport 1");
  EXPECT_EQ(filter.Judge(FaultDirection::kOut, "EntryReport", 0).action, Action::kDrop);
  EXPECT_EQ(filter.Judge(FaultDirection::kOut, "EntryReport", 0).action, Action::kDuplicate);
  EXPECT_EQ(filter.Judge(FaultDirection::kOut, "EntryReport", 0).action, Action::kPass);
}

TEST(FaultFilter, BadRulesAreRefusedNamingTheRule) {
  for (const char* bad : {"lose out EntryReport", "drop sideways EntryReport",
                          "drop out NoSuchMessage", "drop out EntryReport many",
                          "delay out EntryReport", "delay out EntryReport soon",
                          "partition 5s out ResultChunk", "drop out EntryReport 1 skip",
                          "drop out EntryReport 1 extra", "drop out"}) {
    auto filter = FaultFilter::Parse(bad);
    ASSERT_FALSE(filter.ok()) << bad;
    EXPECT_EQ(filter.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(filter.status().message().find(std::string("'") + bad + "'"), std::string::npos)
        << filter.status().message();
  }
}

}  // namespace
}  // namespace labmesh::agent
