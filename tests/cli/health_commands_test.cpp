// `labmesh host flaky` as text (cli/health_commands.cpp, docs/quarantine.md): the header line,
// the table worst first with the heaviest evidence, every evidence line with --evidence, the
// flaky tests; and before the first computation, a line saying so.

#include <gtest/gtest.h>

#include "labmesh/cli/health_commands.hpp"

namespace labmesh::cli {
namespace {

constexpr int64_t kNow = 1'764'365'000'000LL;

protocol::HostFlakyReply Reply() {
  protocol::HostFlakyReply r;
  r.computed_ms = kNow - 41'000;
  r.window_ms = 7 * 24 * 3'600'000LL;
  r.window_entries = 50;
  r.mode = "auto";
  r.threshold = 6;
  protocol::HostHealthInfo bad;
  bad.hostname = "lab-7";
  bad.status = "Quarantined";
  bad.score = 7;
  bad.suspect = true;
  bad.entries = 10;
  bad.results = 40;
  protocol::HealthEvidenceInfo lone;
  lone.kind = "lone-failure";
  lone.weight = 6;
  lone.detail = "net failed 10 of 10 here; 0 of 190 failed on 19 peer(s)";
  lone.peers_passed = {"lab-1", "lab-2"};
  protocol::HealthEvidenceInfo infra;
  infra.kind = "infrastructure";
  infra.weight = 1;
  infra.detail = "job 9: host lost";
  bad.evidence = {lone, infra};
  bad.quarantine_reason = "health score 7.0 >= 6.0";
  protocol::HostHealthInfo good;
  good.hostname = "lab-1";
  good.status = "Ready";
  r.hosts = {bad, good};
  r.flaky_tests = {{"racy", {"lab-1", "lab-2"}, "b1", 133, 67}};
  return r;
}

TEST(FormatHostFlaky, TableWorstFirstWithTheHeaviestEvidence) {
  std::string text = FormatHostFlaky(Reply(), /*evidence=*/false, kNow);
  EXPECT_EQ(text.rfind("health scores computed 41.0s ago over the last 7d0h (at most 50 entries a host); threshold "
                       "6.0, quarantine auto\n",
                       0),
            0u)
      << text;
  EXPECT_NE(text.find("HOST   STATUS       SCORE  SUSPECT  ENTRIES  RESULTS  WHY"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("lab-7  Quarantined  7.0    yes      10       40       net failed 10 of 10 "
                      "here; 0 of 190 failed on 19 peer(s) (+1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("lab-1  Ready        0.0    no       0        0        -"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("+6.0"), std::string::npos);  // no evidence lines without --evidence
  EXPECT_NE(text.find("racy  133     67      lab-1,lab-2  b1"), std::string::npos) << text;
}

TEST(FormatHostFlaky, EvidenceLinesUnderTheirHost) {
  std::string text = FormatHostFlaky(Reply(), /*evidence=*/true, kNow);
  EXPECT_NE(text.find("\nlab-7 (score 7.0)\n  quarantined: health score 7.0 >= 6.0\n"
                      "  +6.0 lone-failure: net failed 10 of 10 here; 0 of 190 failed on 19 "
                      "peer(s) (passed on lab-1, lab-2)\n  +1.0 infrastructure: job 9: host lost\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("\nlab-1 (score"), std::string::npos);  // nothing to show for it
}

TEST(FormatHostFlaky, NotComputedYet) {
  protocol::HostFlakyReply r;
  r.mode = "suggest";
  EXPECT_EQ(FormatHostFlaky(r, false, kNow), "health scores: not computed yet (quarantine suggest)\n");
}

}  // namespace
}  // namespace labmesh::cli
