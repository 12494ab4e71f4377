// A rogue lab machine (issue 20, docs/threat-model.md): an agent with a valid key of its own
// reports on and uploads for an entry that runs on another host. Nothing of it is taken: the
// entry's status and files stay the real host's, and the rogue is told to drop the entry.

#include <gtest/gtest.h>

#include <filesystem>

#include "jobs_fixture.hpp"

namespace labmesh::coordinator::testing {
namespace {

TEST_F(Jobs, ARogueAgentCannotReportOrUploadForAnotherHostsEntry) {
  Register("h1");
  Register("rogue");
  auto id = Create({.hosts = {"h1"}});
  ASSERT_TRUE(id.ok());
  auto starts = TakeStarts("h1");
  ASSERT_EQ(starts.size(), 1u);
  uint64_t entry = starts[0].entry_id;
  agent_sent_.clear();

  protocol::EntryReport report;
  report.entry_id = entry;
  report.phase = "running";
  report.sequence = 1;
  AgentSend("rogue", report);
  report.phase = "exited";
  report.sequence = 2;
  report.exit_code = 0;
  report.outcome = "passed";
  AgentSend("rogue", report);
  Chunk("rogue", entry, "status.log", "GOOD\t----\tforged\ttimestamp=1\tnot run here\n");

  // Told to forget it, every time; nothing else changed.
  auto aborts = TakeSentOf<protocol::AbortEntry>("rogue");
  EXPECT_GE(aborts.size(), 2u);
  for (const auto& abort : aborts) EXPECT_EQ(abort.entry_id, entry);
  protocol::JobInfo job = Show(*id);
  ASSERT_EQ(job.entries.size(), 1u);
  EXPECT_EQ(job.entries[0].host, "h1");
  EXPECT_EQ(job.entries[0].status, "Starting");
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/results/" + job.entries[0].results_path +
                                       "/status.log"));

  // The real host still runs it to the end.
  RunEntry("h1", entry, 0);
  EXPECT_EQ(Show(*id).status, "Completed");
}

}  // namespace
}  // namespace labmesh::coordinator::testing
