// The JSON views carry the field names CLI.md fixes, and times are ISO-8601 UTC or null.

#include "labmesh/protocol/json.hpp"

#include <gtest/gtest.h>

#include <string>

#include "sample_messages.hpp"

namespace labmesh::protocol {
namespace {

TEST(FormatWallTimeIso, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(FormatWallTimeIso(1'764'365'548'123LL), "2025-11-28T21:32:28.123Z");
  EXPECT_EQ(FormatWallTimeIso(1'764'000'000'000LL), "2025-11-24T16:00:00.000Z");
  EXPECT_EQ(FormatWallTimeIso(1), "1970-01-01T00:00:00.001Z");
}

TEST(FormatWallTimeIso, NeverIsEmpty) {
  EXPECT_EQ(FormatWallTimeIso(0), "");
  EXPECT_EQ(FormatWallTimeIso(-5), "");
}

TEST(HostJson, HasTheFieldsCliMdPromises) {
  nlohmann::json j = ToJson(testing::SampleHostInfo("lab-17"));
  for (const char* key :
       {"hostname", "status", "locked", "labels", "agent_version", "last_heartbeat"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["hostname"], "lab-17");
  EXPECT_EQ(j["status"], "Repair Failed");
  EXPECT_EQ(j["locked"], true);
  EXPECT_EQ(j["labels"], nlohmann::json({"arch:x86_64", "gpu", "os:debian"}));
  EXPECT_EQ(j["agent_version"], "0.1.0");
  EXPECT_EQ(j["last_heartbeat"], "2025-11-28T21:32:28.123Z");
  EXPECT_EQ(j["last_heartbeat_ms"], 1'764'365'548'123LL);
}

TEST(HostJson, CarriesTheDetailFieldsInSnakeCase) {
  nlohmann::json j = ToJson(testing::SampleHostInfo("lab-17"));
  EXPECT_EQ(j["status_reason"], "verify script exited 3");
  EXPECT_EQ(j["locked_by"], "alice");
  EXPECT_EQ(j["lock_reason"], "firmware upgrade");
  EXPECT_EQ(j["agent_labels"], nlohmann::json({"arch:x86_64", "os:debian"}));
  EXPECT_EQ(j["admin_labels"], nlohmann::json({"gpu"}));
  EXPECT_EQ(j["acl_groups"], nlohmann::json({"everyone", "kernel-team"}));
  EXPECT_EQ(j["registered"], "2025-11-24T16:00:00.000Z");
  EXPECT_EQ(j["protection"], "do-not-repair");
  EXPECT_EQ(j["last_task"]["kind"], "Repair");
  EXPECT_EQ(j["last_task"]["checks"][1]["name"], "verify.d/10-disk");
  EXPECT_EQ(j["incarnation"], 0xfeedfacecafebeefULL);
  EXPECT_EQ(j["connected"], true);
  EXPECT_EQ(j["facts"]["cpus"], 16);
  EXPECT_EQ(j["facts"]["memory_bytes"], 68'719'476'736ULL);
  EXPECT_EQ(j["facts"]["os_version"], "12");
  EXPECT_EQ(j["health"]["load15"], 3.75);
  EXPECT_EQ(j["health"]["disk_free_bytes"], 400'000'000'000ULL);
  EXPECT_EQ(j["health"]["uptime_s"], 864'000);
}

TEST(HostJson, LastHeartbeatIsNullWhenNever) {
  HostInfo host;
  host.hostname = "lab-new";
  nlohmann::json j = ToJson(host);
  ASSERT_TRUE(j.contains("last_heartbeat"));
  EXPECT_TRUE(j["last_heartbeat"].is_null());
  EXPECT_EQ(j["last_heartbeat_ms"], 0);
  EXPECT_TRUE(j["registered"].is_null());  // the same rule for every time: null when never
  EXPECT_TRUE(j["last_task"].is_null());
  EXPECT_EQ(j["protection"], "none");
  EXPECT_EQ(j["locked"], false);
  EXPECT_TRUE(j["labels"].is_array());
  EXPECT_TRUE(j["labels"].empty());
}

TEST(LabelJson, HasNameKindAndHostCount) {
  nlohmann::json j = ToJson(LabelInfo{"gpu", "admin", 3});
  EXPECT_EQ(j, nlohmann::json({{"name", "gpu"}, {"kind", "admin"}, {"hosts", 3}}));
}

TEST(TestJson, ShowHasTheControlAndListLeavesItOut) {
  TestInfo t;
  t.name = "kernel.boot";
  t.description = "boots";
  t.control = "#!/bin/sh\necho \"h\u00e9\"\n";
  t.control_bytes = t.control.size();
  t.created_by = "alice";
  t.created_ms = 1'764'365'548'123LL;
  t.updated_by = "bob";
  t.updated_ms = 1'764'365'548'123LL;
  nlohmann::json j = ToJson(t);
  EXPECT_EQ(j["name"], "kernel.boot");
  EXPECT_EQ(j["description"], "boots");
  EXPECT_EQ(j["control"], t.control);
  EXPECT_EQ(j["control_bytes"], t.control.size());
  EXPECT_EQ(j["created_by"], "alice");
  EXPECT_EQ(j["created"], "2025-11-28T21:32:28.123Z");
  EXPECT_EQ(j["updated_by"], "bob");
  EXPECT_EQ(j["updated_ms"], 1'764'365'548'123LL);
  // Parsing the dump gives the same control back, byte for byte.
  EXPECT_EQ(nlohmann::json::parse(j.dump())["control"].get<std::string>(), t.control);
  nlohmann::json listed = ToJson(t, /*with_control=*/false);
  EXPECT_FALSE(listed.contains("control"));
  EXPECT_EQ(listed["control_bytes"], t.control.size());
}

TEST(WallTimeUsJson, IsIsoFromMicrosecondsOrNull) {
  EXPECT_EQ(WallTimeUsJson(1'764'365'548'123'456LL), "2025-11-28T21:32:28.123Z");
  EXPECT_TRUE(WallTimeUsJson(0).is_null());
  EXPECT_TRUE(WallTimeUsJson(-1).is_null());
}

TEST(EntryJson, HasEveryFieldInSnakeCaseWithIsoTimes) {
  nlohmann::json j = ToJson(testing::SampleEntryInfo(40, "lab-17"));
  EXPECT_EQ(j["id"], 40);
  EXPECT_EQ(j["job_id"], 12);
  EXPECT_EQ(j["host"], "lab-17");
  EXPECT_EQ(j["meta_label"], "gpu");
  EXPECT_EQ(j["status"], "Failed");
  EXPECT_EQ(j["reason"], "exit status 3");
  EXPECT_EQ(j["fault"], "test");
  EXPECT_EQ(j["exit_code"], 3);
  EXPECT_EQ(j["signal"], 9);
  EXPECT_EQ(j["queued"], "2025-11-28T21:32:28.123Z");
  EXPECT_EQ(j["queued_us"], 1'764'365'548'123'456LL);
  EXPECT_EQ(j["started"], "2025-11-28T21:32:29.000Z");
  EXPECT_EQ(j["started_us"], 1'764'365'549'000'001LL);
  EXPECT_EQ(j["finished"], "2025-11-28T21:32:40.250Z");
  EXPECT_EQ(j["finished_us"], 1'764'365'560'250'000LL);
  EXPECT_EQ(j["results_path"], "12-alice/lab-17");
  EXPECT_EQ(j["group"], 1);
  EXPECT_EQ(j["waiting_in"], "barrier setup (use 2): 3/4 arrived");
  EXPECT_EQ(j["result_counts"], nlohmann::json({{"FAIL", 1}, {"GOOD", 12}}));
  EXPECT_EQ(j["parse_warnings"],
            nlohmann::json({"status.log: line 7: END without START", "results.xml: not JUnit"}));
}

TEST(EntryJson, NotYetParsedHasEmptyCountsAndWarnings) {
  nlohmann::json j = ToJson(EntryInfo{});
  ASSERT_TRUE(j["result_counts"].is_object());
  EXPECT_TRUE(j["result_counts"].empty());
  ASSERT_TRUE(j["parse_warnings"].is_array());
  EXPECT_TRUE(j["parse_warnings"].empty());
}

TEST(EntryJson, NotYetStartedHasNullTimesAndNullExitCode) {
  EntryInfo e;
  e.id = 3;
  e.status = "Queued";
  e.queued_us = 1'764'365'548'123'456LL;
  nlohmann::json j = ToJson(e);
  ASSERT_TRUE(j.contains("exit_code"));
  EXPECT_TRUE(j["exit_code"].is_null());
  EXPECT_TRUE(j["started"].is_null());
  EXPECT_TRUE(j["finished"].is_null());
  EXPECT_EQ(j["started_us"], 0);
  EXPECT_EQ(j["host"], "");
  // Exit status 0 is a real value, not "none".
  e.exit_code = 0;
  EXPECT_EQ(ToJson(e)["exit_code"], 0);
}

TEST(JobJson, HasTheFieldsCliMdPromises) {
  nlohmann::json j = ToJson(testing::SampleJobInfo(12));
  for (const char* key : {"id", "name", "owner", "priority", "synch_count", "status", "entries"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["id"], 12);
  EXPECT_EQ(j["name"], "kernel boot \"nightly\"");
  EXPECT_EQ(j["owner"], "alice");
  EXPECT_EQ(j["priority"], "high");
  EXPECT_EQ(j["synch_count"], 2);
  EXPECT_EQ(j["status"], "Failed");
  ASSERT_TRUE(j["entries"].is_array());
  ASSERT_EQ(j["entries"].size(), 2u);
  EXPECT_EQ(j["entries"][0]["host"], "lab-17");
  EXPECT_EQ(j["entries"][1]["host"], "lab-18");
  EXPECT_EQ(j["entries"][0]["status"], "Failed");
  EXPECT_EQ(j["entries"][0], ToJson(testing::SampleEntryInfo(40, "lab-17")));
}

TEST(JobJson, CarriesTheDetailFieldsAndTheControlOnlyWhenAsked) {
  JobInfo job = testing::SampleJobInfo(12);
  nlohmann::json j = ToJson(job);
  EXPECT_EQ(j["control_kind"], "control");
  EXPECT_EQ(j["control"], job.control);
  EXPECT_EQ(nlohmann::json::parse(j.dump())["control"].get<std::string>(), job.control);
  EXPECT_EQ(j["test_name"], "kernel.boot");
  EXPECT_EQ(j["hosts"], nlohmann::json({"lab-17", "lab-18"}));
  EXPECT_EQ(j["meta_label"], "gpu");
  EXPECT_EQ(j["meta_count"], 2);
  EXPECT_EQ(j["depends"], nlohmann::json({"usb-hub", "arch:x86_64"}));
  EXPECT_EQ(j["run_verify"], true);
  EXPECT_EQ(j["timeout_ms"], 3'600'000);
  EXPECT_EQ(j["max_runtime_ms"], 600'000);
  EXPECT_EQ(j["created"], "2025-11-28T21:32:28.000Z");
  EXPECT_EQ(j["created_us"], 1'764'365'548'000'000LL);
  EXPECT_EQ(j["finished"], "2025-11-28T21:32:40.250Z");
  EXPECT_EQ(j["finished_us"], 1'764'365'560'250'000LL);
  EXPECT_EQ(j["abort_reason"], "job timeout");
  nlohmann::json listed = ToJson(job, /*with_control=*/false);
  EXPECT_FALSE(listed.contains("control"));
  EXPECT_EQ(listed["control_kind"], "control");
}

TEST(JobJson, UnfinishedJobHasNullFinishedAndEmptyEntries) {
  JobInfo job;
  job.id = 1;
  job.status = "Queued";
  nlohmann::json j = ToJson(job);
  EXPECT_TRUE(j["finished"].is_null());
  EXPECT_TRUE(j["created"].is_null());
  EXPECT_TRUE(j["entries"].is_array());
  EXPECT_TRUE(j["entries"].empty());
  EXPECT_EQ(j["synch_count"], 1);
}

TEST(TestResultJson, HasEveryFieldWithIsoTimesAndObjectsForKeyvals) {
  nlohmann::json j = ToJson(testing::SampleTestResult(901, "lab-17"));
  EXPECT_EQ(j["id"], 901);
  EXPECT_EQ(j["job_id"], 12);
  EXPECT_EQ(j["entry_id"], 40);
  EXPECT_EQ(j["host"], "lab-17");
  EXPECT_EQ(j["labels"], nlohmann::json({"arch:x86_64", "gpu"}));
  EXPECT_EQ(j["test"], "kernel/boot");
  EXPECT_EQ(j["status"], "FAIL");
  EXPECT_EQ(j["reason"], "timed out waiting for \"login:\"");
  EXPECT_EQ(j["start"], "2025-11-28T21:32:29.000Z");
  EXPECT_EQ(j["start_us"], 1'764'365'549'000'001LL);
  EXPECT_EQ(j["end"], "2025-11-28T21:32:40.250Z");
  EXPECT_EQ(j["end_us"], 1'764'365'560'250'000LL);
  EXPECT_EQ(j["duration_us"], 11'249'999);
  EXPECT_EQ(j["keyvals"], nlohmann::json({{"iterations", "3"}, {"kernel", "6.1.0-18-amd64"}}));
  EXPECT_EQ(j["perf"]["boot_time_s"], 11.25);
  EXPECT_EQ(j["perf"]["throughput_mbps"], 940.5);
  EXPECT_EQ(j["file"], "status.log");
  EXPECT_EQ(j["link"], "/results/12-alice/lab-17/status.log");
}

TEST(TestResultJson, UnknownTimesAreNullAndEmptyMapsAreObjects) {
  nlohmann::json j = ToJson(TestResultInfo{});
  EXPECT_TRUE(j["start"].is_null());
  EXPECT_TRUE(j["end"].is_null());
  EXPECT_EQ(j["start_us"], 0);
  EXPECT_TRUE(j["keyvals"].is_object());
  EXPECT_TRUE(j["perf"].is_object());
  EXPECT_TRUE(j["labels"].is_array());
}

TEST(ResultsListJson, CarriesResultsAndTheCursorOrNull) {
  auto reply = testing::Sample<ResultsListReply>();
  nlohmann::json j = ToJson(reply);
  ASSERT_EQ(j["results"].size(), 2u);
  EXPECT_EQ(j["results"][0], ToJson(reply.results[0]));
  EXPECT_EQ(j["next_cursor"], "djE6OTAw");
  nlohmann::json last = ToJson(ResultsListReply{});
  EXPECT_TRUE(last["results"].is_array());
  EXPECT_TRUE(last["results"].empty());
  ASSERT_TRUE(last.contains("next_cursor"));
  EXPECT_TRUE(last["next_cursor"].is_null());
}

TEST(ResultsSummaryJson, RowsWithCountsAndPassRateOrNull) {
  auto reply = testing::Sample<ResultsSummaryReply>();
  nlohmann::json j = ToJson(reply);
  ASSERT_EQ(j["rows"].size(), 2u);
  const nlohmann::json& row = j["rows"][0];
  EXPECT_EQ(row["test"], "kernel/boot");
  EXPECT_EQ(row["group"], "gpu");
  EXPECT_EQ(row["total"], 5'000'000'000ULL);
  EXPECT_EQ(row["counts"]["GOOD"], 3'999'999'999ULL);
  EXPECT_EQ(row["counts"]["TEST_NA"], 1);
  EXPECT_EQ(row["pass_rate"], 0.8);
  EXPECT_EQ(row["first"], "2025-11-24T16:00:00.000Z");
  EXPECT_EQ(row["first_us"], 1'764'000'000'000'000LL);
  EXPECT_EQ(row["last"], "2025-11-28T21:32:40.250Z");
  EXPECT_EQ(row["last_us"], 1'764'365'560'250'000LL);

  SummaryRowInfo only_na;
  only_na.counts = {{"TEST_NA", 2}};
  only_na.total = 2;
  nlohmann::json na = ToJson(only_na);
  ASSERT_TRUE(na.contains("pass_rate"));
  EXPECT_TRUE(na["pass_rate"].is_null());
  // 0 is a real pass rate (everything failed), not "none".
  only_na.pass_rate = 0;
  EXPECT_EQ(ToJson(only_na)["pass_rate"], 0.0);
  EXPECT_TRUE(ToJson(ResultsSummaryReply{})["rows"].is_array());
}

TEST(ResultsSeriesJson, PointsWithIsoTimes) {
  nlohmann::json j = ToJson(testing::Sample<ResultsSeriesReply>());
  ASSERT_EQ(j["points"].size(), 2u);
  EXPECT_EQ(j["points"][0], nlohmann::json({{"time", "2025-11-24T16:00:00.000Z"},
                                            {"time_us", 1'764'000'000'000'000LL},
                                            {"value", 11.25},
                                            {"job_id", 12},
                                            {"host", "lab-17"},
                                            {"link", "/results/12-alice/lab-17/status.log"}}));
  EXPECT_EQ(j["points"][1]["value"], -0.5);
  EXPECT_TRUE(ToJson(ResultsSeriesReply{})["points"].is_array());
}

TEST(ResultsReparseJson, HasTheCounts) {
  EXPECT_EQ(ToJson(testing::Sample<ResultsReparseReply>()),
            nlohmann::json(
                {{"job_id", 12}, {"entries", 4}, {"results", 5'000'000'000ULL}, {"warnings", 3}}));
}

TEST(ResultsUsageJson, HasTheTotalAndRowsByOwnerAndMonth) {
  nlohmann::json j = ToJson(testing::Sample<ResultsUsageReply>());
  EXPECT_EQ(j["total_bytes"], 7'000'000'000ULL);
  EXPECT_EQ(j["jobs"], 3);
  EXPECT_EQ(j["by_owner"][0], nlohmann::json({{"owner", "alice"}, {"bytes", 5'000'000'000ULL},
                                              {"jobs", 2}}));
  EXPECT_EQ(j["by_month"][1]["month"], "2026-11");
}

TEST(JobDeleteJson, HasWhatWasRemoved) {
  EXPECT_EQ(ToJson(testing::Sample<JobDeleteReply>()),
            nlohmann::json({{"job_id", 12},
                            {"already_removed", true},
                            {"dirs", 2},
                            {"files", 40},
                            {"bytes", 5'000'000'000ULL},
                            {"index_rows", 130},
                            {"reason", "deleted by alice"}}));
}

TEST(PackageListJson, HasPackagesTheDesiredVersionAndHostsPerVersion) {
  nlohmann::json j = ToJson(testing::Sample<PackageListReply>());
  ASSERT_EQ(j["packages"].size(), 2u);
  EXPECT_EQ(j["packages"][1]["version"], "0.2.0");
  EXPECT_EQ(j["packages"][1]["bytes"], 10'485'760);
  EXPECT_EQ(j["packages"][1]["uploaded_ms"], 1'764'000'000'005);
  EXPECT_EQ(j["desired"]["version"], "0.2.0");
  EXPECT_EQ(j["desired"]["canary_percent"], 10);
  EXPECT_EQ(j["host_versions"], nlohmann::json({{"0.1.0", 90}, {"0.2.0", 10}}));
  // Nothing desired: null, not an empty object.
  EXPECT_TRUE(ToJson(PackageListReply{})["desired"].is_null());
  EXPECT_TRUE(ToJson(PackageListReply{})["packages"].is_array());
}

}  // namespace
}  // namespace labmesh::protocol
