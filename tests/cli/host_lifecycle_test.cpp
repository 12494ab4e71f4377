// The texts of the host lifecycle (`host verify|repair|history|mod`, and the protection and last
// task `host list|show` print) and the protection level rule, without a coordinator.

#include "labmesh/cli/host_lifecycle.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "labmesh/cli/host_output.hpp"

namespace labmesh::cli {
namespace {

constexpr int64_t kNowMs = 1'700'000'000'000;  // 2023-11-14T22:13:20.000Z

protocol::TaskInfo FailedVerify() {
  protocol::TaskInfo task;
  task.id = 12;
  task.hostname = "lab-1";
  task.kind = "Verify";
  task.status = "Failed";
  task.reason = "verify.d/disk failed: exit status 1";
  task.requested_by = "alice";
  task.queued_ms = kNowMs - 200'000;
  task.started_ms = kNowMs - 190'000;
  task.finished_ms = kNowMs - 180'000;
  return task;
}

TEST(ParseProtectionLevel, AcceptsEveryLevelInAnyCaseAndSendsItCanonical) {
  for (const auto& [typed, canonical] : std::vector<std::pair<std::string, std::string>>{
           {"none", "none"},
           {"repair-software-only", "repair-software-only"},
           {"Do-Not-Repair", "do-not-repair"},
           {"DO-NOT-VERIFY", "do-not-verify"}}) {
    auto level = ParseProtectionLevel(typed);
    ASSERT_TRUE(level.ok()) << typed << ": " << level.status().ToString();
    EXPECT_EQ(*level, canonical);
  }
}

TEST(ParseProtectionLevel, RefusesOtherTextListingEveryLevel) {
  for (const char* bad : {"", "never", "do-not", "none,do-not-repair"}) {
    auto level = ParseProtectionLevel(bad);
    ASSERT_FALSE(level.ok()) << bad;
    EXPECT_EQ(level.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(level.status().message(),
              "unknown protection level '" + std::string(bad) +
                  "' (none, repair-software-only, do-not-repair, do-not-verify)");
  }
}

TEST(FormatTaskQueued, NamesKindIdHostAndStatus) {
  protocol::TaskInfo task = FailedVerify();
  task.status = "Queued";
  EXPECT_EQ(FormatTaskQueued(task), "queued Verify task 12 on lab-1 (Queued)");
  task.kind = "Repair";
  task.id = 13;
  task.status = "Running";
  EXPECT_EQ(FormatTaskQueued(task), "queued Repair task 13 on lab-1 (Running)");
}

TEST(FormatLastTaskColumn, KindAndStatusOrADashWhenNone) {
  EXPECT_EQ(FormatLastTaskColumn(FailedVerify()), "Verify Failed");
  EXPECT_EQ(FormatLastTaskColumn(protocol::TaskInfo{}), "-");
}

TEST(FormatLastTask, SaysWhenTheTaskReachedItsStatusAndWhy) {
  protocol::TaskInfo task = FailedVerify();
  EXPECT_EQ(FormatLastTask(task, kNowMs),
            "Verify Failed (task 12, finished 3m0s ago): verify.d/disk failed: exit status 1");
  task.status = "Running";
  task.finished_ms = 0;
  task.reason = "";
  EXPECT_EQ(FormatLastTask(task, kNowMs), "Verify Running (task 12, started 3m10s ago)");
  task.status = "Queued";
  task.started_ms = 0;
  task.reason = "requested by alice";
  EXPECT_EQ(FormatLastTask(task, kNowMs),
            "Verify Queued (task 12, queued 3m20s ago): requested by alice");
  EXPECT_EQ(FormatLastTask(protocol::TaskInfo{}, kNowMs), "none");
}

TEST(FormatLastTask, AReasonOnSeveralLinesStaysOnOne) {
  protocol::TaskInfo task = FailedVerify();
  task.reason = "disk\nfailed";
  EXPECT_EQ(FormatLastTask(task, kNowMs), "Verify Failed (task 12, finished 3m0s ago): disk failed");
}

TEST(FailedCheckNames, OnlyTheChecksThatDidNotPassInOrder) {
  std::vector<protocol::TaskCheck> checks = {{"free-space", true, "", 1},
                                             {"verify.d/disk", false, "", 2},
                                             {"clock-skew", false, "", 3}};
  EXPECT_EQ(FailedCheckNames(checks), (std::vector<std::string>{"verify.d/disk", "clock-skew"}));
  EXPECT_TRUE(FailedCheckNames({}).empty());
}

std::vector<protocol::HistoryItem> SampleHistory() {
  protocol::HistoryItem task;
  task.type = "task";
  task.id = 12;
  task.name = "Verify";
  task.status = "Failed";
  task.reason = "verify.d/disk failed: exit status 1";
  task.requested_by = "alice";
  task.queued_ms = kNowMs;
  task.checks = {{"free-space", true, "", 1},
                 {"verify.d/disk", false, "", 2},
                 {"clock-skew", false, "", 3}};
  protocol::HistoryItem entry;
  entry.type = "entry";
  entry.id = 41;
  entry.job_id = 7;
  entry.name = "boot";
  entry.status = "Completed";
  entry.requested_by = "bob";
  entry.queued_ms = kNowMs - 1'000'000;
  protocol::HistoryItem cleanup;
  cleanup.type = "task";
  cleanup.id = 11;
  cleanup.job_id = 6;
  cleanup.name = "Cleanup";
  cleanup.status = "Completed";
  cleanup.queued_ms = kNowMs - 2'000'000;
  cleanup.checks = {{"kill-leftovers", true, "", 5}};
  return {task, entry, cleanup};
}

TEST(FormatHostHistory, ATableNewestFirstWithFailedChecksUnderTheirTask) {
  EXPECT_EQ(FormatHostHistory("lab-1", SampleHistory()),
            "WHEN                      TYPE   ID  JOB  NAME     STATUS     REASON\n"
            "2023-11-14T22:13:20.000Z  task   12  -    Verify   Failed     "
            "verify.d/disk failed: exit status 1\n"
            "    failed checks: verify.d/disk, clock-skew\n"
            "2023-11-14T21:56:40.000Z  entry  41  7    boot     Completed  \n"
            "2023-11-14T21:40:00.000Z  task   11  6    Cleanup  Completed  \n");
}

TEST(FormatHostHistory, CellsWithNewlinesCannotBreakTheRowToCheckMapping) {
  std::vector<protocol::HistoryItem> items = SampleHistory();
  items[1].name = "two\nlines";
  items[1].reason = "a\nb";
  std::string text = FormatHostHistory("lab-1", items);
  EXPECT_NE(text.find("two lines"), std::string::npos) << text;
  // The failed checks still follow the task's row, right after it.
  EXPECT_NE(text.find("exit status 1\n    failed checks: verify.d/disk, clock-skew\n2023"),
            std::string::npos)
      << text;
}

TEST(FormatHostHistory, SaysSoWhenThereIsNone) {
  EXPECT_EQ(FormatHostHistory("lab-1", {}), "no history for lab-1\n");
}

protocol::HostInfo Host() {
  protocol::HostInfo host;
  host.hostname = "lab-1";
  host.status = "Repair Failed";
  host.status_reason = "verify failed";
  host.protection = "do-not-repair";
  host.last_task = FailedVerify();
  host.last_heartbeat_ms = kNowMs - 2'000;
  return host;
}

TEST(FormatHost, ShowsTheProtectionLevelAndTheLastTask) {
  std::string text = FormatHost(Host(), kNowMs);
  EXPECT_NE(text.find("\nprotection      do-not-repair\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nlast task       Verify Failed (task 12, finished 3m0s ago): "
                      "verify.d/disk failed: exit status 1\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.rfind("hostname        lab-1\nstatus          Repair Failed (verify failed)\n",
                       0),
            0u)
      << text;
}

TEST(FormatHost, AHostWithoutTasksSaysNone) {
  protocol::HostInfo host;
  host.hostname = "lab-2";
  std::string text = FormatHost(host, kNowMs);
  EXPECT_NE(text.find("\nprotection      none\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nlast task       none\n"), std::string::npos) << text;
}

TEST(FormatHostList, HasALastTaskColumn) {
  protocol::HostInfo never;
  never.hostname = "lab-2";
  never.status = "Ready";
  EXPECT_EQ(FormatHostList({Host(), never}, kNowMs),
            "HOSTNAME  STATUS         LOCKED  RESERVED  LABELS  VERSION  HEARTBEAT  LAST TASK\n"
            "lab-1     Repair Failed  no      -                          2.0s ago   Verify Failed\n"
            "lab-2     Ready          no      -                          never      -\n");
}

TEST(FormatHostList, SaysWhoReservedAHostAndForHowLong) {
  protocol::HostInfo host;
  host.hostname = "lab-3";
  host.status = "Ready";
  host.reserved_by = "alice";
  host.reserve_reason = "bisect";
  host.reserved_until_ms = kNowMs + 90 * 60'000;
  std::string list = FormatHostList({host}, kNowMs);
  EXPECT_NE(list.find("lab-3     Ready   no      alice 1h30m "), std::string::npos) << list;
  std::string shown = FormatHost(host, kNowMs);
  EXPECT_NE(shown.find("\nreserved        alice until "), std::string::npos) << shown;
  EXPECT_NE(shown.find(" (in 1h30m): bisect\n"), std::string::npos) << shown;
  host.reserved_by.clear();
  EXPECT_NE(FormatHost(host, kNowMs).find("\nreserved        no\n"), std::string::npos);
}

}  // namespace
}  // namespace labmesh::cli
