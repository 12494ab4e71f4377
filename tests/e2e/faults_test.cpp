// Network faults between a real agent and the real coordinator, made by the agent's fault
// filter (--fault-filter, agent/fault_filter.hpp, docs/chaos.md): lost reports, lost acks,
// duplicated chunks, and a partition longer than --dead-after in the middle of an upload. Each
// ends with the job final once (one "final" line in the coordinator's log, which no kill
// interrupts here), the control's files intact (the hash the control itself recorded) and
// `labmesh-coordinator --check` clean.

#include <gtest/gtest.h>

#include <string>

#include "cluster.hpp"
#include "jobs_fixture.hpp"

namespace labmesh::testing {
namespace {

class Faults : public JobsE2e {
 protected:
  // A control writing data.bin (`bytes` long, its content a function of the entry) and
  // recording, outside the results, one "start" line per run and the file's SHA-256.
  uint64_t CreateWriter(const std::string& host, int bytes, std::vector<std::string> extra = {}) {
    ledger_ = cluster_.root() + "/ledger";
    std::string control = WriteFile(
        "writer.sh",
        "#!/bin/sh\n"
        "echo start >>\"" + ledger_ + ".$LABMESH_ENTRY_ID\"\n"
        "yes \"entry $LABMESH_ENTRY_ID\" | head -c \"$1\" >data.bin\n"
        "labmesh-test run write -- true\n"
        "sha256sum data.bin | cut -d' ' -f1 >\"" + ledger_ + ".$LABMESH_ENTRY_ID.sha256\"\n");
    std::vector<std::string> args = {"--name", "writer", "--command",
                                     "sh " + control + " " + std::to_string(bytes), "--hosts",
                                     host};
    args.insert(args.end(), extra.begin(), extra.end());
    return Create(args);
  }

  // The job ended `status`, its one entry's data.bin is what its control wrote, the entry
  // became final once, the control started `runs` times and the store check is clean.
  void ExpectIntact(uint64_t id, const std::string& status, int runs) {
    ASSERT_TRUE(WaitForJobStatus(id, status, std::chrono::seconds(60)))
        << Show(id).dump(2) << cluster_.coordinator().Log();
    nlohmann::json job = Show(id);
    ASSERT_EQ(job["entries"].size(), 1u);
    const nlohmann::json& entry = job["entries"][0];
    std::string entry_id = std::to_string(entry["id"].get<uint64_t>());
    std::string recorded = ReadFile(ledger_ + "." + entry_id + ".sha256");
    ASSERT_FALSE(recorded.empty());
    std::string path = ResultsDir(entry) + "/data.bin";
    auto hashed = RunCommand({"/usr/bin/sha256sum", path});
    EXPECT_EQ(hashed.out.substr(0, 64), recorded.substr(0, 64)) << path;
    EXPECT_EQ(entry["result_counts"].value("GOOD", 0), 1) << entry.dump();

    std::string starts = ReadFile(ledger_ + "." + entry_id);
    EXPECT_EQ(static_cast<int>(std::count(starts.begin(), starts.end(), '\n')), runs);
    std::string log = cluster_.coordinator().Log();
    std::string final_line = "job=" + std::to_string(id) + " entry=" + entry_id + " host=" +
                             entry["host"].get<std::string>() + " " + status;
    size_t finals = 0;
    for (size_t at = log.find(final_line); at != std::string::npos;
         at = log.find(final_line, at + 1)) {
      ++finals;
    }
    EXPECT_EQ(finals, 1u) << log;
    auto check = RunCommand(cluster_.CheckCommand());
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
    EXPECT_NE(check.out.find(": clean: "), std::string::npos) << check.out;
  }

  std::string ledger_;
};

TEST_F(Faults, LostReportsAreSentAgain) {
  // The first two reports (running, exited or uploaded) never arrive; the agent repeats an
  // unacknowledged report until it is answered.
  StartCluster({"h1"}, {{"h1", {"--fault-filter", "drop out EntryReport 2"}}});
  uint64_t id = CreateWriter("h1", 300'000);
  ExpectIntact(id, "Completed", 1);
  EXPECT_NE(cluster_.agent("h1").Log().find("fault filter: dropped outgoing EntryReport"),
            std::string::npos);
}

TEST_F(Faults, LostAcksAreAnsweredAgain) {
  // Acks of reports and of chunks are lost: the agent sends again, and what the coordinator
  // already applied is answered, not applied twice.
  StartCluster({"h1"},
               {{"h1", {"--fault-filter", "drop in EntryReportAck 2; drop in ResultAck 2 skip 1"}}});
  uint64_t id = CreateWriter("h1", 700'000);
  ExpectIntact(id, "Completed", 1);
  EXPECT_NE(cluster_.agent("h1").Log().find("fault filter: dropped incoming ResultAck"),
            std::string::npos);
}

TEST_F(Faults, DuplicatedChunksAreWrittenOnce) {
  // Every chunk arrives twice (and the second report of each phase too).
  StartCluster({"h1"},
               {{"h1", {"--fault-filter", "dup out ResultChunk *; dup out EntryReport *"}}});
  uint64_t id = CreateWriter("h1", 1'500'000);
  ExpectIntact(id, "Completed", 1);
  EXPECT_NE(cluster_.agent("h1").Log().find("fault filter: duplicated outgoing ResultChunk"),
            std::string::npos);
}

TEST_F(Faults, DelayedAcksAndReportsArriveLate) {
  StartCluster({"h1"}, {{"h1", {"--fault-filter",
                                "delay in ResultAck 1500ms 3; delay out EntryReport 1s 2"}}});
  uint64_t id = CreateWriter("h1", 900'000);
  ExpectIntact(id, "Completed", 1);
}

TEST_F(Faults, PartitionLongerThanDeadAfterDuringAnUploadRetriesTheEntryOnce) {
  // One chunk every 200 ms; after the third, nothing passes either way for 5 s (dead-after is
  // 2 s): the host is declared Dead, the entry (--retry 1) is queued again and runs once more
  // when the agent is back; the first run's upload is refused, not mixed into the second's.
  StartCluster({"h1"}, {{"h1",
                         {"--fault-chunk-delay", "200ms", "--upload-chunk", "65536",
                          "--fault-filter", "partition 5s after out ResultChunk skip 2"}}});
  uint64_t id = CreateWriter("h1", 600'000, {"--retry", "1"});
  ExpectIntact(id, "Completed", 2);
  EXPECT_EQ(Show(id)["entries"][0]["retries"], 1);
  EXPECT_NE(cluster_.coordinator().Log().find("no heartbeat"), std::string::npos);
}

TEST_F(Faults, PartitionWithoutRetryFailsTheEntryOnce) {
  StartCluster({"h1"}, {{"h1",
                         {"--fault-chunk-delay", "200ms", "--upload-chunk", "65536",
                          "--fault-filter", "partition 5s after out ResultChunk skip 2"}}});
  uint64_t id = CreateWriter("h1", 600'000);
  ASSERT_TRUE(WaitForJobStatus(id, "Failed", std::chrono::seconds(60)));
  nlohmann::json entry = Show(id)["entries"][0];
  EXPECT_EQ(entry["fault"], "infrastructure");
  // The agent comes back and is Ready for other work; the store is consistent.
  EXPECT_TRUE(cluster_.WaitForStatus("h1", "Ready"));
  auto check = RunCommand(cluster_.CheckCommand());
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST_F(Faults, BadRulesStopTheAgentWithAClearError) {
  cluster_.StartCoordinator();
  auto& agent = cluster_.StartAgent("h1", {"--fault-filter", "drop out NoSuchMessage"});
  ASSERT_TRUE(agent.Wait().has_value());
  EXPECT_NE(agent.Log().find("no message type 'NoSuchMessage'"), std::string::npos)
      << agent.Log();
}

}  // namespace
}  // namespace labmesh::testing
