// Host status names are spelled exactly as DESIGN.md has them, parse back from every spelling a
// command line may use, and message type numbers have names.

#include "labmesh/protocol/types.hpp"
#include "labmesh/protocol/task_messages.hpp"

#include <gtest/gtest.h>

#include <string>

namespace labmesh::protocol {
namespace {

TEST(HostStatusName, SpellsEveryStatusAsDesignMd) {
  EXPECT_EQ(HostStatusName(HostStatus::kReady), "Ready");
  EXPECT_EQ(HostStatusName(HostStatus::kPending), "Pending");
  EXPECT_EQ(HostStatusName(HostStatus::kRunning), "Running");
  EXPECT_EQ(HostStatusName(HostStatus::kVerifying), "Verifying");
  EXPECT_EQ(HostStatusName(HostStatus::kRepairing), "Repairing");
  EXPECT_EQ(HostStatusName(HostStatus::kCleaning), "Cleaning");
  EXPECT_EQ(HostStatusName(HostStatus::kUpdating), "Updating");
  EXPECT_EQ(HostStatusName(HostStatus::kRepairFailed), "Repair Failed");
  EXPECT_EQ(HostStatusName(HostStatus::kDead), "Dead");
  EXPECT_EQ(HostStatusName(HostStatus::kQuarantined), "Quarantined");
}

TEST(HostStatusName, OutOfRangeValueIsUnknown) {
  EXPECT_EQ(HostStatusName(static_cast<HostStatus>(10)), "Unknown");
  EXPECT_EQ(HostStatusName(static_cast<HostStatus>(255)), "Unknown");
}

TEST(ParseHostStatus, ParsesEveryNameBack) {
  for (int i = 0; i <= static_cast<int>(HostStatus::kDead); ++i) {
    auto status = static_cast<HostStatus>(i);
    auto parsed = ParseHostStatus(HostStatusName(status));
    ASSERT_TRUE(parsed.has_value()) << HostStatusName(status);
    EXPECT_EQ(*parsed, status);
  }
}

TEST(ParseHostStatus, AcceptsCommandLineSpellings) {
  EXPECT_EQ(ParseHostStatus("ready"), HostStatus::kReady);
  EXPECT_EQ(ParseHostStatus("DEAD"), HostStatus::kDead);
  EXPECT_EQ(ParseHostStatus("repair failed"), HostStatus::kRepairFailed);
  EXPECT_EQ(ParseHostStatus("repair-failed"), HostStatus::kRepairFailed);
  EXPECT_EQ(ParseHostStatus("Repair_Failed"), HostStatus::kRepairFailed);
  EXPECT_EQ(ParseHostStatus("REPAIR-FAILED"), HostStatus::kRepairFailed);
}

TEST(ParseHostStatus, RejectsAnythingElse) {
  EXPECT_EQ(ParseHostStatus(""), std::nullopt);
  EXPECT_EQ(ParseHostStatus("Pending Approval"), std::nullopt);  // an enrollment, not a status
  EXPECT_EQ(ParseHostStatus("Ready "), std::nullopt);
  EXPECT_EQ(ParseHostStatus(" Ready"), std::nullopt);
  EXPECT_EQ(ParseHostStatus("Repair  Failed"), std::nullopt);
  EXPECT_EQ(ParseHostStatus("RepairFailed"), std::nullopt);
  EXPECT_EQ(ParseHostStatus("Readyish"), std::nullopt);
  EXPECT_EQ(ParseHostStatus(std::string("Ready\0", 6)), std::nullopt);
}

TEST(MessageType, KnownTypesAreExactlyTheDocumentedNumbers) {
  const uint32_t documented[] = {
      1, 10, 11, 12, 13, 14, 15, 16, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,
      36, 37, 100, 101,
      102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 120, 121,
      122, 123, 124, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143,
      144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161,
      162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 180, 181, 182, 183, 184, 190, 191, 192,
      193, 194, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215,
      216, 217, 218, 219, 220, 240, 241, 242, 243, 244};
  int known = 0;
  for (uint32_t t = 0; t <= 0xffff; ++t) known += IsKnownMessageType(t) ? 1 : 0;
  EXPECT_EQ(known, static_cast<int>(std::size(documented)));
  for (uint32_t t : documented) {
    EXPECT_TRUE(IsKnownMessageType(t)) << t;
    EXPECT_NE(MessageTypeName(static_cast<MessageType>(t)), "Unknown") << t;
  }
  EXPECT_FALSE(IsKnownMessageType(0));
  EXPECT_FALSE(IsKnownMessageType(65536 + 100));
}

TEST(Protection, NamesRoundTripAndCommandLineSpellingsParse) {
  for (auto p : {Protection::kNone, Protection::kRepairSoftwareOnly, Protection::kDoNotRepair,
                 Protection::kDoNotVerify}) {
    EXPECT_EQ(ParseProtection(ProtectionName(p)), p);
  }
  EXPECT_EQ(ProtectionName(Protection::kRepairSoftwareOnly), "repair-software-only");
  EXPECT_EQ(ParseProtection("Do_Not_Verify"), Protection::kDoNotVerify);
  EXPECT_FALSE(ParseProtection("never").has_value());
  EXPECT_FALSE(ParseProtection("").has_value());
}

TEST(TaskKind, NamesAndStatuses) {
  EXPECT_EQ(TaskKindName(TaskKind::kVerify), "Verify");
  EXPECT_EQ(ParseTaskKind("repair"), TaskKind::kRepair);
  EXPECT_EQ(ParseTaskKind("CLEANUP"), TaskKind::kCleanup);
  EXPECT_FALSE(ParseTaskKind("reboot").has_value());
  EXPECT_EQ(TaskStatusName(TaskStatus::kFailed), "Failed");
  EXPECT_FALSE(IsFinal(TaskStatus::kRunning));
  EXPECT_TRUE(IsFinal(TaskStatus::kAborted));
}

TEST(MessageType, NamesMatchTheStructs) {
  EXPECT_EQ(MessageTypeName(MessageType::kError), "Error");
  EXPECT_EQ(MessageTypeName(MessageType::kAgentHello), "AgentHello");
  EXPECT_EQ(MessageTypeName(MessageType::kHostListRequest), "HostListRequest");
  EXPECT_EQ(MessageTypeName(MessageType::kOkReply), "OkReply");
  EXPECT_EQ(MessageTypeName(MessageType::kTestAddRequest), "TestAddRequest");
  EXPECT_EQ(MessageTypeName(MessageType::kTestShowReply), "TestShowReply");
  EXPECT_EQ(MessageTypeName(MessageType::kWorkRequest), "WorkRequest");
  EXPECT_EQ(MessageTypeName(MessageType::kAbortEntry), "AbortEntry");
  EXPECT_EQ(MessageTypeName(MessageType::kJobCreateRequest), "JobCreateRequest");
  EXPECT_EQ(MessageTypeName(MessageType::kJobLogReply), "JobLogReply");
  EXPECT_EQ(MessageTypeName(MessageType::kResultsListRequest), "ResultsListRequest");
  EXPECT_EQ(MessageTypeName(MessageType::kResultsReparseReply), "ResultsReparseReply");
  EXPECT_EQ(MessageTypeName(static_cast<MessageType>(2)), "Unknown");
}

TEST(EntryStatusName, SpellsEveryStatusAndParsesBack) {
  const char* names[] = {"Queued",  "Starting",  "Verifying", "Pending", "Running", "Gathering",
                         "Parsing", "Completed", "Failed",    "Aborted", "Stopped",
                         "Rebooting"};
  for (int i = 0; i <= kMaxEntryStatus; ++i) {
    auto status = static_cast<EntryStatus>(i);
    EXPECT_EQ(EntryStatusName(status), names[i]);
    EXPECT_EQ(ParseEntryStatus(names[i]), status) << names[i];
  }
  EXPECT_EQ(EntryStatusName(static_cast<EntryStatus>(kMaxEntryStatus + 1)), "Unknown");
  EXPECT_EQ(ParseEntryStatus("completed"), EntryStatus::kCompleted);
  EXPECT_EQ(ParseEntryStatus("RUNNING"), EntryStatus::kRunning);
  EXPECT_EQ(ParseEntryStatus("done"), std::nullopt);
  EXPECT_EQ(ParseEntryStatus(""), std::nullopt);
}

TEST(EntryStatus, OnlyCompletedFailedAbortedStoppedAreFinal) {
  for (int i = 0; i <= kMaxEntryStatus; ++i) {
    auto status = static_cast<EntryStatus>(i);
    bool final_status = status == EntryStatus::kCompleted || status == EntryStatus::kFailed ||
                        status == EntryStatus::kAborted || status == EntryStatus::kStopped;
    EXPECT_EQ(IsFinal(status), final_status) << EntryStatusName(status);
  }
}

TEST(Priority, NamesParseBackCaseInsensitively) {
  EXPECT_EQ(PriorityName(Priority::kLow), "low");
  EXPECT_EQ(PriorityName(Priority::kMedium), "medium");
  EXPECT_EQ(PriorityName(Priority::kHigh), "high");
  EXPECT_EQ(PriorityName(Priority::kUrgent), "urgent");
  EXPECT_EQ(ParsePriority("URGENT"), Priority::kUrgent);
  EXPECT_EQ(ParsePriority("Low"), Priority::kLow);
  EXPECT_EQ(ParsePriority("critical"), std::nullopt);
  EXPECT_EQ(ParsePriority(""), std::nullopt);
  EXPECT_TRUE(Priority::kUrgent > Priority::kHigh && Priority::kHigh > Priority::kMedium &&
              Priority::kMedium > Priority::kLow);
}

}  // namespace
}  // namespace labmesh::protocol
